"""define.xml method of ``adsl.date_vars`` written from the declaration (RANDDT, a transplant date): the
text names the domain, the filter, first/last and the imputation the code applies; a date var never reaches
define.xml as Derived without a method (TF-DEF-013). Expected texts by hand from the declarations."""
from pathlib import Path

import pandas as pd

from trialforge.adam.build import build_adam
from trialforge.adam.config import adam_config_from_dict, load_adam_config
from trialforge.adam.origins import variable_origins

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _config(**item):
    base = {"new_var": "RANDDT", "domain": "DS", "date": "DSSTDTC", "filter": "DSDECOD == 'RANDOMIZED'"}
    return adam_config_from_dict({"adsl": {"product_extrt": "DRUG", "date_vars": [{**base, **item}]}, "pk": {}})


def test_date_var_method_without_imputation():
    rule = variable_origins("ADSL", ["RANDDT"], _config())["RANDDT"]
    assert (rule.origin, rule.method_type) == ("Derived", "Computation")
    assert rule.text == ("The first date of the DS records where DSDECOD = 'RANDOMIZED': date part of DS.DSSTDTC "
                         "(a partial date is not imputed: missing)")


def test_date_var_method_with_imputation_and_last():
    rule = variable_origins("ADSL", ["RANDDT"], _config(mode="last", imputation={"highest": "M", "rule": "first"}))[
        "RANDDT"]
    assert rule.method_type == "Imputation"
    assert rule.text == ("The last date of the DS records where DSDECOD = 'RANDOMIZED': date part of DS.DSSTDTC; a "
                         "missing day is imputed as the first day of the month, a missing month (and day) as "
                         "January 1; a date without year is missing")


def test_value_follows_the_same_declaration():
    """The code the text describes: the last RANDOMIZED record's date, a missing day imputed as the 1st."""
    dm = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1"], "SUBJID": ["1"], "SITEID": "1", "AGE": 50.0, "AGEU": "YEARS",
                       "SEX": "F", "RACE": "", "ETHNIC": "", "COUNTRY": "", "ARM": "A", "ARMCD": "A", "ACTARM": "A",
                       "ACTARMCD": "A", "ARMNRS": ""})
    ex = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1"], "EXSEQ": [1], "EXTRT": "DRUG", "EXDOSE": [1.0],
                       "EXSTDTC": "2024-03-01", "EXENDTC": "2024-03-01"})
    ds = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "1"], "DSSEQ": [1, 2], "DSCAT": "PROTOCOL MILESTONE",
                       "DSDECOD": "RANDOMIZED", "DSTERM": "", "DSSTDTC": ["2024-01-10", "2024-02"]})
    built = build_adam({"DM": dm, "EX": ex, "DS": ds},
                       _config(mode="last", imputation={"highest": "M", "rule": "first"}, label="Date of Randomization"))
    adsl = built["ADSL"]
    assert adsl.frame["RANDDT"].tolist() == [float((pd.Timestamp("2024-02-01") - pd.Timestamp("1960-01-01")).days)]
    var = adsl.meta.variable("RANDDT")
    assert var.origin == "Derived" and var.method.startswith("The last date of the DS records")
    assert var.label == "Date of Randomization" and var.format == "DATE9."


def test_bundled_date_vars_have_methods():
    cfg = load_adam_config(EXAMPLES / "cd7-heme" / "specs" / "adam.yaml")
    rule = variable_origins("ADSL", ["HSCTDT"], cfg)["HSCTDT"]
    assert rule.origin == "Derived" and rule.text == (
        "The first date of the PR records where PRCAT = 'HEMATOPOIETIC STEM CELL TRANSPLANT': date part of "
        "PR.PRSTDTC (a partial date is not imputed: missing)")
