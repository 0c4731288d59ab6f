"""Narrow reads of the SDTM side (SdtmSource.with_supp(columns=), the SUPP-- qualifiers merged once onto the
parent's keys) and the BDS baseline values found once per record. References: merge_supp of the whole SUPP--
onto the whole parent (what with_supp did before), and the BDS baseline by merges (``_baseline_frames``, the
code it replaces), plus values worked out by hand."""
import numpy as np
import pandas as pd
import pytest

from trialforge.adam._frame import normalize_sdtm, read_with
from trialforge.adam.recipes.adlb import _baseline_frames, _baseline_values, character_params
from trialforge.adam.recipes.sdtm_input import SdtmSource, merge_supp
from trialforge.errors import DatasetReadError
from trialforge.objstrings import object_strings


def _mi():
    mi = pd.DataFrame({"STUDYID": "S", "DOMAIN": "MI", "USUBJID": ["1", "1", "2", "3"], "MISEQ": [1, 2, 1, 1],
                       "MITESTCD": ["CD70", "CD70", "CD70", "KI67"], "MISTRESC": [" 2+", "3+", "1+", "POS"],
                       "MIDTC": ["2024-01-02", "2024-01-05", "2024-01-03", ""], "EPOCH": "SCREENING"})
    supp = pd.DataFrame({"STUDYID": "S", "RDOMAIN": "MI", "USUBJID": ["1", "2", "3", "1"],
                         "IDVAR": ["MISEQ", "MISEQ", "", ""], "IDVARVAL": ["2", "1.0", "", ""],
                         "QNAM": ["MIMETH", "MIMETH", "MIREADER", "MIREADER"], "QLABEL": "x",
                         "QVAL": ["IHC", "FISH ", "R2", "R1"], "QORIG": "CRF"})
    return mi, supp


def _whole(mi, supp):
    return merge_supp(normalize_sdtm(mi), normalize_sdtm(supp), "MI", normalised=True)


@pytest.mark.parametrize("columns", [["USUBJID", "MISTRESC"], ["USUBJID", "MIMETH", "MIDTC"],
                                     ["MIREADER", "MISEQ", "USUBJID", "NOSUCH"], []])
def test_with_supp_columns_are_the_whole_merge_s(columns):
    mi, supp = _mi()
    with object_strings():
        want = _whole(mi, supp)
        got = SdtmSource({"MI": mi, "SUPPMI": supp}).with_supp("MI", columns=columns)
    assert list(got.columns) == [c for c in want.columns if c in columns]
    pd.testing.assert_frame_equal(got, want[list(got.columns)], check_column_type=bool(columns))
    assert got.attrs["name"] == "MI"


def test_with_supp_values_by_hand_and_whole_frame_after_narrow_reads():
    mi, supp = _mi()
    with object_strings():
        src = SdtmSource({"MI": mi, "SUPPMI": supp})
        narrow = src.with_supp("MI", columns=["USUBJID", "MIMETH", "MIREADER"])
        whole = src.with_supp("MI")             # after a narrow read: the whole domain, every qualifier
        want = _whole(mi, supp)
    assert narrow["MIMETH"].tolist() == ["", "IHC", "FISH", ""]
    assert narrow["MIREADER"].tolist() == ["R1", "R1", "", "R2"]
    pd.testing.assert_frame_equal(whole, want)
    assert list(whole.columns) == list(normalize_sdtm(mi).columns) + ["MIREADER", "MIMETH"]   # IDVAR "" first


