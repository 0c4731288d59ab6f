"""Fast paths of issue 15's fifth gate session, each against an independent reference.

- ``_byte_facts``: a text column's bytes read from Arrow's buffers (printable ASCII, <= 200 bytes, a value
  starting with " " or ".") against the same questions asked of every Python string;
- ``dates._columnar_flags`` (simple-shape pattern + run memo) against ``iso8601_ok_columnar``, the pandas
  path it replaces value by value;
- TF-BL-001/002, TF-REF-001, TF-REF-004, TF-KEY-001/002 and TF-TXT-001/TF-XPT-001/002 on columns long
  enough for the byte path, against the records worked out by hand or by pandas' own ``duplicated``.
"""
from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa

from trialforge.specs.metadata import Dataset, DatasetMeta
from trialforge.validation import context, dates
from trialforge.validation.context import clear_profiles, record_keys
from trialforge.validation.runner import validate_datasets

LONG = context.BYTE_FACTS_MIN_ROWS + 10


def _reference_facts(series: pd.Series) -> tuple[bool, bool]:
    values = [v for v in series.tolist() if isinstance(v, str)]
    plain = all(len(v.encode("utf-8")) <= 200 and v.isascii() and v.isprintable() for v in values)
    return plain, any(v[:1] in (" ", ".") for v in values)


def _check_facts(series: pd.Series):
    clear_profiles()
    got = context._read_byte_facts(series)
    want = _reference_facts(series)
    assert got[0] == want[0], list(series)[:5]
    if got[0]:
        assert got[1] == want[1], list(series)[:5]


def test_byte_facts_agree_with_python_strings():
    cases = [["a", "b", None, ""], [" a", "b"], [".", "x"], ["x" * 200], ["x" * 201], ["caf\u00e9"], ["a\nb"],
             ["a\x7f"], ["~ok"], ["a\tb"], [None, None], ["abc", ".5"], ["ok", " "], ["x" * 150 + "\u2019"]]
    for values in cases:
        series = pd.Series(values, dtype="str")
        _check_facts(series)
        if len(values) > 1:
            _check_facts(series.iloc[1:])            # an Arrow slice: offsets start inside the buffer
    rng = random.Random(7)
    alphabet = "AB .-\n\x7f\u00e9~ 0"
    for _ in range(200):
        values = [None if rng.random() < 0.1 else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4)))
                  for _ in range(rng.randint(1, 12))]
        _check_facts(pd.Series(values, dtype="str"))


def test_byte_facts_of_chunked_and_other_columns():
    chunked = pa.chunked_array([pa.array(["a", "b"], pa.large_string()), pa.array([" c", None], pa.large_string())])
    series = pd.Series(pd.arrays.ArrowStringArray(chunked))
    assert context._read_byte_facts(series) == (True, True)
    small = pa.chunked_array([pa.array(["ab", "c"], pa.string())])
    assert context._read_byte_facts(pd.Series(pd.arrays.ArrowExtensionArray(small))) == (True, False)
    # not Arrow text: "not known", never "plain"
    assert context._read_byte_facts(pd.Series(["a", "b"], dtype=object))[0] is False
    assert context._read_byte_facts(pd.Series([1.0, 2.0]))[0] is False
    # short columns are not read (their profile is as cheap)
    assert context.plain_ascii_text(pd.Series(["a"] * 10, dtype="str")) is False
    assert context.plain_ascii_text(pd.Series(["a"] * LONG, dtype="str")) is True


def test_columnar_iso8601_flags_agree_with_pandas_path():
    rng = random.Random(3)
    years = ["2021", "1600", "1699", "1700", "2200", "2201", "0000", "9999", "2020", "2024"]
    months = ["01", "02", "12", "13", "00", "1", "06"]
    days = ["01", "28", "29", "30", "31", "00", "32", "1"]
    clocks = ["", "T10:30", "T23:59:59", "T24:00", "T10", "T10:60", "T10:30:60", "T10:30:00.5", "T09:05Z", "T1:00",
              "T00:00:00", "T23:60"]
    texts = set()
    while len(texts) < 6000:
        text = f"{rng.choice(years)}-{rng.choice(months)}-{rng.choice(days)}{rng.choice(clocks)}"
        r = rng.random()
        if r < 0.05:
            text = text[:rng.randint(0, len(text))]
        elif r < 0.1:
            text = text + "/" + text
        texts.add(text)
    texts = sorted(texts) + ["", "2021---15", "2021-01-01T-:30", "P1D", "2021-01-01/P1D"]
    dates._COLUMNAR_SEEN.clear()
    want = dates.iso8601_ok_columnar(pd.Series(texts, dtype=object)).to_numpy(dtype=bool)
    first = dates._columnar_flags(np.array(texts, dtype=object))
    again = dates._columnar_flags(np.array(texts, dtype=object))      # every verdict from the run memo
    assert (first == want).all() and (again == want).all()
    assert 0 < want.sum() < len(texts)


