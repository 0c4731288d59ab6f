"""Dataset and variable metadata for the ADaM outputs (and the SDTM PP domain built from NCA).

Labels are ADaMIG 1.3 / SDTMIG 3.4 labels where the standard defines the variable (read from
``trialforge.specs.standards``), otherwise the project's own below (≤ 40 characters). Types follow the values; numeric
*DT variables carry DATE9., *DTM DATETIME20. A recipe's frame is turned into a ``Dataset`` by
``make_dataset``, which orders the columns, fills metadata and refuses a variable without a label.
"""
from __future__ import annotations

import functools
from typing import Mapping

import numpy as np
import pandas as pd

from trialforge.errors import SpecError
from trialforge.objstrings import TEXT_DTYPE
from trialforge.specs.metadata import CHAR, NUM, Dataset, DatasetMeta, VariableMeta
from trialforge.specs.standards import load_standard

from ._frame import distinct_objects
from .config import AdamConfig
from .origins import DERIVED, PREDECESSOR, Rule, variable_origins

# Labels of variables neither ADaMIG 1.3 nor the SDTMIG parent domain defines (≤ 40 characters): ADaMIG-named
# variables the standards table lacks, and the variables the package's own adam.yaml keys build (LDSTDT from
# adsl.lymphodepletion_extrt, DLTFL from adae.dlt, ASTCTGR from adae.astct_grade). A study's own variables
# (population or category flags it names) take their label from its adam.yaml: study.labels or the item's label.
# Standard variables take their label from trialforge.specs.standards (see ``variable_label``).
LABELS: dict[str, str] = {
    "AGEGR1": "Pooled Age Group 1", "AGEGR1N": "Pooled Age Group 1 (N)",
    "LDSTDT": "Lymphodepletion Start Date",
    "ADURN": "Analysis Duration (N)", "ADURU": "Analysis Duration Units",
    "TRTEMFL": "Treatment Emergent Analysis Flag", "ASTCTGR": "ASTCT Consensus Grade",
    "ASTCTGRN": "ASTCT Consensus Grade (N)", "DLTFL": "Dose Limiting Toxicity Flag",
    "AOCCFL": "1st Occurrence within Subject Flag", "AOCCSFL": "1st Occurrence of SOC Flag",
    "AOCCPFL": "1st Occurrence of Preferred Term Flag", "AOCCIFL": "1st Max Sev./Int. Occurrence Flag",
    "AVALU": "Analysis Value Unit", "BLQFL": "Below Lower Limit of Quant. Flag",
    "ALLOQ": "Analysis Lower Limit of Quantitation", "RELTMU": "Relative Time Unit",
    "PREFL": "Pre-treatment Flag", "FUPFL": "Follow-up Flag",
}

# SDTM domain whose SDTMIG labels an ADaM dataset's copied variables (ETHNIC, ARMCD, AESEQ...) take.
SDTM_PARENT = {"ADSL": "DM", "ADAE": "AE", "ADRS": "RS", "ADTTE": "DM", "ADPC": "PC", "ADPP": "PC", "ADLB": "LB",
               "ADEX": "EX", "ADCM": "CM"}

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
             "structure": "One record per subject per analyte per specimen per sample",
             "keys": ("STUDYID", "USUBJID", "PARCAT1", "PARAMCD", "AFRLT")},
    "ADLB": {"label": "Laboratory Analysis Dataset", "cls": "BASIC DATA STRUCTURE",
             "structure": "One record per subject per parameter per analysis date",
             "keys": ("STUDYID", "USUBJID", "PARAMCD", "ADT", "LBSEQ")},
    "ADPP": {"label": "Pharmacokinetic Parameters Analysis", "cls": "BASIC DATA STRUCTURE",
             "structure": "One record per subject per analyte per specimen per PK parameter",
             "keys": ("STUDYID", "USUBJID", "PARCAT2", "PARCAT1", "PARAMCD")},
    "ADEX": {"label": "Exposure Analysis Dataset", "cls": "BASIC DATA STRUCTURE",
             "structure": "One record per subject per exposure parameter", "keys": ("STUDYID", "USUBJID", "PARAMCD")},
    "ADCM": {"label": "Concomitant Medications Analysis Dataset", "cls": "OCCURRENCE DATA STRUCTURE",
             "structure": "One record per medication record", "keys": ("STUDYID", "USUBJID", "CMSEQ")},
    "PP": {"label": "Pharmacokinetics Parameters", "cls": "FINDINGS",
           "structure": "One record per PK parameter per time-concentration profile per subject",
           "keys": ("STUDYID", "USUBJID", "PPCAT", "PPSPEC", "PPTESTCD", "PPSTINT", "PPENINT"),
           "standard": "SDTMIG 3.4"},
}


