"""Which ADSL variables each BDS / OCCDS dataset carries, declared in adam.yaml (``adsl_vars``).

A recipe merges the ADSL variables its derivations read (TRTSDT for ADY, TRT01A for TRTA...); the dataset
written keeps the subject keys, then exactly the declared ADSL variables in the declared order (merged from
ADSL when the recipe did not need them), then the recipe's own variables. ``adsl_vars.<DATASET>`` declares
a dataset's list, ``adsl_vars.default`` every other dataset's; without either the ADaMIG core set below plus
the study's population flags applies. Study variables (a dose level, a study part) are declared, never coded.
"""
from __future__ import annotations

import pandas as pd

from trialforge.errors import SpecError

from ._join import join
from .config import AdamConfig

# ADSL variables a BDS/OCCDS dataset carries when the spec declares nothing (those present in ADSL).
STANDARD = ("SUBJID", "SITEID", "AGE", "SEX", "RACE", "TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "TRTSDT", "TRTEDT")
BUILT_IN_POPULATIONS = ("ENRLFL", "SAFFL")


def population_flags(config: AdamConfig) -> list[str]:
    """ADSL population flags: the built-in ones and those the spec declares, in ADSL order."""
    return list(dict.fromkeys([*BUILT_IN_POPULATIONS, *config["adsl"]["populations"]]))


def declared(config: AdamConfig, dataset: str) -> tuple[list[str], bool]:
    """(names, given): the dataset's declared list (or ``default``), else the standard set; ``given`` says
    whether the spec named them (then each must exist in ADSL)."""
    spec = config["adsl_vars"]
    if dataset in spec:
        return list(spec[dataset]), True
    if "default" in spec:
        return list(spec["default"]), True
    return [*STANDARD, *population_flags(config)], False


def adsl_vars_for(config: AdamConfig, dataset: str, adsl_columns) -> list[str]:
    """The ADSL variables ``dataset`` carries (subject keys excluded): a declared name ADSL lacks is a
    spec error naming ``adsl_vars.<dataset>``; a standard one ADSL lacks is left out."""
    names, given = declared(config, dataset)
    keys = config.subject_keys
    present = set(adsl_columns)
    if given:
        missing = [n for n in names if n not in present]
        if missing:
            key = f"adsl_vars.{dataset if dataset in config['adsl_vars'] else 'default'}"
            raise SpecError("names a variable ADSL does not have", file=config.path, column=key, value=missing[0])
    return [n for n in names if n in present and n not in keys]


def attach_adsl_vars(dataset: str, frame: pd.DataFrame, order: list[str], adsl: pd.DataFrame,
                     config: AdamConfig, recipe_vars) -> tuple[pd.DataFrame, list[str]]:
    """The dataset's frame with exactly its ADSL variables, and its column order (keys, ADSL variables,
    the recipe's own). ``recipe_vars``: the ADSL variables the recipe merged for its own use; those not
    declared are dropped."""
    keys = config.subject_keys
    wanted = adsl_vars_for(config, dataset, adsl.columns)
    drop = [c for c in recipe_vars if c in frame.columns and c not in wanted and c not in keys]
    out = frame.drop(columns=drop)
    add = [c for c in wanted if c not in out.columns]
    if add:
        out = join(out, adsl[keys + add], keys, "left", validate="many_to_one")
    rest = [c for c in order if c not in keys and c not in wanted and c not in drop]
    return out, keys + wanted + rest
