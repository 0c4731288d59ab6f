"""Labels of a study's own variables come from its adam.yaml (``study.labels``), never from package code:
a population flag the study names has no package label, so an unlabelled one stops the build with a spec
error naming it; the PK time labels follow ``study.wording.reference``."""
import pandas as pd
import pytest

from trialforge.adam.build import build_adam
from trialforge.adam.config import adam_config_from_dict
from trialforge.adam.metadata import LABELS
from trialforge.errors import SpecError


def sdtm():
    dm = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1"], "SUBJID": ["1"], "SITEID": "01", "AGE": [50.0],
                       "AGEU": "YEARS", "SEX": "F", "RACE": "WHITE", "ETHNIC": "", "COUNTRY": "USA", "ARM": "A",
                       "ARMCD": "A", "ACTARM": "A", "ACTARMCD": "A", "ARMNRS": ""})
    ex = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1"], "EXSEQ": [1], "EXTRT": "DRUG", "EXDOSE": [1.0],
                       "EXSTDTC": ["2024-01-02"], "EXENDTC": ""})
    return {"DM": dm, "EX": ex}


def spec(**study):
    return adam_config_from_dict({"study": study, "adsl": {"product_extrt": "DRUG",
                                  "populations": {"DLTEVLFL": "SAFFL == 'Y'", "FASFL": "SAFFL == 'Y'"}}, "pk": {}})


def test_study_flag_label_from_the_spec():
    adsl = build_adam(sdtm(), spec(labels={"DLTEVLFL": "DLT-Evaluable Set Flag"}))["ADSL"]
    assert adsl.meta.variable("DLTEVLFL").label == "DLT-Evaluable Set Flag"
    assert adsl.meta.variable("FASFL").label == "Full Analysis Set Population Flag"     # ADaMIG 1.3


def test_an_unlabelled_study_flag_is_a_spec_error():
    with pytest.raises(SpecError, match="DLTEVLFL"):
        build_adam(sdtm(), spec())


def test_package_labels_hold_no_study_flavoured_names():
    for name in ("DLTEVLFL", "EFFFL", "PKFL", "CRSFL", "ICANSFL", "AFRLT", "NFRLT"):
        assert name not in LABELS
    assert not any("Infusion" in text or "CAR" in text for text in LABELS.values())


@pytest.mark.parametrize("labels", [{"X": 1}, {"X": ""}])
def test_bad_labels_name_the_key(labels):
    with pytest.raises(SpecError, match="study.labels"):
        spec(labels=labels)
