"""Fast paths of the ninth speed pass (issue 15) against independently computed answers.

Each test computes the expected value another way (the slow path kept here as a reference, pandas' own
``duplicated``, the standard library, Finding objects, or by hand) on data chosen so that a wrong fast path
gives a different answer."""
from __future__ import annotations

import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr as sax_quoteattr

import numpy as np
import pandas as pd
import pytest

from trialforge.specs.metadata import Dataset, DatasetMeta
from trialforge.validation.context import (ValidationContext, cached_columns, clear_profiles, findings_at,
                                           finding_table_at, plain_ascii_text, plain_unpadded_text, profile, text)
from trialforge.validation.finding_table import FindingTable
from trialforge.validation.findings import FIELDS, Finding, ValidationReport
from trialforge.validation.registry import RULES, load_all
from trialforge.validation.report_formats import quoteattr
from trialforge.validation.rules_structure import _duplicated, all_told_apart

sys.path.insert(0, str(Path(__file__).parent))
from test_validation_sixth_pass import _told_apart_by_pandas  # noqa: E402  (the reference: pandas' duplicated)

load_all()


def _ds(name: str, columns: dict, dtype="str") -> Dataset:
    frame = pd.DataFrame({k: pd.Series(v, dtype=dtype if all(isinstance(x, str) or x is None for x in v) else None)
                          for k, v in columns.items()})
    return cached_columns(Dataset(DatasetMeta(name=name, label=name), frame))


# ---- JUnit attribute quoting without xml.sax.saxutils ------------------------------------------------------

@pytest.mark.parametrize("text", ["", "plain", 'say "hi"', "it's", "both \" and '", "a & b < c > d", "&amp;",
                                  "line\nbreak\r\ttab", "\"'&<>\n\r\t", "é ü 漢字", "trialforge.LB"])
def test_quoteattr_is_the_standard_librarys(text):
    assert quoteattr(text) == sax_quoteattr(text)


# ---- key uniqueness by sorting -----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(30))
def test_all_told_apart_many_wide_columns(seed):
    # eight columns of up to 10**7 values: the combined key overflows 63 bits several times, so records still
    # sharing their combination are renumbered and carried on more than once
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 3000))
    widths = [int(rng.choice([1, 2, 5, n + 1, 10 ** 6, 10 ** 7])) for _ in range(8)]
    codes = [rng.integers(0, w, size=n) for w in widths]
    if seed % 2:
        for c in codes[:6]:               # most records share the first columns, a pair is told apart late
            c[:] = c[0]
        codes[7][:] = np.arange(n) % max(widths[7], 1)
    if seed % 3 == 0:
        for c in codes:
            c[-1] = c[0]                  # a planted duplicate record
    assert all_told_apart(codes, widths) == _told_apart_by_pandas(codes)


@pytest.mark.parametrize("seed", range(20))
def test_duplicated_matches_pandas(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 500))
    frame = pd.DataFrame({"A": rng.choice(["x", "y", None, " x"], size=n).astype(object),
                          "B": rng.choice([1.0, 2.0, np.nan], size=n),
                          "C": (np.arange(n) if seed % 2 else rng.integers(0, 3, size=n)).astype(float)})
    frame["A"] = frame["A"].astype("str")
    ds = cached_columns(Dataset(DatasetMeta(name="XX", label="XX"), frame))
    clear_profiles()
    got = _duplicated(ds.frame, ["A", "B", "C"])
    expected = frame.astype(object).where(frame.notna(), None).duplicated(keep="first")
    assert got.tolist() == expected.tolist()
    assert got.index.equals(frame.index)


# ---- byte facts from a profiled column's dictionary --------------------------------------------------------

def _facts_by_python(values: list) -> tuple[bool, bool]:
    present = [v for v in values if v is not None]
    plain = all(v.isascii() and v.isprintable() and len(v.encode()) <= 200 for v in present)
    lead = any(v[:1] in (" ", ".") for v in present)
    return plain, lead


