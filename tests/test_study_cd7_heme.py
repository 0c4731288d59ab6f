"""The bundled CD7 CAR-T haematology study (examples/cd7-heme): its raw export, its SDTM, and the
endpoints recomputed from the SDTM independently of the ADaM code.

Expected values are worked by hand from the bundled raw files (the RESP, CK_FLOW forms) or
recomputed here with plain pandas/numpy: BOR under the haematological criterion (rank CR > CRi >
MLFS > PR > NR; relapse and PD are not responses, no confirmation), the landmark response at months
1, 3 and 6 (the assessment of that visit; no assessment = not in response), and AUC0-28d of the CAR
transgene by the linear trapezoidal rule on nominal days (BLQ pre-infusion = 0).
"""
from __future__ import annotations

import filecmp
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from trialforge.errors import TrialforgeError
from trialforge.synth import cd7_heme
from trialforge.synth.command import synth_command

STUDY_DIR = Path(__file__).resolve().parents[1] / "examples" / "cd7-heme"
RAW = STUDY_DIR / "raw"
STUDYID = "CD7-HEME-101"

# Worked by hand from examples/cd7-heme/raw/RESP.csv (one row per scheduled marrow assessment).
EXPECTED_BOR = {"01-001": "CRi", "01-002": "PR", "01-003": "CR", "01-004": "CR", "01-006": "CR",
                "01-007": "NR", "01-009": "CR", "01-010": "CR", "01-011": "CR"}
# Response at the landmark visit: month 1 everyone assessed (01-007 NR); month 3 and 6: 01-002 had
# progressed at month 2 and 01-007 left after NR, the other seven in CR/CRi.
EXPECTED_ORR = {"MONTH 1": (8, 9), "MONTH 3": (7, 9), "MONTH 6": (7, 9)}

RESPONSE = {"CR": 1, "CRi": 2, "MORPHOLOGIC LEUKEMIA-FREE STATE": 3, "PR": 4}   # lower = better
RAW_DATE = re.compile(r"^(\d{2}|UN)/(\d{2}|UNK)/(\d{4})$")


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def rave(text: str):
    """A complete DD/MM/YYYY date, else None."""
    if not text or text.startswith("UN") or "UNK" in text:
        return None
    d, m, y = text.split("/")
    return date(int(y), int(m), int(d))


# --- raw export ---------------------------------------------------------------------------------

def test_bundled_raw_is_exactly_the_default_output(tmp_path):
    paths = cd7_heme.generate(cd7_heme.DEFAULT_N, cd7_heme.DEFAULT_SEED, out_dir=tmp_path)
    assert sorted(p.name for p in paths) == sorted(p.name for p in RAW.glob("*.csv"))
    for p in paths:
        assert filecmp.cmp(p, RAW / p.name, shallow=False), p.name


def test_cli_synth_study_any_size_is_deterministic(tmp_path):
    runner = CliRunner()
    for out in ("a", "b"):
        res = runner.invoke(synth_command, ["--study", "cd7-heme", "--subjects", "40", "--seed", "3",
                                            "--out", str(tmp_path / out)])
        assert res.exit_code == 0, res.output
    for p in (tmp_path / "a").glob("*.csv"):
        assert filecmp.cmp(p, tmp_path / "b" / p.name, shallow=False)
    dm = read(tmp_path / "a", "DM")
    assert len(dm) == 40 and dm.SUBJECT.is_unique
    enr = read(tmp_path / "a", "ENR")
    assert (enr.ENRYN == "0").sum() == round(40 * 2 / 11)