def test_with_supp_narrow_read_normalises_only_what_is_read():
    mi, supp = _mi()
    with object_strings():
        src = SdtmSource({"MI": mi, "SUPPMI": supp})
        src.with_supp("MI", columns=read_with("MITESTCD == 'CD70'", ["USUBJID", "MISTRESC"]))
    # no qualifier read: no SUPP-- merge, SUPPMI's QNAM alone read (to know its qualifiers)
    assert set(src._columns["MI"]) == {"USUBJID", "MISTRESC", "MITESTCD"}
    assert set(src._columns["SUPPMI"]) == {"QNAM"}
    with object_strings():
        src.with_supp("MI", columns=read_with("MITESTCD == 'CD70'", ["USUBJID", "MIMETH"]))
    assert set(src._columns["MI"]) == {"USUBJID", "MISTRESC", "MITESTCD", "MISEQ"}    # MISEQ: an IDVAR
    assert set(src._columns["SUPPMI"]) == {"USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"}


def test_with_supp_reader_of_no_qualifier_skips_the_merge():
    """A read naming no QNAM is the parent's columns (no merge, so a SUPP-- that would break it is not refused
    there); a read naming one merges and refuses it as before; a QNAM that is a parent variable, or a SUPP--
    lacking a variable the merge reads, sends every read through the merge."""
    mi, supp = _mi()
    supp.loc[3, ["IDVAR", "IDVARVAL", "QNAM", "USUBJID"]] = ["MISEQ", "2", "MIMETH", "1"]   # MIMETH twice
    with object_strings():
        src = SdtmSource({"MI": mi, "SUPPMI": supp})
        got = src.with_supp("MI", columns=["USUBJID", "MIDTC", "MISTRESC"])
        want = normalize_sdtm(mi)[["USUBJID", "MISTRESC", "MIDTC"]]
        pd.testing.assert_frame_equal(got, want)
        with pytest.raises(DatasetReadError, match="same QNAM twice"):
            src.with_supp("MI", columns=["USUBJID", "MIMETH"])
        mi, supp = _mi()
        supp.loc[0, "QNAM"] = "EPOCH"       # a parent variable: the whole merge for any read
        src = SdtmSource({"MI": mi, "SUPPMI": supp})
        src.with_supp("MI", columns=["USUBJID"])
        assert "MISEQ" in src._columns["MI"] and "QVAL" in src._columns["SUPPMI"]
        mi, supp = _mi()
        with pytest.raises(DatasetReadError, match="lacks a required variable"):
            SdtmSource({"MI": mi, "SUPPMI": supp.drop(columns="IDVARVAL")}).with_supp("MI", columns=["USUBJID"])


def test_with_supp_qnam_that_is_a_parent_variable_replaces_it_as_before():
    mi, supp = _mi()
    supp.loc[0, "QNAM"] = "EPOCH"
    with object_strings():
        want = _whole(mi, supp)
        got = SdtmSource({"MI": mi, "SUPPMI": supp}).with_supp("MI", columns=["USUBJID", "EPOCH"])
        whole = SdtmSource({"MI": mi, "SUPPMI": supp}).with_supp("MI")
    assert got["EPOCH"].tolist() == ["", "IHC", "", ""] == want["EPOCH"].tolist()     # the QNAM replaces it
    pd.testing.assert_frame_equal(whole, want)


@pytest.mark.parametrize("columns", [None, ["USUBJID", "MIMETH"]])
def test_with_supp_errors_as_the_whole_merge(columns):
    mi, supp = _mi()
    supp.loc[3, ["IDVAR", "IDVARVAL", "QNAM", "USUBJID"]] = ["MISEQ", "2", "MIMETH", "1"]   # MIMETH twice
    with object_strings(), pytest.raises(DatasetReadError, match="same QNAM twice"):
        SdtmSource({"MI": mi, "SUPPMI": supp}).with_supp("MI", columns=columns)
    mi, supp = _mi()
    supp.loc[0, "IDVAR"] = "MIGRPID"
    with object_strings(), pytest.raises(DatasetReadError, match="IDVAR names a variable the parent lacks"):
        SdtmSource({"MI": mi, "SUPPMI": supp}).with_supp("MI", columns=columns)


