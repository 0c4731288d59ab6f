"""Rules judged once per distinct value (or combination of values) and expanded to the records.

Issue 15's gate work evaluates TF-RES-004 on distinct (ORRES, ORRESU, STRESC, STRESU) combinations,
TF-RES-001 on distinct --STRESC values and TF-CT-003 on distinct codes and names; each test states the
records that must be flagged, worked out by hand from the rule's wording, including blanks, repeated
combinations, leading/trailing spaces and values that are no CT term."""
from __future__ import annotations

import numpy as np
import pandas as pd

from trialforge.specs.metadata import Dataset, DatasetMeta
from trialforge.validation.context import clear_profiles, distinct_rows, texts_at
from trialforge.validation.runner import validate_datasets

NAN = float("nan")


def _lb(**cols) -> dict:
    n = len(next(iter(cols.values())))
    frame = pd.DataFrame({"STUDYID": ["S"] * n, "DOMAIN": ["LB"] * n,
                          "USUBJID": [f"S-{i // 2 + 1}" for i in range(n)],
                          "LBSEQ": [float(i % 2 + 1) for i in range(n)], **cols})
    return {"LB": Dataset(DatasetMeta(name="LB", label="Laboratory Test Results"), frame)}


def _found(package, rule_id):
    report = validate_datasets(package, scope="SDTM", options={"only": [rule_id]})
    return [(f.row, f.variable, f.value) for f in report.findings if f.rule_id == rule_id]


def test_distinct_rows_numbers_combinations_in_order_of_first_record():
    clear_profiles()
    frame = pd.DataFrame({"A": ["x", "y", "x", None, "x", None],
                          "B": [1.0, 1.0, 1.0, NAN, 2.0, NAN]})
    combo, first = distinct_rows(frame, ["A", "B"])
    # (x,1) (y,1) (x,1) (-,-) (x,2) (-,-): four combinations, first seen at rows 0, 1, 3, 4
    assert combo.tolist() == [0, 1, 0, 2, 3, 2]
    assert first.tolist() == [0, 1, 3, 4]
    assert texts_at(frame["A"], first).tolist() == ["x", "y", "", "x"]
    assert texts_at(frame["B"], first).tolist() == ["1", "1", "", "2"]
    empty = frame.iloc[:0]
    combo, first = distinct_rows(empty, ["A", "B"])
    assert len(combo) == 0 and len(first) == 0


def test_stresc_vs_orres_same_unit_per_record():
    clear_profiles()
    package = _lb(
        LBORRES=["5", "5", "5.0", "<5", "5", "", "7 ", "7", "abc", "abc"],
        LBORRESU=["g/L", "g/L", "g/L", "g/L", "g/L", "g/L", "mg", "mg", "", ""],
        LBSTRESC=["5", "6", "5", "5", "50", "5", "7", "8", "abd", "abc"],
        LBSTRESU=["g/L", "g/L", "g/L", "g/L", "mg/L", "g/L", "mg", "mg", "", ""],
        LBSTRESN=[5.0, 6.0, 5.0, 5.0, 50.0, 5.0, 7.0, 8.0, NAN, NAN],
    )
    # row 2: 5 vs 6 (same unit); row 3: 5.0 vs 5 is the same number; row 4: '<5' is text, differs from '5';
    # row 5: other unit; row 6: blank ORRES; row 7: '7 ' trims to 7; row 8: 7 vs 8; rows 9-10: no unit
    assert _found(package, "TF-RES-004") == [(2, "LBSTRESC", "5 vs 6"), (4, "LBSTRESC", "<5 vs 5"),
                                             (8, "LBSTRESC", "7 vs 8")]


def test_stresc_vs_orres_repeated_combination_flags_every_record():
    clear_profiles()
    package = _lb(LBORRES=["1", "2", "1", "2"], LBORRESU=["U"] * 4, LBSTRESC=["1", "3", "1", "3"],
                  LBSTRESU=["U"] * 4)
    assert _found(package, "TF-RES-004") == [(2, "LBSTRESC", "2 vs 3"), (4, "LBSTRESC", "2 vs 3")]


