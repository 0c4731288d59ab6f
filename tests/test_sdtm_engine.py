"""The mapping engine on a tiny hand-written study (tests/conftest.py): values checked by hand."""
import pandas as pd
import pytest

from trialforge.errors import RawDataError, SpecError, TerminologyError, DateFormatError
from trialforge.sdtm.engine import build_sdtm, variable_order
from trialforge.specs.spec import load_domain_spec
from trialforge.specs.study import load_study

from conftest import add_trial_summary, write


def build(root):
    return build_sdtm(load_study(root))


def test_dm_one_row_per_subject_with_reference_dates(mini_study):
    dm = build(mini_study)["DM"].frame.set_index("USUBJID")
    assert list(dm.index) == ["MINI-01-01-001", "MINI-01-01-002", "MINI-01-02-001"]
    # RFSTDTC = CAR-T date; RFXSTDTC = first exposure of any treatment (lymphodepletion)
    assert dm.loc["MINI-01-01-001", ["RFSTDTC", "RFXSTDTC", "RFXENDTC", "RFICDTC"]].tolist() == \
        ["2025-01-10", "2025-01-05", "2025-01-10", "2025-01-01"]
    assert dm.loc["MINI-01-02-001", "RFSTDTC"] == ""          # screen failure: never treated
    assert dm.loc["MINI-01-02-001", "ARMNRS"] == "SCREEN FAILURE" and dm.loc["MINI-01-02-001", "ARMCD"] == ""
    assert dm["SEX"].tolist() == ["M", "F", "F"]               # 'Male' by synonym, 'F' as submission value


def test_ae_seq_dy_epoch_and_partial_dates(mini_study):
    ae = build(mini_study)["AE"].frame
    first = ae[ae.USUBJID == "MINI-01-01-001"].set_index("AEDECOD")
    assert first.loc["Cytokine release syndrome", "AESEQ"] == 1 and first.loc["Pyrexia", "AESEQ"] == 2
    assert first.loc["Cytokine release syndrome", "AESTDTC"] == "2025-01"     # UN JAN 2025
    assert pd.isna(first.loc["Cytokine release syndrome", "AESTDY"])          # partial → no study day
    # Pyrexia 2025-01-11 vs RFSTDTC 2025-01-10 → day 2; ends 2025-01-13 → day 4
    assert first.loc["Pyrexia", ["AESTDY", "AEENDY"]].tolist() == [2, 4]
    assert first.loc["Pyrexia", "EPOCH"] == "FOLLOW-UP"                       # after RFXENDTC + 1 day
    second = ae[ae.USUBJID == "MINI-01-01-002"].iloc[0]
    # 2025-01-05 vs RFSTDTC 2025-01-12 → -7 (no day 0); before RFXSTDTC 2025-01-07 → SCREENING
    assert second.AESTDY == -7 and second.EPOCH == "SCREENING"
    assert (ae["AESTDY"] != 0).all()
    assert ae.AESEV.tolist() == ["SEVERE", "MILD", "MODERATE"]


def test_supp_records(mini_study):
    out = build(mini_study)
    suppae = out["SUPPAE"].frame
    assert suppae[["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"]].values.tolist() == \
        [["MINI-01-01-001", "AESEQ", "1", "AECRSGR", "3"]]
    suppdm = out["SUPPDM"].frame
    assert set(suppdm.IDVAR) == {""} and suppdm.QVAL.tolist() == ["1960", "1971", "1955"]
    assert list(suppae.columns) == ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL",
                                    "QVAL", "QORIG", "QEVAL"]


def test_metadata_follows_the_standard(mini_study):
    ae = build(mini_study)["AE"]
    assert ae.meta.label == "Adverse Events"
    # SDTMIG order, not spec order: EPOCH is declared before AESTDTC in the spec but follows AESER in the IG
    assert ae.meta.variable_names == list(ae.frame.columns)
    assert ae.meta.variable("AESEQ").type == "Num" and ae.meta.variable("AETERM").origin == "Collected"
    assert ae.meta.variable("AESTDY").origin == "Derived"


def test_phase_two_variables_are_detected(mini_study):
    spec = load_domain_spec(mini_study / "specs" / "ae.yaml")
    phase1, phase2 = variable_order(spec)
    assert {"AESEQ", "AESTDY", "AEENDY", "EPOCH"} == set(phase2)
    assert "AESTDTC" in phase1 and "USUBJID" in phase1
    # --SEQ is ordered by the keys, so it comes after every key it sorts by
    assert phase1.index("USUBJID") < phase1.index("AETERM") or "AEDECOD" in phase1


def _replace(path, old, new):
    path.write_text(path.read_text().replace(old, new))


def test_missing_raw_file(mini_study):
    (mini_study / "raw" / "ae.csv").unlink()
    with pytest.raises(RawDataError) as err:
        build(mini_study)
    assert "not found" in err.value.cause and err.value.file.endswith("ae.csv")


def test_missing_column(mini_study):
    _replace(mini_study / "specs" / "ae.yaml", "from: TERM", "from: VERBATIM")
    with pytest.raises(RawDataError) as err:
        build(mini_study)
    assert err.value.column == "VERBATIM"


def test_unmapped_ct_value_names_row(mini_study):
    _replace(mini_study / "raw" / "ae.csv", "Moderate", "Medium")
    with pytest.raises(TerminologyError) as err:
        build(mini_study)
    e = err.value
    assert (e.file, e.column, e.row, e.value) == ("ae.csv", "SEV", 4, "Medium")


def test_unparseable_date_names_row(mini_study):
    _replace(mini_study / "raw" / "ae.csv", "05 JAN 2025", "2025-01-05")
    with pytest.raises(DateFormatError) as err:
        build(mini_study)
    assert (err.value.column, err.value.row, err.value.value) == ("STDAT", 4, "2025-01-05")