def test_larger_study_stays_inside_the_data_cutoff():
    """At any size every collected date is on or before the cut-off (2025-12-31) and each treated
    subject is consented, lymphodepleted and infused in that order."""
    forms = cd7_heme.build_forms(150, 2)
    cutoff = date(2025, 12, 31)
    for name, frame in forms.items():
        for col in [c for c in frame.columns if c.endswith("_RAW")]:
            full = [rave(v) for v in frame[col] if v]
            assert all(d is None or d <= cutoff for d in full), (name, col)
    assert all(date.fromisoformat(d) <= cutoff for d in forms["LAB_CENTRAL"].COLL_DATE)
    first_ld = forms["LD"].assign(d=forms["LD"].LDDAT_RAW.map(rave)).groupby("SUBJECT").d.min()
    consent = forms["ENR"].set_index("SUBJECT").ICDAT_RAW.map(rave)
    infusion = forms["CART"].set_index("SUBJECT").INFDAT_RAW.map(rave)
    assert len(infusion) == 150 - round(150 * 2 / 11)
    assert (consent[infusion.index] < first_ld[infusion.index]).all()
    assert (first_ld[infusion.index] < infusion).all()


def test_one_subject_and_bad_sizes(tmp_path):
    assert len(read(Path(cd7_heme.generate(1, 1, out_dir=tmp_path)[0]).parent, "DM")) == 1
    with pytest.raises(TrialforgeError):
        cd7_heme.build_forms(0, 1)
    with pytest.raises(TrialforgeError):
        cd7_heme.build_forms(5, -1)


def test_default_design_nine_treated_three_per_dose_level():
    enr, cart = read(RAW, "ENR"), read(RAW, "CART")
    assert len(enr) == 11 and (enr.ENRYN == "1").sum() == 9
    assert sorted(cart.PLANDOSE.value_counts().items()) == [("0.5", 3), ("1.0", 3), ("2.0", 3)]
    # dose per kg x weight = total cells (0.1 rounding)
    total = cart.ACTDOSE.astype(float) * cart.WTINF.astype(float)
    assert np.allclose(total, cart.TOTCELLS.astype(float), atol=0.051)


def test_raw_shape_is_rave_like_with_vendor_transfers():
    ae, mh, dm = read(RAW, "AE"), read(RAW, "MH"), read(RAW, "DM")
    for col in ("SUBJECT", "SITENUMBER", "FOLDERNAME", "INSTANCENAME"):
        assert col in ae.columns
    dates = pd.concat([ae.AESTDAT_RAW, ae.AEENDAT_RAW, mh.MHSTDAT_RAW, dm.BRTHDAT_RAW])
    dates = dates[dates != ""]
    assert dates.str.match(RAW_DATE).all()
    assert dates.str.startswith("UN/").any()                      # partial dates kept as collected
    for col in ("AESER", "AEDLT", "AEONGO", "AETOCI"):
        assert set(ae[col]) <= {"0", "1"}
    lab, flow = read(RAW, "LAB_CENTRAL"), read(RAW, "CK_FLOW")
    sci = re.compile(r"^\d\.\d{2}E[+-]\d{2}$")
    assert lab.RESULT_VALUE.str.match(sci).all()
    assert flow.RESULT[flow.RESULT != "BLQ"].str.match(sci).all()


