"""Another sponsor's tumour forms map to TR and RS with only new specs: no code change.

The form is WIDE: one row per scan, one column per lesion (``T01_LD`` longest diameter, ``T02_SA``
short axis of a nodal target, ``NT01_STAT`` non-target state, ``SUM_TL`` the site's sum), ISO dates,
``ND`` for a lesion not assessed. The spec transposes it with ``melt``; every expected value below is
written by hand from the raw rows. A long response form carrying RECIST 1.1 and iRECIST rows side by
side maps to RS with the criteria in RSCAT and iRECIST results (iUPD, iCPD) as CT values.
"""
import math

from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.study import load_study

from conftest import write

STUDY = """
study: {id: ONC-2}
created: "2026-01-01T00:00:00"
visits:
  - {visit: BASELINE, visitnum: 1, raw: [Baseline]}
  - {visit: WEEK 8, visitnum: 2, raw: [Week 8], day: 57}
  - {visit: WEEK 16, visitnum: 3, raw: [Week 16], day: 113}
epochs:
  - {epoch: SCREENING, start: RFICDTC}
  - {epoch: TREATMENT, start: RFSTDTC}
"""

DM_SPEC = """
domain: DM
keys: [STUDYID, USUBJID]
sources:
  dm: {file: patients.csv}
variables:
  STUDYID: {constant: "${study.id}"}
  DOMAIN: DM
  USUBJID: {template: "{STUDYID}-{PATIENT}"}
  SUBJID: {from: PATIENT}
  RFICDTC: {datetime: {date: CONSENT, format: YYYY-MM-DD}}
  RFSTDTC: {datetime: {date: FIRSTDOSE, format: YYYY-MM-DD}}
  SITEID: {constant: "01"}
"""

TR_SPEC = """
domain: TR
keys: [STUDYID, USUBJID, VISITNUM, TRLNKID, TRTESTCD]
sources:
  scans:
    file: tumour_wide.csv
    melt:
      tests:
        - {value: T01_LD, unit: mm, set: {LNKID: T01, GRP: TARGET, TESTCD: LDIAM, TEST: Longest Diameter}}
        - {value: T02_SA, unit: mm, set: {LNKID: T02, GRP: TARGET, TESTCD: LPERP, TEST: Longest Perpendicular}}
        - {value: T03_LD, unit: mm, set: {LNKID: T03, GRP: TARGET, TESTCD: LDIAM, TEST: Longest Diameter}}
        - {value: NT01_STAT, set: {LNKID: NT01, GRP: NON-TARGET, TESTCD: TUMSTATE, TEST: Tumor State}}
        - {value: NT02_STAT, set: {LNKID: NT02, GRP: NON-TARGET, TESTCD: TUMSTATE, TEST: Tumor State}}
        - {value: SUM_TL, unit: mm, set: {LNKID: "", GRP: TARGET, TESTCD: SUMDIAM, TEST: Sum of Diameter}}
variables:
  STUDYID:  {constant: "${study.id}"}
  DOMAIN:   TR
  USUBJID:  {template: "{STUDYID}-{PATIENT}"}
  TRSEQ:    {seq: true}
  TRGRPID:  {from: GRP}
  TRLNKID:  {from: LNKID}
  TRLNKGRP: {visit: VISITNAME}
  TRTESTCD: {from: TESTCD, ct: TRTESTCD}
  TRTEST:   {from: TEST, ct: TRTEST}
  TRORRES:  {when: [{if: "_VALUE == 'ND'", then: ""}], else: {from: _VALUE, upper: true}}
  TRORRESU: {when: [{if: "TRORRES != '' and TESTCD != 'TUMSTATE'", then: {from: _UNIT, ct: UNIT}}]}
  TRSTRESC: {when: [{if: "TESTCD == 'TUMSTATE'",
                     then: {from: TRORRES, ct: TRPROPRS, synonyms: {UNEQUIVOCAL PROGRESSION: UNEQUIVOCAL}}}],
             else: {from: TRORRES}}
  TRSTRESN: {when: [{if: "TESTCD != 'TUMSTATE'", then: {expr: "num(TRORRES)"}}]}
  TRSTRESU: {from: TRORRESU}
  TRSTAT:   {when: [{if: "_VALUE == 'ND'", then: {constant: NOT DONE, ct: ND}}]}
  TRMETHOD: {constant: MRI, ct: METHOD}
  TREVAL:   {constant: INDEPENDENT ASSESSOR, ct: EVAL}
  VISITNUM: {visitnum: VISITNAME}
  VISIT:    {visit: VISITNAME}
  TRDTC:    {datetime: {date: SCANDT, format: YYYY-MM-DD}}
  TRDY:     {study_day: TRDTC}
"""