def test_empty_raw_file(mini_study):
    (mini_study / "raw" / "ex.csv").write_text("")
    with pytest.raises(RawDataError) as err:
        build(mini_study)
    assert "empty" in err.value.cause


def test_unknown_spec_key(mini_study):
    _replace(mini_study / "specs" / "ae.yaml", "AETERM: {from: TERM}", "AETERM: {form: TERM}")
    with pytest.raises(SpecError) as err:
        build(mini_study)
    assert err.value.value == "form" and err.value.column == "AETERM"


def test_malformed_yaml_names_line(mini_study):
    (mini_study / "specs" / "ex.yaml").write_text("domain: EX\nsources: {ex: {file: ex.csv}\nvariables: [\n")
    with pytest.raises(SpecError) as err:
        build(mini_study)
    assert "malformed YAML" in err.value.cause and err.value.row is not None


def test_non_standard_variable_must_go_to_supp(mini_study):
    _replace(mini_study / "specs" / "ae.yaml", "  AETERM: {from: TERM}", "  AETERM: {from: TERM}\n  AECRSGR: {from: CRSGR}")
    with pytest.raises(SpecError) as err:
        build(mini_study)
    assert "SUPPAE" in err.value.cause


def test_melt_transposes_one_row_to_many_tests(mini_study):
    write(mini_study / "raw" / "vs.csv", """
        SITE,PATNO,VISIT,VSDAT,SYS,DIA,TEMP,TEMPU
        01,001,Screening,02 JAN 2025,120,80,37.1,C
        01,002,Screening,04 JAN 2025,,70,98.6,F
    """)
    write(mini_study / "specs" / "vs.yaml", """
        domain: VS
        keys: [STUDYID, USUBJID, VSTESTCD, VISITNUM]
        sources:
          vs:
            file: vs.csv
            melt:
              tests:
                - {value: SYS, unit: mmHg, set: {TESTCD: SYSBP, TEST: Systolic Blood Pressure}}
                - {value: DIA, unit: mmHg, set: {TESTCD: DIABP, TEST: Diastolic Blood Pressure}}
                - {value: TEMP, unit: TEMPU, set: {TESTCD: TEMP, TEST: Temperature}}
        variables:
          STUDYID: {constant: "${study.id}"}
          DOMAIN: VS
          USUBJID: {template: "{STUDYID}-{SITE}-{PATNO}"}
          VSSEQ: {seq: true}
          VSTESTCD: {from: TESTCD}
          VSTEST: {from: TEST}
          VSORRES: {from: _VALUE}
          VSORRESU: {from: _UNIT, ct: UNIT, synonyms: {F: "F", C: "C"}}
          VISITNUM: {visitnum: VISIT}
          VISIT: {visit: VISIT}
          VSDTC: {datetime: {date: VSDAT}}
          VSDY: {study_day: VSDTC}
    """)
    vs = build(mini_study)["VS"].frame
    assert len(vs) == 5                                    # one blank systolic value dropped
    s2 = vs[vs.USUBJID == "MINI-01-01-002"].set_index("VSTESTCD")
    assert s2.loc["TEMP", "VSORRESU"] == "F" and s2.loc["DIABP", "VSORRES"] == "70"
    assert vs.VISIT.unique().tolist() == ["SCREENING"] and vs.VISITNUM.unique().tolist() == [1.0]
    # 2025-01-04 vs RFSTDTC 2025-01-12 → -8
    assert s2.loc["DIABP", "VSDY"] == -8


def test_seq_by_other_keys_and_study_level_aggregate(mini_study):
    add_trial_summary(mini_study, """
        - {TSPARMCD: TITLE, TSPARM: Trial Title, TSVAL: Mini study}
        - {TSPARMCD: SPONSOR, TSPARM: Clinical Study Sponsor, TSVAL: Someone}
        - {TSPARMCD: TITLE, TSPARM: Trial Title, TSVAL: Second title record}
    """)
    ts = build(mini_study)["TS"].frame
    assert ts[["TSPARMCD", "TSSEQ"]].values.tolist() == [["SPONSOR", 1.0], ["TITLE", 1.0], ["TITLE", 2.0]]


def test_epoch_uses_the_clock_on_the_boundary_day(mini_study):
    # FLU on 2025-01-05 is RFXSTDTC for subject 001; an AE that morning before the 10:00 dose is screening
    _replace(mini_study / "raw" / "ex.csv", "01,001,FLU,30,05 JAN 2025", "01,001,FLU,30,05 JAN 2025")
    _replace(mini_study / "specs" / "ex.yaml", "EXSTDTC: {datetime: {date: STDAT}}",
             "EXSTDTC: {datetime: {date: STDAT, time: STTIM}}")
    text = (mini_study / "raw" / "ex.csv").read_text().replace("DOSE,STDAT", "DOSE,STDAT,STTIM")
    text = text.replace("10 JAN 2025\n", "10 JAN 2025,12:00\n").replace("05 JAN 2025\n", "05 JAN 2025,10:00\n")
    text = text.replace("12 JAN 2025\n", "12 JAN 2025,12:00\n").replace("07 JAN 2025\n", "07 JAN 2025,10:00\n")
    (mini_study / "raw" / "ex.csv").write_text(text)
    _replace(mini_study / "raw" / "ae.csv", "01,002,headache,Headache,Nervous system disorders,05 JAN 2025,,",
             "01,001,headache,Headache,Nervous system disorders,05 JAN 2025,09:15,")
    ae = build(mini_study)["AE"].frame.set_index("AEDECOD")
    assert ae.loc["Headache", "EPOCH"] == "SCREENING"
