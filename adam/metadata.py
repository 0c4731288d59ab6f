"""Dataset and variable metadata for the ADaM outputs (and the SDTM PP domain built from NCA).

Labels are ADaMIG 1.3 / SDTMIG 3.4 labels where the standard defines the variable (copied from the
standards tables), otherwise the project's own (≤ 40 characters). Types follow the values; numeric
*DT variables carry DATE9., *DTM DATETIME20. A recipe's frame is turned into a ``Dataset`` by
``make_dataset``, which orders the columns, fills metadata and refuses a variable without a label.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from trialforge.errors import SpecError
from trialforge.specs.metadata import CHAR, NUM, Dataset, DatasetMeta, VariableMeta

LABELS: dict[str, str] = {
    # ADaMIG 1.3 (ADSL / BDS / TTE) and SDTMIG 3.4 labels
    "STUDYID": "Study Identifier", "USUBJID": "Unique Subject Identifier",
    "SUBJID": "Subject Identifier for the Study", "SITEID": "Study Site Identifier", "AGE": "Age",
    "AGEU": "Age Units", "SEX": "Sex", "RACE": "Race", "ETHNIC": "Ethnicity", "COUNTRY": "Country",
    "ARM": "Description of Planned Arm", "ARMCD": "Planned Arm Code", "ACTARM": "Description of Actual Arm",
    "ACTARMCD": "Actual Arm Code", "RFICDT": "Date of Informed Consent",
    "TRTSDT": "Date of First Exposure to Treatment", "TRTSDTM": "Datetime of First Exposure to Treatment",
    "TRTSTMF": "Time of First Exposure Imput. Flag", "TRTEDT": "Date of Last Exposure to Treatment",
    "TRTEDTM": "Datetime of Last Exposure to Treatment", "ENRLFL": "Enrolled Population Flag",
    "SAFFL": "Safety Population Flag", "EOSSTT": "End of Study Status",
    "DCSREAS": "Reason for Discontinuation from Study", "DTHDT": "Date of Death",
    "DTHDTF": "Date of Death Imputation Flag", "DTHFL": "Subject Death Flag", "DTHCAUS": "Cause of Death",
    "LSTALVDT": "Date Last Known Alive", "TRTP": "Planned Treatment", "TRTA": "Actual Treatment",
    "TRTPN": "Planned Treatment (N)", "TRTAN": "Actual Treatment (N)",
    "AESEQ": "Sequence Number", "AETERM": "Reported Term for the Adverse Event",
    "AEDECOD": "Dictionary-Derived Term", "AEBODSYS": "Body System or Organ Class", "AEHLT": "High Level Term",
    "AESOC": "Primary System Organ Class", "AETOXGR": "Standard Toxicity Grade",
    "ATOXGR": "Analysis Toxicity Grade", "ATOXGRN": "Analysis Toxicity Grade (N)",
    "ASTDT": "Analysis Start Date", "AENDT": "Analysis End Date", "ASTDY": "Analysis Start Relative Day",
    "AENDY": "Analysis End Relative Day", "ASTDTF": "Analysis Start Date Imputation Flag",
    "AENDTF": "Analysis End Date Imputation Flag", "AESER": "Serious Event", "AESDTH": "Results in Death",
    "AEOUT": "Outcome of Adverse Event", "AEREL": "Causality", "AEACN": "Action Taken with Study Treatment",
    "AESTDTC": "Start Date/Time of Adverse Event", "AEENDTC": "End Date/Time of Adverse Event",
    "SRCDOM": "Source Data", "SRCVAR": "Source Variable", "SRCSEQ": "Source Sequence Number",
    "PARAMCD": "Parameter Code", "PARAM": "Parameter", "PARAMN": "Parameter (N)", "AVAL": "Analysis Value",
    "AVALC": "Analysis Value (C)", "CNSR": "Censor", "STARTDT": "Time-to-Event Origin Date for Subject",
    "ADT": "Analysis Date", "EVNTDESC": "Event or Censoring Description", "CNSDTDSC": "Censor Date Description",
    "ADY": "Analysis Relative Day", "AVISIT": "Analysis Visit", "AVISITN": "Analysis Visit (N)",
    "BASE": "Baseline Value", "CHG": "Change from Baseline", "PCHG": "Percent Change from Baseline",
    "ABLFL": "Baseline Record Flag", "ADTF": "Analysis Date Imputation Flag", "ATPT": "Analysis Timepoint",
    "ATPTN": "Analysis Timepoint (N)", "ADTM": "Analysis Datetime", "DOMAIN": "Domain Abbreviation",
    "PPSEQ": "Sequence Number", "PPTESTCD": "Parameter Short Name", "PPTEST": "Parameter Name",
    "PPCAT": "Parameter Category", "PPORRES": "Result or Finding in Original Units", "PPORRESU": "Original Units",
    "PPSTRESC": "Character Result/Finding in Std Format", "PPSTRESN": "Numeric Result/Finding in Standard Units",
    "PPSTRESU": "Standard Units", "PPSPEC": "Specimen Material Type", "PPRFTDTC": "Date/Time of Reference Point",
    "PPSTINT": "Planned Start of Assessment Interval", "PPENINT": "Planned End of Assessment Interval",
    "PPSTAT": "Completion Status", "PPREASND": "Reason Parameter Not Calculated",
    "PCLLOQ": "Lower Limit of Quantitation",
    # project labels (no ADaMIG/SDTMIG variable of that name)
    "AGEGR1": "Pooled Age Group 1", "AGEGR1N": "Pooled Age Group 1 (N)",
    "TRT01P": "Planned Treatment for Period 01", "TRT01PN": "Planned Treatment for Period 01 (N)",
    "TRT01A": "Actual Treatment for Period 01", "TRT01AN": "Actual Treatment for Period 01 (N)",
    "LDSTDT": "Lymphodepletion Start Date", "DLTEVLFL": "DLT Evaluable Population Flag",
    "EFFFL": "Efficacy Population Flag", "PKFL": "Pharmacokinetic Population Flag",
    "ADURN": "Analysis Duration (N)", "ADURU": "Analysis Duration Units",
    "TRTEMFL": "Treatment Emergent Analysis Flag", "CRSFL": "Cytokine Release Syndrome Flag",
    "ICANSFL": "ICANS Flag", "ASTCTGR": "ASTCT Consensus Grade",
    "ASTCTGRN": "ASTCT Consensus Grade (N)", "DLTFL": "Dose Limiting Toxicity Flag",
    "AOCCFL": "1st Occurrence within Subject Flag", "AOCCSFL": "1st Occurrence of SOC Flag",
    "AOCCPFL": "1st Occurrence of Preferred Term Flag", "AOCCIFL": "1st Max Sev./Int. Occurrence Flag",
    "AVALU": "Analysis Value Unit", "ANL01FL": "Analysis Flag 01", "AFRLT": "Act Rel Time from Infusion (days)",
    "NFRLT": "Nom Rel Time from Infusion (days)", "BLQFL": "Below Lower Limit of Quant. Flag",
    "ALLOQ": "Analysis Lower Limit of Quantitation", "RELTMU": "Relative Time Unit",
}

DATASETS: dict[str, dict] = {
    "ADSL": {"label": "Subject-Level Analysis Dataset", "cls": "SUBJECT LEVEL ANALYSIS DATASET",
             "structure": "One record per subject", "keys": ("STUDYID", "USUBJID")},
    "ADAE": {"label": "Adverse Events Analysis Dataset", "cls": "OCCURRENCE DATA STRUCTURE",
             "structure": "One record per adverse event", "keys": ("STUDYID", "USUBJID", "AESEQ")},
    "ADTTE": {"label": "Time-to-Event Analysis Dataset", "cls": "BASIC DATA STRUCTURE",
              "structure": "One record per subject per parameter", "keys": ("STUDYID", "USUBJID", "PARAMCD")},
    "ADRS": {"label": "Tumor Response Analysis Dataset", "cls": "BASIC DATA STRUCTURE",
             "structure": "One record per subject per parameter per analysis date",
             "keys": ("STUDYID", "USUBJID", "PARAMCD", "ADT")},
    "ADPC": {"label": "Pharmacokinetic Concentrations Analysis", "cls": "BASIC DATA STRUCTURE",
             "structure": "One record per subject per analyte per sample", "keys": ("STUDYID", "USUBJID", "PARAMCD", "AFRLT")},
    "ADPP": {"label": "Pharmacokinetic Parameters Analysis", "cls": "BASIC DATA STRUCTURE",
             "structure": "One record per subject per PK parameter", "keys": ("STUDYID", "USUBJID", "PARAMCD")},
    "PP": {"label": "Pharmacokinetics Parameters", "cls": "FINDINGS",
           "structure": "One record per PK parameter per time-concentration profile per subject",
           "keys": ("STUDYID", "USUBJID", "PPTESTCD", "PPSTINT", "PPENINT"), "standard": "SDTMIG 3.4"},
}


def _format(name: str, numeric: bool) -> str | None:
    if not numeric:
        return None
    if name.endswith("DTM"):
        return "DATETIME20."
    if name.endswith("DT"):
        return "DATE9."
    return None


def make_dataset(name: str, frame: pd.DataFrame, order: list[str],
                 extra_labels: Mapping[str, str] | None = None) -> Dataset:
    """Wrap a recipe frame as a Dataset: columns in ``order`` (then any others), metadata filled in.

    Character columns get "" for missing, numeric ones float64 with NaN.
    """
    labels = {**LABELS, **(extra_labels or {})}
    cols = [c for c in order if c in frame.columns] + [c for c in frame.columns if c not in order]
    out = frame[cols].reset_index(drop=True).copy()
    variables = []
    for col in cols:
        s = out[col]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if numeric:
            out[col] = s.astype("float64")
        else:
            out[col] = pd.Series(np.where(s.isna(), "", s.astype(object)), dtype=object).map(
                lambda v: v if isinstance(v, str) else str(v))
        label = labels.get(col)
        if label is None:
            raise SpecError(f"{name} variable has no label (add one in the ADaM spec)", column=col)
        if len(col) > 8 or len(label) > 40:
            raise SpecError(f"{name} variable name > 8 or label > 40 characters", column=col, value=label)
        variables.append(VariableMeta(name=col, label=label, type=NUM if numeric else CHAR,
                                      format=_format(col, numeric), origin="Derived"))
    info = DATASETS[name]
    meta = DatasetMeta(name=name, label=info["label"], cls=info["cls"], structure=info["structure"],
                       keys=tuple(k for k in info["keys"] if k in cols), variables=tuple(variables),
                       standard=info.get("standard", "ADaMIG 1.3"))
    return Dataset(meta=meta, frame=out)
