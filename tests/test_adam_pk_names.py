"""PARAMCD/PARAM one-to-one for PK (ADaMIG 1.3) and SDTM PP text = number (issue #16).

Two analytes -> distinct ADPP PARAMCD/PARAM/PARAMN; one profile keeps the plain names; ADPC takes the unit
per profile, so a NOT DONE sample without PCSTRESU keeps its PARAM; PP PPSTRESC is PPSTRESN as plain text.
Expected values worked by hand."""
import numpy as np
import pandas as pd
import pytest

from trialforge.adam.build import build_adam
from trialforge.adam.config import adam_config_from_dict
from trialforge.errors import SpecError


def study(pc_rows):
    """pc_rows: (PCTESTCD, PCTEST, PCDTC, PCSTRESC, PCSTRESU, PCSTAT)."""
    dm = pd.DataFrame({"STUDYID": "K", "USUBJID": ["K-1"], "SUBJID": "1", "SITEID": "1", "AGE": 50.0,
                       "AGEU": "YEARS", "SEX": "M", "RACE": "WHITE", "ETHNIC": "", "COUNTRY": "USA", "ARM": "A",
                       "ARMCD": "A", "ACTARM": "A", "ACTARMCD": "A", "ARMNRS": ""})
    ex = pd.DataFrame({"STUDYID": "K", "USUBJID": ["K-1"], "EXTRT": "DRUG", "EXDOSE": 10.0,
                       "EXSTDTC": "2024-01-01T08:00", "EXENDTC": "2024-01-01T08:00"})
    pc = pd.DataFrame(pc_rows, columns=["PCTESTCD", "PCTEST", "PCDTC", "PCSTRESC", "PCSTRESU", "PCSTAT"])
    pc = pc.assign(STUDYID="K", USUBJID="K-1", PCSEQ=np.arange(1, len(pc) + 1, dtype=float), PCSPEC="BLOOD",
                   PCLLOQ=np.where(pc["PCSTAT"] == "NOT DONE", np.nan, 1.0),
                   PCSTRESN=pd.to_numeric(pc["PCSTRESC"], errors="coerce"))
    return {"DM": dm, "EX": ex, "PC": pc}


def profile(code, test, unit, values, not_done_day=None):
    days = ["2024-01-02T08:00", "2024-01-03T08:00", "2024-01-05T08:00"]
    rows = [(code, test, d, v, unit, "") for d, v in zip(days, values)]
    if not_done_day:
        rows.append((code, test, not_done_day, "", "", "NOT DONE"))
    return rows


TWO = profile("QPCR", "Transgene", "copies/ug", ["100", "400", "200"]) + \
    profile("FLOW", "CAR Cells", "10^6/L", ["5", "2", "1"])


def build(rows, pk=None):
    pk = {"intervals": [[0, 4]], **(pk or {})}
    return build_adam(study(rows), adam_config_from_dict({"adsl": {"product_extrt": "DRUG"}, "pk": pk}))


def names(built):
    f = built["ADPP"].frame
    return f[["PARCAT2", "PARAMCD", "PARAM", "PARAMN", "AVAL", "AVALU"]].drop_duplicates("PARAMCD")


def test_two_analytes_get_distinct_paramcd_param_and_paramn():
    got = names(build(TWO)).set_index("PARAMCD")
    # profiles in (PCTESTCD, PCSPEC) order: FLOW = 1, QPCR = 2; five parameters each (CMAX TMAX CLST TLST AUC4D)
    assert got.loc["CMAX1", "PARAM"] == "Max Conc, CAR Cells (BLOOD)"
    assert got.loc["CMAX2", "PARAM"] == "Max Conc, Transgene (BLOOD)"
    assert (got.loc["CMAX1", "AVAL"], got.loc["CMAX1", "AVALU"]) == (5.0, "10^6/L")
    assert (got.loc["CMAX2", "AVAL"], got.loc["CMAX2", "AVALU"]) == (400.0, "copies/ug")
    assert got.loc["TMAX2", "AVAL"] == pytest.approx(2.0)                       # day 2 sample
    assert (got.loc["CMAX1", "PARAMN"], got.loc["AUC4D1", "PARAMN"], got.loc["CMAX2", "PARAMN"]) == (1.0, 5.0, 6.0)
    f = build(TWO)["ADPP"].frame
    assert f.groupby("PARAMCD")["PARAM"].nunique().max() == 1 and f.groupby("PARAM")["PARAMCD"].nunique().max() == 1
    assert f.groupby("PARAMCD")["PARCAT2"].nunique().max() == 1                  # TF-ADP-016


