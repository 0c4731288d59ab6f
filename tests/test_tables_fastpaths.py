"""The tables stage's fast paths give what the plain ways they replace give (the plain way is the reference,
computed here): indented JSON, SVG numbers, Agg paths, and the rows of each page of a per-subject figure."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from trialforge.tables.json_text import dumps_indent1


def _ref(obj) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("obj", [
    [], {}, [{}], [{}, {}], "s", 3, 1e300, 1e-7, -0.0, None, True,
    [{"a": 1}, {"a": float("nan")}],
    [{"a": 1}, {"b": 1}],                                   # different keys: not records
    [{"a": 1, "b": 2}, {"b": 1, "a": 2}],                   # same keys, other order
    {"x": [1, 2.5, -0.0, float("inf"), -float("inf"), None, True, False, "é\n\"\\ \u2028 \x01", [], {}]},
    [[1, [2, {}]]], ("a", "b"), {1: 2}, {None: 1},
    [{"a": [1, 2]}, {"a": [3]}], [{"a": ["x", "y"]}, {"a": []}, {"a": ["z"]}],
    [{"a": True, "b": None}, {"a": 1, "b": "x"}, {"a": 2.5, "b": "é"}],
    [{"a": np.float64(1.5)}, {"a": 2.0}],                   # a float subclass: the standard encoder's text
    [{"a": [{"b": []}], "c": {}}, {"a": [], "c": {"d": [1]}}],
    {"rows": [{"label": "L", "indent": 0, "header": False, "cells": ["1 (2.0)", "", "x\ty"]}] * 3,
     "footnotes": []},
])
def test_indented_json_is_the_standard_librarys(obj):
    assert dumps_indent1(obj) == _ref(obj)


def test_indented_json_of_a_random_records_list():
    rng = np.random.default_rng(7)
    vals = [None, True, False, 0, -3, 2 ** 70, 0.1, -0.0, 1e-12, 123456.789, float("nan"), "a", "ä\"b", ""]
    for n in (1, 2, 50):
        recs = [{k: vals[rng.integers(len(vals))] for k in ("USUBJID", "t", "v", "group")} for _ in range(n)]
        assert dumps_indent1(recs) == _ref(recs)
        doc = {"id": "1", "data": recs, "pages": 2}
        assert dumps_indent1(doc) == _ref(doc)


def test_svg_numbers_in_bulk_are_the_single_formatter():
    from trialforge.tables.canvas_svg import _n, _ns
    values = np.array([0.0, -0.0, -0.004, 0.004, 0.005, -0.005, 0.015, 1.0, 10.0, 100.0, 100.5, 1000.25, -10.0,
                       -0.5, 0.105, 12345678.9, 1e-9, -1e-9, 2.675, 1.005, 99.995, -99.995, 0.1, 20.0, 300.01])
    rng = np.random.default_rng(3)
    values = np.r_[values, rng.normal(0, 500, 2000), np.round(rng.normal(0, 50, 500), 2)]
    assert _ns(values) == [_n(v) for v in values]
    assert _ns(np.array([])) == []


def test_svg_coordinates_of_a_page_follow_the_drawing_order():
    from trialforge.tables.canvas import Canvas, Text
    from trialforge.tables.canvas_svg import _coordinates, _n
    c = Canvas(2, 1)
    c.line([0, 1.5, 3], [2, 2.25, -1], "red", 1.0)
    c.text(1, 1, "x")
    c.rects([1, 2], [3, 4], [5, 6], [7, 8.125], ["red", None])
    c.markers([0.333], [9.999], "o", 3.0, "blue")
    got = _coordinates(c.items)
    want = [[_n(v) for v in arr] for it in c.items if type(it) is not Text
            for arr in ((it.x, it.y, it.w, it.h) if hasattr(it, "w") else (it.x, it.y))]
    assert got == want


@pytest.mark.parametrize("n", [2, 5, 127, 128, 300])
@pytest.mark.parametrize("closed", [False, True])
def test_fast_paths_carry_what_path_init_sets(n, closed):
    from matplotlib.path import Path
    from trialforge.tables.canvas_png import _path
    rng = np.random.default_rng(n)
    verts = rng.normal(size=(n, 2))
    codes = np.full(n, Path.LINETO, dtype=Path.code_type)
    codes[0] = Path.MOVETO
    if closed:
        codes[-1] = Path.CLOSEPOLY
    for c in (codes, None):
        ours, ref = _path(verts, c), Path(verts, c)
        assert vars(ours).keys() == vars(ref).keys()
        for k in vars(ref):
            a, b = getattr(ours, k), getattr(ref, k)
            assert (np.array_equal(a, b) if isinstance(b, np.ndarray) else a == b), k


def test_page_pixels_map_as_column_stack():
    from trialforge.tables.canvas import Canvas
    from trialforge.tables.canvas_png import _Page
    page = _Page(Canvas(3, 2))
    x, y = np.array([0.0, 1.3, 7.77, 215.999]), np.array([3.0, 0.1, 99.5, 143.9])
    ref = np.column_stack([x * page.k, page.h - y * page.k])
    assert np.array_equal(page.xy(x, y), ref)


@pytest.mark.parametrize("per_page", [1, 2, 3, 10])
def test_rows_by_page_are_the_isin_rows(per_page):
    from trialforge.tables.figures import _rows_by_page
    rng = np.random.default_rng(per_page)
    ids = [f"S-{i:03d}" for i in range(17)]
    keys = pd.Series(rng.choice(ids + ["OTHER"], size=200), dtype="string")
    subjects = sorted(set(ids) - {"S-004"}, reverse=True)
    pages = math.ceil(len(subjects) / per_page)
    got = _rows_by_page(keys, subjects, per_page, pages)
    for k in range(pages):
        want = np.flatnonzero(keys.isin(subjects[k * per_page:(k + 1) * per_page]).to_numpy())
        assert np.array_equal(got[k], want)


def _join_rtf_reference(docs):
    """join_rtf as it was written before (a copy of each page's text per step)."""
    if len(docs) == 1:
        return docs[0]
    parts = []
    for k, text in enumerate(docs):
        body = text.rstrip()
        assert body.endswith("}")
        body = body[:-1]
        if k:
            cut = body.index("\\margl")
            eol = body.index("\n", cut)
            title = body.find("{\\pard", cut, eol)
            body = body[title:] if title >= 0 else body[eol + 1:]
            first = body.index("{\\pard")
            body = body[:first] + "{\\pard\\pagebb" + body[first + len("{\\pard"):]
        parts.append(body)
    return "".join(parts) + "}\n"


def test_join_rtf_is_the_copying_join(tmp_path):
    from trialforge.tables.canvas_png import encode_png
    from trialforge.tables.render import figure_to_rtf, join_rtf
    png = tmp_path / "p.png"
    png.write_bytes(encode_png(np.full((30, 40, 3), 200, dtype=np.uint8), 120))
    page = {"protocol": "P-1", "cutoff": "2024-01-01"}
    docs = [figure_to_rtf("Figure", f"14.{k}", f"Title µ {k}", "Safety", png, [f"Note {k}"] if k % 2 else [], page)
            for k in range(4)]
    docs[1] += "\n \n"                               # trailing whitespace is dropped as rstrip drops it
    for n in (1, 2, 4):
        assert join_rtf(docs[:n]) == _join_rtf_reference(docs[:n])
    # a page whose first paragraph is not on the page-setup line (here: its footnote's)
    other = docs[3]
    cut = other.index("\\margl")
    eol = other.index("\n", cut)
    moved = other[:eol] .replace("{\\pard", "{\\par_d") + other[eol:]
    assert join_rtf([docs[0], moved]) == _join_rtf_reference([docs[0], moved])


def _rows_for_heights():
    from trialforge.tables.result import Row
    texts = ["1 (2.5)", "Lymphocyte count decreased (Decreased lymphocyte count)", "2023-07-25", "",
             "Not recovered/not resolved", "12 (100.0)", "a " * 40, "x\\line y"]
    rng = np.random.default_rng(11)
    return [Row(f"CD70-{i:03d}" if i % 5 else "A long heading label that wraps over the stub " * (i % 3),
                [texts[k] for k in rng.integers(len(texts), size=4)], indent=int(i % 3), header=i % 7 == 0)
            for i in range(60)]


def test_row_heights_by_column_are_each_rows_height():
    from trialforge.tables.render import _row_height, _row_heights
    rows = _rows_for_heights()
    for abs_w in ([2.0, 1.0, 1.5, 0.9, 3.6], [1.6, 0.7, 0.7, 0.7, 0.7]):
        assert _row_heights(rows, abs_w) == [_row_height([r.label] + r.cells, abs_w, r.indent, r.header)
                                             for r in rows]
    rows[3].cells = rows[3].cells[:2]                 # a ragged row: the per-row way, as before
    abs_w = [2.0, 1.0, 1.5, 0.9, 3.6]
    assert _row_heights(rows, abs_w) == [_row_height([r.label] + r.cells, abs_w, r.indent, r.header) for r in rows]


def test_typeset_result_sets_each_cell_as_typeset_does():
    from trialforge.tables.result import Row, TableResult
    from trialforge.tables.typography import typeset, typeset_result
    cells = ["x 10^6", "ug/mL", ">= 3", "+/-", "", "plain", "x 10^6", "<=2 ug"]
    rows = [Row(f"r{i}", cells[i % 3:] + cells[:i % 3]) for i in range(12)]
    want = [[typeset(c) for c in r.cells] for r in rows]
    res = typeset_result(TableResult("1", "t", "p", [[("a", 1)] * len(cells)], "s", rows))
    assert [r.cells for r in res.rows] == want


def _object_strings_reference(frame):
    """as_object_strings by the frame constructor (the way it was built before the block path)."""
    conv = [c for c, t in frame.dtypes.items() if isinstance(t, pd.StringDtype) and t.na_value is np.nan]
    cols = {}
    for c in frame.columns:
        s = frame[c]
        if c in conv:
            codes, uniques = pd.factorize(s)
            s = pd.Series(np.append(np.asarray(uniques, dtype=object), np.nan)[codes], index=frame.index,
                          dtype=object, name=c)
        cols[c] = s
    out = pd.DataFrame(cols, index=frame.index)
    out.columns = pd.Index(list(frame.columns), dtype=object)
    out.attrs = dict(frame.attrs)
    return out


def test_object_strings_in_blocks_are_the_constructors_frame():
    from trialforge.tables.tabledata import as_object_strings
    f = pd.DataFrame({"USUBJID": pd.Series(["a", None, "b", "a"], dtype="str"), "AVAL": [1.0, np.nan, 3.0, 4.0],
                      "N": [1, 2, 3, 4], "FL": pd.Series(["Y", "Y", None, ""], dtype="str"), "B": [True, False, True, True],
                      "X": [0.5, 1.5, 2.5, 3.5]}, index=[10, 11, 12, 13])
    f.attrs["label"] = "test"
    got, want = as_object_strings(f), _object_strings_reference(f)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes) == list(want.dtypes) and got.columns.dtype == want.columns.dtype
    assert got.attrs == want.attrs
    assert got["USUBJID"].iloc[1] is not None and np.isnan(got["USUBJID"].iloc[1])
    got.iloc[0, 1] = 99.0                             # the new frame owns its values
    assert f.iloc[0, 1] == 1.0
    # a column of another kind (datetime): the constructor's way, same frame
    g = f.assign(D=pd.to_datetime(["2024-01-01"] * 4))
    pd.testing.assert_frame_equal(as_object_strings(g), _object_strings_reference(g), check_exact=True)