def _format(name: str, numeric: bool) -> str | None:
    if not numeric:
        return None
    if name.endswith("DTM"):
        return "DATETIME20."
    if name.endswith("DT"):
        return "DATE9."
    return None


@functools.lru_cache(maxsize=4096)
def variable_label(dataset: str, variable: str, parent: str | None = None) -> str | None:
    """Standard label (ADaMIG 1.3 for AD* datasets, then the SDTMIG parent domain; SDTMIG for PP),
    else the project's ``LABELS``; None when nobody defines the variable. Remembered per argument set (the
    standards and ``LABELS`` are fixed; make_dataset asks for every column of every dataset)."""
    if dataset.startswith("AD"):
        meta = load_standard("ADaMIG 1.3").variable(dataset, variable)
        parent = parent or SDTM_PARENT.get(dataset)
        if meta is None and parent:
            meta = load_standard("SDTMIG 3.4").variable(parent, variable)
    else:
        meta = load_standard("SDTMIG 3.4").variable(dataset, variable)
    return meta.label if meta is not None and meta.label else LABELS.get(variable)


def _origin_fields(rule: Rule | None) -> dict:
    """VariableMeta origin fields of a rule (define.xml: Predecessor source, Derived MethodDef, Assigned comment)."""
    if rule is None:
        return {"origin": DERIVED}
    if rule.origin == PREDECESSOR:
        return {"origin": rule.origin, "origin_detail": rule.text}
    if rule.origin == DERIVED:
        return {"origin": rule.origin, "method": rule.text, "method_type": rule.method_type}
    return {"origin": rule.origin, "comment": rule.text}


def dataset_info(name: str, config: AdamConfig | None = None, *, dataset_label: str | None = None,
                 like: str | None = "same") -> dict:
    """Label, class, structure and keys of a dataset: the table above, a declared dataset ``like`` a known
    one (a ``bds`` entry is like ADLB), or a generic BDS; ``dataset_label`` overrides the label. ADRS takes
    the response criterion's dataset label (``adrs.label`` overrides)."""
    if like == "same" and name in DATASETS:
        info = dict(DATASETS[name])
    elif like and like in DATASETS:
        info = {**DATASETS[like], "keys": tuple(k if k != "LBSEQ" else "SRCSEQ" for k in DATASETS[like]["keys"])}
    else:
        info = {"label": name, "cls": "BASIC DATA STRUCTURE", "structure": "One record per subject per parameter",
                "keys": ("STUDYID", "USUBJID", "PARAMCD")}
    if name == "ADRS" and config is not None:
        from .recipes.adrs import criterion_uses
        info["label"] = config["adrs"]["label"] or criterion_uses(config)[0]["crit"].dataset_label
    if dataset_label:
        info["label"] = dataset_label
    return info


