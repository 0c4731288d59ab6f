"""The bundled CD70 example gives the same ADaM values as before the declarative ADaM (issue #11).

tests/data/cd70_adam_fingerprint.json was written from the main-branch code's ADaM of the example (before
the change): per dataset the row count, the columns and a hash of every column's values. Every difference
from it must be one of the intended ones listed here:

* ADRS PARAM names the response criterion (issue #11 Build 1): "Best Overall Response (unconfirmed)" →
  "Best Overall Response (unconfirmed, RECIST 1.1)" etc. (PARAMCD, AVALC, AVAL, dates unchanged);
* ADPC gains PARCAT1 (the specimen, PC.PCSPEC) and ADPP gains PARCAT1 (specimen) and PARCAT2 (analyte):
  PK profiles are keyed by analyte and specimen (Build 5);
* issue #16 (SDTM correctness of PK): PC samples NOT DONE carry no PCSTRESU/PCLLOQ, so ADPC ALLOQ is null on
  those records only; SDTM PP gains PPTPTREF (pk.pp_tptref) and PPSTRESN is rounded to 6 significant digits
  so that PPSTRESC/PPORRES (plain decimal text, no E-notation) are the same number.
* issue #16 fixed the example's raw data: an AE with outcome FATAL now ends on the day of death (AEENDTC was
  blank), so ADAE AEENDTC/AENDT/AENDY/ADURN/ADURU change on those records only, and ADSL LSTALVDT (which
  reads AE end dates) changes for those subjects.
* issue #17: the example declares ADEX (exposure) and ADIS (anti-CAR antibodies), new datasets not in the
  fingerprint, and ADAE gains the flags TOCIFL/CORTFL (tocilizumab / corticosteroids given for the AE, from
  SUPPAE AETOCI/AESTER) that the CRS/ICANS management table counts.
"""
import json
from pathlib import Path

import pytest

from adam_fingerprint import column_hash, fingerprint

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cd70-cart"
BEFORE = json.loads((Path(__file__).parent / "data" / "cd70_adam_fingerprint.json").read_text())
NEW_COLUMNS = {"ADPC": ["PARCAT1"], "ADPP": ["PARCAT1", "PARCAT2"], "PP": ["PPTPTREF"], "ADAE": ["TOCIFL", "CORTFL"]}
NEW_DATASETS = {"ADEX", "ADIS"}
# The ADRS PARAM of each PARAMCD before → after (written by hand from the intended change).
PARAM_NOW = {
    "OVR": "Overall Response by Investigator (RECIST 1.1)",
    "BOR": "Best Overall Response (unconfirmed, RECIST 1.1)",
    "CBOR": "Best Confirmed Overall Response (RECIST 1.1)",
    "RSP": "Objective Response (unconfirmed, RECIST 1.1)",
    "CRSP": "Confirmed Objective Response (RECIST 1.1)",
    "CB": "Clinical Benefit (unconfirmed BOR, RECIST 1.1)",
    "CCB": "Clinical Benefit (confirmed BOR, RECIST 1.1)",
    "SUMDIAM": "Sum of Diameters of Target Lesions (mm)",
}


@pytest.fixture(scope="module")
def now(example_build):
    b = example_build("cd70-cart")
    adam, extra = b.adam(), b.extra()
    return {k: v.frame for k, v in {**adam, **extra}.items()}


def test_same_datasets_rows_and_columns(now):
    before = {k: v for k, v in BEFORE.items() if not k.startswith("_")}
    assert sorted(now) == sorted(set(before) | NEW_DATASETS)
    for name, fp in before.items():
        assert len(now[name]) == fp["rows"], name
        added = [c for c in now[name].columns if c not in fp["columns"]]
        assert added == NEW_COLUMNS.get(name, []), name
        assert [c for c in now[name].columns if c in fp["columns"]] == fp["columns"], name