def test_png_of_a_strided_rgb_view_is_the_packed_pictures():
    from trialforge.tables.canvas_png import encode_png
    rng = np.random.default_rng(5)
    for h, w in ((1, 1), (2, 3), (37, 53)):
        rgba = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
        view = rgba[:, :, :3]
        assert h * w == 1 or not view.flags.c_contiguous
        assert encode_png(view, 120) == encode_png(np.ascontiguousarray(view), 120)


def test_png_of_an_rgba_page_is_the_png_of_its_rgb_channels():
    """encode_png packs an RGBA page's RGB channels with Pillow before filtering: the same file as the
    channels packed by numpy (the alpha channel, opaque or not, is never written)."""
    from trialforge.tables.canvas_png import encode_png
    rng = np.random.default_rng(11)
    for h, w in ((1, 1), (1, 7), (2, 3), (37, 53), (300, 41)):
        rgba = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
        rgba[h // 2:, :, :3] = 255                     # white runs, as a page has
        want = encode_png(np.ascontiguousarray(rgba[:, :, :3]), 120)
        assert encode_png(rgba, 120) == want
        assert encode_png(rgba[:, :, :3], 120) == want
    with pytest.raises(ValueError):
        encode_png(np.zeros((2, 2, 2), dtype=np.uint8), 120)


def test_subjects_by_group_are_the_pandas_selection():
    from trialforge.tables.figures import GROUP, KEY, _subjects_by_group
    rng = np.random.default_rng(2)
    f = pd.DataFrame({KEY: pd.Series(rng.choice([f"S-{i}" for i in range(30)], 300), dtype="str"),
                      GROUP: pd.Series(rng.choice(["DL1", "DL2", "DL 3", None], 300), dtype="str")})
    groups = ["DL2", "DL1", "DL 3", "absent"]
    want = [sid for g in groups for sid in sorted(pd.unique(f.loc[f[GROUP] == g, KEY]))]
    assert _subjects_by_group(f, groups) == want


def test_catalogue_field_shapes_are_the_type_hints_of_each_spec_class():
    """catalogue._fields (once per class) gives the fields and tuple-typed names get_type_hints gives."""
    import dataclasses
    import typing
    from trialforge.tables import catalogue as C
    from trialforge.tables import spec as S
    classes = [c for c in vars(S).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]
    assert len(classes) > 10
    for cls in classes:
        names, tuples = C._fields(cls)
        assert list(names) == [f.name for f in dataclasses.fields(cls)]
        want = {k for k, h in typing.get_type_hints(cls).items() if "tuple" in str(h)}
        assert set(tuples) == want
    assert any(C._fields(cls)[1] for cls in classes)      # some fields are tuples (lists in YAML)


def _km_counts_reference(t, e, ev_times):
    """The per-event-time passes kaplan_meier used before `_risk_sets` (kept as the reference)."""
    n_risk = np.array([(t >= u).sum() for u in ev_times], dtype=float)
    d = np.array([((t == u) & (e == 1)).sum() for u in ev_times], dtype=float)
    c = np.array([((t == u) & (e == 0)).sum() for u in ev_times], dtype=float)
    return n_risk, d, c


@pytest.mark.parametrize("seed", range(6))
def test_km_risk_sets_are_the_per_time_counts(seed):
    from trialforge.tables.km import _risk_sets, kaplan_meier
    rng = np.random.default_rng(seed)
    n = [0, 1, 5, 40, 300, 1000][seed]
    t = np.round(rng.exponential(200, n), [0, 0, 1, 0, 2, 0][seed])     # ties, some censored at event times
    t[: n // 7] = -0.0 if n else t[: n // 7]                            # -0.0 and 0.0 alike
    e = rng.integers(0, 2, n)
    ev = np.unique(t[e == 1])
    for got, want in zip(_risk_sets(t, e, ev), _km_counts_reference(t, e, ev)):
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)
    fit = kaplan_meier(t, e)
    assert fit.table["n_risk"].tolist() == [float(n)] + _km_counts_reference(t, e, ev)[0].tolist()


def test_opaque_page_check_is_the_alpha_minimum():
    from trialforge.tables.canvas_png import _opaque
    rng = np.random.default_rng(4)
    for h, w in ((1, 1), (3, 5), (40, 33)):
        rgba = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
        rgba[:, :, 3] = 255
        assert _opaque(rgba) and _opaque(rgba[:, ::-1])           # contiguous and strided
        for a in (0, 1, 254):
            for at in ((0, 0), (h - 1, w - 1), (h // 2, w // 3)):
                x = rgba.copy()
                x[at + (3,)] = a
                assert _opaque(x) == (x[:, :, 3].min() == 255) == False   # noqa: E712
        x = rgba.copy()
        x[:, :, :3] = 0                                           # colour never reads as alpha
        assert _opaque(x)
    assert _opaque(np.zeros((0, 4, 4), dtype=np.uint8))


def _ae_frame(seed: int, n: int, dtype=object) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    socs = np.array(["Infections", "Blood", "Nervous", None, np.nan], dtype=object)
    terms = np.array(["Fever", "Anaemia", "Headache", "fever", "Rash", None], dtype=object)
    keys = np.array([f"S-{i:02d}" for i in range(25)] + [None], dtype=object)
    return pd.DataFrame({"USUBJID": pd.Series(rng.choice(keys, n), dtype=dtype),
                         "AEBODSYS": pd.Series(rng.choice(socs, n, p=[.3, .3, .3, .05, .05]), dtype=dtype),
                         "AEDECOD": pd.Series(rng.choice(terms, n), dtype=dtype),
                         "AETOXGR": rng.choice([1.0, 2.0, 3.0, np.nan], n)})


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dtype", [object, "str"])
def test_ae_hierarchy_groupings_are_the_pandas_groupings(seed, dtype):
    """subjects_per_group / terms_within (factorised codes) against the pandas groupings they replace."""
    from trialforge.tables.engine import subjects_per_group, terms_within
    f = _ae_frame(seed, [0, 1, 7, 60, 400][seed], dtype)
    for by in (["AEBODSYS"], ["AEDECOD"], ["AEBODSYS", "AEDECOD"], ["AETOXGR"], ["AEBODSYS", "AETOXGR"]):
        want = f.groupby(by)["USUBJID"].nunique().to_dict() if len(f) else {}
        want = {k: v for k, v in want.items() if v}         # (pandas keeps a group whose subjects are all missing)
        assert subjects_per_group(f, by) == want, by
    want = {k: list(v) for k, v in
            f.dropna(subset=["AEDECOD"]).groupby("AEBODSYS", sort=False)["AEDECOD"].unique().to_dict().items()}
    got = terms_within(f, "AEBODSYS", "AEDECOD")
    assert got == want and [list(map(str, v)) for v in got.values()] == [list(map(str, v)) for v in want.values()]
    assert list(got) == list(want)


def _pk_adam(seed: int, dtype=object):
    rng = np.random.default_rng(seed)
    n = 30
    adsl = pd.DataFrame({"USUBJID": pd.Series([f"S-{i:02d}" for i in range(n)], dtype=dtype),
                         "SAFFL": pd.Series(["Y"] * (n - 2) + ["N", "N"], dtype=dtype),
                         "TRT01A": pd.Series(rng.choice(["DL1", "DL2", "DL3", None], n), dtype=dtype),
                         "TRT01AN": rng.integers(1, 4, n).astype(float)})
    m = 400
    subj = rng.choice([f"S-{i:02d}" for i in range(n + 3)], m)          # 3 subjects not in ADSL
    adpp = pd.DataFrame({"USUBJID": pd.Series(subj, dtype=dtype),
                         "PARAMCD": pd.Series(rng.choice(["CMAX", "AUC", "TMAX"], m), dtype=dtype),
                         "AVAL": np.where(rng.random(m) < 0.1, np.nan, rng.lognormal(2, 1, m).round(3)),
                         "AVALU": pd.Series(["ng/mL"] * m, dtype=dtype)})
    adpp.loc[rng.random(m) < 0.05, "AVAL"] = -1.0                         # non-positive: no geometric value
    return {"ADSL": adsl, "ADPP": adpp}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", [object, "str"])
def test_parameter_by_group_by_position_is_the_isin_selection(seed, dtype, monkeypatch):
    """compute_parameter_by_group with records taken by position (_group_records) against the same table
    with every cell taken by `isin` (the way it was, still used when keys repeat)."""
    from trialforge.tables import layouts
    from trialforge.tables.build import compute_table
    from trialforge.tables.spec import ParameterByGroup, ParamStats, Population, TableSpec
    adam = _pk_adam(seed, dtype)
    params = (ParamStats("CMAX", "Cmax"), ParamStats("AUC", "AUC", ("n", "mean", "sd", "min", "max"), None, 1))
    specs = [TableSpec("9.1", "PK", Population("Safety", "SAFFL == 'Y'"),
                       ParameterByGroup("ADPP", params=params, where=w), requires=("ADSL", "ADPP"))
             for w in (None, "AVAL > 0")]
    specs.append(TableSpec("9.2", "PK", Population("Safety", "SAFFL == 'Y'"), ParameterByGroup("ADPP"),
                           requires=("ADSL", "ADPP")))
    real, fast = layouts._group_records, []
    monkeypatch.setattr(layouts, "_group_records", lambda *a: fast.append(real(*a)) or fast[-1])
    got = [compute_table(s, adam).to_json() for s in specs]
    assert fast and all(f is not None for f in fast)               # the positional way was taken
    calls = []
    monkeypatch.setattr(layouts, "_group_records", lambda *a: calls.append(1))
    want = [compute_table(s, adam).to_json() for s in specs]
    assert calls and got == want
    assert "N=" in got[0] and "Cmax" in got[0]


@pytest.mark.parametrize("seed", range(4))
def test_parameter_by_visit_cells_are_each_visits_own_statistics(seed):
    """compute_parameter_by_visit (records of each visit from one grouping, one description per row) against
    the cells computed the plain way: the records equal to the visit, each statistic described on its own."""
    from trialforge.tables.build import compute_table
    from trialforge.tables.engine import _stat_cells
    from trialforge.tables.spec import ParameterByVisit, Population, TableSpec
    rng = np.random.default_rng(seed)
    n, m = 20, 300
    adsl = pd.DataFrame({"USUBJID": [f"S-{i:02d}" for i in range(n)], "SAFFL": ["Y"] * n})
    visits = [("BASELINE", 0.0), ("WEEK 1", 1.0), ("Week 2", 2.0), ("WEEK 4", 4.0), ("WEEK 1", 1.5)]
    pick = rng.integers(0, len(visits), m)
    adlb = pd.DataFrame({"USUBJID": rng.choice(adsl["USUBJID"], m),
                         "PARAMCD": rng.choice(["ALT", "AST"], m),
                         "AVISIT": [visits[k][0] for k in pick], "AVISITN": [visits[k][1] for k in pick],
                         "AVAL": np.where(rng.random(m) < 0.1, np.nan, rng.normal(30, 10, m).round(1)),
                         "AVALU": "U/L"})
    spec = TableSpec("9.3", "Labs", Population("Safety", "SAFFL == 'Y'"),
                     ParameterByVisit("ADLB", stats=("n", "mean_sd", "median", "q1_q3", "min_max")),
                     requires=("ADSL", "ADLB"))
    got = compute_table(spec, {"ADSL": adsl, "ADLB": adlb})
    want = []
    for p in ("ALT", "AST"):
        prec = adlb[adlb["PARAMCD"] == p]
        seen = prec[["AVISIT", "AVISITN"]].drop_duplicates().sort_values("AVISITN", kind="mergesort")
        for v in seen["AVISIT"]:
            vals = pd.to_numeric(prec.loc[prec["AVISIT"] == v, "AVAL"], errors="coerce")
            want.append([_stat_cells(vals, s, 1) for s in spec.layout.stats])
    body = [r.cells for r in got.rows if not r.header]
    assert len(body) == len(want) > 8 and body == want


def _survival_at_reference(fit, t):
    """km.survival_at as it read the fitted table with pandas (kept as the reference)."""
    if fit.n == 0:
        return float("nan"), float("nan"), float("nan")
    if t > fit.times.max():
        last = float(fit.table["surv"].iloc[-1])
        return (0.0, float("nan"), float("nan")) if last == 0 else (float("nan"),) * 3
    row = fit.table[fit.table["time"] <= t].iloc[-1]
    return float(row["surv"]), float(row["lower"]), float(row["upper"])


@pytest.mark.parametrize("seed", range(6))
def test_km_lookups_by_position_are_the_table_selections(seed):
    from trialforge.tables.km import kaplan_meier, quantile, survival_at
    rng = np.random.default_rng(seed)
    n = [1, 3, 12, 80, 300, 40][seed]
    t = np.round(rng.exponential(100, n), 0)
    if seed == 5:
        t[:3] = [-4.0, -1.0, 0.0]                          # events before time 0: table times not ascending
    e = rng.integers(0, 2, n)
    e[0] = 1
    fit = kaplan_meier(t, e)
    for x in [0.0, 0.5, 1.0, 30.0, 100.0, 365.0, float(t.max()), float(t.max()) + 1] + list(np.unique(t)[:20]):
        want = _survival_at_reference(fit, x)
        assert np.array_equal(np.array(survival_at(fit, x)), np.array(want), equal_nan=True), x
    if seed == 5:
        with pytest.raises(IndexError):
            _survival_at_reference(fit, -10.0)
        with pytest.raises(IndexError):
            survival_at(fit, -10.0)
    tab = fit.table.iloc[1:]
    assert np.array_equal(fit.columns["time"][1:], tab["time"].to_numpy())
    for p in (0.25, 0.5, 0.75):
        q = quantile(fit, p)
        assert all(isinstance(v, float) for v in q)


def test_in_columns_is_in_column_per_column():
    from trialforge.tables.engine import Context, in_column, in_columns
    from trialforge.tables.spec import Columns, Population
    from trialforge.tables.tabledata import TableData
    adam = _pk_adam(1)
    ctx = Context("9.4", TableData(adam), Population("Safety", "SAFFL == 'Y'"),
                  Columns(fallback="Not treated"))
    recs = ctx.data("ADPP")
    got = in_columns(ctx, recs)
    want = [in_column(ctx, recs, j) for j in range(len(ctx.cols))]
    assert len(got) == len(ctx.cols) > 2 and all(np.array_equal(a, b) for a, b in zip(got, want))
    assert any(a.any() for a in got) and not all(a.all() for a in got)
    assert [len(a) for a in in_columns(ctx, recs.iloc[:0])] == [0] * len(ctx.cols)


def test_subject_counts_of_adsl_rows_are_the_key_counts():
    from trialforge.tables.engine import KEY, Context, _counts, _subject_counts
    from trialforge.tables.spec import Columns, Population
    from trialforge.tables.tabledata import TableData
    ctx = Context("9.5", TableData(_pk_adam(2)), Population("Safety", "SAFFL == 'Y'"), Columns(fallback="None"))
    rng = np.random.default_rng(0)
    for _ in range(5):
        hit = rng.random(len(ctx.adsl)) < 0.4
        assert _subject_counts(ctx, hit) == _counts(ctx, ctx.adsl[KEY].to_numpy()[hit])
    assert _subject_counts(ctx, np.zeros(len(ctx.adsl), dtype=bool)) == [0] * len(ctx.cols)


@pytest.mark.parametrize("units", [["mg/L"] * 5, ["mg/L", None, " ", "mg/L", np.nan], [1.0, 1.0, None, 1.0, 1.0],
                                   ["mg/L", "g/L", "mg/L", None, "mg/L"]])
def test_unit_suffix_is_the_distinct_texts_of_the_filled_units(units):
    from trialforge.errors import SpecError
    from trialforge.tables.engine import Context, _blank, _unit_suffix
    from trialforge.tables.spec import Columns, Continuous, Population
    from trialforge.tables.tabledata import TableData
    adam = _pk_adam(3)
    adam["ADPP"] = adam["ADPP"].assign(AVALU=pd.Series((units * 200)[:len(adam["ADPP"])], dtype=object))
    ctx = Context("9.6", TableData(adam), Population("Safety", "SAFFL == 'Y'"), Columns(fallback="None"))
    b = Continuous(dataset="ADPP", var="AVAL", label="x", where="PARAMCD == 'CMAX'", unit_var="AVALU")
    recs = ctx.data("ADPP", b.where)
    want = sorted(set(recs.loc[~_blank(recs["AVALU"]), "AVALU"].astype(str)))     # the pandas way
    if len(want) > 1:
        with pytest.raises(SpecError):
            _unit_suffix(ctx, b)
    else:
        assert _unit_suffix(ctx, b) == (f" ({want[0]})" if want else "")


def test_records_of_some_columns_are_those_columns_of_the_records():
    from trialforge.tables.engine import Context
    from trialforge.tables.spec import Columns, Population
    from trialforge.tables.tabledata import TableData
    ctx = Context("9.7", TableData(_pk_adam(4)), Population("Safety", "SAFFL == 'Y'"), Columns(fallback="None"))
    for where in (None, "PARAMCD == 'AUC'"):
        full = ctx.records("ADPP", where)
        for cols in (["USUBJID", "AVAL"], ["AVAL", "USUBJID", "NOPE"], ["PARAMCD"]):
            want = full[[c for c in full.columns if c in cols]]
            pd.testing.assert_frame_equal(ctx.records("ADPP", where, columns=cols), want)


@pytest.mark.parametrize("dtype", [object, "str"])
@pytest.mark.parametrize("template", [None, "{TRT01A} ({SAFFL})"])
def test_with_group_is_the_left_merge(dtype, template, monkeypatch):
    """figures._with_group by ADSL row against the left merge it stands for (the merge is kept for repeated
    or missing keys): same frame, columns, dtypes and index."""
    from trialforge.tables import figures
    from trialforge.tables.engine import Context
    from trialforge.tables.spec import Population
    from trialforge.tables.tabledata import TableData
    adam = _pk_adam(5, dtype)
    ctx = Context("9.8", TableData(adam, prepare=False), Population("All", "SAFFL == 'Y' or SAFFL == 'N'"), None)
    recs = adam["ADPP"].iloc[::3]                              # not a range index; subjects outside ADSL too
    recs.columns = pd.Index(list(recs.columns), dtype=object)  # an object column index, as prepared frames have
    recs = recs.assign(_GROUP=pd.Series("old", index=recs.index, dtype=dtype))
    got = figures._with_group(recs, ctx, "TRT01A", template)
    groups = pd.DataFrame({"USUBJID": ctx.adsl["USUBJID"], "_GROUP": figures._group_series(ctx, "TRT01A", template)})
    want = recs.drop(columns=["_GROUP"]).merge(groups, on="USUBJID", how="left")
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["_GROUP"].isna().any() and got["_GROUP"].notna().any()


@pytest.mark.parametrize("dtype", [object, "str"])
def test_figure_groups_are_the_sorted_filled_display_groups(dtype):
    """figures._groups (blank test per distinct value, display groups remembered) against the plain pandas
    expression it replaced."""
    from trialforge.tables import figures
    from trialforge.tables.engine import Context
    from trialforge.tables.spec import Population
    from trialforge.tables.tabledata import TableData
    adam = _pk_adam(6, dtype)
    adam["ADSL"] = adam["ADSL"].assign(TRT01A=pd.Series(
        (["DL1", " ", "DL2", None, "", "DL3"] * 10)[:len(adam["ADSL"])], dtype=dtype))
    ctx = Context("9.9", TableData(adam, prepare=False), Population("All", "SAFFL == 'Y' or SAFFL == 'N'"), None)
    for order, template in ((None, None), ("TRT01AN", None), ("TRT01AN", "{TRT01A} x")):
        by = list(dict.fromkeys(([order] if order else []) + ["TRT01A"]))
        frame = ctx.adsl[by].assign(_GROUP=figures._group_series(ctx, "TRT01A", template))
        frame = frame[~frame["TRT01A"].isna() & (frame["TRT01A"].astype(str).str.strip() != "")]
        want = list(dict.fromkeys(frame.sort_values(by, kind="mergesort")["_GROUP"]))
        assert figures._groups(ctx, "TRT01A", order, template) == want and len(want) >= 2
    assert figures._group_series(ctx, "TRT01A", None) is figures._group_series(ctx, "TRT01A", None)
    ctx.adsl = ctx.adsl.iloc[:10]                                  # another ADSL frame: computed again
    assert len(figures._group_series(ctx, "TRT01A", None)) == 10


@pytest.mark.parametrize("compute", [None, {"DOSE2": "TRT01AN * 2 + AVAL"}, {"Q": "`AVAL` > 1"}])
def test_listing_on_its_variables_is_the_listing_on_every_column(compute, monkeypatch):
    """compute_listing joining only the variables the listing reads against the same listing joining every
    column of the records and of ADSL (the way it was): same rows and cells."""
    from trialforge.tables import layouts
    from trialforge.tables.build import compute_table
    from trialforge.tables.spec import ListColumn, Listing, Population, TableSpec
    adam = _pk_adam(7)
    adam["ADPP"] = adam["ADPP"].assign(TRT01AN=99.0, EXTRA="x")        # a name in both: the record's wins
    cols = (ListColumn("Subject", "{USUBJID}"), ListColumn("Arm", "{TRT01A} ({TRT01AN})"),
            ListColumn("Value", "{AVAL} {AVALU}", format=None))
    if compute:
        cols += tuple(ListColumn(k, "{%s}" % k) for k in compute)
    spec = TableSpec("9.10", "L", Population("Safety", "SAFFL == 'Y'"),
                     Listing("ADPP", cols, where="PARAMCD != 'TMAX'", sort_by=("USUBJID", "AVAL"), compute=compute),
                     requires=("ADSL", "ADPP"), kind="Listing")
    got = compute_table(spec, adam)
    used = layouts._listing_variables(spec.layout)
    assert (used is None) == bool(compute and "`" in list(compute.values())[0])
    monkeypatch.setattr(layouts, "_listing_variables", lambda lay: None)
    want = compute_table(spec, adam)
    assert got.to_json() == want.to_json() and len(got.rows) > 20
    assert "99" in got.to_json()
