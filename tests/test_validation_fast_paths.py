"""The validator's fast paths give the answers of the plain pandas code they replace.

Speed work on the rules (issue 16/15) computes verdicts on distinct values with numpy instead of
pandas operations per record; these tests pin each fast path to expected values worked out by hand
(or to the slow reference implementation that still ships, for the ISO 8601 columnar check)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialforge.specs.metadata import Dataset, DatasetMeta, VariableMeta
from trialforge.validation.context import ValidationContext, blank, clear_profiles, populated, series_of, text
from trialforge.validation.dates import _columnar_flags, iso8601_flags, iso8601_ok_columnar
from trialforge.validation.findings import Finding, ValidationReport
from trialforge.validation.rules_timing import epoch_matches_se, study_day_consistent

ISO_CASES = {
    "": True, "2020": True, "2020-02": True, "2020-02-29": True, "2021-02-29": False, "2020-13-01": False,
    "2020-00-10": False, "2019-12-31T23:59:59": True, "2019-12-31T24:00": False, "2019-06-01T10:61": False,
    "2019---15": True, "2019-01-01T-:30": True, "2020-01-01T10:00:00.5": True, "2020-1-01": False,
    "2020-01-01/2020-02-01": True, "2020-01-01/P1D": True, "P1D/2020-01-01": True, "2020-01-01/2020-02-30": False,
    # a duration's designators are not clock fields: PT25H (25 hours) is a valid duration, so the interval
    # is valid whichever path judges it; T25 in a date/time part is an hour of 25, invalid
    "2020-01-01/PT25H": True, "2020-01-01T25:00/P1D": False, "P1DT36H/2020-01-01": True,
    "FOO": False, "2020-01-01junk": False, "2020-01-01T10:00+01:00": True, "2020-01-01T10:00Z": True,
}


def test_columnar_iso8601_flags_match_the_pandas_columnar_check():
    texts = np.array(list(ISO_CASES), dtype=object)
    expected = np.array(list(ISO_CASES.values()))
    assert _columnar_flags(texts).tolist() == expected.tolist()
    assert iso8601_ok_columnar(pd.Series(texts, dtype=object)).tolist() == expected.tolist()


def test_iso8601_flags_small_columns_judge_each_value():
    clear_profiles()
    texts = np.array(["2020-02-30", "2020-02-28", "", "2020-01-01/P1D", "PT25H/2020-01-01"], dtype=object)
    assert iso8601_flags(texts).tolist() == [False, True, True, True, True]
    assert iso8601_flags(texts).tolist() == [False, True, True, True, True]     # memo gives the same answers


def test_series_of_is_the_series_pandas_builds():
    index = pd.RangeIndex(4)
    for values in (np.array([True, False, True, False]), np.array(["a", "", "b", "a"], dtype=object),
                   np.arange(4.0)):
        made = series_of(values.copy(), index)
        pd.testing.assert_series_equal(made, pd.Series(values, index=index, dtype=values.dtype))
        assert made.index is index and made.name is None
    made = series_of(np.array(["2020-01-01"] * 4, dtype="datetime64[ns]"), index)     # constructor path
    assert made.dtype == "datetime64[ns]"


def test_blank_and_populated_read_trimmed_text():
    clear_profiles()
    s = pd.Series(["A", " ", None, "B "], dtype=object)
    assert blank(s).tolist() == [False, True, True, False]
    assert populated(s).tolist() == [True, False, False, True]
    mask = populated(s)
    mask &= pd.Series([False, True, True, True])      # callers may combine in place: the cache stays right
    assert populated(s).tolist() == [True, False, False, True]
    assert text(s).tolist() == ["A", "", "", "B"]


def test_findings_sort_numeric_seq_before_text_and_missing():
    f = [Finding("R1", "warning", "AE", "m", usubjid="S1", seq=s) for s in ("10", None, "2", "x", "")]
    order = [x.seq for x in ValidationReport(findings=f).sorted()]
    assert order == ["2", "10", None, "", "x"]


def _ds(name, frame):
    return Dataset(DatasetMeta(name=name, label=name), frame)


class _Ctx(ValidationContext):
    def __init__(self, datasets):
        super().__init__(datasets={k: v for k, v in datasets.items()}, ct=None, standard=None)


SE = pd.DataFrame({"USUBJID": ["S1", "S1", "S1", "S2"],
                   "EPOCH": ["SCREENING", "TREATMENT", "FOLLOW-UP", "SCREENING"],
                   "SESTDTC": ["2020-01-01", "2020-01-10", "2020-03-01", "2020-02-01"],
                   "SEENDTC": ["2020-01-10", "2020-03-01", "", ""]})


def test_epoch_vs_se_on_distinct_triples():
    clear_profiles()
    ae = pd.DataFrame({"USUBJID": ["S1", "S1", "S1", "S1", "S2", "S3", "S1", "S1"],
                       "AESEQ": [1, 2, 3, 4, 1, 1, 5, 6],
                       "EPOCH": ["SCREENING", "TREATMENT", "SCREENING", "TREATMENT", "TREATMENT", "X",
                                 "TREATMENT", ""],
                       "AESTDTC": ["2020-01-05", "2020-01-10", "2020-02-01", "2020-02-01", "2020-05-01",
                                   "2020-01-01", "2020-02", "2020-02-01"]})
    ctx = _Ctx({"SE": _ds("SE", SE), "AE": _ds("AE", ae)})
    found = epoch_matches_se(ctx)
    # row 1: day 10 is both SCREENING's end and TREATMENT's start: either matches; row 3: TREATMENT on 02-01,
    # not SCREENING; row 5: S2 has only SCREENING (open end); S3 has no element; partial date and blank EPOCH skipped
    assert [(f.row, f.seq, f.value) for f in found] == [(3, "3", "SCREENING (SE: TREATMENT)"),
                                                         (5, "1", "TREATMENT (SE: SCREENING)")]


def test_study_day_against_rfstdtc_per_subject():
    clear_profiles()
    dm = pd.DataFrame({"USUBJID": ["S1", "S2"], "RFSTDTC": ["2020-01-10", "2020-01"]})
    ae = pd.DataFrame({"USUBJID": ["S1", "S1", "S1", "S2", "S9"], "AESEQ": [1, 2, 3, 1, 1],
                       "AESTDTC": ["2020-01-10", "2020-01-09", "2020-01-20", "2020-01-20", "2020-01-20"],
                       "AESTDY": [1.0, -2.0, 11.0, 5.0, 3.0]})
    ctx = _Ctx({"DM": _ds("DM", dm), "AE": _ds("AE", ae)})
    found = study_day_consistent(ctx)
    # day 1 on RFSTDTC, -1 the day before (no day 0), 11 ten days after; S2's reference is partial, S9 has none
    assert [(f.row, f.variable) for f in found] == [(2, "AESTDY")]


@pytest.mark.parametrize("seq, key", [("3", (0, 3.0, "")), (None, (1, 0.0, "")), ("A1", (1, 0.0, "A1"))])
def test_sort_key_seq_part(seq, key):
    assert Finding("R", "error", "AE", "m", seq=seq).sort_key[4] == key


def test_missing_usubjid_is_reported_not_a_crash():
    """A record with no USUBJID is itself a finding; the report sorts it with the others (a float NaN
    subject next to text subjects made sorting raise TypeError)."""
    from trialforge.validation.runner import validate_datasets
    clear_profiles()
    ae = pd.DataFrame({"STUDYID": ["S"] * 3, "DOMAIN": ["AE"] * 3, "USUBJID": ["S-1", None, "S-2"],
                       "AESEQ": [1.0, 1.0, 1.0], "AETERM": ["Headache", "Nausea", ""],
                       "AEDECOD": ["Headache", "Nausea", "Rash"], "AESTDTC": ["2020-01-01", "2020-13-01", "x"]})
    report = validate_datasets({"AE": _ds("AE", ae)}, scope="SDTM")
    rows = [f for f in report.sorted() if f.row == 2]
    assert rows, "the record without USUBJID has findings"
    assert all(f.usubjid is None for f in rows)
    assert {f.usubjid for f in report.sorted() if f.row in (1, 3)} <= {"S-1", "S-2", None}
