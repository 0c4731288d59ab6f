"""Response parameters (admiralonco conventions) from per-visit overall responses, under any criterion.

The per-visit overall response (OVR) comes from RS; these functions read an ADRS-like frame with subject
keys, ``ADT`` (SAS date) and ``AVALC`` and add one record per subject:

* best overall response (BOR, unconfirmed) — ``derive_param_bor``;
* confirmed BOR — ``derive_param_confirmed_bor`` (the criterion's confirmation rules, see its docstring);
* responders / clinical benefit (Y/N) — ``derive_param_response``.

The order of responses, their AVAL coding and which are responses, stable, progression or not evaluable
come from a ``Criterion`` (``trialforge.adam.criteria``; default RECIST 1.1: CR, PR, SD, NON-CR/NON-PD, PD,
NE, ND, then MISSING; AVAL CR 1, PR 2, SD 3, NON-CR/NON-PD 4, PD 5, NE 6, MISSING 7 as admiralonco).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from trialforge.errors import DatasetReadError

from ._join import join
from ._frame import Filter, char, fresh, mask, num, require, sort_rows
from .criteria import Criterion, load_criteria


@lru_cache(maxsize=1)
def default_criterion() -> Criterion:
    """RECIST 1.1 as shipped (the default of every function here)."""
    return load_criteria()["RECIST 1.1"]


def aval_resp(avalc: pd.Series, criterion: Criterion | None = None) -> pd.Series:
    """Numeric coding of a response (NaN for values without one, e.g. ND).

    >>> aval_resp(pd.Series(["CR", "PD", "ND"])).tolist()
    [1.0, 5.0, nan]
    """
    return (criterion or default_criterion()).aval(char(avalc))


def _source(dataset: pd.DataFrame, filter_source: Filter, keys: list[str], criterion: Criterion) -> pd.DataFrame:
    require(dataset, keys + ["ADT", "AVALC"], "ADRS")
    src = fresh(dataset.loc[mask(dataset, filter_source, where="filter_source")])
    src["AVALC"] = char(src["AVALC"])
    src["ADT"] = num(src["ADT"])
    src = src.loc[src["ADT"].notna()]
    bad = ~src["AVALC"].isin(criterion.codes)
    if bad.any():
        raise DatasetReadError(f"overall response value outside {criterion.name} responses "
                               f"({', '.join(criterion.codes)})", file="ADRS", column="AVALC",
                               value=src.loc[bad, "AVALC"].iloc[0])
    dup = src.duplicated(keys + ["ADT"])
    if dup.any():
        row = src.loc[dup].iloc[0]
        raise DatasetReadError("more than one overall response per subject and date (filter one evaluator)",
                               file="ADRS", column="ADT", value=" ".join(str(row[k]) for k in keys))
    return sort_rows(src, keys + ["ADT"])


def _best(cands: pd.DataFrame, dataset_adsl: pd.DataFrame, keys: list[str], missing_as_ne: bool,
          set_values_to: Mapping[str, object], criterion: Criterion) -> pd.DataFrame:
    """Best candidate per subject (rank, then earliest date); subjects without one get MISSING/NE."""
    cands = cands.assign(_R=criterion.rank(cands["AVALC"])).sort_values(keys + ["_R", "ADT"], kind="mergesort")
    best = cands.drop_duplicates(keys, keep="first").drop(columns="_R")
    subjects = dataset_adsl[keys].drop_duplicates()
    shared = [c for c in best.columns if c in dataset_adsl.columns and c not in keys]
    out = join(subjects, best.drop(columns=shared, errors="ignore"), keys, "left")
    missing = out["AVALC"].isna()
    out["AVALC"] = out["AVALC"].where(~missing, criterion.ne_code if missing_as_ne else criterion.missing.code)
    out["AVAL"] = criterion.aval(out["AVALC"])
    for name, value in set_values_to.items():
        out[name] = value
    return out.reset_index(drop=True)


def _window(criterion: Criterion, ref_start_window: int | None) -> int:
    if ref_start_window is not None:
        return ref_start_window
    return criterion.min_stable_days or 0


def derive_param_bor(dataset: pd.DataFrame, dataset_adsl: pd.DataFrame, *,
                     filter_source: Filter = "PARAMCD == 'OVR' and ANL01FL == 'Y'", reference_date: str = "TRTSDT",
                     ref_start_window: int | None = None, missing_as_ne: bool = False,
                     set_values_to: Mapping[str, object] = {"PARAMCD": "BOR"},
                     subject_keys: Sequence[str] = ("STUDYID", "USUBJID"),
                     criterion: Criterion | None = None) -> pd.DataFrame:
    """Unconfirmed best overall response, one record per ADSL subject.

    Stable-type responses (SD, NON-CR/NON-PD) count only at least ``ref_start_window`` days (default: the
    criterion's ``min_stable_days``) after ``reference_date`` (earlier they count as NE); other responses count
    whenever they occur; the first date wins a tie.

    >>> adsl = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "2"], "TRTSDT": [0.0, 0.0]})
    >>> ovr = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "1", "2"], "ADT": [30.0, 60.0, 20.0],
    ...                     "AVALC": ["SD", "PD", "SD"], "TRTSDT": 0.0})
    >>> derive_param_bor(ovr, adsl, filter_source=None)[["USUBJID", "AVALC", "ADT"]].values.tolist()
    [['1', 'PD', 60.0], ['2', 'NE', 20.0]]
    """
    crit = criterion or default_criterion()
    keys = list(subject_keys)
    src = _source(dataset, filter_source, keys, crit)
    ref = _reference(src, dataset_adsl, keys, reference_date)
    early = src["ADT"] < ref + _window(crit, ref_start_window)
    downgrade = early & src["AVALC"].isin(crit.codes_where("stable"))
    cands = src.assign(AVALC=src["AVALC"].where(~downgrade, crit.ne_code))
    return _best(cands, dataset_adsl, keys, missing_as_ne, set_values_to, crit)


def _reference(src: pd.DataFrame, adsl: pd.DataFrame, keys: list[str], reference_date: str) -> pd.Series:
    if reference_date in src.columns:
        return num(src[reference_date])
    require(adsl, keys + [reference_date], "ADSL")
    ref = join(src[keys], adsl[keys + [reference_date]].drop_duplicates(keys), keys, "left")
    return pd.Series(num(ref[reference_date]).to_numpy(), index=src.index)


def confirmed_responses(dataset: pd.DataFrame, *, filter_source: Filter = "PARAMCD == 'OVR' and ANL01FL == 'Y'",
                        ref_confirm: int | None = None, max_nr_ne: int | None = None, accept_sd: bool | None = None,
                        subject_keys: Sequence[str] = ("STUDYID", "USUBJID"),
                        criterion: Criterion | None = None) -> pd.DataFrame:
    """The assessments that are confirmed responses (AVALC kept), by the criterion's confirmation rules.

    RECIST 1.1 (admiralonco): CR is confirmed by a later CR at least ``ref_confirm`` days after it, with only
    CR/NE between and at most ``max_nr_ne`` NE. PR is confirmed by a later CR or PR at least ``ref_confirm``
    days after, with only CR/PR/SD/NE between, at most ``max_nr_ne`` NE, at most one SD if ``accept_sd``
    (else none), and no PR after a CR. "Between" runs up to the first qualifying confirmation. ``None``
    arguments take the criterion's values; a criterion without confirmation confirms nothing.

    >>> ovr = pd.DataFrame({"STUDYID": "S", "USUBJID": "1", "ADT": [50.0, 64.0, 85.0], "AVALC": ["CR", "NE", "CR"]})
    >>> confirmed_responses(ovr, filter_source=None)[["ADT", "AVALC"]].values.tolist()
    [[50.0, 'CR']]
    """
    crit = criterion or default_criterion()
    keys = list(subject_keys)
    src = fresh(_source(dataset, filter_source, keys, crit))
    conf = crit.confirmation
    if conf is None or not len(src):
        return src.iloc[0:0]
    interval = conf.interval_days if ref_confirm is None else ref_confirm
    max_ne = conf.max_ne if max_nr_ne is None else max_nr_ne
    max_stable = conf.max_stable if accept_sd is None else (1 if accept_sd else 0)
    src["_ID"] = np.arange(len(src))
    src["_POS"] = src.groupby(keys, sort=False).cumcount()
    left = src.loc[src["AVALC"].isin(list(conf.rules)), keys + ["_ID", "_POS", "ADT", "AVALC"]]
    right = src[keys + ["_POS", "ADT", "AVALC"]].rename(columns={"_POS": "_POSJ", "ADT": "ADTJ", "AVALC": "AVALCJ"})
    pairs = join(left, right, keys, "inner")
    pairs = pairs.loc[pairs["_POSJ"] > pairs["_POS"]]
    far = pairs["ADTJ"] >= pairs["ADT"] + interval
    confirmer = np.zeros(len(pairs), dtype=bool)
    allowed = np.zeros(len(pairs), dtype=bool)
    blocker = np.zeros(len(pairs), dtype=bool)
    for code, rule in conf.rules.items():
        own = (pairs["AVALC"] == code).to_numpy()
        confirmer |= own & pairs["AVALCJ"].isin(rule.confirmed_by).to_numpy()
        allowed |= own & pairs["AVALCJ"].isin(rule.between + rule.confirmed_by).to_numpy()
        blocker |= own & pairs["AVALCJ"].isin(rule.not_after).to_numpy()
    confirmer &= far.to_numpy()
    first_conf = pairs.loc[confirmer].groupby("_ID")["_POSJ"].min()
    pairs = pairs.assign(_CONF=pairs["_ID"].map(first_conf), _OK=allowed, _BLK=blocker)
    window = pairs.loc[pairs["_CONF"].notna() & (pairs["_POSJ"] <= pairs["_CONF"])]
    w = window.assign(_BAD=~window["_OK"], _NE=window["AVALCJ"].isin(crit.codes_where("not_evaluable")),
                      _SD=window["AVALCJ"].isin(crit.codes_where("stable")),
                      _CRD=window["ADTJ"].where(window["_BLK"]),
                      _PRD=window["ADTJ"].where(window["AVALCJ"] == window["AVALC"]))
    # per candidate (_ID): any disallowed between, NE count, SD count, first CR-type date, last same-code
    # date; numpy reductions by group (what groupby().agg(any, sum, sum, min, max) gives, without its set-up)
    ids, group = np.unique(w["_ID"].to_numpy(), return_inverse=True)
    bad = np.zeros(len(ids), dtype=bool)
    np.logical_or.at(bad, group, w["_BAD"].to_numpy(dtype=bool))
    ne = np.bincount(group, weights=w["_NE"].to_numpy(dtype=float), minlength=len(ids))
    sd = np.bincount(group, weights=w["_SD"].to_numpy(dtype=float), minlength=len(ids))
    first_cr = np.full(len(ids), np.nan)
    np.fmin.at(first_cr, group, w["_CRD"].to_numpy(dtype=float))      # fmin/fmax skip NaN, as min/max do
    last_pr = np.full(len(ids), np.nan)
    np.fmax.at(last_pr, group, w["_PRD"].to_numpy(dtype=float))
    with np.errstate(invalid="ignore"):
        pr_after_cr = ~np.isnan(first_cr) & ~np.isnan(last_pr) & ~(first_cr > last_pr)
        ok = ~bad & (ne <= max_ne) & (sd <= max_stable) & ~pr_after_cr
    confirmed_ids = ids[ok]
    return src.loc[src["_ID"].isin(confirmed_ids)].drop(columns=["_ID", "_POS"])


def derive_param_confirmed_bor(dataset: pd.DataFrame, dataset_adsl: pd.DataFrame, *,
                               filter_source: Filter = "PARAMCD == 'OVR' and ANL01FL == 'Y'",
                               reference_date: str = "TRTSDT", ref_start_window: int | None = None,
                               ref_confirm: int | None = None, max_nr_ne: int | None = None,
                               accept_sd: bool | None = None, missing_as_ne: bool = False,
                               set_values_to: Mapping[str, object] = {"PARAMCD": "CBOR"},
                               subject_keys: Sequence[str] = ("STUDYID", "USUBJID"),
                               criterion: Criterion | None = None) -> pd.DataFrame:
    """Confirmed best overall response, one record per ADSL subject (admiralonco rules).

    Candidates: confirmed responses (see ``confirmed_responses``); an unconfirmed one counts as the
    criterion's ``unconfirmed_as`` (SD) when at least ``ref_start_window`` days after ``reference_date``;
    stable-type responses likewise; progression; NE for NE or for anything stable-type earlier than the
    window; ND. Best rank wins, the first date on a tie.

    >>> adsl = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1"], "TRTSDT": [0.0]})
    >>> ovr = pd.DataFrame({"STUDYID": "S", "USUBJID": "1", "ADT": [43.0, 70.0], "AVALC": ["PR", "PD"]})
    >>> derive_param_confirmed_bor(ovr, adsl, filter_source=None)[["AVALC", "ADT"]].values.tolist()
    [['SD', 43.0]]
    """
    crit = criterion or default_criterion()
    keys = list(subject_keys)
    src = _source(dataset, filter_source, keys, crit)
    ref = _reference(src, dataset_adsl, keys, reference_date)
    conf = confirmed_responses(src, filter_source=None, ref_confirm=ref_confirm, max_nr_ne=max_nr_ne,
                               accept_sd=accept_sd, subject_keys=keys, criterion=crit)
    late = src["ADT"] >= ref + _window(crit, ref_start_window)
    value = src["AVALC"].copy()
    rules = list(crit.confirmation.rules) if crit.confirmation else []
    unconfirmed_as = (crit.confirmation.unconfirmed_as if crit.confirmation else None) or crit.ne_code
    is_conf = src.index.isin(conf.index)
    value = value.where(~(value.isin(rules) & ~is_conf), unconfirmed_as)
    value = value.where(~(value.isin(crit.codes_where("stable")) & ~late & ~is_conf), crit.ne_code)
    cands = src.assign(AVALC=value)
    return _best(cands, dataset_adsl, keys, missing_as_ne, set_values_to, crit)


def derive_param_response(dataset_adsl: pd.DataFrame, bor: pd.DataFrame, *,
                          responses: Sequence[str] = ("CR", "PR"),
                          set_values_to: Mapping[str, object] = {"PARAMCD": "RSP"},
                          subject_keys: Sequence[str] = ("STUDYID", "USUBJID")) -> pd.DataFrame:
    """Y/N parameter per subject from a BOR-type record: Y when the BOR is one of ``responses``.

    Responders (CR/PR) and clinical benefit / disease control (CR/PR/SD/NON-CR/NON-PD) both use it.
    ADT is the BOR date for "Y", missing for "N"; AVAL is 1/0.

    >>> adsl = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "2"]})
    >>> bor = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "2"], "AVALC": ["PR", "PD"], "ADT": [50.0, 40.0]})
    >>> derive_param_response(adsl, bor)[["AVALC", "AVAL", "ADT"]].values.tolist()
    [['Y', 1.0, 50.0], ['N', 0.0, nan]]
    """
    keys = list(subject_keys)
    src = bor.drop_duplicates(keys)
    out = join(dataset_adsl[keys].drop_duplicates(), src, keys, "left")
    yes = char(out["AVALC"]).isin(list(responses))
    out["AVALC"] = np.where(yes, "Y", "N")
    out["AVAL"] = yes.astype("float64")
    out["ADT"] = num(out["ADT"]).where(yes)
    for col in ("SRCDOM", "SRCVAR", "SRCSEQ"):
        if col in out.columns:
            out[col] = out[col].where(yes, np.nan if col == "SRCSEQ" else "")
    for name, value in set_values_to.items():
        out[name] = value
    return out.reset_index(drop=True)


def first_response_date(dataset: pd.DataFrame, *, responses: Sequence[str] | None = None,
                        filter_source: Filter = "PARAMCD == 'OVR' and ANL01FL == 'Y'",
                        subject_keys: Sequence[str] = ("STUDYID", "USUBJID"),
                        criterion: Criterion | None = None) -> pd.DataFrame:
    """Earliest assessment with a response per subject (keys, ADT, and the record's other columns); a
    response is any code of ``responses`` (default: every code the criterion flags as a response).

    >>> ovr = pd.DataFrame({"STUDYID": "S", "USUBJID": "1", "ADT": [30.0, 60.0], "AVALC": ["SD", "PR"]})
    >>> first_response_date(ovr, filter_source=None)["ADT"].tolist()
    [60.0]
    """
    crit = criterion or default_criterion()
    keys = list(subject_keys)
    src = _source(dataset, filter_source, keys, crit)
    codes = list(responses) if responses is not None else list(crit.codes_where("response"))
    hit = src.loc[src["AVALC"].isin(codes)]
    return hit.drop_duplicates(keys, keep="first").reset_index(drop=True)