def test_stresc_vs_orres_needs_all_four_variables():
    clear_profiles()
    package = _lb(LBORRES=["1"], LBORRESU=["U"], LBSTRESC=["2"])
    assert _found(package, "TF-RES-004") == []


def test_stresn_vs_stresc_digit_for_digit():
    clear_profiles()
    package = _lb(
        LBSTRESC=["20", "20.0001", "20.0001", "1e3", "", "abc", " 7", "08", "3"],
        LBSTRESN=[20.0, 20.0, 20.0, 1000.0, 5.0, 1.0, 7.0, 8.0, NAN],
    )
    # rows 2-3: 20.0001 is not 20; '1e3' and '08' are no plain decimals and 'abc'/'' no numbers (other
    # rules); ' 7' trims to 7; row 9: STRESN missing is TF-RES-003's
    assert _found(package, "TF-RES-001") == [(2, "LBSTRESN", "20.0001 vs 20.0"), (3, "LBSTRESN", "20.0001 vs 20.0")]


def test_stresn_vs_stresc_text_stresn_column():
    clear_profiles()
    package = _lb(LBSTRESC=["4.5", "4.5"], LBSTRESN=["4.5", "4.6"])      # --STRESN read as text
    assert _found(package, "TF-RES-001") == [(2, "LBSTRESN", "4.5 vs 4.6")]


def test_paired_terms_compares_nci_codes_of_code_and_name():
    clear_profiles()
    # ALB/Albumin are C64431, GLUC/Glucose C105585 (bundled CT); XYZ is no term, blanks are no term
    package = _lb(LBTESTCD=["ALB", "GLUC", "ALB", "XYZ", "", "GLUC", "GLUC"],
                  LBTEST=["Albumin", "Albumin", "Albumin ", "Glucose", "Albumin", "Glucose", "Albumin"])
    assert _found(package, "TF-CT-003") == [(2, "LBTEST", "GLUC / Albumin"), (7, "LBTEST", "GLUC / Albumin")]


def test_paired_terms_without_the_name_variable():
    clear_profiles()
    assert _found(_lb(LBTESTCD=["ALB", "GLUC"]), "TF-CT-003") == []
    assert np.array_equal(distinct_rows(pd.DataFrame({"A": [1, 1]}), ["A"])[0], [0, 0])


def _domain_findings(name, values):
    clear_profiles()
    frame = pd.DataFrame({"STUDYID": ["S"] * len(values), "DOMAIN": values,
                          "USUBJID": [f"S-{i}" for i in range(len(values))]})
    package = {name: Dataset(DatasetMeta(name=name, label="x"), frame)}
    return [(f.row, f.value) for f in validate_datasets(package, scope="SDTM", options={"only": ["TF-STR-006"]}).findings]


def test_domain_value_per_distinct_value():
    # a split dataset (QSCG) may carry its two-letter domain; blanks are another rule's; text is trimmed
    assert _domain_findings("QSCG", ["QS", "QSCG", " QS ", "QX", "", None, "Q", "QX"]) == \
        [(4, "QX"), (7, "Q"), (8, "QX")]
    # a two-letter dataset needs exactly its name: the split allowance does not apply
    assert _domain_findings("LB", ["LB", "L", "LBX", "lb"]) == [(2, "L"), (3, "LBX"), (4, "lb")]
    assert _domain_findings("LB1", ["LB", "LB1", "LC"]) == [(3, "LC")]


def _sdtm(**datasets):
    out = {}
    for name, cols in datasets.items():
        frame = pd.DataFrame({"STUDYID": "S", "DOMAIN": name, **cols})
        out[name] = Dataset(DatasetMeta(name=name, label=name), frame)
    return out