def test_clinical_course_is_coherent():
    """consent < lymphodepletion < infusion; nothing after death; relapse ends assessments;
    transplants follow a remission; subsequent therapy follows NR, relapse or PD."""
    enr, ld, cart = read(RAW, "ENR"), read(RAW, "LD"), read(RAW, "CART")
    dd, resp, hsct, subtx = read(RAW, "DD"), read(RAW, "RESP"), read(RAW, "HSCT"), read(RAW, "SUBTX")
    ae, lab, flow = read(RAW, "AE"), read(RAW, "LAB_CENTRAL"), read(RAW, "CK_FLOW")
    consent = {r.SUBJECT: rave(r.ICDAT_RAW) for r in enr.itertuples()}
    ld_first = ld.assign(d=ld.LDDAT_RAW.map(rave)).groupby("SUBJECT").d.min()
    infusion = {r.SUBJECT: rave(r.INFDAT_RAW) for r in cart.itertuples()}
    death = {r.SUBJECT: rave(r.DTHDAT_RAW) for r in dd.itertuples()}
    for subj, inf in infusion.items():
        assert consent[subj] < ld_first[subj] < inf
        assert (inf - ld_first[subj]).days == 5
    for subj, dth in death.items():
        assert all(d <= dth for d in ae[ae.SUBJECT == subj].AESTDAT_RAW.map(rave) if d)
        assert all(date.fromisoformat(d) < dth for d in lab[lab.PATIENT_NO == subj].COLL_DATE)
        assert all(date.fromisoformat(d[:10]) < dth for d in flow[flow.SUBJECT_ID == subj].DRAW_DTM)
    for subj, rows in resp.groupby("SUBJECT"):
        status = rows.OVRLRESP.tolist()
        days = [rave(d) for d in rows.RSDAT_RAW]
        assert days == sorted(days) and days[0] > infusion[subj]
        ends = [i for i, s in enumerate(status) if s in ("Relapse", "Progressive disease", "No response (NR)")]
        assert not ends or ends[0] == len(status) - 1                 # nothing assessed after it
        if ends:
            starts = [rave(d) for d in subtx[subtx.SUBJECT == subj].STSTDAT_RAW]
            assert starts and min(starts) > days[-1]
    for r in hsct.itertuples():
        before = resp[(resp.SUBJECT == r.SUBJECT) & (resp.RSDAT_RAW.map(rave) < rave(r.HSCTDAT_RAW))]
        assert before.OVRLRESP.str.contains(r"\((?:CR|CRi|MLFS)\)").any()
        assert r.SUBJECT not in death or rave(r.HSCTDAT_RAW) < death[r.SUBJECT]


# --- SDTM ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sdtm():
    from trialforge.pipeline import GATE
    from trialforge.sdtm.engine import build_sdtm
    from trialforge.specs.ct import load_ct
    from trialforge.specs.study import load_study
    from trialforge.validation.runner import validate_datasets
    ct = load_ct(None)
    datasets = build_sdtm(load_study(STUDY_DIR), ct=ct)
    report = validate_datasets(datasets, ct=ct, scope="SDTM", options=GATE)
    return {name: ds.frame for name, ds in datasets.items()}, report, datasets


def test_sdtm_gate_has_no_errors_and_expected_domains(sdtm):
    frames, report, _ = sdtm
    assert not report.has_errors, [f for f in report.findings if f.severity == "error"][:5]
    for name in ("DM", "AE", "SUPPAE", "EX", "DS", "MH", "CM", "LB", "PC", "IS", "RS", "PR", "SS",
                 "TS", "TA", "TE", "TI", "TV", "SE"):
        assert name in frames and len(frames[name]), name
    dm = frames["DM"]
    assert (dm.ARMNRS == "SCREEN FAILURE").sum() == 2 and (dm.ACTARMCD != "").sum() == 9


def bor_from_rs(rs: pd.DataFrame) -> dict[str, str]:
    """Best overall response per subject: best ranked response, else NR."""
    ovr = rs[(rs.RSTESTCD == "OVRLRESP") & (rs.RSCAT == "PROTOCOL DEFINED RESPONSE CRITERIA")]
    out = {}
    for usubjid, rows in ovr.groupby("USUBJID"):
        ranked = [RESPONSE[v] for v in rows.RSSTRESC if v in RESPONSE]
        best = min(ranked) if ranked else None
        out[usubjid] = {v: k for k, v in RESPONSE.items()}.get(best, "NR")
    return out


def test_bor_per_subject_from_sdtm(sdtm):
    frames, _, _ = sdtm
    bor = bor_from_rs(frames["RS"])
    expected = {f"{STUDYID}-{k}": ("MORPHOLOGIC LEUKEMIA-FREE STATE" if v == "MLFS" else v)
                for k, v in EXPECTED_BOR.items()}
    assert bor == expected


