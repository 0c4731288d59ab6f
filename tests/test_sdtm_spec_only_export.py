"""A small third-party-style raw export mapped by specs alone (issue #13): dotted column names, year-only
dates, unscheduled visits, scientific-notation results and a SUPP flag computed from another domain.
Every expected value below was worked out by hand from the raw rows."""
from __future__ import annotations

import pandas as pd

from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.study import load_study

from conftest import write

STUDY = """
study: {id: XP-1, title: Export study}
created: "2026-01-31T00:00:00"
visits:
  - {visit: SCREENING, visitnum: 1, raw: [Screening]}
  - {visit: DAY 1, visitnum: 2, raw: [Day 1], day: 1}
  - {visit: UNSCHEDULED, visitnum: 99, raw: [Unscheduled], unscheduled: true}
"""
DM_CSV = """
IT.SUBJID,IT.SITE,IT.BRTHDAT,IT.SEX
101,S1,1958,Male
102,S1,03/14/1971,F
"""
EX_CSV = """
IT.SUBJID,IT.EXTRT,IT.EXSTDAT
101,DRUG A,01/10/2025
101,DRUG A,01/24/2025
102,DRUG A,02/03/2025
"""
LB_CSV = """
IT.SUBJID,IT.VISIT,IT.LBDAT,IT.LBTEST,IT.LBORRES,IT.LBORRESU
101,Screening,01/02/2025,VL,5.18E+02,copies/mL
101,Unscheduled,01/05/2025,VL,1.2E+03,copies/mL
101,Day 1,01/10/2025,VL,2.5e+02,copies/mL
101,Unscheduled,01/12/2025,VL,9.9E+01,copies/mL
101,Unscheduled,01/20/2025,VL,<5.0E+01,copies/mL
102,Screening,01/30/2025,VL,7.0E+02,copies/mL
102,Day 1,02/03/2025,VL,3.3E+02 cp,copies/mL
"""
DM_SPEC = """
domain: DM
keys: [STUDYID, USUBJID]
sources: {dm: {file: dm.csv}}
variables:
  STUDYID: {constant: "${study.id}"}
  DOMAIN: DM
  USUBJID: {template: "{STUDYID}-{IT.SUBJID}"}
  SUBJID: {from: IT.SUBJID}
  RFSTDTC: {aggregate: {domain: EX, value: EXSTDTC, fn: min}}
  SITEID: {from: IT.SITE}
  BRTHDTC: {datetime: {date: IT.BRTHDAT, format: [MM/DD/YYYY, MM/YYYY, YYYY]}}
  SEX: {from: IT.SEX, ct: SEX}
"""
EX_SPEC = """
domain: EX
keys: [STUDYID, USUBJID, EXTRT, EXSTDTC]
sources: {ex: {file: ex.csv}}
variables:
  STUDYID: {constant: "${study.id}"}
  DOMAIN: EX
  USUBJID: {template: "{STUDYID}-{IT.SUBJID}"}
  EXSEQ: {seq: true}
  EXTRT: {from: IT.EXTRT}
  EXSTDTC: {datetime: {date: IT.EXSTDAT, format: MM/DD/YYYY}}
  EXSTDY: {study_day: EXSTDTC}
"""
LB_SPEC = """
domain: LB
keys: [STUDYID, USUBJID, LBTESTCD, VISITNUM, LBDTC]
sources: {lb: {file: lb.csv, filter: "`IT.LBTEST` != ''"}}
working:
  FIRSTDOSE: {aggregate: {domain: EX, value: EXSTDTC, fn: min}}
variables:
  STUDYID: {constant: "${study.id}"}
  DOMAIN: LB
  USUBJID: {template: "{STUDYID}-{IT.SUBJID}"}
  LBSEQ: {seq: true}
  LBTESTCD: {from: IT.LBTEST}
  LBTEST: {when: [{if: "IT.LBTEST == 'VL'", then: Viral Load}]}
  LBORRES: {from: IT.LBORRES}
  LBORRESU: {from: IT.LBORRESU}
  LBSTRESC: {standardize: {result: LBORRES, unit: LBORRESU, test: LBTESTCD, output: c}}
  LBSTRESN: {standardize: {result: LBORRES, unit: LBORRESU, test: LBTESTCD, output: n}}
  LBSTRESU: {standardize: {result: LBORRES, unit: LBORRESU, test: LBTESTCD, output: u}}
  VISITNUM: {visitnum: IT.VISIT, date: LBDTC}
  VISIT: {visit: IT.VISIT, date: LBDTC}
  LBDTC: {datetime: {date: IT.LBDAT, format: [MM/DD/YYYY, YYYY]}}
  LBDY: {study_day: LBDTC}
supp:
  - {qnam: LBPOSTEX, qlabel: Collected After First Dose, constant: Y, qorig: Derived,
     when: "LBDTC > FIRSTDOSE and FIRSTDOSE != ''"}
"""