def test_declared_suffix_and_label():
    pk = {"profiles": [{"analyte": "QPCR", "paramcd_suffix": "TG", "param_label": "Transgene by qPCR"},
                       {"analyte": "FLOW", "paramcd_suffix": "FC"}]}
    got = names(build(TWO, pk)).set_index("PARAMCD")
    assert got.loc["CMAXTG", "PARAM"] == "Max Conc, Transgene by qPCR"
    assert got.loc["AUC4DFC", "PARAM"] == "AUC from 0 to 4 days, CAR Cells (BLOOD)"
    assert set(got.index) == {f"{c}{s}" for c in ("CMAX", "TMAX", "CLST", "TLST", "AUC4D") for s in ("TG", "FC")}


def test_colliding_or_too_long_names_are_spec_errors():
    same = {"profiles": [{"analyte": "QPCR", "paramcd_suffix": "X"}, {"analyte": "FLOW", "paramcd_suffix": "X"}]}
    with pytest.raises(SpecError, match="share PARAMCD"):
        build(TWO, same)
    long = {"intervals": [{"start": 0, "end": 4, "paramcd": "AUCLONG4", "param": "AUC long"}]}
    with pytest.raises(SpecError, match="longer than 8"):
        build(TWO, long)


def test_one_profile_keeps_plain_names():
    got = names(build(profile("QPCR", "Transgene", "copies/ug", ["100", "400", "200"])))
    assert got["PARAMCD"].tolist() == ["CMAX", "TMAX", "CLST", "TLST", "AUC4D"]
    assert got["PARAM"].tolist()[:2] == ["Max Conc", "Time of CMAX"]


def test_adpc_unit_per_paramcd_with_a_not_done_sample():
    built = build(profile("QPCR", "Transgene", "copies/ug", ["100", "400", "200"], not_done_day="2024-01-09T08:00"))
    adpc = built["ADPC"].frame
    assert len(adpc) == 4
    assert set(adpc["PARAM"]) == {"Transgene (copies/ug)"} and set(adpc["AVALU"]) == {"copies/ug"}
    nd = adpc.loc[adpc["AFRLT"] == 8.0].iloc[0]
    assert nd["ANL01FL"] == "" and np.isnan(nd["AVAL"]) and np.isnan(nd["ALLOQ"])


def test_pp_stresc_is_stresn_as_plain_text():
    rows = profile("QPCR", "Transgene", "copies/ug", ["1234567.89", "0.000123456789", "12.5"])
    pp = build(rows, {"pp_tptref": "INFUSION"})["PP"].frame.set_index("PPTESTCD")
    # CMAX 1234567.89 at 6 significant digits: 1234570 (never 1.23457e+06)
    assert (pp.loc["CMAX", "PPSTRESC"], pp.loc["CMAX", "PPSTRESN"], pp.loc["CMAX", "PPORRES"]) == \
        ("1234570", 1234570.0, "1234570")
    assert (pp.loc["CLST", "PPSTRESC"], pp.loc["CLST", "PPSTRESN"]) == ("12.5", 12.5)
    assert pp.loc["TLST", "PPSTRESC"] == "4"
    assert (pp["PPTPTREF"] == "INFUSION").all() and (pp["PPRFTDTC"] == "2024-01-01T08:00:00").all()
    three = build(rows, {"pp_significant_digits": 3})["PP"].frame.set_index("PPTESTCD")
    assert (three.loc["CMAX", "PPSTRESC"], three.loc["CMAX", "PPSTRESN"]) == ("1230000", 1230000.0)
    assert (three["PPTPTREF"] == "DOSE").all()                                  # the neutral default
