"""The ADaM escape hatch: datasets built by a registered Python function (``custom`` in adam.yaml).

Functions are registered by name, never evaluated from spec text. A study ships a module (adam.yaml
``study.plugins: [adam_functions.py]``) that registers them::

    from trialforge.adam.registry import register_dataset

    @register_dataset("my_dataset")
    def my_dataset(sdtm, adsl, config, **args):
        return frame            # a DataFrame with STUDYID, USUBJID ... (labels via merged_vars or standard)
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from trialforge.errors import SpecError

DATASET_FUNCTIONS: dict[str, Callable] = {}


def register_dataset(name: str):
    """Decorator: make ``fn(sdtm: SdtmSource, adsl: DataFrame, config, **args) -> DataFrame`` a dataset builder."""
    def wrap(fn):
        DATASET_FUNCTIONS[name] = fn
        return fn
    return wrap


def load_plugins(config) -> None:
    """Import the spec's ``study.plugins`` modules (paths relative to the spec's folder)."""
    if not config["study"]["plugins"]:
        return
    from trialforge.sdtm.functions import load_plugins as _load
    folder = Path(config.path).parent if config.path else Path(".")
    _load([folder / p for p in config["study"]["plugins"]])


def custom_dataset(item: dict, src, adsl: pd.DataFrame, config) -> pd.DataFrame:
    name = item["function"]
    if name not in DATASET_FUNCTIONS:
        raise SpecError(f"custom dataset function is not registered; registered: "
                        f"{', '.join(sorted(DATASET_FUNCTIONS)) or 'none'}", file=config.path,
                        column="custom[].function", value=name)
    frame = DATASET_FUNCTIONS[name](src, adsl, config, **(item["args"] or {}))
    if not isinstance(frame, pd.DataFrame):
        raise SpecError("custom dataset function did not return a DataFrame", file=config.path,
                        column="custom[].function", value=name)
    return frame
