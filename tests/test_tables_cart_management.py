"""Exposure (T 14.1.4), CRS/ICANS management (T 14.3.1.5) and anti-CAR antibodies (T 14.3.5.x) of the bundled
CAR-T studies, recomputed from SDTM (EX, AE + SUPPAE, CM, IS) with pandas, never from the ADaM the tables
read: only the column grouping (TRT01A, ordered by TRT01AN) is taken from ADSL.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialforge.tables.build import BuildReport, build_study_tables

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
pytestmark = pytest.mark.slow


def _build(name: str, tmp_path_factory, example_build):
    b = example_build(name)
    study, sdtm, adam = b.study, b.sdtm(), b.adam()
    out = tmp_path_factory.mktemp(name)
    report = BuildReport()
    build_study_tables(study, adam, out, only=["14.1.4", "14.3.1.5", "14.3.5"], report=report)
    frames = {k: v.frame for k, v in sdtm.items()}
    return frames, adam, out, report


@pytest.fixture(scope="module")
def cd70(tmp_path_factory, example_build):
    return _build("cd70-cart", tmp_path_factory, example_build)


@pytest.fixture(scope="module")
def nkg2d(tmp_path_factory, example_build):
    return _build("nkg2d-solid", tmp_path_factory, example_build)


# ------------------------------------------------------------------ independent helpers
def day(dtc: pd.Series) -> pd.Series:
    """Complete ISO dates to datetime (partial ones NaT)."""
    return pd.to_datetime(dtc.astype(str).str.slice(0, 10), format="%Y-%m-%d", errors="coerce")


def infusion(sdtm, extrt: str) -> pd.Series:
    ex = sdtm["EX"]
    return day(ex.loc[ex["EXTRT"] == extrt].set_index("USUBJID")["EXSTDTC"]).groupby(level=0).min()


def groups(adam, treated: pd.Index) -> tuple[list[str], pd.Series]:
    adsl = adam["ADSL"].frame.set_index("USUBJID").loc[treated]
    order = adsl.sort_values("TRT01AN", kind="mergesort")["TRT01A"].drop_duplicates().tolist()
    return order, adsl["TRT01A"]


def npct(k: int, n: int) -> str:
    return "0" if k == 0 else f"{k} ({100 * k / n:.1f})"


def count_cells(subjects: set, grp: pd.Series, order: list[str]) -> list[str]:
    cells = []
    for g in order + ["Total"]:
        members = set(grp.index) if g == "Total" else set(grp.index[grp == g])
        cells.append(npct(len(subjects & members), len(members)))
    return cells


def rows(out: Path, stem: str) -> list[dict]:
    return json.loads((out / f"{stem}.json").read_text())["rows"]


def r1(x: float) -> str:
    return f"{math.floor(x * 10 + 0.5) / 10:.1f}"          # SAS rounding, half away from zero (x >= 0 here)


# ------------------------------------------------------------------ CD70: EX, AE form, IS
def test_cd70_all_three_are_produced(cd70):
    *_, report = cd70
    assert not report.skipped and not report.failed
    assert report.produced == ["Table 14.1.4", "Table 14.3.1.5", "Table 14.3.5.1", "Table 14.3.5.2"]


def test_cd70_exposure_from_ex(cd70):
    sdtm, adam, out, _ = cd70
    treated = infusion(sdtm, "CD70 CAR-T CELLS").index
    order, grp = groups(adam, treated)
    ex = sdtm["EX"]
    got = {}
    block = None
    for r in rows(out, "t_14_1_4"):
        if r["indent"] == 0:
            block = r["label"]
        else:
            got[(block, r["label"])] = r["cells"]
    for trt, label in (("FLUDARABINE", "Fludarabine Total Dose (mg/m2)"),
                       ("CYCLOPHOSPHAMIDE", "Cyclophosphamide Total Dose (mg/m2)")):
        dose = ex.loc[ex["EXTRT"] == trt].groupby("USUBJID")["EXDOSE"].sum().reindex(treated).dropna()
        for g in order:
            v = dose[grp.reindex(dose.index) == g].to_numpy(dtype=float)
            n_grp = int((grp == g).sum())
            cells = got[(label, f"{g} (N={n_grp})")]
            sd = "-" if len(v) < 2 else r1(v.std(ddof=1))
            assert cells == [str(len(v)), r1(v.mean()), sd, r1(float(np.median(v))), r1(v.min()), r1(v.max())], \
                (trt, g)
    cells_dose = ex.loc[ex["EXTRT"] == "CD70 CAR-T CELLS"].groupby("USUBJID")["EXDOSE"].first()
    first_group = order[0]
    key = next(k for k in got if k[0].startswith("CD70 CAR-T Cells Infused") and k[1].startswith(first_group))
    v = cells_dose.reindex(grp.index[grp == first_group]).to_numpy(dtype=float)
    assert got[key][0] == str(len(v)) and got[key][3] == r1(float(np.median(v)))


def test_cd70_crs_icans_management_from_the_ae_form(cd70):
    sdtm, adam, out, _ = cd70
    inf = infusion(sdtm, "CD70 CAR-T CELLS")
    order, grp = groups(adam, inf.index)
    ex = sdtm["EX"]
    ld = day(ex.loc[ex["EXTRT"].isin(["FLUDARABINE", "CYCLOPHOSPHAMIDE"])].set_index("USUBJID")["EXSTDTC"]) \
        .groupby(level=0).min()
    ae = sdtm["AE"].copy()
    supp = sdtm["SUPPAE"]
    for qnam in ("AETOCI", "AESTER"):
        q = supp.loc[supp["QNAM"] == qnam].assign(AESEQ=lambda d: d["IDVARVAL"].astype(float))
        ae = ae.merge(q[["USUBJID", "AESEQ", "QVAL"]].rename(columns={"QVAL": qnam}), how="left",
                      on=["USUBJID", "AESEQ"])
    crs = ae[ae["AEDECOD"].isin(["Cytokine release syndrome",
                                 "Immune effector cell-associated neurotoxicity syndrome"])].copy()
    crs["start"] = day(crs["AESTDTC"])
    assert crs["start"].notna().all()                       # complete dates: no imputation question
    crs = crs[crs["USUBJID"].isin(inf.index) & (crs["start"] >= crs["USUBJID"].map(ld))]
    want = {"Subjects with CRS or ICANS": set(crs["USUBJID"]),
            "Tocilizumab": set(crs.loc[crs["AETOCI"] == "Y", "USUBJID"]),
            "Corticosteroids": set(crs.loc[crs["AESTER"] == "Y", "USUBJID"])}
    want["Tocilizumab and corticosteroids"] = want["Tocilizumab"] & want["Corticosteroids"]
    got = {r["label"]: r["cells"] for r in rows(out, "t_14_3_1_5")}
    assert list(got) == list(want)
    for label, subjects in want.items():
        assert got[label] == count_cells(subjects, grp, order), label
    assert len(want["Tocilizumab"]) > 0 and len(want["Corticosteroids"]) > 0     # the test can see a difference


def test_cd70_anti_car_antibodies_from_is(cd70):
    sdtm, adam, out, _ = cd70
    inf = infusion(sdtm, "CD70 CAR-T CELLS")
    order, grp = groups(adam, inf.index)
    is_ = sdtm["IS"]
    status = is_[(is_["ISTSTOPO"] != "QUANTIFY") & is_["USUBJID"].isin(inf.index)].copy()
    status["after"] = day(status["ISDTC"]) > status["USUBJID"].map(inf)
    pos = status["ISSTRESC"] == "POSITIVE"
    got = {r["label"]: r["cells"] for r in rows(out, "t_14_3_5_2")}
    base = set(status.loc[pos & (status["ISLOBXFL"] == "Y"), "USUBJID"])
    after = set(status.loc[pos & status["after"], "USUBJID"])
    assert got["Positive at baseline"] == count_cells(base, grp, order) and base
    assert got["Positive after infusion"] == count_cells(after, grp, order) and after
    per_visit = rows(out, "t_14_3_5_1")
    visit = None
    seen = 0
    for r in per_visit:
        if r["indent"] == 0:
            visit = r["label"].split(" (")[0].upper()
            continue
        at = status[status["VISIT"] == visit]
        subjects = set(at["USUBJID"]) if r["label"] == "Sampled" else set(at.loc[at["ISSTRESC"] == "POSITIVE",
                                                                                    "USUBJID"])
        assert r["cells"] == count_cells(subjects, grp, order), (visit, r["label"])
        seen += 1
    assert seen == 2 * status["VISIT"].nunique()


# ------------------------------------------------------------------ NKG2D: the generic ADCM shell from CM
def test_nkg2d_crs_icans_management_from_cm(nkg2d):
    sdtm, adam, out, report = nkg2d
    assert {"Table 14.1.4", "Table 14.3.1.5", "Table 14.3.5.1", "Table 14.3.5.2"} <= set(report.produced)
    inf = infusion(sdtm, "KD-025 NKG2D CAR-T CELLS")
    order, grp = groups(adam, inf.index)
    cm = sdtm["CM"]
    cm = cm[(cm["CMCAT"] == "CONCOMITANT MEDICATION") & cm["USUBJID"].isin(inf.index)
            & cm["CMINDC"].isin(["CYTOKINE RELEASE SYNDROME",
                                 "IMMUNE EFFECTOR CELL-ASSOCIATED NEUROTOXICITY SYNDROME"])].copy()
    end = day(cm["CMENDTC"])
    assert (cm["CMENDTC"].astype(str).str.len().isin([0, 10])).all()       # complete or blank end dates
    cm = cm[end.isna() | (end >= cm["USUBJID"].map(inf))]                  # taken on or after the infusion
    got = {r["label"]: r["cells"] for r in rows(out, "t_14_3_1_5")}
    assert got["Treated for CRS or ICANS"] == count_cells(set(cm["USUBJID"]), grp, order)
    toci = set(cm.loc[cm["CMTRT"] == "Tocilizumab", "USUBJID"])
    cort = set(cm.loc[cm["CMTRT"] == "Dexamethasone", "USUBJID"])
    assert got["Tocilizumab"] == count_cells(toci, grp, order) and toci
    assert got["Corticosteroids"] == count_cells(cort, grp, order) and cort
