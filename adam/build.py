"""Entry point: SDTM datasets + the study's ADaM spec → ADaM datasets (and PP) as ``Dataset`` objects."""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from trialforge.specs.metadata import Dataset

from .config import AdamConfig, load_adam_config
from .metadata import make_dataset
from .recipes import adae, adlb, adrs, adsl, adtte, pk
from .recipes.sdtm_input import SdtmSource

__all__ = ["build_adam", "load_adam_config"]


def build_adam(sdtm: Mapping[str, Dataset | pd.DataFrame], config: AdamConfig) -> dict[str, Dataset]:
    """Build ADSL always, and ADAE / ADLB / ADRS + ADTTE / ADPC + ADPP + PP when their SDTM domains exist.

    ``sdtm`` maps domain names (any case) to Datasets or frames from any tool.
    """
    src = SdtmSource(sdtm)
    labels = {item["new_var"]: item["label"] for item in config["adsl"]["merged_vars"] if item["label"]}
    adsl_frame = adsl.build_adsl(src, config)
    out = {"ADSL": make_dataset("ADSL", adsl_frame, adsl.ORDER, labels, config)}
    if src.has("AE"):
        out["ADAE"] = make_dataset("ADAE", adae.build_adae(src, adsl_frame, config), adae.ORDER, labels, config)
    if src.has("LB"):
        out["ADLB"] = make_dataset("ADLB", adlb.build_adlb(src, adsl_frame, config), adlb.ORDER, labels, config)
    if src.has("RS"):
        out["ADRS"] = make_dataset("ADRS", adrs.build_adrs(src, adsl_frame, config), adrs.ORDER, labels, config)
        out["ADTTE"] = make_dataset("ADTTE", adtte.build_adtte(src, adsl_frame, config), adtte.ORDER, labels,
                                    config)
    elif "OS" in config["adtte"]["parameters"]:
        cfg = AdamConfig({**config.sections, "adtte": {**config["adtte"], "parameters": ["OS"]}}, config.path)
        out["ADTTE"] = make_dataset("ADTTE", adtte.build_adtte(src, adsl_frame, cfg), adtte.ORDER, labels, cfg)
    if src.has("PC"):
        adpc_frame = pk.build_adpc(src, adsl_frame, config)
        out["ADPC"] = make_dataset("ADPC", adpc_frame.drop(columns="_SPEC"), pk.ADPC_ORDER, labels, config)
        out["ADPP"] = make_dataset("ADPP", pk.build_adpp(adpc_frame, adsl_frame, config), pk.ADPP_ORDER, labels,
                                   config)
        out["PP"] = make_dataset("PP", pk.build_pp(adpc_frame, adsl_frame, config), pk.PP_ORDER, labels, config)
    return out