def _study_found(package, rule_id):
    report = validate_datasets(package, scope="SDTM", options={"only": [rule_id]})
    return [(f.dataset, f.row, f.value) for f in report.findings if f.rule_id == rule_id]


def test_visit_label_against_tv_per_distinct_pair():
    clear_profiles()
    package = _sdtm(
        TV={"VISITNUM": [1.0, 2.0], "VISIT": ["SCREENING", "WEEK 1"]},
        LB={"USUBJID": ["S-1"] * 7, "VISITNUM": [1.0, 1.0, 2.0, 2.0, 3.0, NAN, 1.0],
            "VISIT": ["SCREENING", "Screening", "WEEK 1", "", "WEEK 9", "X", "Screening"]})
    # rows 2 and 7: TV calls visit 1 SCREENING; a blank VISIT, a visit TV lacks and no VISITNUM are not judged
    assert _study_found(package, "TF-TV-003") == [("LB", 2, "1 / Screening"), ("LB", 7, "1 / Screening")]


def test_visit_in_sv_per_distinct_subject_visit_status():
    clear_profiles()
    sv = {"USUBJID": ["S-1", "S-1", "S-2"], "VISITNUM": [1.0, 2.0, 1.0]}
    package = _sdtm(SV=sv, LB={"USUBJID": ["S-1", "S-1", "S-2", "S-2", "S-3", "S-2", "S-1"],
                               "VISITNUM": [1.0, 3.0, 2.0, 2.0, NAN, 1.0, 3.0],
                               "LBSTAT": ["", "", "NOT DONE", "", "", "", ""]})
    # S-1 visit 3 (rows 2, 7) and S-2 visit 2 (row 4) are not in SV; row 3 was not done, row 5 has no visit
    assert _study_found(package, "TF-TV-004") == [("LB", 2, "3"), ("LB", 7, "3"), ("LB", 4, "2")]   # by subject
    clear_profiles()
    package = _sdtm(SV=sv, VS={"USUBJID": ["S-1", "S-2"], "VISITNUM": [2.0, 2.0]})     # no --STAT
    assert _study_found(package, "TF-TV-004") == [("VS", 2, "2")]


def test_orres_not_numeric_when_range_given():
    clear_profiles()
    package = _lb(LBORRES=["<5", "5", "1.5E+05", "", "abc", " <5 "], LBORNRLO=["1", "1", "1", "1", "", "2"])
    # E-notation is a number as collected; a blank result and a record without a range are not judged
    assert _found(package, "TF-RES-009") == [(1, "LBORRES", "<5"), (6, "LBORRES", " <5 ")]


def test_key_text_spells_numbers_as_idvarval():
    from trialforge.validation.rules_relations import key_text
    clear_profiles()
    s = pd.Series([1.0, 2.5, NAN, -0.0, 0.1, 3.0, 2.0 ** 62, 123456.789, 1e-7, 1e16])
    assert key_text(s).tolist() == ["1", "2.5", "", "0", "0.1", "3", "4611686018427387904", "123456.789", "1e-07",
                                    "10000000000000000"]
    assert key_text(pd.Series([3, 4])).tolist() == ["3", "4"]
    assert key_text(pd.Series([" a ", None], dtype=object)).tolist() == ["a", ""]


def test_numeric_profile_spells_values_on_first_use():
    from trialforge.validation.context import group_codes, profile
    clear_profiles()
    s = pd.Series([2.0, 0.5, NAN, 2.0, -3.0])
    prof = profile(s)
    assert prof.width == 4 and prof.codes.tolist() == [0, 1, 3, 0, 2]     # missing is the last entry
    assert prof._texts is None                                             # not spelled yet
    assert group_codes(pd.DataFrame({"A": s}), ["A"]).tolist() == [0, 1, 3, 0, 2]
    assert prof._texts is None                                             # groupings need only the codes
    assert prof.texts.tolist() == ["2", "0.5", "-3", ""] and prof.raw == ["2", "0.5", "-3", ""]
    assert prof.present.tolist() == [True, True, True, True] and prof.blank.tolist() == [False, False, False, True]


