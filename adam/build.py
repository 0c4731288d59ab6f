"""Entry point: SDTM datasets + the study's ADaM spec → ADaM datasets (and PP) as ``Dataset`` objects.

Which datasets are built is data: the spec's ``datasets`` list, or (when it is null) every dataset whose SDTM
input exists. ``bds`` entries and ``custom`` (registered function) datasets are built the same way.
"""
from __future__ import annotations

import functools
from typing import Callable, Mapping

import pandas as pd

from trialforge.errors import SpecError
from trialforge.objstrings import object_strings
from trialforge.specs.metadata import Dataset

from .adsl_vars import attach_adsl_vars
from .config import AdamConfig, load_adam_config
from .metadata import make_dataset
from .recipes import adae, adlb, adrs, adsl, adtte, pk
from .recipes.sdtm_input import SdtmSource

__all__ = ["build_adam", "load_adam_config", "planned_datasets"]

# dataset → the SDTM domain it needs (None: always possible)
INPUTS = {"ADSL": None, "ADAE": "AE", "ADLB": "LB", "ADRS": "RS", "ADTTE": None, "ADPC": "PC", "ADPP": "PC",
          "PP": "PC", "ADEX": "EX", "ADCM": "CM"}


def planned_datasets(src: SdtmSource, config: AdamConfig) -> list[str]:
    """The datasets to build: the spec's list (each input must exist), else every one whose input exists."""
    bds = {b["dataset"].upper(): b["domain"].upper() for b in config["bds"]}
    custom = [c["dataset"].upper() for c in config["custom"]]
    inputs = {**INPUTS, **bds}
    if config["datasets"] is not None:
        wanted = list(config["datasets"])
        if "ADSL" not in wanted:
            wanted.insert(0, "ADSL")
        for name in wanted:
            need = inputs.get(name)
            if need and not src.has(need):
                raise SpecError(f"datasets lists {name} but the SDTM domain it needs is missing", file=config.path,
                                column="datasets", value=need)
        return wanted
    declared = {"ADEX": "adex", "ADCM": "adcm"}       # built only when their adam.yaml section is given
    auto = [n for n, need in INPUTS.items() if n not in declared and (need is None or src.has(need))]
    auto += [n for n, key in declared.items() if config[key] is not None and src.has(INPUTS[n])]
    return auto + [n for n, d in bds.items() if src.has(d)] + custom


def build_adam(sdtm: Mapping[str, Dataset | pd.DataFrame], config: AdamConfig) -> dict[str, Dataset]:
    """Build the planned datasets (see ``planned_datasets``); ADSL always.

    ``sdtm`` maps domain names (any case) to Datasets or frames from any tool. A spec problem found while
    building (a filter naming an unknown variable...) is a SpecError naming the spec file.
    """
    try:
        with object_strings():              # one string representation while deriving (objstrings.py)
            return _build(sdtm, config)
    except SpecError as err:
        if err.file is not None or config.path is None:
            raise
        raise SpecError(err.cause, file=config.path, column=err.column, row=err.row, value=err.value) from None


