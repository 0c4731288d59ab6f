"""Eighth-session fast paths of the tables stage against the ways they replaced (kept here as references)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialforge.tables import engine
from trialforge.tables.engine import KEY, Context, _group_counts, _hierarchy_rows, _membership, _split_frames, \
    need, query
from trialforge.tables.spec import AEHierarchy, Columns, Population, Split
from trialforge.tables.tabledata import TableData


def _ae_hierarchy_reference(b: AEHierarchy, ctx, splits):
    """`block_ae_hierarchy` as it was before the records' codes were shared (seventh session): a frame per
    split, the worst values filtered per split with `query`, every count locating its subjects again."""
    used = [v for v in (b.soc, b.term, b.worst_var) if v]
    frames = _split_frames(ctx, b.dataset, b.where, splits, columns=used)
    need(frames[0], [b.term] + ([b.soc] if b.soc else []), output=ctx.output, dataset=b.dataset)
    member = _membership(ctx)
    if b.worst_var:
        base_all = ctx.data(b.dataset, b.where, columns=used)

        def counts(level):
            worst = base_all.groupby(level + [KEY], as_index=False)[b.worst_var].max()
            return [_group_counts(query(worst, s.where, output=ctx.output, dataset=b.dataset), level, member, ctx)
                    for s in (splits or (Split(""),))]
        return _hierarchy_rows(b, ctx, [base_all], counts, 0)

    def counts(level):
        return [_group_counts(f, level, member, ctx) for f in frames]
    return _hierarchy_rows(b, ctx, frames, counts, b.sort_split)


def _ae_adam(seed: int, n: int, repeated: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    ids = [f"S-{i:03d}" for i in range(40)]
    adsl = pd.DataFrame({"USUBJID": ids, "SAFFL": rng.choice(["Y", "Y", "N"], 40),
                         "TRT01A": rng.choice(["Low", "High", None], 40), "TRT01AN": 1.0})
    adsl["TRT01AN"] = adsl["TRT01A"].map({"Low": 1.0, "High": 2.0})
    if repeated:
        adsl = pd.concat([adsl, adsl.iloc[:1]], ignore_index=True)
    socs = np.array(["Infections", "Blood", "Nervous", None], dtype=object)
    terms = np.array(["Fever", "Anaemia", "Headache", "Rash", "Cough", None], dtype=object)
    adae = pd.DataFrame({"USUBJID": rng.choice(ids + ["S-999"], n),
                         "AEBODSYS": rng.choice(socs, n, p=[.3, .3, .35, .05]),
                         "AEDECOD": rng.choice(terms, n),
                         "ATOXGRN": rng.choice([1.0, 2.0, 3.0, 4.0, np.nan], n),
                         "TRTEMFL": rng.choice(["Y", "Y", "N"], n),
                         "AESER": rng.choice(["Y", "N"], n)})
    return {"ADSL": adsl.astype({"USUBJID": "str", "SAFFL": "str"}), "ADAE": adae.astype({"AEBODSYS": "str"})}


GRADES = (Split("Grade 1", "ATOXGRN == 1"), Split("Grade 3+", "ATOXGRN >= 3"),
          Split("Any", "ATOXGRN >= 0 or ATOXGRN != ATOXGRN"))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("repeated", [False, True])
@pytest.mark.parametrize("block, splits", [
    (AEHierarchy(), ()),
    (AEHierarchy(soc=None), ()),
    (AEHierarchy(where="TRTEMFL == 'Y' and ATOXGRN >= 3"), (Split("Serious", "AESER == 'Y'"), Split("All"))),
    (AEHierarchy(worst_var="ATOXGRN", sort_split=2), GRADES),
    (AEHierarchy(worst_var="ATOXGRN", soc=None), GRADES),
    (AEHierarchy(worst_var="ATOXGRN"), ()),
])
def test_ae_hierarchy_rows_are_the_reference_rows(seed, repeated, block, splits):
    adam = _ae_adam(seed, [0, 3, 80, 600][seed], repeated)
    pop, cols = Population("Safety", "SAFFL == 'Y'"), Columns(fallback="Not treated")
    def outcome(fn):
        try:
            return fn(block, Context("1", TableData(adam), pop, cols), splits)
        except Exception as exc:  # noqa: BLE001 - repeated subject keys: the same error both ways
            return type(exc), str(exc)
    got, want = outcome(engine.block_ae_hierarchy), outcome(_ae_hierarchy_reference)
    assert got == want
    assert repeated or len(got) > (1 if seed > 1 else 0)


def test_a_worst_value_split_naming_an_unknown_variable_is_still_a_missing_variable():
    adam = _ae_adam(1, 50)
    ctx = Context("1", TableData(adam), Population("Safety", "SAFFL == 'Y'"), Columns(fallback="Not treated"))
    splits = (Split("Grade 1", "ATOXGRN == 1"), Split("Bad", "NOSUCH == 1"))
    with pytest.raises(engine.MissingVariable):
        engine.block_ae_hierarchy(AEHierarchy(worst_var="ATOXGRN"), ctx, splits)


def _lab_adam(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    ids = [f"S-{i:03d}" for i in range(30)]
    n = 400
    cats = np.array(["LOW", "NORMAL", "HIGH", None, " "], dtype=object)
    adlb = pd.DataFrame({"USUBJID": rng.choice(ids, n), "PARAMCD": rng.choice(["ALT", "HGB", "PLAT"], n),
                         "BNRIND": rng.choice(cats, n), "ANRIND": rng.choice(cats, n), "ADY": rng.integers(-5, 40, n)})
    adlb["PARAM"] = adlb["PARAMCD"] + " (U/L)"
    adlb["PARAMN"] = adlb["PARAMCD"].map({"ALT": 2.0, "HGB": 1.0, "PLAT": 3.0})
    adsl = pd.DataFrame({"USUBJID": ids, "SAFFL": rng.choice(["Y", "N"], 30, p=[.8, .2])})
    return {"ADSL": adsl.astype("str"), "ADLB": adlb.astype({"BNRIND": "str", "ANRIND": "str"})}


@pytest.mark.parametrize("seed", range(3))
def test_shift_tables_sharing_their_records_are_the_tables_built_alone(seed):
    """The low and high shift tables of one build share the records' codes (TableData.memo): each equals the
    table computed on a build of its own (the direction-dependent part is all that differs)."""
    from trialforge.tables.layouts import compute_shift_table
    from trialforge.tables.spec import ParamStats, ShiftTable, TableSpec
    adam = _lab_adam(seed)
    pop = Population("Safety", "SAFFL == 'Y'")
    specs = [TableSpec(f"1.{k}", "Shift", pop, ShiftTable(post_where="ADY > 1", direction=d, params=params))
             for k, (d, params) in enumerate([("low", ()), ("high", ()), ("high", (ParamStats("HGB", "Hgb"),)),
                                              ("low", ())])]
    shared = TableData(adam)
    for spec in specs:
        assert compute_shift_table(spec, shared) == compute_shift_table(spec, TableData(adam))
    assert len(shared.memo) == 2                      # named parameters or not: two sets of records
    low, high = (compute_shift_table(s, shared) for s in specs[:2])
    assert low.rows != high.rows


@pytest.mark.parametrize("values", [
    ["mg", "mg", None, np.nan, "ng/mL", ""], [1.0, 2, "x", None], [], [None], [np.float64(1.5), True]])
def test_unit_texts_are_the_astype_str_set(values):
    from trialforge.tables.layouts import _texts
    s = pd.Series(values, dtype=object)
    assert _texts(s) == set(s.dropna().astype(str))
    assert _texts(s.astype("str") if all(isinstance(v, str) or v is None for v in values) else s) == \
        set(s.dropna().astype(str))


def _table(seed: int, n: int):
    from trialforge.tables.result import Row, TableResult
    rng = np.random.default_rng(seed)
    texts = ["1 (2.5)", "12 (100.0)", "0", "", "Headache", "x" * 40, "7", "2024-01-02", "3 (10.0)", "é ±"]
    rows = [Row(str(rng.choice(["A", "B é", "C" * 50])), [str(rng.choice(texts)) for _ in range(4)],
                int(rng.integers(0, 3)), bool(rng.integers(0, 2))) for _ in range(n)]
    return TableResult("1", "T", "Pop", [[("a", 1), ("b", 1), ("c", 1), ("d", 1)]], "Stub", rows, ["f"])


def _aligned_columns_reference(res):
    out = set()
    for j in range(res.ncols):
        vals = [r.cells[j] for r in res.rows if r.cells[j]]
        if len(vals) >= 2 and all(render._NPCT.match(v) for v in vals):
            out.add(j)
    return out


def _align_decimals_reference(rows, ncols, ref=None):
    cells = [list(r.cells) for r in rows]
    ref_cells = [list(r.cells) for r in ref] if ref is not None else None
    for j in range(ncols):
        col = [c[j] for c in cells]
        parsed = [render._NPCT.match(v) for v in col]
        hits = [m for m in (parsed if ref_cells is None else (render._NPCT.match(c[j]) for c in ref_cells)) if m]
        if len(hits) < 2:
            continue
        wn = max(len(m.group(1)) for m in hits)
        wp = max((len(m.group(2)) for m in hits if m.group(2)), default=0)
        for c, m in zip(cells, parsed):
            if m:
                n = render.FIGURE_SPACE * (wn - len(m.group(1))) + m.group(1)
                pct = f"{render.NBSP}({render.FIGURE_SPACE * (wp - len(m.group(2)))}{m.group(2)})" if m.group(2) else ""
                c[j] = n + pct
    return cells


from trialforge.tables import render, rtf_table  # noqa: E402


@pytest.mark.parametrize("seed, n", [(0, 0), (1, 1), (2, 2), (3, 40), (4, 300)])
def test_column_wise_table_formatting_is_the_row_wise(seed, n):
    res = _table(seed, n)
    assert render.aligned_columns(res) == _aligned_columns_reference(res)
    assert render.align_decimals(res.rows, res.ncols) == _align_decimals_reference(res.rows, res.ncols)
    ref = res.rows[: n // 2]
    assert render.align_decimals(res.rows, res.ncols, ref) == _align_decimals_reference(res.rows, res.ncols, ref)
    if n:
        cells = render.align_decimals(res.rows, res.ncols)
        widths = render._widths(res, cells)
        table = render._TableFormat(res, widths, cells)
        wrap = [j for j in range(res.ncols) if any(len(r.cells[j]) > render.WRAP_AT for r in res.rows)]
        assert [j for j in range(res.ncols) if table.justify[j + 1] == "l"] == \
            sorted(set(wrap) | _aligned_columns_reference(res))
        writer = rtf_table.TableRtf(["T"], [(t, w) for t, w, _ in table.headers], widths, table.justify, 9.0)
        pads = [int(p) for p in np.random.default_rng(seed).integers(0, 300, res.ncols)]
        got = writer.body_cells([(r.label, 200 * r.indent, r.header) for r in res.rows],
                                [list(col) for col in zip(*cells)], pads)
        fresh = rtf_table.TableRtf(["T"], [(t, w) for t, w, _ in table.headers], widths, table.justify, 9.0)
        assert got == [fresh.row_cells([r.label] + c, [200 * r.indent] + pads, r.header)
                       for r, c in zip(res.rows, cells)]
        # the pages of the whole table: each page's rows as the row-wise writer wrote them
        text = render.table_to_rtf(res, {})
        for r, c in zip(res.rows, cells):
            assert fresh.row_cells([r.label] + c, [200 * r.indent] + table.pad, r.header) in text


@pytest.mark.parametrize("seed, n", [(0, 0), (1, 1), (3, 40), (4, 300)])
def test_table_json_is_the_standard_librarys(seed, n):
    import json
    from trialforge.tables.result import Row
    res = _table(seed, n)
    res.rows += [Row("empty", [], 0, False), Row("q\"\\\n\u2028", ["", "\t"], 2, True)] if n else []
    plain = {"id": res.id, "kind": res.kind, "title": res.title, "population": res.population,
             "stub_header": res.stub_header, "columns": res.columns,
             "header": [[{"text": t, "span": s} for t, s in h] for h in res.header],
             "rows": [{"label": r.label, "indent": r.indent, "header": r.header, "cells": r.cells} for r in res.rows],
             "footnotes": res.footnotes}
    assert res.to_json() == json.dumps(plain, indent=1, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("odd", [
    lambda r: setattr(r, "indent", True), lambda r: setattr(r, "indent", np.int64(1)),
    lambda r: setattr(r, "cells", [1, "x", "y", "z"]), lambda r: setattr(r, "cells", [["a"], "x", "y", "z"]),
    lambda r: setattr(r, "header", 0), lambda r: setattr(r, "label", None)])
def test_table_json_of_other_types_is_the_standard_librarys(odd):
    import json
    res = _table(5, 6)
    odd(res.rows[3])
    plain = {"id": res.id, "kind": res.kind, "title": res.title, "population": res.population,
             "stub_header": res.stub_header, "columns": res.columns,
             "header": [[{"text": t, "span": s} for t, s in h] for h in res.header],
             "rows": [{"label": r.label, "indent": r.indent, "header": r.header, "cells": r.cells} for r in res.rows],
             "footnotes": res.footnotes}
    try:
        want = json.dumps(plain, indent=1, ensure_ascii=False) + "\n"
    except TypeError:
        with pytest.raises(TypeError):
            res.to_json()
        return
    assert res.to_json() == want


def _mixed_frame(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pool = np.array(["a", "B C", " x ", "", None, np.nan, pd.NA, 1, 1.0, True, 2.5, -0.0, 0.0, "RENAL CELL",
                     "é: tail"], dtype=object)
    return pd.DataFrame({"A": rng.choice(pool, n), "B": rng.choice(pool[:6], n),
                         "C": pd.Series(rng.choice(["x", "y", None], n), dtype="str")})


@pytest.mark.parametrize("seed, n", [(0, 65), (1, 200), (2, 1000), (3, 70)])
@pytest.mark.parametrize("template", ["{A}", "{A:sentence} ({B})", "{C} / {A:title} / {B:after=: }", "x{B}y{B}"])
def test_labels_from_codes_are_the_labels_row_by_row(seed, n, template):
    from trialforge.tables import labels
    frame = _mixed_frame(seed, n)
    names = list(dict.fromkeys(labels.fields(template)))
    arrays = [frame[c].to_numpy(dtype=object) for c in names]
    got = labels._by_codes(template, names, arrays)
    assert got is not None and list(got) == labels._by_rows(template, names, arrays)
    assert list(labels.render_frame(template, frame)) == labels._by_rows(template, names, arrays)


@pytest.mark.parametrize("values", [
    [1.0, 2.4, 2.6, np.nan, -0.0, 0.0, 1.0, -3.5, 1e20], [3, 1, 3, 2], [np.nan, np.nan], [0.25, 0.35, -0.05]])
def test_listing_number_formats_per_distinct_value_are_map(values):
    from trialforge.tables import fmt
    from trialforge.tables.layouts import _map_distinct
    s = pd.Series(values)
    for fn in (lambda v: "" if pd.isna(v) else str(int(round(v))), lambda v: "" if pd.isna(v) else fmt.num(v, 1),
               repr):
        assert list(_map_distinct(s, fn)) == list(s.map(fn))


def _tte_adam(seed: int, time_dtype, cnsr_dtype, nan_cnsr: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    ids = [f"S-{i:03d}" for i in range(60)]
    adsl = pd.DataFrame({"USUBJID": ids, "SAFFL": "Y", "TRT01A": rng.choice(["Low", "High"], 60)})
    adsl["TRT01AN"] = adsl["TRT01A"].map({"Low": 1.0, "High": 2.0})
    aval = rng.integers(1, 700, 60).astype(float)
    aval[3] = np.nan
    cnsr = rng.integers(0, 2, 60).astype(float)
    if nan_cnsr:
        cnsr[5] = np.nan
    adtte = pd.DataFrame({"USUBJID": ids, "PARAMCD": "OS", "AVAL": pd.Series(aval).astype(time_dtype),
                          "CNSR": pd.Series(cnsr).astype(cnsr_dtype)})
    return {"ADSL": adsl, "ADTTE": adtte}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("time_dtype, cnsr_dtype, nan_cnsr", [
    (float, int, False), (float, float, False), (float, float, True), ("Float64", int, False),
    (object, int, False), (float, object, False)])
def test_time_to_event_rows_from_arrays_are_the_rows_from_frames(seed, time_dtype, cnsr_dtype, nan_cnsr):
    from trialforge.tables.engine import block_time_to_event, in_columns, kaplan_meier
    from trialforge.tables.spec import TimeToEvent
    if nan_cnsr and cnsr_dtype is int:
        return
    adam = _tte_adam(seed, time_dtype, cnsr_dtype if not (nan_cnsr and cnsr_dtype is int) else float, nan_cnsr)
    b = TimeToEvent("OS", "Overall survival", landmarks=(3, 12))
    pop, cols = Population("Safety", "SAFFL == 'Y'"), Columns()

    def reference(ctx):
        recs = ctx.data(b.dataset, f"{b.param_var} == {b.paramcd!r}", columns=[b.time_var, b.cnsr_var])
        return [kaplan_meier(g[b.time_var] / b.days_per_unit, 1 - g[b.cnsr_var].astype(int), b.alpha)
                for g in (recs[hit] for hit in in_columns(ctx, recs))]

    def outcome(fn):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - a censoring that cannot be an integer fails both ways
            return type(exc)
    import trialforge.tables.engine as eng
    got = outcome(lambda: block_time_to_event(b, Context("1", TableData(adam), pop, cols), ()))
    fits = outcome(lambda: reference(Context("1", TableData(adam), pop, cols)))
    if isinstance(fits, type):
        assert got is fits
        return
    ctx = Context("1", TableData(adam), pop, cols)
    original = eng._km_inputs
    try:                                   # the block with the reference fits in place of the arrays' fits
        it = iter(fits)
        eng.kaplan_meier, real = (lambda t, e, a: next(it)), eng.kaplan_meier
        want = block_time_to_event(b, ctx, ())
    finally:
        eng.kaplan_meier, eng._km_inputs = real, original
    assert got == want
    assert len(got) >= 6
