"""Standard metadata loader: facts looked up by hand in the SDTMIG 3.4 / ADaMIG 1.3 exports.

Literals below were copied from /work/shared/standards/*.csv; the cross-checks against that folder
skip when it is absent.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from trialforge.errors import SpecError
from trialforge.specs.metadata import DatasetMeta, VariableMeta
from trialforge.specs.standards import load_standard, standard_key

SHARED = Path("/work/shared/standards")

# sdtmig34_Variables.csv, Dataset Name == "AE", in Variable Order.
AE_ORDER = [
    "STUDYID", "DOMAIN", "USUBJID", "SPDEVID", "AESEQ", "AEGRPID", "AEREFID", "AESPID", "AETERM",
    "AEMODIFY", "AELLT", "AELLTCD", "AEDECOD", "AEPTCD", "AEHLT", "AEHLTCD", "AEHLGT", "AEHLGTCD",
    "AECAT", "AESCAT", "AEPRESP", "AEBODSYS", "AEBDSYCD", "AESOC", "AESOCCD", "AELOC", "AESEV",
    "AESER", "AEACN", "AEACNOTH", "AEACNDEV", "AEREL", "AERLDEV", "AERELNST", "AEPATT", "AEOUT",
    "AESCAN", "AESCONG", "AESDISAB", "AESDTH", "AESHOSP", "AESLIFE", "AESOD", "AESMIE", "AESINTV",
    "AEUNANT", "AERLPRT", "AERLPRC", "AECONTRT", "AETOXGR", "TAETORD", "EPOCH", "AESTDTC",
    "AEENDTC", "AESTDY", "AEENDY", "AEDUR", "AEENRF", "AEENRTPT", "AEENTPT",
]


@pytest.fixture(scope="module")
def sdtm():
    return load_standard("SDTMIG 3.4")


@pytest.fixture(scope="module")
def adam():
    return load_standard("ADaMIG 1.3")


@pytest.mark.parametrize("alias", ["SDTMIG 3.4", "sdtmig-3.4", "SDTMIG v3.4", "sdtmig_3.4"])
def test_sdtm_aliases_share_one_cached_object(alias, sdtm):
    assert load_standard(alias) is sdtm
    assert load_standard() is sdtm


@pytest.mark.parametrize("alias", ["ADaMIG 1.3", "adamig-1.3", "ADAMIG v1.3"])
def test_adam_aliases(alias, adam):
    assert load_standard(alias) is adam
    assert adam.name == "ADaMIG 1.3"


@pytest.mark.parametrize("name", ["SDTMIG 3.3", "SENDIG 3.1", "", "ADaMIG"])
def test_unknown_standard_raises_spec_error(name):
    with pytest.raises(SpecError):
        load_standard(name)
    with pytest.raises(SpecError):
        standard_key(name)


def test_dm_sex(sdtm):
    sex = sdtm.variable("DM", "SEX")
    assert isinstance(sex, VariableMeta)
    assert (sex.name, sex.label, sex.type, sex.core, sex.role) == ("SEX", "Sex", "Char", "Req", "Record Qualifier")
    assert (sex.codelist, sex.codelist_code) == ("SEX", "C66731")


def test_dm_ageu_and_age(sdtm):
    ageu = sdtm.variable("DM", "AGEU")
    assert (ageu.label, ageu.core, ageu.codelist, ageu.codelist_code) == ("Age Units", "Exp", "AGEU", "C66781")
    age = sdtm.variable("dm", "age")
    assert (age.type, age.core, age.codelist) == ("Num", "Exp", None)
    assert age.is_numeric


def test_dm_dataset_meta(sdtm):
    dm = sdtm.dataset("DM")
    assert isinstance(dm, DatasetMeta)
    assert (dm.name, dm.label, dm.cls, dm.structure) == (
        "DM", "Demographics", "SPECIAL PURPOSE", "One record per subject")
    assert dm.standard == "SDTMIG 3.4"
    assert len(dm.variables) == 32
    assert dm.variable_names[:4] == ["STUDYID", "DOMAIN", "USUBJID", "SUBJID"]


def test_ae_variable_order(sdtm):
    ae = sdtm.dataset("AE")
    assert ae.variable_names == AE_ORDER
    assert (ae.label, ae.cls) == ("Adverse Events", "EVENTS")
    aeser = ae.variable("AESER")
    assert (aeser.label, aeser.codelist, aeser.codelist_code, aeser.core) == (
        "Serious Event", "NY", "C66742", "Exp")
    assert (ae.variable("AESEV").codelist, ae.variable("AESEV").codelist_code) == ("AESEV", "C66769")


def test_no_sas_format_or_length_invented(sdtm, adam):
    for name in sdtm.domains:
        for var in sdtm.dataset(name).variables:
            assert var.format is None and var.length is None
    assert adam.variable("ADSL", "TRTSDT").format is None


def test_multi_codelist_variable_keeps_every_code(sdtm):
    dsdecod = sdtm.variable("DS", "DSDECOD")
    assert dsdecod.codelist_code == "C66727; C114118; C150811"
    # C150811 has no submission value in the shared CT: it is addressable by code only.
    assert dsdecod.codelist == "NCOMPLT; PROTMLST"


def test_suppae_resolves_to_generic_structure(sdtm):
    supp = sdtm.dataset("SUPPAE")
    assert supp.name == "SUPPAE"
    assert supp.label == "Supplemental Qualifiers for AE"
    assert supp.cls == "RELATIONSHIP"
    assert supp.variable_names == ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL",
                                   "QNAM", "QLABEL", "QVAL", "QORIG", "QEVAL"]
    rdomain = sdtm.variable("SUPPAE", "RDOMAIN")
    assert (rdomain.label, rdomain.core, rdomain.codelist, rdomain.codelist_code) == (
        "Related Domain Abbreviation", "Req", "DOMAIN", "C66734")
    assert sdtm.dataset("SUPPQUAL").variable_names == supp.variable_names
    assert sdtm.dataset("SUPP--").name == "SUPP--"


def test_relrec_and_trial_design(sdtm):
    assert sdtm.dataset("RELREC").variable("RELTYPE").codelist == "RELTYPE"
    for name in ["TS", "TA", "TE", "TI", "TV", "TD", "TM", "PP", "PC", "TU", "TR", "RS", "IS",
                 "MI", "LB", "DS", "DM", "AE", "EX", "SE", "SV", "CM", "MH", "RELREC", "SUPP--"]:
        assert name in sdtm.domains
    ts = sdtm.variable("TS", "TSPARMCD")
    assert (ts.label, ts.core, ts.codelist, ts.codelist_code) == (
        "Trial Summary Parameter Short Name", "Req", "TSPARMCD", "C66738")
    assert sdtm.dataset("TS").cls == "TRIAL DESIGN"


def test_value_domain(sdtm):
    assert sdtm.value_domain("AE", "AESTDTC") == "ISO 8601 datetime or interval"
    assert sdtm.value_domain("AE", "AEDECOD") == "MedDRA"
    assert sdtm.value_domain("AE", "AESER") is None


def test_unknown_dataset_raises_and_unknown_variable_is_none(sdtm, adam):
    with pytest.raises(SpecError) as err:
        sdtm.dataset("XX")
    assert "XX" in str(err.value)
    with pytest.raises(SpecError):
        sdtm.variable("ZZZ", "STUDYID")
    with pytest.raises(SpecError):
        adam.dataset("DM")
    assert sdtm.variable("DM", "NOTAVAR") is None


def test_adsl_templated_names(adam):
    trt = adam.variable("ADSL", "TRT01P")
    assert (trt.name, trt.label, trt.type, trt.core) == ("TRT01P", "Planned Treatment for Period 01", "Char", "Req")
    trtn = adam.variable("ADSL", "TRT02PN")
    assert (trtn.label, trtn.type) == ("Planned Treatment for Period 02 (N)", "Num")
    ap = adam.variable("ADSL", "AP01SDT")
    assert (ap.label, ap.type, ap.core) == ("Period 01 Start Date", "Num", "Perm")
    assert adam.variable("ADSL", "AGEGR1").label == "Pooled Age Group 1"
    sub = adam.variable("ADSL", "P01S2SDT")
    assert sub.label == "Period 01 Subperiod 2 Start Date"
    dtf = adam.variable("ADSL", "TR01SDTF")
    assert (dtf.codelist, dtf.codelist_code) == ("DATEFL", "C81223")
    # out-of-range placeholders do not match: xx is 01..99, y is 1..9
    assert adam.variable("ADSL", "TRT00P") is None
    assert adam.variable("ADSL", "TRT1P") is None
    assert adam.variable("ADSL", "AGEGR0") is None


def test_adsl_exact_variables(adam):
    assert adam.variable("ADSL", "AGEU").codelist == "AGEU"
    assert adam.variable("ADSL", "SAFFL").label == "Safety Population Flag"
    assert adam.variable("ADSL", "EOSSTT").codelist_code == "C124296"
    # BDS-only variables are not ADSL variables
    assert adam.variable("ADSL", "PARAMCD") is None
    adsl = adam.dataset("ADSL")
    assert adsl.cls == "SUBJECT LEVEL ANALYSIS DATASET"
    assert adsl.variable_names[:4] == ["STUDYID", "USUBJID", "SUBJID", "SITEID"]


def test_bds_and_tte_by_dataset_name(adam):
    paramcd = adam.variable("ADRS", "PARAMCD")
    assert (paramcd.label, paramcd.core) == ("Parameter Code", "Req")
    assert adam.variable("ADLB", "ANL01FL").label == "Analysis Flag 01"
    assert adam.variable("ADLB", "A1LO").label == "Analysis Range 1 Lower Limit"
    assert adam.variable("ADTTE", "CNSR").label == "Censor"
    assert adam.variable("ADTTE", "CNSR").type == "Num"
    assert adam.variable("ADRS", "CNSR") is None            # TTE variables only in TTE datasets
    assert adam.variable("ADTTE", "TRT01P").label == "Planned Treatment for Period 01"  # ADSL copy
    assert adam.variable("ADTTE", "DTYPE").codelist_code == "C81224"
    bds = adam.dataset("ADRS")
    assert (bds.structure, bds.cls) == ("BDS", "BASIC DATA STRUCTURE")
    assert bds.variable_names[:5] == ["STUDYID", "USUBJID", "SUBJID", "SITEID", "ASEQ"]
    assert "CNSR" not in bds.variable_names
    assert "CNSR" in adam.dataset("ADTTE").variable_names


def test_user_defined_timing_suffix(adam):
    lstalv = adam.variable("ADTTE", "LSTALVDT")   # exact ADSL name beats the *DT suffix row
    assert lstalv.label == "Date Last Known Alive"
    custom = adam.variable("ADRS", "RSPDT")
    assert (custom.name, custom.label, custom.type) == ("RSPDT", "{Date}", "Num")


def test_occds_falls_back_to_sdtm_parent(adam, sdtm):
    aesev = adam.variable("ADAE", "AESEV")
    assert aesev == sdtm.variable("AE", "AESEV")
    assert adam.variable("ADAE", "ASTDT").label == "Analysis Start Date"
    assert adam.variable("ADAE", "TRT01A").label == "Actual Treatment for Period 01"
    assert adam.variable("ADAE", "PARAMCD") is None
    adae = adam.dataset("ADAE")
    assert adae.structure == "OCCDS"
    assert "DOMAIN" not in adae.variable_names
    assert adae.variable_names[:5] == ["STUDYID", "USUBJID", "SUBJID", "SITEID", "ASEQ"]


def test_standard_metadata_is_read_once_per_process():
    """Load time is a benchmark figure, not a unit test: the promise is one parse per standard, then the cache."""
    from trialforge.specs import standards

    standards._load.cache_clear()
    first = load_standard("SDTMIG 3.4")
    misses = standards._load.cache_info().misses
    assert misses >= 1
    assert load_standard("SDTMIG 3.4") is first
    assert standards._load.cache_info().misses == misses


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared CDISC reference folder absent")
def test_cross_check_every_variable_with_shared_export(sdtm):
    with (SHARED / "sdtmig34_Variables.csv").open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert sum(len(sdtm.dataset(d).variables) for d in sdtm.domains) == len(rows)
    for row in rows:
        name = "SUPP--" if row["Dataset Name"] == "SUPPQUAL" else row["Dataset Name"]
        var = sdtm.variable(name, row["Variable Name"])
        assert var is not None, row["Variable Name"]
        assert (var.label, var.type, var.core, var.role) == (
            row["Variable Label"], row["Type"], row["Core"], row["Role"])
        assert (var.codelist_code or "") == row["CDISC CT Codelist Code(s)"]
        assert sdtm.dataset(name).variable_names[int(row["Variable Order"]) - 1] == var.name


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared CDISC reference folder absent")
def test_cross_check_adam_with_shared_export(adam):
    with (SHARED / "adamig13_Variables.csv").open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    structure = {"Subject-Level Analysis Dataset": "ADSL", "Basic Data Structure": "ADTTE"}
    for row in rows:
        name = row["Variable Name"]
        ds = structure[row["Data Structure Name"]]
        found = {v.name: v for v in adam.dataset(ds).variables}[name]
        assert (found.label, found.type, found.core) == (row["Variable Label"], row["Type"], row["Core"])
        assert (found.codelist or "") == row["CDISC CT Codelist Submission Value(s)"]
