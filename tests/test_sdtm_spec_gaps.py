"""Issue #13's ten spec-language gaps, one test (or two) each; expectations written by hand."""
import re
from pathlib import Path

import pandas as pd
import pytest

from trialforge.errors import DateFormatError, SpecError
from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.study import load_study

from conftest import write


def build(root, notes=None):
    if notes is None:
        return build_sdtm(load_study(root))
    return build_sdtm(load_study(root), notes=notes)


def _replace(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


# 1. SUPP-- entries: a `when:` rule kind, and values from other domains / phase-2 working variables
def test_supp_entry_with_when_rule_kind(mini_study):
    _replace(mini_study / "specs" / "ae.yaml", "supp:\n",
             "supp:\n  - {qnam: AESERFL, qlabel: Serious Flag, when: [{if: \"SERIOUS == 'Yes'\", then: Y}], "
             "else: N}\n")
    suppae = build(mini_study)["SUPPAE"].frame
    flags = suppae[suppae.QNAM == "AESERFL"].set_index(["USUBJID", "IDVARVAL"]).QVAL
    # 001: CRS (AESEQ 1) serious, fever (AESEQ 2) not; 002: headache (AESEQ 1) not
    assert flags.to_dict() == {("MINI-01-01-001", "1"): "Y", ("MINI-01-01-001", "2"): "N",
                               ("MINI-01-01-002", "1"): "N"}


def test_supp_entry_from_another_domain_and_working_variable(mini_study):
    _replace(mini_study / "specs" / "ae.yaml", "variables:\n",
             "working:\n  FIRSTCAR: {aggregate: {domain: EX, value: EXSTDTC, fn: min, where: \"EXTRT == 'CART'\"}}\n"
             "variables:\n")
    _replace(mini_study / "specs" / "ae.yaml", "supp:\n",
             "supp:\n  - {qnam: AEPOSTCT, qlabel: After CAR-T Infusion, "
             "expr: \"'Y' + ''\", when: \"AESTDTC >= FIRSTCAR and FIRSTCAR != ''\"}\n"
             "  - {qnam: AENEX, qlabel: Exposure Records, aggregate: {domain: EX, value: EXSTDTC, fn: count}}\n"
             "  - {qnam: AESTDYC, qlabel: Study Day as Text, study_day: AESTDTC}\n")
    suppae = build(mini_study)["SUPPAE"].frame
    post = suppae[suppae.QNAM == "AEPOSTCT"][["USUBJID", "IDVARVAL", "QVAL"]].values.tolist()
    # 001 fever 2025-01-11 after CAR-T 2025-01-10 (AESEQ 2); CRS '2025-01' sorts before '2025-01-10';
    # 002 headache 2025-01-05 before CAR-T 2025-01-12
    assert post == [["MINI-01-01-001", "2", "Y"]]
    nex = suppae[suppae.QNAM == "AENEX"].set_index(["USUBJID", "IDVARVAL"]).QVAL.to_dict()
    assert nex == {("MINI-01-01-001", "1"): "2", ("MINI-01-01-001", "2"): "2", ("MINI-01-01-002", "1"): "2"}
    day = suppae[suppae.QNAM == "AESTDYC"].set_index(["USUBJID", "IDVARVAL"]).QVAL.to_dict()
    assert day == {("MINI-01-01-001", "2"): "2", ("MINI-01-01-002", "1"): "-7"}


# 2. baseline with a null `by` value still flags the record
def test_baseline_flags_records_whose_by_value_is_missing(mini_study):
    write(mini_study / "raw" / "vs.csv", """
        SITE,PATNO,TEST,TPT,RES,VSDAT
        01,001,SYSBP,1,120,02 JAN 2025
        01,001,SYSBP,1,118,03 JAN 2025
        01,001,SYSBP,,121,04 JAN 2025
        01,001,SYSBP,,119,06 JAN 2025
        01,001,SYSBP,,110,20 JAN 2025
    """)
    write(mini_study / "specs" / "vs.yaml", """
        domain: VS
        keys: [STUDYID, USUBJID, VSTESTCD, VSDTC]
        sources: {vs: {file: vs.csv}}
        variables:
          STUDYID: {constant: "${study.id}"}
          DOMAIN: VS
          USUBJID: {template: "{STUDYID}-{SITE}-{PATNO}"}
          VSSEQ: {seq: true}
          VSTESTCD: {from: TEST}
          VSTEST: Systolic Blood Pressure
          VSORRES: {from: RES}
          VSTPTNUM: {from: TPT}
          VSDTC: {datetime: {date: VSDAT}}
          VSLOBXFL: {baseline: {by: [VSTESTCD, VSTPTNUM], date: VSDTC, value: VSORRES}}
    """)
    vs = build(mini_study)["VS"].frame
    # RFXSTDTC 2025-01-05: time point 1 -> 03 JAN; no time point -> 04 JAN (06 and 20 JAN are after)
    assert vs.set_index("VSDTC").VSLOBXFL.to_dict() == {
        "2025-01-02": "", "2025-01-03": "Y", "2025-01-04": "Y", "2025-01-06": "", "2025-01-20": ""}


# 3. round: on a text variable rounds numbers written as text
def test_round_applies_to_text_variables(mini_study):
    write(mini_study / "raw" / "vs.csv", """
        SITE,PATNO,RES,VSDAT
        01,001,130,02 JAN 2025
        01,001,120,03 JAN 2025
        01,001,NOT DONE,04 JAN 2025
    """)
    write(mini_study / "specs" / "vs.yaml", """
        domain: VS
        keys: [STUDYID, USUBJID, VSDTC]
        sources: {vs: {file: vs.csv}}
        variables:
          STUDYID: {constant: "${study.id}"}
          DOMAIN: VS
          USUBJID: {template: "{STUDYID}-{SITE}-{PATNO}"}
          VSSEQ: {seq: true}
          VSTESTCD: WEIGHT
          VSTEST: Weight
          VSORRES: {from: RES}
          VSSTRESC: {when: [{if: "num(RES) > 0", then: {expr: "num(RES) / 3"}}], else: {from: RES}, round: 2}
          VSSTRESN: {expr: "num(RES) / 3", round: 2}
          VSDTC: {datetime: {date: VSDAT}}
    """)
    vs = build(mini_study)["VS"].frame
    assert vs.VSSTRESC.tolist() == ["43.33", "40", "NOT DONE"]     # 130/3, 120/3, text untouched
    assert vs.VSSTRESN.tolist()[:2] == [43.33, 40.0]


# 4. SDTM-model timing variables are allowed in any general-observation domain; names of no model are not
def test_model_timing_variables_allowed_in_ex(mini_study):
    text = (mini_study / "raw" / "ex.csv").read_text().replace("STDAT\n", "STDAT,VIS\n")
    text = re.sub(r"(2025)\n", r"\1,Day 0\n", text)
    (mini_study / "raw" / "ex.csv").write_text(text)
    _replace(mini_study / "specs" / "ex.yaml", "  EXSTDY:", "  VISITNUM: {visitnum: VIS}\n  VISIT: {visit: VIS}\n"
             "  VISITDY: {visitdy: VIS}\n  EXSTDY:")
    ex = build(mini_study)["EX"]
    names = ex.meta.variable_names
    # the SDTM model places VISITNUM VISIT VISITDY before EPOCH/--DTC timing
    assert names.index("EXDOSE") < names.index("VISITNUM") < names.index("VISIT") < names.index("VISITDY") \
        < names.index("EXSTDTC")
    assert ex.meta.variable("VISITNUM").type == "Num" and ex.meta.variable("VISITNUM").label == "Visit Number"
    assert ex.meta.variable("VISITNUM").core == "Perm"
    assert ex.frame.VISITNUM.tolist() == [2.0] * 4 and set(ex.frame.VISITDY) == {1.0}


def test_names_of_no_model_stay_refused(mini_study):
    _replace(mini_study / "specs" / "ex.yaml", "  EXSTDY:", "  EXFOO: {from: DOSE}\n  EXSTDY:")
    with pytest.raises(SpecError) as err:
        build(mini_study)
    assert "SUPPEX" in err.value.cause and err.value.column == "EXFOO" and err.value.file.endswith("ex.yaml")


# 5. dotted raw column names in expressions and join filters; expression errors name file, variable, text
def test_dotted_column_names_in_expressions_templates_and_join_filters(mini_study):
    write(mini_study / "raw" / "ae.csv", """
        IT.SITE,IT.PATNO,IT.AETERM,IT.AESEV,IT.SER
        01,001,fever,Mild,No
        01,001,,Mild,No
        01,002,rash,Severe,Yes
    """)
    write(mini_study / "raw" / "status.csv", """
        IT.SITE,IT.PATNO,ST.KIND,ST.OK
        01,001,ELIG,Y
        01,001,OTHER,N
        01,002,ELIG,N
    """)
    write(mini_study / "specs" / "ae.yaml", """
        domain: AE
        keys: [STUDYID, USUBJID, AETERM]
        sources:
          ae:
            file: ae.csv
            filter: "`IT.AETERM` != ''"
            joins:
              - {file: status.csv, on: [IT.SITE, IT.PATNO], columns: [ST.OK], filter: "ST.KIND == 'ELIG'"}
        variables:
          STUDYID: {constant: "${study.id}"}
          DOMAIN: AE
          USUBJID: {template: "{STUDYID}-{IT.SITE}-{IT.PATNO}"}
          AESEQ: {seq: true}
          AETERM: {expr: "upper(raw.`IT.AETERM`)"}
          AESEV: {from: IT.AESEV, ct: AESEV}
          AESER: {when: [{if: "IT.SER == 'Yes' or `ST.OK` == 'N'", then: Y}], else: N}
    """)
    ae = build(mini_study)["AE"].frame
    assert ae[["USUBJID", "AETERM", "AESEV", "AESER"]].values.tolist() == [
        ["MINI-01-01-001", "FEVER", "MILD", "N"], ["MINI-01-01-002", "RASH", "SEVERE", "Y"]]


def test_expression_error_names_spec_file_variable_and_text(mini_study):
    _replace(mini_study / "specs" / "ae.yaml", "  AETERM: {from: TERM}", "  AETERM: {expr: \"upper(TERM\"}")
    with pytest.raises(SpecError) as err:
        build(mini_study)
    e = err.value
    assert e.file.endswith("ae.yaml") and e.column == "AETERM" and e.value == "upper(TERM"
    assert "never closed" in e.cause and "backticks" in e.cause        # what is wrong and what would be valid


# 6. a raw column named like an SDTM variable: the cycle error carries the raw.X hint; raw.X works
def test_cycle_error_hints_at_raw_prefix(mini_study):
    _replace(mini_study / "specs" / "ae.yaml", "  AETERM: {from: TERM}\n  AEDECOD: {from: PT}",
             "  AETERM: {expr: \"coalesce(AEDECOD, TERM)\"}\n  AEDECOD: {expr: \"coalesce(AETERM, PT)\"}")
    with pytest.raises(SpecError) as err:
        build(mini_study)
    assert "cycle" in err.value.cause and "raw.AE" in err.value.cause


def test_raw_prefix_reads_the_raw_column_of_the_same_name(mini_study):
    text = (mini_study / "raw" / "ae.csv").read_text().replace("TERM,PT", "AETERM,AEDECOD")
    (mini_study / "raw" / "ae.csv").write_text(text)
    _replace(mini_study / "specs" / "ae.yaml", "  AETERM: {from: TERM}\n  AEDECOD: {from: PT}",
             "  AETERM: {expr: \"coalesce(raw.AETERM, AEDECOD)\"}\n  AEDECOD: {expr: \"upper(raw.AEDECOD)\"}")
    ae = build(mini_study)["AE"].frame
    assert ae.AETERM.tolist() == ["CRS", "fever", "headache"]
    assert ae.AEDECOD.tolist() == ["CYTOKINE RELEASE SYNDROME", "PYREXIA", "HEADACHE"]


# 7. unscheduled visits: decimal VISITNUM after the previous scheduled visit, ordered by date
UNS_VS = """
    SITE,PATNO,VIS,VSDAT,RES
    01,001,Screening,02 JAN 2025,120
    01,001,Unscheduled,08 JAN 2025,125
    01,001,Unscheduled,04 JAN 2025,121
    01,001,Unscheduled,04 JAN 2025,122
    01,001,Day 0,10 JAN 2025,119
    01,001,Unscheduled,15 JAN 2025,130
    01,002,Unscheduled,01 JAN 2025,111
"""


def test_unscheduled_visits_get_decimal_visitnums_by_date(mini_study):
    _replace(mini_study / "study.yaml", "visits:\n", "visits:\n  - {visit: UNSCHEDULED, visitnum: 99, "
             "raw: [Unscheduled], unscheduled: true}\n")
    write(mini_study / "raw" / "vs.csv", UNS_VS)
    write(mini_study / "specs" / "vs.yaml", """
        domain: VS
        keys: [STUDYID, USUBJID, VSTESTCD, VISITNUM, VSDTC]
        sources: {vs: {file: vs.csv}}
        variables:
          STUDYID: {constant: "${study.id}"}
          DOMAIN: VS
          USUBJID: {template: "{STUDYID}-{SITE}-{PATNO}"}
          VSSEQ: {seq: true}
          VSTESTCD: SYSBP
          VSTEST: Systolic Blood Pressure
          VSORRES: {from: RES}
          VISITNUM: {visitnum: VIS, date: VSDTC}
          VISIT: {visit: VIS, date: VSDTC}
          VSDTC: {datetime: {date: VSDAT}}
    """)
    vs = build(mini_study)["VS"].frame
    got = vs[["USUBJID", "VSORRES", "VISITNUM", "VISIT"]].values.tolist()
    assert got == [
        ["MINI-01-01-001", "120", 1.0, "SCREENING"],
        ["MINI-01-01-001", "121", 1.01, "UNSCHEDULED 1.01"],      # 04 JAN: first after screening
        ["MINI-01-01-001", "122", 1.01, "UNSCHEDULED 1.01"],      # same day, same visit
        ["MINI-01-01-001", "125", 1.02, "UNSCHEDULED 1.02"],      # 08 JAN
        ["MINI-01-01-001", "119", 2.0, "DAY 1"],
        ["MINI-01-01-001", "130", 2.01, "UNSCHEDULED 2.01"],      # after Day 0
        ["MINI-01-01-002", "111", 0.01, "UNSCHEDULED 0.01"],      # before any scheduled visit
    ]


# 8. a result that is not a number leaves --STRESN empty with a warning naming row and value
def test_non_numeric_result_warns_with_row_and_value(mini_study):
    write(mini_study / "raw" / "lb.csv", """
        SITE,PATNO,RES,UNIT,LBDAT
        01,001,5.18E+02,copies/mL,02 JAN 2025
        01,001,5.18E+02 copies,copies/mL,03 JAN 2025
        01,001,NEGATIVE,,04 JAN 2025
    """)
    write(mini_study / "specs" / "units.yaml", "standard_units: {}\n")
    write(mini_study / "specs" / "lb.yaml", """
        domain: LB
        keys: [STUDYID, USUBJID, LBTESTCD, LBDTC]
        sources: {lb: {file: lb.csv}}
        variables:
          STUDYID: {constant: "${study.id}"}
          DOMAIN: LB
          USUBJID: {template: "{STUDYID}-{SITE}-{PATNO}"}
          LBSEQ: {seq: true}
          LBTESTCD: VL
          LBTEST: Viral Load
          LBORRES: {from: RES}
          LBORRESU: {from: UNIT}
          LBSTRESC: {standardize: {result: LBORRES, unit: LBORRESU, test: LBTESTCD, output: c}}
          LBSTRESN: {standardize: {result: LBORRES, unit: LBORRESU, test: LBTESTCD, output: n}}
          LBDTC: {datetime: {date: LBDAT}}
    """)
    notes = []
    lb = build(mini_study, notes)["LB"].frame
    assert lb.LBSTRESN.iloc[0] == 518.0 and pd.isna(lb.LBSTRESN.iloc[1]) and pd.isna(lb.LBSTRESN.iloc[2])
    assert len(notes) == 1                                     # NEGATIVE is a text result: no warning
    note = notes[0]
    assert note["severity"] == "warning" and note["dataset"] == "LB" and note["variable"] == "LBSTRESN"
    assert note["row"] == 3 and note["value"] == "5.18E+02 copies" and "lb.csv" in note["message"]


# 9. a datetime rule takes several raw formats in order
def test_datetime_takes_several_formats_in_order(mini_study):
    _replace(mini_study / "raw" / "ae.csv", "11 JAN 2025,08:30,13 JAN 2025", "01/11/2025,08:30,2025")
    _replace(mini_study / "raw" / "ae.csv", "UN JAN 2025,,,", "UN/UN/2025,,01/2025,")
    _replace(mini_study / "specs" / "ae.yaml", "AESTDTC: {datetime: {date: STDAT, time: STTIM, format: DD MON YYYY}}",
             "AESTDTC: {datetime: {date: STDAT, time: STTIM, format: [MM/DD/YYYY, DD MON YYYY]}}")
    _replace(mini_study / "specs" / "ae.yaml", "AEENDTC: {datetime: {date: ENDAT, format: DD MON YYYY}}",
             "AEENDTC: {datetime: {date: ENDAT, format: [MM/DD/YYYY, MM/YYYY, YYYY, DD MON YYYY]}}")
    ae = build(mini_study)["AE"].frame.set_index("AETERM")
    assert ae.loc["fever", ["AESTDTC", "AEENDTC"]].tolist() == ["2025-01-11T08:30", "2025"]
    assert ae.loc["CRS", ["AESTDTC", "AEENDTC"]].tolist() == ["2025", "2025-01"]
    assert ae.loc["headache", ["AESTDTC", "AEENDTC"]].tolist() == ["2025-01-05", "2025-01-06"]


def test_value_matching_no_declared_format_names_the_formats(mini_study):
    _replace(mini_study / "raw" / "ae.csv", "13 JAN 2025", "2025/01/13")
    _replace(mini_study / "specs" / "ae.yaml", "AEENDTC: {datetime: {date: ENDAT, format: DD MON YYYY}}",
             "AEENDTC: {datetime: {date: ENDAT, format: [MM/DD/YYYY, DD MON YYYY]}}")
    with pytest.raises(DateFormatError) as err:
        build(mini_study)
    assert "MM/DD/YYYY, DD MON YYYY" in err.value.cause and err.value.row == 2 and err.value.value == "2025/01/13"


def test_bad_date_format_in_spec_names_variable(mini_study):
    _replace(mini_study / "specs" / "ae.yaml", "format: DD MON YYYY}}\n  AESTDY",
             "format: [DD MON YYYY, QQ]}}\n  AESTDY")
    with pytest.raises(SpecError) as err:
        build(mini_study)
    assert err.value.column == "AEENDTC" and err.value.value == "QQ" and "MM/DD/YYYY" in err.value.cause


def test_unscheduled_visit_without_complete_date_keeps_its_number_with_a_warning(mini_study):
    _replace(mini_study / "study.yaml", "visits:\n", "visits:\n  - {visit: UNSCHEDULED, visitnum: 99, "
             "raw: [Unscheduled], unscheduled: true}\n")
    write(mini_study / "raw" / "vs.csv", UNS_VS.replace("01,002,Unscheduled,01 JAN 2025,111",
                                                        "01,002,Unscheduled,UN JAN 2025,111"))
    write(mini_study / "specs" / "vs.yaml", """
        domain: VS
        keys: [STUDYID, USUBJID, VSTESTCD, VISITNUM, VSDTC]
        sources: {vs: {file: vs.csv}}
        variables:
          STUDYID: {constant: "${study.id}"}
          DOMAIN: VS
          USUBJID: {template: "{STUDYID}-{SITE}-{PATNO}"}
          VSSEQ: {seq: true}
          VSTESTCD: SYSBP
          VSTEST: Systolic Blood Pressure
          VSORRES: {from: RES}
          VISITNUM: {visitnum: VIS, date: VSDTC}
          VSDTC: {datetime: {date: VSDAT}}
    """)
    notes = []
    vs = build(mini_study, notes)["VS"].frame
    assert vs.loc[vs.USUBJID == "MINI-01-01-002", "VISITNUM"].tolist() == [99.0]
    assert [(n["rule_id"], n["variable"], n["row"]) for n in notes] == [("TF-MAP-002", "VISITNUM", 8)]


# 10. (documented features) a working variable may order the records and --SEQ
def test_working_variable_as_sort_key(mini_study):
    _replace(mini_study / "specs" / "ae.yaml", "keys: [STUDYID, USUBJID, AEDECOD, AESTDTC]\n",
             "keys: [STUDYID, USUBJID, AEDECOD, AESTDTC]\nsort: [STUDYID, USUBJID, SEVORD]\n"
             "working:\n  SEVORD: {from: SEV, map: {Severe: 1, Moderate: 2, Mild: 3}}\n")
    ae = build(mini_study)["AE"].frame
    assert "SEVORD" not in ae.columns
    assert ae[["USUBJID", "AESEV", "AESEQ"]].values.tolist() == [
        ["MINI-01-01-001", "SEVERE", 1.0], ["MINI-01-01-001", "MILD", 2.0], ["MINI-01-01-002", "MODERATE", 1.0]]


def test_unit_table_offset_converts_temperature(mini_study):
    write(mini_study / "raw" / "vs.csv", """
        SITE,PATNO,RES,UNIT,VSDAT
        01,001,98.6,F,02 JAN 2025
        01,001,37.5,C,03 JAN 2025
    """)
    write(mini_study / "specs" / "units.yaml", """
        standard_units: {TEMP: C}
        decimals: {TEMP: 1}
        conversions:
          - {test: TEMP, from: F, to: C, factor: 0.5555556, offset: -17.777778}
    """)
    write(mini_study / "specs" / "vs.yaml", """
        domain: VS
        keys: [STUDYID, USUBJID, VSDTC]
        sources: {vs: {file: vs.csv}}
        variables:
          STUDYID: {constant: "${study.id}"}
          DOMAIN: VS
          USUBJID: {template: "{STUDYID}-{SITE}-{PATNO}"}
          VSSEQ: {seq: true}
          VSTESTCD: TEMP
          VSTEST: Temperature
          VSORRES: {from: RES}
          VSORRESU: {from: UNIT}
          VSSTRESC: {standardize: {result: VSORRES, unit: VSORRESU, test: VSTESTCD, output: c}}
          VSDTC: {datetime: {date: VSDAT}}
    """)
    vs = build(mini_study)["VS"].frame
    assert vs.VSSTRESC.tolist() == ["37.0", "37.5"]            # (98.6 - 32) * 5/9 = 37.0