def _build(sdtm: Mapping[str, Dataset | pd.DataFrame], config: AdamConfig) -> dict[str, Dataset]:
    from .registry import custom_dataset, load_plugins
    src = SdtmSource(sdtm)
    load_plugins(config)
    wanted = planned_datasets(src, config)
    labels = {str(k).upper(): str(v) for k, v in config["study"]["labels"].items()}     # the study's own variables
    labels.update({item["new_var"]: item["label"] for item in config["adsl"]["merged_vars"]
                   + config["adsl"]["date_vars"] if item["label"]})
    labels.update({f: item["label"] for f, item in config["adae"]["category_flags"].items() if item["label"]})
    if config["adcm"] is not None:
        labels.update({f: item["label"] for f, item in config["adcm"]["category_flags"].items() if item["label"]})
    ref = config["study"]["wording"]["reference"]
    unit = {"day": "days", "h": "h", "min": "min"}[config["pk"]["time_unit"]]
    labels.update({"AFRLT": f"Act Rel Time from {ref} ({unit})"[:40],
                   "NFRLT": f"Nom Rel Time from {ref} ({unit})"[:40]})
    adsl_frame = adsl.build_adsl(src, config)
    out = {"ADSL": make_dataset("ADSL", adsl_frame, adsl.adsl_order(adsl_frame, config), labels, config)}

    def dataset(name: str, frame: pd.DataFrame, order: list[str], recipe_vars, **kw) -> Dataset:
        """The recipe's frame with the ADSL variables the spec declares for it (``adsl_vars``)."""
        frame, order = attach_adsl_vars(name, frame, order, adsl_frame, config, recipe_vars)
        return make_dataset(name, frame, order, labels, config, **kw)

    def add(name: str, build: Callable[[], pd.DataFrame], order: list[str], recipe_vars, **kw) -> None:
        if name in wanted:
            out[name] = dataset(name, build(), order, recipe_vars, **kw)

    add("ADAE", lambda: adae.build_adae(src, adsl_frame, config), adae.ORDER, adae.ADSL_VARS)
    if "ADLB" in wanted:
        out["ADLB"] = dataset("ADLB", adlb.build_adlb(src, adsl_frame, config), adlb.ORDER, adlb.ADSL_VARS)
    if "ADRS" in wanted:
        out["ADRS"] = dataset("ADRS", adrs.build_adrs(src, adsl_frame, config), adrs.ORDER, adrs.ADSL_VARS)
    if "ADTTE" in wanted:
        params = config["adtte"]["parameters"]
        if not src.has("RS"):
            params = [p for p in params if not adtte.needs_rs(p)]
        if params:
            out["ADTTE"] = dataset("ADTTE", adtte.build_adtte(src, adsl_frame, config, parameters=params),
                                   adtte.ORDER, adrs.ADSL_VARS)
    if {"ADPC", "ADPP", "PP"} & set(wanted):
        adpc_frame = pk.build_adpc(src, adsl_frame, config)
        add("ADPC", lambda: adpc_frame.drop(columns=[c for c in adpc_frame.columns if c.startswith("_")]),
            pk.ADPC_ORDER, pk.ADSL_VARS)
        nca = functools.cache(lambda: pk.nca_results(adpc_frame, adsl_frame, config))     # ADPP and PP share it
        add("ADPP", lambda: pk.build_adpp(adpc_frame, adsl_frame, config, nca=nca()), pk.ADPP_ORDER, pk.ADSL_VARS)
        if "PP" in wanted:                  # SDTM: no ADSL variables
            out["PP"] = make_dataset("PP", pk.build_pp(adpc_frame, adsl_frame, config, nca=nca()), pk.PP_ORDER,
                                     labels, config)
    if "ADEX" in wanted:
        from .recipes import adex
        out["ADEX"] = dataset("ADEX", adex.build_adex(src, adsl_frame, config), adex.ORDER, adex.ADSL_VARS)
    if "ADCM" in wanted:
        from .recipes import adcm
        if config["adcm"] is None:
            raise SpecError("datasets lists ADCM but adam.yaml has no adcm section", file=config.path,
                            column="adcm")
        out["ADCM"] = dataset("ADCM", adcm.build_adcm(src, adsl_frame, config), adcm.ORDER, adcm.ADSL_VARS)
    for item in config["bds"]:
        name = item["dataset"].upper()
        if name in wanted:
            out[name] = dataset(name, adlb.build_bds(src, adsl_frame, config, item), adlb.bds_order(item),
                                adlb.ADSL_VARS, dataset_label=item["label"] or f"{item['domain'].upper()} "
                                "Analysis Dataset", like="ADLB", parent=item["domain"].upper())
    for item in config["custom"]:
        name = item["dataset"].upper()
        if name in wanted:
            frame = custom_dataset(item, src, adsl_frame, config)
            out[name] = make_dataset(name, frame, list(frame.columns), labels, config,
                                     dataset_label=item["label"] or f"{name} Analysis Dataset", like=None)
    return out