PATIENTS = """
PATIENT,CONSENT,FIRSTDOSE
P01,2024-12-20,2025-01-08
P02,2024-12-28,2025-01-12
"""

TUMOUR_WIDE = """
PATIENT,VISITNAME,SCANDT,T01_LD,T02_SA,T03_LD,NT01_STAT,NT02_STAT,SUM_TL
P01,Baseline,2025-01-05,32,18,,Present,,50
P01,Week 8,2025-03-03,20,9,,Absent,,29
P02,Baseline,2025-01-10,41,,25,Present,Present,66
P02,Week 8,2025-03-08,ND,,30,Present,Unequivocal progression,
"""

# USUBJID suffix, VISIT, TRLNKID, TRTESTCD, TRORRES, TRSTRESC, TRSTRESN, TRSTAT, TRDY, TRSEQ
EXPECTED = [
    ("P01", "BASELINE", "", "SUMDIAM", "50", "50", 50, "", -3, 1),
    ("P01", "BASELINE", "NT01", "TUMSTATE", "PRESENT", "PRESENT", None, "", -3, 2),
    ("P01", "BASELINE", "T01", "LDIAM", "32", "32", 32, "", -3, 3),
    ("P01", "BASELINE", "T02", "LPERP", "18", "18", 18, "", -3, 4),
    ("P01", "WEEK 8", "", "SUMDIAM", "29", "29", 29, "", 55, 5),      # 8 Jan -> 3 Mar = 54 days, +1
    ("P01", "WEEK 8", "NT01", "TUMSTATE", "ABSENT", "ABSENT", None, "", 55, 6),
    ("P01", "WEEK 8", "T01", "LDIAM", "20", "20", 20, "", 55, 7),
    ("P01", "WEEK 8", "T02", "LPERP", "9", "9", 9, "", 55, 8),
    ("P02", "BASELINE", "", "SUMDIAM", "66", "66", 66, "", -2, 1),
    ("P02", "BASELINE", "NT01", "TUMSTATE", "PRESENT", "PRESENT", None, "", -2, 2),
    ("P02", "BASELINE", "NT02", "TUMSTATE", "PRESENT", "PRESENT", None, "", -2, 3),
    ("P02", "BASELINE", "T01", "LDIAM", "41", "41", 41, "", -2, 4),
    ("P02", "BASELINE", "T03", "LDIAM", "25", "25", 25, "", -2, 5),
    ("P02", "WEEK 8", "NT01", "TUMSTATE", "PRESENT", "PRESENT", None, "", 56, 6),   # 12 Jan -> 8 Mar = 55, +1
    ("P02", "WEEK 8", "NT02", "TUMSTATE", "UNEQUIVOCAL PROGRESSION", "UNEQUIVOCAL", None, "", 56, 7),
    ("P02", "WEEK 8", "T01", "LDIAM", "", "", None, "NOT DONE", 56, 8),
    ("P02", "WEEK 8", "T03", "LDIAM", "30", "30", 30, "", 56, 9),
]


RS_SPEC = """
domain: RS
keys: [STUDYID, USUBJID, RSCAT, VISITNUM, RSTESTCD]
sources:
  resp: {file: response_long.csv}
variables:
  STUDYID:  {constant: "${study.id}"}
  DOMAIN:   RS
  USUBJID:  {template: "{STUDYID}-{PATIENT}"}
  RSSEQ:    {seq: true}
  RSTESTCD: {from: ASSESSMENT, map: {Overall response: OVRLRESP, Target response: TRGRESP}}
  RSTEST:   {from: RSTESTCD, map: {OVRLRESP: Overall Response, TRGRESP: Target Response}}
  RSCAT:    {from: CRITERIA, ct: ONCRSCAT}
  RSORRES:  {from: RESULT}
  RSSTRESC: {from: RESULT, ct: ONCRSR}
  RSEVAL:   {constant: INVESTIGATOR, ct: EVAL}
  VISITNUM: {visitnum: VISITNAME}
  VISIT:    {visit: VISITNAME}
  RSDTC:    {datetime: {date: ASSESSDT, format: YYYY-MM-DD}}
  RSDY:     {study_day: RSDTC}
"""

RESPONSE_LONG = """
PATIENT,VISITNAME,ASSESSDT,CRITERIA,ASSESSMENT,RESULT
P01,Week 8,2025-03-03,RECIST 1.1,Target response,PD
P01,Week 8,2025-03-03,RECIST 1.1,Overall response,PD
P01,Week 8,2025-03-03,iRECIST,Overall response,iUPD
P01,Week 16,2025-04-28,iRECIST,Overall response,iCPD
P02,Week 8,2025-03-08,RECIST 1.1,Overall response,stable disease
P02,Week 8,2025-03-08,iRECIST,Overall response,iSD
"""