def landmark_orr(rs: pd.DataFrame, dm: pd.DataFrame, visit: str) -> tuple[int, int]:
    treated = dm.loc[dm.ACTARMCD != "", "USUBJID"]
    at = rs[(rs.RSTESTCD == "OVRLRESP") & (rs.VISIT == visit)]
    responders = set(at.loc[at.RSSTRESC.isin(RESPONSE), "USUBJID"])
    return len(responders & set(treated)), len(treated)


@pytest.mark.parametrize("visit", sorted(EXPECTED_ORR))
def test_landmark_orr_from_sdtm(sdtm, visit):
    frames, _, _ = sdtm
    assert landmark_orr(frames["RS"], frames["DM"], visit) == EXPECTED_ORR[visit]


def auc_0_28_nominal(times_days, conc) -> float:
    """Linear trapezoid from day 0 to day 28 (inclusive)."""
    t, c = np.asarray(times_days, float), np.asarray(conc, float)
    keep = (t >= 0) & (t <= 28)
    t, c = t[keep], c[keep]
    return float(np.sum((t[1:] - t[:-1]) * (c[1:] + c[:-1]) / 2))


def test_auc_0_28_of_one_subject_by_hand(sdtm):
    """01-001's CAR transgene AUC0-28d from SDTM PC equals the trapezoid of the vendor's raw results."""
    frames, _, _ = sdtm
    pc = frames["PC"]
    one = pc[(pc.USUBJID == f"{STUDYID}-01-001") & (pc.PCTESTCD == "CD7CAR")].copy()
    one["day"] = one.PCTPTNUM.astype(float).clip(lower=0) / 24
    one["conc"] = one.PCSTRESN.astype(float).fillna(0.0)       # BLQ (pre-infusion) = 0
    one = one.sort_values("day")
    from_sdtm = auc_0_28_nominal(one.day, one.conc)

    raw = read(RAW, "CK_FLOW")
    raw = raw[(raw.SUBJECT_ID == "01-001") & (raw.ANALYTE == "CD7-CAR transgene")]
    days = raw.NOMINAL_HOUR.astype(float).clip(lower=0) / 24
    conc = pd.to_numeric(raw.RESULT, errors="coerce").fillna(0.0)
    by_hand = 0.0
    pts = sorted(zip(days, conc))
    pts = [p for p in pts if p[0] <= 28]
    for (t0, c0), (t1, c1) in zip(pts, pts[1:]):
        by_hand += (t1 - t0) * (c0 + c1) / 2
    assert list(one.day[one.day <= 28]) == [0, 1, 4, 7, 10, 14, 21, 28]
    assert from_sdtm == pytest.approx(by_hand, rel=1e-9)
    assert by_hand > 0


# --- ADaM checked against the SDTM recomputations above --------------------------------------------

@pytest.fixture(scope="module")
def adam(sdtm):
    pytest.importorskip("trialforge.adam.criteria")          # the declarative ADaM of issue 11
    from trialforge.pipeline import build_adam_stage
    from trialforge.specs.study import load_study
    datasets, _extra = build_adam_stage(load_study(STUDY_DIR), sdtm[2])
    frames = {name: ds.frame for name, ds in datasets.items()}
    frames["_datasets"] = datasets
    return frames


CRITERION_CODE = {"MORPHOLOGIC LEUKEMIA-FREE STATE": "MLFS"}


def test_adrs_bor_equals_the_sdtm_recomputation(sdtm, adam):
    bor = adam["ADRS"].query("PARAMCD == 'BOR'").set_index("USUBJID").AVALC.to_dict()
    expected = {k: CRITERION_CODE.get(v, v) for k, v in bor_from_rs(sdtm[0]["RS"]).items()}
    assert bor == expected