def test_with_supp_without_supp_records():
    mi, supp = _mi()
    with object_strings():
        got = SdtmSource({"MI": mi, "SUPPMI": supp.iloc[:0]}).with_supp("MI", columns=["USUBJID", "MIDTC"])
        alone = SdtmSource({"MI": mi}).with_supp("MI", columns=["USUBJID", "MIDTC"])
    assert got["MIDTC"].tolist() == alone["MIDTC"].tolist() == ["2024-01-02", "2024-01-05", "2024-01-03", ""]


def _bds(seed, n):
    rng = np.random.default_rng(seed)
    subj = rng.choice(["01", "02", "03", "04", "05"], n)
    param = rng.choice(["HGB", "ALT", "ADA"], n)
    aval = np.where(param == "ADA", np.nan, np.round(rng.normal(10, 3, n), 1))
    aval[rng.random(n) < 0.1] = np.nan
    frame = pd.DataFrame({"STUDYID": "S", "USUBJID": subj, "PARAMCD": param, "AVAL": aval,
                          "AVALC": np.where(np.isnan(aval), rng.choice(["POS", "NEG", ""], n), ""),
                          "ADT": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 30, n).astype(float)),
                          "ANRIND": rng.choice(["LOW", "NORMAL", "HIGH", ""], n), "ABLFL": ""})
    # at most one baseline record per subject and parameter (some groups have none)
    for _, rows in frame.groupby(["USUBJID", "PARAMCD"]).groups.items():
        if rng.random() < 0.8:
            frame.loc[rng.choice(list(rows)), "ABLFL"] = "Y"
    return frame


@pytest.mark.parametrize("seed", range(8))
def test_bds_baseline_values_against_the_merges(seed):
    with object_strings():
        frame = _bds(seed, int(np.random.default_rng(seed).integers(1, 400)))
        character = character_params(frame)
        by = ["STUDYID", "USUBJID", "PARAMCD"]
        got = _baseline_values(frame, by, character, "ADLB")
        want = _baseline_frames(frame, by, character, "ADLB")
    pd.testing.assert_frame_equal(got, want)
    assert list(got.columns)[-3:] == (["PCHG", "BNRIND"] if not character.any() else ["CHG", "PCHG", "BNRIND"])[-3:]


def test_bds_baseline_values_by_hand():
    with object_strings():
        frame = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "1", "1", "2", "2"],
                              "PARAMCD": ["HGB", "HGB", "HGB", "HGB", "ADA"], "AVAL": [10.0, 12.0, 8.0, 5.0, np.nan],
                              "AVALC": ["", "", "", "", "POS"], "ADT": [1.0, 3.0, 5.0, 2.0, 2.0],
                              "ANRIND": ["NORMAL", "HIGH", "LOW", "", ""], "ABLFL": ["", "Y", "", "", "Y"]})
        character = character_params(frame)
        got = _baseline_values(frame, ["STUDYID", "USUBJID", "PARAMCD"], character, "ADLB")
    assert got["BASE"].tolist()[:3] == [12.0, 12.0, 12.0] and np.isnan(got["BASE"].tolist()[3:]).all()
    assert got["BASEC"].tolist() == ["", "", "", "", "POS"]
    assert np.isnan(got["CHG"].tolist()[:2]).all() and got["CHG"].tolist()[2] == -4.0     # on/before baseline: none
    assert got["PCHG"].tolist()[2] == pytest.approx(-100 / 3)
    assert got["BNRIND"].tolist() == ["HIGH", "HIGH", "HIGH", "", ""]


def test_bds_two_baseline_records_is_the_merges_error():
    with object_strings():
        frame = _bds(0, 60)
        frame.loc[frame.index[:2], ["USUBJID", "PARAMCD", "ABLFL"]] = ["01", "HGB", "Y"]
        with pytest.raises(DatasetReadError, match="more than one record"):
            _baseline_values(frame, ["STUDYID", "USUBJID", "PARAMCD"], character_params(frame), "ADLB")