def make_study(root):
    write(root / "study.yaml", STUDY)
    write(root / "specs" / "dm.yaml", DM_SPEC)
    write(root / "specs" / "tr.yaml", TR_SPEC)
    write(root / "specs" / "rs.yaml", RS_SPEC)
    write(root / "raw" / "patients.csv", PATIENTS)
    write(root / "raw" / "tumour_wide.csv", TUMOUR_WIDE)
    write(root / "raw" / "response_long.csv", RESPONSE_LONG)
    return load_study(root)


def test_wide_tumour_form_maps_to_tr_with_only_a_spec(tmp_path):
    tr = build_sdtm(make_study(tmp_path))["TR"].frame
    assert len(tr) == len(EXPECTED)
    for i, (subj, visit, lnk, code, orres, stresc, stresn, stat, dy, seq) in enumerate(EXPECTED):
        row = tr.iloc[i]
        assert row["USUBJID"] == f"ONC-2-{subj}", i
        assert (row["VISIT"], row["TRLNKID"], row["TRTESTCD"]) == (visit, lnk, code), i
        assert (row["TRORRES"], row["TRSTRESC"], row["TRSTAT"]) == (orres, stresc, stat), i
        assert (math.isnan(row["TRSTRESN"]) if stresn is None else row["TRSTRESN"] == stresn), i
        assert (row["TRDY"], row["TRSEQ"]) == (dy, seq), i
    measured = tr["TRSTRESN"].notna()
    assert set(tr.loc[measured, "TRORRESU"]) == {"mm"} and set(tr.loc[measured, "TRSTRESU"]) == {"mm"}
    assert set(tr.loc[~measured, "TRORRESU"]) == {""}
    assert dict(zip(tr["TRTESTCD"], tr["TRTEST"])) == {
        "SUMDIAM": "Sum of Diameter", "TUMSTATE": "Tumor State", "LDIAM": "Longest Diameter",
        "LPERP": "Longest Perpendicular"}
    assert set(tr["TREVAL"]) == {"INDEPENDENT ASSESSOR"} and set(tr["TRMETHOD"]) == {"MRI"}
    assert list(tr["TRLNKGRP"]) == [e[1] for e in EXPECTED]


def test_site_sum_equals_the_transposed_target_diameters(tmp_path):
    tr = build_sdtm(make_study(tmp_path))["TR"].frame
    sums = tr[tr["TRTESTCD"] == "SUMDIAM"].set_index(["USUBJID", "VISIT"])["TRSTRESN"]
    lesions = tr[(tr["TRGRPID"] == "TARGET") & (tr["TRTESTCD"] != "SUMDIAM")]
    computed = lesions.groupby(["USUBJID", "VISIT"])["TRSTRESN"].sum()
    assert sums.to_dict() == {("ONC-2-P01", "BASELINE"): 50.0, ("ONC-2-P01", "WEEK 8"): 29.0,
                              ("ONC-2-P02", "BASELINE"): 66.0}
    assert (computed.loc[sums.index] == sums).all()
    # a target lesion not assessed (ND) leaves the site's sum blank: no SUMDIAM record for that scan
    assert ("ONC-2-P02", "WEEK 8") not in sums.index


def test_long_response_form_with_irecist_rows_maps_to_rs(tmp_path):
    rs = build_sdtm(make_study(tmp_path))["RS"].frame
    got = list(zip(rs["USUBJID"].str[-3:], rs["RSCAT"], rs["VISIT"], rs["RSTESTCD"], rs["RSORRES"],
                   rs["RSSTRESC"], rs["RSDY"], rs["RSSEQ"]))
    assert got == [
        ("P01", "RECIST 1.1", "WEEK 8", "OVRLRESP", "PD", "PD", 55, 1),
        ("P01", "RECIST 1.1", "WEEK 8", "TRGRESP", "PD", "PD", 55, 2),
        ("P01", "iRECIST", "WEEK 8", "OVRLRESP", "iUPD", "iUPD", 55, 3),
        ("P01", "iRECIST", "WEEK 16", "OVRLRESP", "iCPD", "iCPD", 111, 4),     # 8 Jan -> 28 Apr = 110, +1
        ("P02", "RECIST 1.1", "WEEK 8", "OVRLRESP", "stable disease", "SD", 56, 1),  # CT synonym
        ("P02", "iRECIST", "WEEK 8", "OVRLRESP", "iSD", "iSD", 56, 2),
    ]
    assert set(rs["RSTEST"]) == {"Overall Response", "Target Response"}
