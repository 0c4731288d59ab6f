"""The bundled CD70 example gives the same ADaM values as before the declarative ADaM (issue #11).

tests/data/cd70_adam_fingerprint.json was written from the main-branch code's ADaM of the example (before
the change): per dataset the row count, the columns and a hash of every column's values. Every difference
from it must be one of the intended ones listed here:

* ADRS PARAM names the response criterion (issue #11 Build 1): "Best Overall Response (unconfirmed)" →
  "Best Overall Response (unconfirmed, RECIST 1.1)" etc. (PARAMCD, AVALC, AVAL, dates unchanged);
* ADPC gains PARCAT1 (the specimen, PC.PCSPEC) and ADPP gains PARCAT1 (specimen) and PARCAT2 (analyte):
  PK profiles are keyed by analyte and specimen (Build 5).
"""
import json
from pathlib import Path

import pytest

from adam_fingerprint import column_hash, fingerprint
from trialforge.pipeline import build_adam_stage
from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.ct import load_ct
from trialforge.specs.study import load_study

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cd70-cart"
BEFORE = json.loads((Path(__file__).parent / "data" / "cd70_adam_fingerprint.json").read_text())
NEW_COLUMNS = {"ADPC": ["PARCAT1"], "ADPP": ["PARCAT1", "PARCAT2"]}
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
def now():
    study = load_study(EXAMPLE)
    sdtm = build_sdtm(study, ct=load_ct(list(study.ct_files) or None))
    adam, extra = build_adam_stage(study, sdtm)
    return {k: v.frame for k, v in {**adam, **extra}.items()}


def test_same_datasets_rows_and_columns(now):
    before = {k: v for k, v in BEFORE.items() if not k.startswith("_")}
    assert sorted(now) == sorted(before)
    for name, fp in before.items():
        assert len(now[name]) == fp["rows"], name
        added = [c for c in now[name].columns if c not in fp["columns"]]
        assert added == NEW_COLUMNS.get(name, []), name
        assert [c for c in now[name].columns if c in fp["columns"]] == fp["columns"], name


def test_same_values_except_the_intended_param_text(now):
    current = fingerprint(now)
    changed = [(name, col) for name, fp in BEFORE.items() if not name.startswith("_")
               for col, h in fp["hash"].items() if current[name]["hash"][col] != h]
    assert changed == [("ADRS", "PARAM")]
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