def _text_column(s: pd.Series) -> pd.Series:
    """A character column as text, missing as "": the dtype ``astype(str)`` gives (object when empty);
    str() only where a value is not text already (a C-speed check first)."""
    if s.dtype == object and len(s):
        raw = s.to_numpy()
        found = distinct_objects(raw)       # text only, nothing missing: as is (its few objects checked alone)
        if found is not None and all(type(v) is str for v in found[1].tolist()):
            return _as_text_dtype(raw, found)
        if pd.api.types.infer_dtype(raw, skipna=False) == "string":
            return _as_text_dtype(raw, found)
    values = np.where(s.isna(), "", s.astype(object))
    text = pd.Series(values, dtype=object)
    if not len(text):
        return text
    if pd.api.types.infer_dtype(values, skipna=False) != "string":
        text = text.map(lambda v: v if isinstance(v, str) else str(v))
    return _as_text_dtype(text.to_numpy())


_ARROW_TEXT = getattr(TEXT_DTYPE, "storage", None) == "pyarrow"


_UNSET = object()


def _as_text_dtype(strings: np.ndarray, found=_UNSET) -> pd.Series:
    """An object array of str only as a ``TEXT_DTYPE`` Series. Arrow text is built by ``pyarrow.array`` straight
    from the array: ``astype`` would first copy and re-check every value (``ensure_string_array``), which cost
    as much again; the Arrow array (one large_string chunk) is the one ``astype`` builds. ``found``: the
    array's ``distinct_objects`` when the caller has them already."""
    if _ARROW_TEXT:
        import pyarrow as pa
        if found is _UNSET:
            found = distinct_objects(strings)
        if found is None:
            array = pa.array(strings, type=pa.large_string())
        else:                               # each distinct str object encoded once, the rest taken in C
            codes, objects = found
            array = pa.array(objects, type=pa.large_string()).take(pa.array(codes))
        return pd.Series(pd.arrays.ArrowStringArray(array, dtype=TEXT_DTYPE))
    return pd.Series(strings, dtype=object).astype(TEXT_DTYPE)


def make_dataset(name: str, frame: pd.DataFrame, order: list[str],
                 extra_labels: Mapping[str, str] | None = None, config: AdamConfig | None = None, *,
                 dataset_label: str | None = None, like: str | None = "same", parent: str | None = None) -> Dataset:
    """Wrap a recipe frame as a Dataset: columns in ``order`` (then any others), metadata filled in.

    Character columns get "" for missing, numeric ones float64 with NaN. With the study's ``config`` every
    variable gets its define.xml origin and derivation text from ``trialforge.adam.origins``; without it (or
    for a variable no rule knows) the origin is "Derived" without a method.
    """
    labels = dict(extra_labels or {})
    cols = [c for c in order if c in frame.columns] + [c for c in frame.columns if c not in order]
    origins = variable_origins(name, cols, config) if config is not None else {}
    variables = []
    columns = {}                            # built once into the frame (no per-column insertion)
    for col in cols:
        s = frame[col]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if numeric and s.dtype == np.float64:
            columns[col] = s.reset_index(drop=True)                # already float64 (most): no astype copy
        elif numeric:
            columns[col] = s.astype("float64").reset_index(drop=True)
        else:
            columns[col] = _text_column(s)
        label = labels.get(col) or variable_label(name, col, parent)
        if label is None:
            raise SpecError(f"{name} variable has no label (add one in the ADaM spec)", column=col)
        if len(col) > 8 or len(label) > 40:
            raise SpecError(f"{name} variable name > 8 or label > 40 characters", column=col, value=label)
        variables.append(VariableMeta(name=col, label=label, type=NUM if numeric else CHAR,
                                      format=_format(col, numeric), **_origin_fields(origins.get(col))))
    if len(frame):                          # arrays, not Series: nothing to align
        columns = {c: s._values for c, s in columns.items()}
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)), columns=cols)
    info = dataset_info(name, config, dataset_label=dataset_label, like=like)
    meta = DatasetMeta(name=name, label=info["label"], cls=info["cls"], structure=info["structure"],
                       keys=tuple(k for k in info["keys"] if k in cols), variables=tuple(variables),
                       standard=info.get("standard", "ADaMIG 1.3"))
    return Dataset(meta=meta, frame=out)