def test_same_values_except_the_intended_param_text(now):
    current = fingerprint(now)
    changed = [(name, col) for name, fp in BEFORE.items() if not name.startswith("_")
               for col, h in fp["hash"].items() if current[name]["hash"][col] != h]
    assert changed == [("ADAE", c) for c in ("ADURN", "ADURU", "AEENDTC", "AENDT", "AENDY")] + \
        [("ADPC", "ALLOQ"), ("ADRS", "PARAM"), ("ADSL", "LSTALVDT"), ("PP", "PPORRES"), ("PP", "PPSTRESC"),
         ("PP", "PPSTRESN")]
    # ... and PARAM changed exactly as intended: mapping the old text per PARAMCD gives the new column
    old = BEFORE["_params"]["ADRS"]
    assert set(old) == set(PARAM_NOW)
    assert all(PARAM_NOW[c] == old[c] or "RECIST 1.1" in PARAM_NOW[c] for c in old)
    adrs = now["ADRS"]
    assert (adrs["PARAM"] == adrs["PARAMCD"].map(PARAM_NOW)).all()


def test_new_pk_categories_hold_specimen_and_analyte(now):
    assert (now["ADPC"]["PARCAT1"] != "").all()
    assert set(now["ADPP"]["PARCAT1"]) <= set(now["ADPC"]["PARCAT1"])
    assert column_hash(now["ADPP"]["PARCAT2"]) == column_hash(now["ADPP"]["PARCAT2"].map(lambda _: "CD70CAR"))


def test_alloq_changes_only_on_samples_not_done(now):
    """Before: every CD70CAR sample had ALLOQ 50 (DNA copies/ug, pc.yaml); now the not-done ones are null."""
    adpc = now["ADPC"]
    gone = adpc["ALLOQ"].isna()
    assert gone.sum() > 0
    assert (adpc.loc[gone, "ANL01FL"] == "").all() and adpc.loc[gone, "AVAL"].isna().all()
    assert (adpc.loc[gone, "AVALU"] == "DNA copies/ug").all()      # the unit is the profile's, not the record's
    assert column_hash(adpc["ALLOQ"].fillna(50.0)) == BEFORE["ADPC"]["hash"]["ALLOQ"]


def test_pp_text_is_the_number_and_the_same_six_digits_as_before(now):
    pp = now["PP"]
    six = pp["PPSTRESN"].map(lambda v: "" if v != v else f"{v:.6g}")   # the old PPSTRESC text
    assert column_hash(six) == BEFORE["PP"]["hash"]["PPSTRESC"]
    done = pp["PPSTRESC"] != ""
    assert not pp["PPSTRESC"].str.contains("e", case=False).any()
    assert (pp.loc[done, "PPSTRESC"].astype(float) == pp.loc[done, "PPSTRESN"]).all()
    assert (pp["PPORRES"] == pp["PPSTRESC"]).all()
    assert (pp["PPTPTREF"] == pp["PPRFTDTC"].map(lambda d: "CAR-T INFUSION" if d else "")).all()


def test_fatal_adverse_events_end_on_the_day_of_death(now):
    """The intended ADAE/ADSL change above: fatal AEs end on DM.DTHDTC; duration and end day follow."""
    import pandas as pd
    ae, adsl = now["ADAE"], now["ADSL"]
    fatal = ae[ae["AEOUT"] == "FATAL"]
    assert len(fatal) > 0
    death = adsl.set_index("USUBJID")["DTHDT"]
    end = pd.to_datetime(fatal["AEENDTC"]).dt.normalize()
    sas_epoch = pd.Timestamp("1960-01-01")
    assert ((end - sas_epoch).dt.days.to_numpy() == fatal["USUBJID"].map(death).to_numpy()).all()
    assert (fatal["ADURN"] == fatal["AENDT"] - fatal["ASTDT"] + 1).all()
    assert (fatal["USUBJID"].map(adsl.set_index("USUBJID")["LSTALVDT"]) == fatal["AENDT"]).all()