def _pkg(frames: dict) -> dict:
    return {name: Dataset(DatasetMeta(name=name, label=name), frame) for name, frame in frames.items()}


def _found(package, rule_id, scope="SDTM"):
    clear_profiles()
    report = validate_datasets(package, scope=scope, options={"only": [rule_id]})
    return sorted((f.dataset, f.row, f.variable, f.value) for f in report.findings if f.rule_id == rule_id)


def test_multiple_baseline_flags_match_pandas_duplicated():
    rng = np.random.default_rng(5)
    n = 400
    frame = pd.DataFrame({
        "STUDYID": ["S"] * n, "DOMAIN": ["LB"] * n,
        "USUBJID": pd.Series([f"S-{i}" for i in rng.integers(0, 6, n)], dtype="str"),
        "LBSEQ": np.arange(1, n + 1, dtype=float),
        "LBTESTCD": pd.Series(rng.choice(["ALT", "AST", "ALT "], n), dtype="str"),
        "LBCAT": pd.Series(rng.choice(["CHEM", "", None], n), dtype="str"),
        "LBSPEC": pd.Series(rng.choice([None, "BLOOD"], n), dtype=object),
        "LBTPTNUM": rng.choice([1.0, 2.0, np.nan], n),
        "LBLOBXFL": pd.Series(rng.choice(["Y", "", None, " Y"], n), dtype="str"),
    })
    keys = ["USUBJID", "LBTESTCD", "LBCAT", "LBSPEC", "LBTPTNUM"]
    on = frame["LBLOBXFL"].fillna("").str.strip() == "Y"
    sub = frame.loc[on, keys].astype(object).where(frame.loc[on, keys].notna(), "")   # the old expression
    want = sorted(int(i) + 1 for i in np.flatnonzero(sub.duplicated(keep="first").reindex(frame.index, fill_value=False)))
    got = [row for _d, row, _v, _x in _found(_pkg({"LB": frame}), "TF-BL-002")]
    assert got == want and len(want) > 5