@pytest.mark.parametrize("paramcd, visit", [("ORRM1", "MONTH 1"), ("ORRM3", "MONTH 3"), ("ORRM6", "MONTH 6")])
def test_adrs_landmark_orr_equals_the_sdtm_recomputation(sdtm, adam, paramcd, visit):
    rows = adam["ADRS"].query("PARAMCD == @paramcd")
    assert (int((rows.AVALC == "Y").sum()), len(rows)) == landmark_orr(sdtm[0]["RS"], sdtm[0]["DM"], visit)
    assert (int((rows.AVALC == "Y").sum()), len(rows)) == EXPECTED_ORR[visit]


def test_adpp_auc_0_28_equals_the_trapezoid_by_hand(sdtm, adam):
    pc = sdtm[0]["PC"]
    one = pc[(pc.USUBJID == f"{STUDYID}-01-001") & (pc.PCTESTCD == "CD7CAR")]
    day = one.PCTPTNUM.astype(float).clip(lower=0) / 24
    by_hand = auc_0_28_nominal(day, one.PCSTRESN.astype(float).fillna(0.0))
    pp = adam["ADPP"]
    hit = pp[(pp.USUBJID == f"{STUDYID}-01-001") & pp.PARAMCD.str.startswith("AUC")
             & (pp.filter(regex="^(PCTESTCD|PARCAT1|PARCAT2|ANALYTE)$").eq("CD7CAR").any(axis=1))]
    assert len(hit) == 1
    assert float(hit.AVAL.iloc[0]) == pytest.approx(by_hand, rel=1e-6)


def test_adtte_os_and_transplant_censored_pfs_from_sdtm(sdtm, adam):
    """OS: death date - infusion date + 1; PFS of a subject bridged to transplant without relapse before
    it: censored at the last marrow assessment before the transplant."""
    dm, rs, pr = sdtm[0]["DM"], sdtm[0]["RS"], sdtm[0]["PR"]
    tte = adam["ADTTE"]
    start = pd.to_datetime(dm.set_index("USUBJID").RFSTDTC.str[:10])
    for usubjid, dth in dm.set_index("USUBJID").DTHDTC.items():
        if not dth:
            continue
        os_row = tte[(tte.USUBJID == usubjid) & (tte.PARAMCD == "OS")].iloc[0]
        assert os_row.CNSR == 0
        assert os_row.AVAL == (pd.Timestamp(dth[:10]) - start[usubjid]).days + 1
    for usubjid, hsct in pr.set_index("USUBJID").PRSTDTC.items():
        before = rs[(rs.USUBJID == usubjid) & (rs.RSDTC < hsct)]
        if before.RSSTRESC.isin(["RELAPSED DISEASE", "PD"]).any():
            continue
        last = pd.Timestamp(before.RSDTC.max()[:10])
        pfs = tte[(tte.USUBJID == usubjid) & (tte.PARAMCD == "PFS")].iloc[0]
        assert pfs.CNSR == 1
        assert pfs.AVAL == (last - start[usubjid]).days + 1


def test_landmark_table_shows_the_sdtm_recomputation(sdtm, adam, tmp_path):
    """T 14.2.1.6 (study catalogue) prints the landmark ORR recomputed from SDTM in its Total column."""
    import json
    from trialforge.specs.study import load_study
    from trialforge.tables.build import build_study_tables
    build_study_tables(load_study(STUDY_DIR), adam["_datasets"], tmp_path, only=["14.2.1.6"])
    table = json.loads((tmp_path / "t_14_2_1_6.json").read_text(encoding="utf-8"))
    total = {r["label"]: r["cells"][-1] for r in table["rows"]}
    for month, visit in (("1", "MONTH 1"), ("3", "MONTH 3"), ("6", "MONTH 6")):
        n, big_n = landmark_orr(sdtm[0]["RS"], sdtm[0]["DM"], visit)
        assert total[f"Overall response at month {month}, n (%)"] == f"{n} ({100 * n / big_n:.1f})"