def test_paramcd_param_one_to_one_on_trimmed_text():
    clear_profiles()
    frame = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1"] * 7, "PARAMCD": ["A", "A", "B", "B ", "C", "D", ""],
                          "PARAM": ["Alpha", "Alpha", "Beta", "Beta", "Gamma", "Gamma", "Empty"],
                          "AVAL": [1.0] * 7})
    package = {"ADLB": Dataset(DatasetMeta(name="ADLB", label="x"), frame)}
    found = [(f.row, f.value) for f in validate_datasets(package, scope="ADaM", options={"only": ["TF-BDS-002"]}).findings]
    # 'B ' trims to B (one code, one name); Gamma has two codes, C and D; a blank code is one more code
    assert found == [(5, "C / Gamma"), (6, "D / Gamma")]
    clear_profiles()
    frame = frame.assign(PARAM=["Alpha", "Alpha 2", "Beta", "Beta", "Gamma", "Delta", "Empty"])
    package = {"ADLB": Dataset(DatasetMeta(name="ADLB", label="x"), frame)}
    found = [(f.row, f.value) for f in validate_datasets(package, scope="ADaM", options={"only": ["TF-BDS-002"]}).findings]
    assert found == [(1, "A / Alpha"), (2, "A / Alpha 2")]          # code A has two names


def test_unit_missing_for_a_test_reported_with_units_elsewhere():
    clear_profiles()
    package = _lb(LBTESTCD=["ALB", "ALB", "ALB", "PH", "PH", "ALB"], LBORRES=["40", "41", "POS", "7.1", "7.2", "42"],
                  LBORRESU=["g/L", "", "", "", "", " "])
    # ALB carries a unit on row 1: rows 2 and 6 (blank after trimming) are numeric without one; row 3 is
    # text; PH never has a unit
    assert _found(package, "TF-RES-005") == [(2, "LBORRESU", ""), (6, "LBORRESU", " ")]
    clear_profiles()
    assert _found(_lb(LBTESTCD=["ALB"], LBORRES=["40"], LBORRESU=[""]), "TF-RES-005") == []


def test_one_studyid_per_distinct_value():
    clear_profiles()
    package = _sdtm(DM={"USUBJID": ["S-1", "S-2", "S-3"]},
                    AE={"USUBJID": ["S-1", "S-1", "S-2"], "AESEQ": [1.0, 2.0, 1.0]})
    package["DM"].frame["STUDYID"] = ["S", "S", "T"]
    package["AE"].frame["STUDYID"] = ["T", " S ", ""]
    # the study's STUDYID is DM's most common one (S): T is another; ' S ' trims to S; blank is another rule's
    assert _study_found(package, "TF-ID-001") == [("AE", 1, "T"), ("DM", 3, "T")]


def test_nrind_against_standard_range():
    clear_profiles()
    package = _lb(LBNRIND=["HIGH", "HIGH", "LOW", "LOW", "NORMAL", "NORMAL", "NORMAL", " HIGH", "", "HIGH"],
                  LBSTRESN=[50.0, 30.0, 5.0, 15.0, 20.0, 45.0, NAN, 40.0, 99.0, 60.0],
                  LBSTNRLO=[10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0],
                  LBSTNRHI=[40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, NAN])
    # row 2: HIGH but 30 <= 40; row 4: LOW but 15 >= 10; row 6: NORMAL but 45 > 40; row 8: ' HIGH' trims to
    # HIGH and 40 is not above 40; a missing result or limit and a blank indicator are not judged
    assert [r for r, *_ in _found(package, "TF-RES-013")] == [2, 4, 6, 8]
    assert _found(package, "TF-RES-013")[0] == (2, "LBNRIND", "HIGH (30.0 in 10.0..40.0)")