@pytest.mark.parametrize("values", [
    ["A", "B", None, "C"], ["A", " B"], ["A", ".", "B"], ["x" * 200, "y"], ["x" * 201], ["é"], ["a\tb"],
    ["", "A", ""], [None, None], ["A", "", "B"], [" "], ["A."], ["~", " ~"[1:]]])
@pytest.mark.parametrize("rows", [4, 5000])
def test_byte_facts_of_a_profiled_column(values, rows):
    column = pd.Series((values * (rows // len(values) + 1))[:rows], dtype="str")
    clear_profiles()
    profile(column)                                          # the facts then come from its dictionary
    plain, lead = _facts_by_python(column.tolist() if column.isna().sum() == 0 else
                                   [None if v is pd.NA or v != v else v for v in column.astype(object).tolist()])
    assert plain_ascii_text(column) == plain
    if plain and not lead:
        assert plain_unpadded_text(column)
    elif plain_unpadded_text(column):                        # "no lead" must never be claimed wrongly
        assert not lead


# ---- findings as columns -----------------------------------------------------------------------------------

def _as_tuples(findings) -> list:
    return [tuple(getattr(f, name) for name in FIELDS) for f in findings]


def test_finding_table_at_matches_findings_at():
    ds = _ds("EX", {"USUBJID": ["S1", "S1", "S2", None, "S3"], "EXSEQ": [1.0, 2.0, 1.0, 3.0, np.nan],
                    "EXSTDY": ["-3", "4", "-1", "-2", ""]})
    mask = pd.Series([True, False, True, True, False], index=ds.frame.index)
    for rule_id in ("TF-VAL-115", "TF-CT-002"):
        rule = RULES[rule_id]
        objects = findings_at(rule, ds, mask, variable="EXSTDY")
        table = finding_table_at(rule, ds, mask, variable="EXSTDY")
        assert len(objects) == 3
        assert _as_tuples(table.findings()) == _as_tuples(objects)
        assert _as_tuples(finding_table_at(rule, ds, mask, variable="EXSTDY", message="other").findings()) == \
            _as_tuples(findings_at(rule, ds, mask, variable="EXSTDY", message="other"))
    assert finding_table_at(RULES["TF-VAL-115"], ds, mask & False, variable="EXSTDY") is None


@pytest.mark.parametrize("seed", range(10))
def test_join_matches_objects(seed):
    rng = np.random.default_rng(seed)
    parts, objects = [], []
    for k in range(int(rng.integers(1, 12))):
        n = int(rng.integers(1, 30))
        usubjids = [None if rng.random() < 0.1 else f"S{int(rng.integers(5))}" for _ in range(n)]
        seqs = [None if rng.random() < 0.2 else str(int(rng.integers(3))) for _ in range(n)]
        rows = [int(r) for r in rng.integers(1, 9, size=n)]
        values = [rng.choice([None, "1", "1.0", "x", " x"]) for _ in range(n)]
        rule = RULES[str(rng.choice(["TF-VAL-115", "TF-CT-002", "TF-KEY-001"]))]
        made = rule.findings(f"D{k % 3}", "VAR" if k % 2 else None, None, usubjids, seqs, rows, values)
        objects += made
        if rng.random() < 0.5:
            parts.append(FindingTable.of_rows(rule.id, rule.severity, f"D{k % 3}", rule.message,
                                              "VAR" if k % 2 else None, usubjids, seqs, rows, values))
        else:
            parts.append(list(made))
    joined = FindingTable.join(parts)
    reference = FindingTable.of(objects)
    assert _as_tuples(joined.findings()) == _as_tuples(objects)
    assert [list(v) for v in joined.values] == [list(v) for v in reference.values]
    assert [c.tolist() for c in joined.codes] == [c.tolist() for c in reference.codes]
    a, b = ValidationReport(), ValidationReport()
    a.extend(joined)
    b.extend(objects)
    assert _as_tuples(a.sorted()) == _as_tuples(b.sorted())


# ---- TF-REF-003 and TF-EP-001 per distinct value -----------------------------------------------------------

def _ref003_reference(ctx):
    """The rule as it was: a pandas groupby of every record's (RDOMAIN, IDVAR) text."""
    from trialforge.validation.rules_relations import _referencing
    out = []
    for ds in _referencing(ctx):
        if "IDVAR" not in ds.frame:
            continue
        frame = pd.DataFrame({"RDOMAIN": text(ds.frame["RDOMAIN"]), "IDVAR": text(ds.frame["IDVAR"])})
        bad = pd.Series(False, index=ds.frame.index)
        for (rdomain, idvar), idx in frame[frame["IDVAR"] != ""].groupby(["RDOMAIN", "IDVAR"]).groups.items():
            parent = ctx.get(rdomain)
            if parent is not None and idvar not in parent.frame.columns:
                bad[idx] = True
        out += findings_at(RULES["TF-REF-003"], ds, bad, variable="IDVAR")
    return out


def _ep001_reference(ctx):
    ta = ctx.get("TA")
    known = set(text(ta.frame["EPOCH"]))
    out = []
    for ds in ctx.datasets.values():
        if ds.name.upper() in ("TA", "TE", "TV", "TI", "TS", "TD", "TM") or "EPOCH" not in ds.frame:
            continue
        epoch = text(ds.frame["EPOCH"])
        out += findings_at(RULES["TF-EP-001"], ds, (epoch != "") & ~epoch.isin(known), variable="EPOCH")
    return out


def test_ref003_and_ep001_match_the_old_rules():
    ae = _ds("AE", {"USUBJID": ["S1", "S2", "S3"], "AESEQ": ["1", "1", "1"], "EPOCH": ["TREATMENT", "SCREENING ", "X"]})
    lb = _ds("LB", {"USUBJID": ["S1", "S1"], "LBSEQ": ["1", "2"], "EPOCH": ["", "FOLLOW-UP"]})
    ta = _ds("TA", {"ARMCD": ["A", "A"], "EPOCH": ["TREATMENT", "SCREENING"]})
    supp = _ds("SUPPAE", {"RDOMAIN": ["AE", "AE", " AE", "AE", "LB", "XX", "AE"],
                          "USUBJID": ["S1", "S2", "S3", "S1", "S1", "S1", "S2"],
                          "IDVAR": ["AESEQ", "AESPID", "AESPID ", "", "LBGRPID", "AESEQ", "AESPID"],
                          "IDVARVAL": ["1", "1", "1", "", "1", "1", "2"], "QNAM": ["A"] * 7})
    ctx = ValidationContext(datasets={"AE": ae, "LB": lb, "TA": ta, "SUPPAE": supp}, ct=None, standard=None)
    clear_profiles()
    got = RULES["TF-REF-003"].check(ctx)
    clear_profiles()
    expected = _ref003_reference(ctx)
    assert len(expected) == 4                       # AESPID x3 (one padded), LBGRPID; XX is no dataset here
    assert _as_tuples(got) == _as_tuples(expected)
    clear_profiles()
    got = RULES["TF-EP-001"].check(ctx)
    clear_profiles()
    expected = _ep001_reference(ctx)
    assert len(expected) == 2                       # "X" in AE and "FOLLOW-UP" in LB ("SCREENING " trims)
    assert _as_tuples(got) == _as_tuples(expected)


# ---- TF-TV-003 and TF-TV-004 per distinct combination ------------------------------------------------------

def _tv003_reference(ctx):
    """The rule as it was: TV's labels as a pandas Series, ``map`` per distinct (VISITNUM, VISIT)."""
    from trialforge.validation.context import distinct_rows, series_of, texts_at
    from trialforge.validation.rules_relations import key_text
    tv = ctx.get("TV")
    label = pd.Series(text(tv.frame["VISIT"]).to_numpy(), index=key_text(tv.frame["VISITNUM"]).to_numpy())
    label = label[~label.index.duplicated()]
    out = []
    for ds in ctx.datasets.values():
        if ds.name.upper() in ("TA", "TE", "TI", "TS", "TV", "TD", "TM", "SV") or \
                not {"VISITNUM", "VISIT"} <= set(ds.frame.columns):
            continue
        f = ds.frame
        combo, first = distinct_rows(f, ["VISITNUM", "VISIT"])
        vn = pd.Series(key_text(f["VISITNUM"]).to_numpy()[first], dtype=object)
        v = texts_at(f["VISIT"], first)
        expected = vn.map(label)
        wrong = (expected.notna() & (v != "") & (v != expected)).to_numpy(dtype=bool)
        out += findings_at(RULES["TF-TV-003"], ds, series_of(wrong[combo], f.index), variable="VISIT",
                           values=lambda: key_text(f["VISITNUM"]) + " / " + text(f["VISIT"]))
    return out


def _tv004_reference(ctx):
    """The rule as it was: SV's pairs as a pandas MultiIndex, ``isin`` per distinct combination."""
    from trialforge.validation.context import distinct_rows, series_of, texts_at
    from trialforge.validation.rules_relations import key_text
    sv = ctx.get("SV")
    known = pd.MultiIndex.from_arrays([text(sv.frame["USUBJID"]), key_text(sv.frame["VISITNUM"])]).unique()
    out = []
    for ds in ctx.datasets.values():
        name = ds.name.upper()
        if name in ("TA", "TE", "TI", "TS", "TV", "TD", "TM", "SV") or \
                not {"USUBJID", "VISITNUM"} <= set(ds.frame.columns):
            continue
        f = ds.frame
        cols = ["USUBJID", "VISITNUM"] + ([f"{name[:2]}STAT"] if f"{name[:2]}STAT" in f else [])
        combo, first = distinct_rows(f, cols)
        vn = pd.Series(key_text(f["VISITNUM"]).to_numpy()[first], dtype=object)
        stat = texts_at(f[cols[2]], first) if len(cols) > 2 else ""
        seen = pd.MultiIndex.from_arrays([texts_at(f["USUBJID"], first), vn]).isin(known)
        wrong = ((vn != "") & (stat == "") & ~pd.Series(seen)).to_numpy(dtype=bool)
        out += findings_at(RULES["TF-TV-004"], ds, series_of(wrong[combo], f.index), variable="VISITNUM")
    return out


def _frame_ds(name: str, frame: pd.DataFrame) -> Dataset:
    return cached_columns(Dataset(DatasetMeta(name=name, label=name), frame))


@pytest.mark.parametrize("seed", range(6))
def test_tv003_tv004_match_the_old_rules(seed):
    rng = np.random.default_rng(seed)
    tv = _frame_ds("TV", pd.DataFrame({"VISITNUM": [1.0, 2.0, 3.0, 2.0, 4.5],
                                       "VISIT": ["SCREENING", "DAY 1", "DAY 8", "OTHER LABEL", ""]}).astype(
        {"VISIT": "str"}))
    subjects = [f"S{k}" for k in range(6)]
    sv = _frame_ds("SV", pd.DataFrame({"USUBJID": pd.Series(rng.choice(subjects, 20), dtype="str"),
                                       "VISITNUM": rng.choice([1.0, 2.0, 3.0, 4.5], 20),
                                       "VISIT": pd.Series(["x"] * 20, dtype="str")}))
    n = 300
    visitnum = rng.choice([1.0, 2.0, 3.0, 4.5, 7.0, np.nan], n)
    lb = pd.DataFrame({"USUBJID": pd.Series(rng.choice(subjects + ["S9", " S1"], n), dtype="str"),
                       "VISITNUM": visitnum,
                       "VISIT": pd.Series(rng.choice(["SCREENING", "DAY 1", "DAY 8", "DAY 8 ", "", "WEEK 2"], n),
                                          dtype="str"),
                       "LBSTAT": pd.Series(rng.choice(["", "NOT DONE"], n, p=[0.8, 0.2]), dtype="str")})
    vs = lb.drop(columns=["LBSTAT"]).assign(VISITNUM=pd.Series(rng.choice([1, 2, 3, 7], n), dtype="int64"))
    qs = lb.drop(columns=["LBSTAT"]).assign(VISITNUM=pd.Series(rng.choice(["1", "2", "7", ""], n), dtype="str"))
    ctx = ValidationContext(datasets={"TV": tv, "SV": sv, "LB": _frame_ds("LB", lb), "VS": _frame_ds("VS", vs),
                                      "QS": _frame_ds("QS", qs)}, ct=None, standard=None)
    for rule_id, reference in (("TF-TV-003", _tv003_reference), ("TF-TV-004", _tv004_reference)):
        clear_profiles()
        got = RULES[rule_id].check(ctx)
        clear_profiles()
        expected = reference(ctx)
        assert len(expected) > 20
        assert _as_tuples(got) == _as_tuples(expected)


# ---- TF-RES-004: results parsed per distinct value ---------------------------------------------------------

def _res004_reference(dataset):
    """The rule as it was: every combination's texts parsed, the shown text built up front."""
    from trialforge.validation.context import distinct_rows, series_of, texts_at
    from trialforge.validation.families import numeric_text
    cols = ["LBORRES", "LBORRESU", "LBSTRESC", "LBSTRESU"]
    f = dataset.frame
    combo, first = distinct_rows(f, cols)
    o, ou, s, su = (texts_at(f[c], first) for c in cols)
    same_unit = (ou != "") & (ou == su) & (o != "") & (s != "")
    on, sn = pd.to_numeric(o.where(numeric_text(o)), errors="coerce"), pd.to_numeric(s.where(numeric_text(s)),
                                                                                      errors="coerce")
    both_num = on.notna() & sn.notna()
    differ = np.where(both_num, ~np.isclose(on.fillna(0), sn.fillna(0), rtol=1e-9), o != s)
    verdict = (same_unit.to_numpy() & differ.astype(bool))[combo]
    shown = (o + " vs " + s).to_numpy(dtype=object)
    return findings_at(RULES["TF-RES-004"], dataset, series_of(verdict, f.index), variable=cols[2],
                       values=lambda: series_of(shown[combo], f.index))


@pytest.mark.parametrize("seed", range(5))
def test_res004_matches_the_old_rule(seed):
    rng = np.random.default_rng(seed)
    n = 400
    results = ["1", "1.0", "2", "2.000000001", "1e3", "1000", "0.5", ".5", "-3", "abc", "", " 7", "7 ", "08",
               "12345678901234567", "12345678901234568", "<5", "NEGATIVE"]
    frame = pd.DataFrame({"USUBJID": pd.Series(rng.choice(["S1", "S2"], n), dtype="str"),
                          "LBSEQ": np.arange(n, dtype=float),
                          "LBORRES": pd.Series(rng.choice(results, n), dtype="str"),
                          "LBORRESU": pd.Series(rng.choice(["mg", "g", ""], n), dtype="str"),
                          "LBSTRESC": pd.Series(rng.choice(results, n), dtype="str"),
                          "LBSTRESU": pd.Series(rng.choice(["mg", "g", ""], n), dtype="str")})
    ds = _frame_ds("LB", frame)
    ctx = ValidationContext(datasets={"LB": ds}, ct=None, standard=None)
    clear_profiles()
    got = RULES["TF-RES-004"].check(ds, ctx)
    clear_profiles()
    expected = _res004_reference(ds)
    assert len(expected) > 50
    assert _as_tuples(got) == _as_tuples(expected)