def test_export_mapped_by_specs_only(tmp_path):
    root = tmp_path / "xp"
    write(root / "study.yaml", STUDY)
    for name, text in (("dm", DM_CSV), ("ex", EX_CSV), ("lb", LB_CSV)):
        write(root / "raw" / f"{name}.csv", text)
    for name, text in (("dm", DM_SPEC), ("ex", EX_SPEC), ("lb", LB_SPEC)):
        write(root / "specs" / f"{name}.yaml", text)
    write(root / "specs" / "units.yaml", "standard_units: {VL: copies/mL}\n")
    notes = []
    out = build_sdtm(load_study(root), notes=notes)

    dm = out["DM"].frame
    assert dm[["STUDYID", "DOMAIN", "USUBJID", "SUBJID", "RFSTDTC", "SITEID", "BRTHDTC", "SEX"]].values.tolist() == [
        ["XP-1", "DM", "XP-1-101", "101", "2025-01-10", "S1", "1958", "M"],          # year-only birth date
        ["XP-1", "DM", "XP-1-102", "102", "2025-02-03", "S1", "1971-03-14", "F"]]

    ex = out["EX"].frame
    assert ex[["USUBJID", "EXSEQ", "EXTRT", "EXSTDTC", "EXSTDY"]].values.tolist() == [
        ["XP-1-101", 1.0, "DRUG A", "2025-01-10", 1.0], ["XP-1-101", 2.0, "DRUG A", "2025-01-24", 15.0],
        ["XP-1-102", 1.0, "DRUG A", "2025-02-03", 1.0]]

    lb = out["LB"].frame
    assert list(lb.columns) == ["STUDYID", "DOMAIN", "USUBJID", "LBSEQ", "LBTESTCD", "LBTEST", "LBORRES", "LBORRESU",
                                "LBSTRESC", "LBSTRESN", "LBSTRESU", "VISITNUM", "VISIT", "LBDTC", "LBDY"]
    assert set(lb.STUDYID) == {"XP-1"} and set(lb.DOMAIN) == {"LB"} and set(lb.LBTESTCD) == {"VL"}
    assert set(lb.LBTEST) == {"Viral Load"} and set(lb.LBORRESU) == {"copies/mL"} and set(lb.LBSTRESU) == {"copies/mL"}
    got = lb[["USUBJID", "LBSEQ", "LBORRES", "LBSTRESC", "VISITNUM", "VISIT", "LBDTC", "LBDY"]].values.tolist()
    assert got == [
        ["XP-1-101", 1.0, "5.18E+02", "518", 1.0, "SCREENING", "2025-01-02", -8.0],
        ["XP-1-101", 2.0, "1.2E+03", "1200", 1.01, "UNSCHEDULED 1.01", "2025-01-05", -5.0],
        ["XP-1-101", 3.0, "2.5e+02", "250", 2.0, "DAY 1", "2025-01-10", 1.0],
        ["XP-1-101", 4.0, "9.9E+01", "99", 2.01, "UNSCHEDULED 2.01", "2025-01-12", 3.0],
        ["XP-1-101", 5.0, "<5.0E+01", "<50", 2.02, "UNSCHEDULED 2.02", "2025-01-20", 11.0],
        ["XP-1-102", 1.0, "7.0E+02", "700", 1.0, "SCREENING", "2025-01-30", -4.0],
        ["XP-1-102", 2.0, "3.3E+02 cp", "3.3E+02 CP", 2.0, "DAY 1", "2025-02-03", 1.0]]
    stresn = lb.LBSTRESN.tolist()
    assert stresn[:4] + [stresn[5]] == [518.0, 1200.0, 250.0, 99.0, 700.0]
    assert pd.isna(stresn[4]) and pd.isna(stresn[6])            # '<50' and the unparseable result

    supp = out["SUPPLB"].frame
    assert supp[["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG"]
                ].values.tolist() == [
        ["XP-1", "LB", "XP-1-101", "LBSEQ", "4", "LBPOSTEX", "Collected After First Dose", "Y", "Derived"],
        ["XP-1", "LB", "XP-1-101", "LBSEQ", "5", "LBPOSTEX", "Collected After First Dose", "Y", "Derived"]]

    assert [(n["dataset"], n["variable"], n["row"], n["value"], n["severity"]) for n in notes] == [
        ("LB", "LBSTRESN", 8, "3.3E+02 cp", "warning")]