def test_subjects_not_in_dm_judged_per_distinct_subject():
    dm = pd.DataFrame({"STUDYID": ["S"] * 3, "DOMAIN": ["DM"] * 3, "USUBJID": ["S-1", "S-2 ", "S-3"]})
    ae = pd.DataFrame({"STUDYID": ["S"] * 6, "DOMAIN": ["AE"] * 6,
                       "USUBJID": pd.Series(["S-1", " S-2", "S-9", None, "", "S-9"], dtype="str"),
                       "AESEQ": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    # trimmed " S-2" is DM's "S-2 "; S-9 twice is unknown; missing and "" are not judged
    assert _found(_pkg({"DM": dm, "AE": ae}), "TF-REF-001") == [("AE", 3, "USUBJID", "S-9"), ("AE", 6, "USUBJID", "S-9")]


def test_parent_record_exists_by_hand():
    dm = pd.DataFrame({"STUDYID": ["S"] * 2, "DOMAIN": ["DM"] * 2, "USUBJID": ["S-1", "S-2"]})
    lb = pd.DataFrame({"STUDYID": ["S"] * 4, "DOMAIN": ["LB"] * 4, "USUBJID": ["S-1", "S-1", "S-2", "S-2"],
                       "LBSEQ": [1.0, 2.0, 1.0, 2.0], "LBGRPID": ["A", "B", "A", None]})
    supp = pd.DataFrame({
        "STUDYID": ["S"] * 9, "RDOMAIN": ["LB", "LB", "LB", "LB", "LB", "DM", "DM", "XX", ""],
        "USUBJID": ["S-1", "S-1", "S-2", "S-2", "S-3", "S-2", "S-4", "S-1", "S-1"],
        "IDVAR": ["LBSEQ", "LBSEQ", "LBSEQ", "LBGRPID", "LBSEQ", "", "", "XXSEQ", "LBSEQ"],
        "IDVARVAL": ["1", "3", "2 ", "B", "1", "", "", "1", "1"],
        "QNAM": ["Q"] * 9, "QLABEL": ["q"] * 9, "QVAL": ["v"] * 9, "QORIG": ["CRF"] * 9,
    })
    # row 2: no LBSEQ 3 for S-1; row 4: S-2 has no LBGRPID B; row 5: S-3 has no LB; row 7: S-4 not in DM;
    # row 8: no XX domain (not judged); row 9: no RDOMAIN (not judged); row 3: "2 " trims to 2
    got = _found(_pkg({"DM": dm, "LB": lb, "SUPPLB": supp}), "TF-REF-004")
    assert [(d, r) for d, r, _v, _x in got] == [("SUPPLB", 2), ("SUPPLB", 4), ("SUPPLB", 5), ("SUPPLB", 7)]
    assert got[0][3] == "LB.LBSEQ=3" and got[3][3] == "DM.="


def test_duplicates_and_byte_rules_on_long_columns():
    n = LONG
    rng = np.random.default_rng(11)
    terms = pd.Series(rng.choice(["HEADACHE", "NAUSEA", "RASH"], n), dtype=object)
    terms.iloc[[3, 4, 5, 6]] = [" HEADACHE", ".", "x" * 201, "caf\u00e9"]
    ae = pd.DataFrame({"STUDYID": ["S"] * n, "DOMAIN": ["AE"] * n,
                       "USUBJID": pd.Series([f"S-{i // 3}" for i in range(n)], dtype="str"),
                       "AESEQ": np.arange(1, n + 1, dtype=float),
                       "AETERM": terms.astype("str"),
                       "AEDECOD": pd.Series(rng.choice(["A", "B"], n), dtype="str")})
    ae.iloc[10] = ae.iloc[9]                                   # a duplicate record (AESEQ too)
    ae.loc[ae.index[21], ["USUBJID", "AETERM", "AEDECOD"]] = ae.loc[ae.index[20], ["USUBJID", "AETERM", "AEDECOD"]]
    pkg = _pkg({"AE": ae})
    want_dup = sorted(int(i) + 1 for i in np.flatnonzero(ae.drop(columns=["AESEQ"]).duplicated()))
    assert [r for _d, r, _v, _x in _found(pkg, "TF-KEY-002")] == want_dup and 11 in want_dup
    assert [(r, x) for _d, r, _v, x in _found(pkg, "TF-TXT-001")] == [(4, " HEADACHE"), (5, ".")]
    assert [r for _d, r, _v, _x in _found(pkg, "TF-XPT-001")] == [6]
    assert [r for _d, r, _v, _x in _found(pkg, "TF-XPT-002")] == [7]
    clean = _pkg({"AE": ae.drop(index=ae.index[[3, 4, 5, 6]]).reset_index(drop=True)})
    assert _found(clean, "TF-TXT-001") == [] and _found(clean, "TF-XPT-001") == [] == _found(clean, "TF-XPT-002")


def test_record_keys_same_with_and_without_the_per_dataset_lists():
    n = 300
    frame = pd.DataFrame({"USUBJID": pd.Series([f"S-{i % 7}" if i % 11 else None for i in range(n)], dtype="str"),
                          "AESEQ": [float(i) if i % 13 else np.nan for i in range(n)]})
    plain = Dataset(DatasetMeta(name="AE", label="AE"), frame)
    cached = context.cached_columns(plain)
    pos = np.array([0, 11, 13, 150, 299])
    want = record_keys(plain, frame.index[pos], pos)
    assert record_keys(cached, frame.index[pos], pos) == want          # few records: converted on the spot
    everything = np.arange(n)
    assert record_keys(cached, frame.index, everything)["usubjid"][11] is None   # builds the per-dataset lists
    assert record_keys(cached, frame.index[pos], pos) == want          # and reads them


def test_literal_table_patterns_match_as_the_regex_does():
    import re

    import pytest

    from trialforge.validation import families
    frame = pd.DataFrame({"LBTESTCD": ["A"], "LBTEST": ["a"], "LBTESTCDX": ["b"]})
    ds = Dataset(DatasetMeta(name="LB", label="LB"), frame)
    found = list(families.matches("--TESTCD", ds))
    assert [c for c, _ in found] == [c for c in frame.columns if re.fullmatch("LBTESTCD", c)] == ["LBTESTCD"]
    m = found[0][1]
    real = re.fullmatch("LBTESTCD", "LBTESTCD")
    for template in ("--TEST", "LBSTRESC", ""):
        assert families.partner(m, template, ds) == real.expand(families.expand(template, ds))
    with pytest.raises(re.error):                    # a group reference fails as the real match fails
        families.partner(m, r"A\1LO", ds)


def test_visitnum_not_in_tv_per_distinct_visit():
    tv = pd.DataFrame({"STUDYID": ["S"] * 2, "DOMAIN": ["TV"] * 2, "VISITNUM": [1.0, 2.0], "VISIT": ["V1", "V2"]})
    sv = pd.DataFrame({"STUDYID": ["S"] * 3, "DOMAIN": ["SV"] * 3, "USUBJID": ["S-1"] * 3,
                       "VISITNUM": [1.0, 2.5, 99.0], "VISIT": ["V1", "X", "UNSCHED"],
                       "SVUPDES": ["", "", "unplanned"]})
    lb = pd.DataFrame({"STUDYID": ["S"] * 6, "DOMAIN": ["LB"] * 6, "USUBJID": ["S-1"] * 6,
                       "LBSEQ": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "VISITNUM": [1.0, 3.0, 99.0, np.nan, 3.0, 2.0]})
    # LB: 3 is neither in TV nor an unplanned SV visit (twice); 99 is unplanned; missing is not judged.
    # SV: 2.5 is planned (no SVUPDES) and not in TV; 99 has SVUPDES
    got = _found(_pkg({"TV": tv, "SV": sv, "LB": lb}), "TF-TV-001")
    assert [(d, r, x) for d, r, _v, x in got] == [("LB", 2, "3"), ("LB", 5, "3"), ("SV", 2, "2.5")]
