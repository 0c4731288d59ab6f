"""ADTTE: any number of time-to-event parameters declared in the spec as event and censoring sources.

Each ``adtte.parameters`` item names its start (an ADSL date, or the first response), its event sources,
its censoring sources and the sources that end follow-up (``censor_at``); ``declared_parameter`` turns the
declaration into admiral ``EventSource``/``CensorSource`` objects over per-subject frames and calls
``derive_param_tte``. Built-in sources (docs/adam_yaml.md): death, progression (the criterion's progression
codes), first_response, new_therapy, last_adequate_assessment, last_alive, start; plus the spec's
``adtte.sources`` (any domain and date, e.g. an allogeneic transplant).

Rules shared by every parameter:
* assessments (progression, first response, last adequate assessment) count only after STARTDT; other
  sources on or after it;
* ``censor_at``: the first date of those sources ends follow-up: assessments, events and censoring dates on
  or after it are ignored, censoring at the last adequate assessment before it; a study source declared
  ``censor_date: event_date`` censors at its own date instead (CNSDTDSC = its description, traced to it);
* ``max_gap_days``: an event more than that many days after the last adequate assessment before it (or
  STARTDT when there is none) is not counted;
* ``censor_no_baseline``: without a baseline assessment (``adtte.baseline_source``) no event counts and the
  last-adequate-assessment censoring is at STARTDT;
* ``last_adequate_assessment`` censors at STARTDT when there is no adequate assessment.

``progression_frame`` / ``progression_sources`` are the same PFS rules on a ready subject frame (kept for
direct use in Python).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from trialforge.errors import SpecError

from ..config import AdamConfig
from .._join import _codes, _positions, join
from .._frame import char, fresh, mask, num, read_with, rows_where, sort_rows
from ..dates import derive_vars_dt
from ..response import confirmed_responses, first_response_date
from ..tte import CensorSource, EventSource, derive_param_tte
from .adrs import ADSL_VARS, run_new_therapy_dates, run_ovr_records, use_for
from .adsl import last_alive_records
from .sdtm_input import SdtmSource

ADEQUATE = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD")      # RECIST 1.1 (progression_frame's default)
ASSESSMENT_SOURCES = ("progression", "first_response", "last_adequate_assessment")
ORDER = ["STUDYID", "USUBJID", "TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "SAFFL", "EFFFL",
         "PARAMCD", "PARAM", "PARAMN", "AVAL", "AVALU", "CNSR", "STARTDT", "ADT", "EVNTDESC", "CNSDTDSC",
         "SRCDOM", "SRCVAR", "SRCSEQ"]


def progression_frame(subjects: pd.DataFrame, ovr: pd.DataFrame, *, start: str, keys: list[str],
                      death_is_event: bool = True, censor_at_new_therapy: bool = True,
                      max_gap_days: float | None = None, censor_no_baseline: bool = False,
                      progression: tuple = ("PD",), adequate: tuple = ADEQUATE) -> pd.DataFrame:
    """Per subject: the candidate PD/death events and the censoring date under the PFS rules.

    ``subjects`` holds keys, ``start``, DTHDT, NACTDT (new therapy, may be missing) and HASBASE (bool);
    ``ovr`` holds keys, ADT, AVALC, SRCSEQ. Returns STARTDT, PDDT/PDSEQ/PD_OK, DTHDT/DTH_OK,
    CNSDT/CNSSEQ/CNSDESC/CNSDOM.
    """
    trace = [c for c in ("DTHDOM", "DTHVAR", "DTHSEQ") if c in subjects.columns]
    s = fresh(subjects[keys + [start, "DTHDT", "NACTDT", "HASBASE"] + trace].rename(columns={start: "STARTDT"}))
    for col, default in (("DTHDOM", "ADSL"), ("DTHVAR", "DTHDT"), ("DTHSEQ", np.nan)):
        if col not in s.columns:
            s[col] = default
    a = join(ovr[keys + ["ADT", "AVALC", "SRCSEQ"]], s[keys + ["STARTDT", "NACTDT"]], keys, "inner")
    a = a.loc[a["ADT"].notna() & (a["ADT"] > a["STARTDT"])]
    if censor_at_new_therapy:
        a = a.loc[~(a["ADT"] >= a["NACTDT"])]
    a = sort_rows(a, keys + ["ADT"])
    pd_first = a.loc[a["AVALC"].isin(progression)].drop_duplicates(keys)[keys + ["ADT", "SRCSEQ"]]
    s = join(s, pd_first.rename(columns={"ADT": "PDDT", "SRCSEQ": "PDSEQ"}), keys, "left")
    dth_ok = s["DTHDT"].notna() & (s["DTHDT"] >= s["STARTDT"]) if death_is_event else pd.Series(False, index=s.index)
    if censor_at_new_therapy:
        dth_ok &= ~(s["DTHDT"] >= s["NACTDT"])
    s["EVDT"] = np.fmin(s["PDDT"], s["DTHDT"].where(dth_ok))
    adequate = join(a.loc[a["AVALC"].isin(adequate)], s[keys + ["EVDT"]], keys, "inner")
    adequate = adequate.loc[adequate["EVDT"].isna() | (adequate["ADT"] < adequate["EVDT"])]
    last = adequate.drop_duplicates(keys, keep="last")[keys + ["ADT", "SRCSEQ"]]
    s = join(s, last.rename(columns={"ADT": "LAADT", "SRCSEQ": "LASEQ"}), keys, "left")
    pd_ok = s["PDDT"].notna()
    if max_gap_days is not None:
        anchor = s["LAADT"].fillna(s["STARTDT"])
        pd_ok &= ~(s["PDDT"] - anchor > max_gap_days)
        dth_ok &= ~(s["DTHDT"] - anchor > max_gap_days)
    if censor_no_baseline:
        pd_ok &= s["HASBASE"]
        dth_ok &= s["HASBASE"]
    s["PD_OK"], s["DTH_OK"] = pd_ok, dth_ok
    at_start = s["LAADT"].isna() | (censor_no_baseline & ~s["HASBASE"])
    s["CNSDT"] = s["LAADT"].where(~at_start, s["STARTDT"])
    s["CNSSEQ"] = s["LASEQ"].where(~at_start)
    s["CNSDOM"] = np.where(at_start, "ADSL", "RS")
    s["CNSVAR"] = np.where(at_start, start, "RSDTC")
    new_therapy_first = censor_at_new_therapy & s["NACTDT"].notna()
    s["CNSDESC"] = np.select(
        [censor_no_baseline & ~s["HASBASE"], at_start, new_therapy_first],
        ["NO BASELINE ASSESSMENT", "NO ADEQUATE POST-BASELINE ASSESSMENT",
         "LAST ADEQUATE ASSESSMENT BEFORE NEW ANTICANCER THERAPY"], "LAST ADEQUATE ASSESSMENT")
    return s


def progression_sources(frame_name: str) -> tuple[list[EventSource], list[CensorSource]]:
    """Event/censor sources over a ``progression_frame`` (registered under ``frame_name``)."""
    events = [
        EventSource(frame_name, date="PDDT", filter="PD_OK", copy_vars={"SRCSEQ": "PDSEQ"},
                    set_values_to={"EVNTDESC": "DISEASE PROGRESSION", "CNSDTDSC": "", "SRCDOM": "RS",
                                   "SRCVAR": "RSDTC"}),
        EventSource(frame_name, date="DTHDT", filter="DTH_OK",
                    copy_vars={"SRCDOM": "DTHDOM", "SRCVAR": "DTHVAR", "SRCSEQ": "DTHSEQ"},
                    set_values_to={"EVNTDESC": "DEATH", "CNSDTDSC": ""}),
    ]
    censors = [CensorSource(frame_name, date="CNSDT",
                            copy_vars={"SRCSEQ": "CNSSEQ", "EVNTDESC": "CNSDESC", "CNSDTDSC": "CNSDESC",
                                       "SRCDOM": "CNSDOM", "SRCVAR": "CNSVAR"})]
    return events, censors


def death_trace(src: SdtmSource, adsl: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per subject with DTHDT: the record the death date traces to (DTHDOM/DTHVAR/DTHSEQ): the DS death
    record (DSDECOD "DEATH") dated DTHDT when there is one, else ADSL.DTHDT itself."""
    out = fresh(adsl.loc[num(adsl["DTHDT"]).notna(), keys + ["DTHDT"]])
    out["DTHDOM"], out["DTHVAR"], out["DTHSEQ"] = "ADSL", "DTHDT", np.nan
    if src.has("DS") and {"DSDECOD", "DSSTDTC", "DSSEQ"} <= set(src.columns("DS")):
        ds = src.get("DS", columns=keys + ["DSDECOD", "DSSTDTC", "DSSEQ"])
        ds = derive_vars_dt(ds.loc[char(ds["DSDECOD"]) == "DEATH"], "_D", "DSSTDTC")
        hit = out[keys + ["DTHDT"]].merge(ds[keys + ["_DDT", "DSSEQ"]], left_on=keys + ["DTHDT"],
                                          right_on=keys + ["_DDT"]).drop_duplicates(keys)
        out = join(out, hit[keys + ["DSSEQ"]], keys, "left")
        found = out["DSSEQ"].notna()
        out.loc[found, ["DTHDOM", "DTHVAR"]] = ["DS", "DSSTDTC"]
        out["DTHSEQ"] = num(out["DSSEQ"])
        out = out.drop(columns="DSSEQ")
    return out.drop(columns="DTHDT")


def _has_baseline(src: SdtmSource, subjects: pd.DataFrame, start: str, config: AdamConfig) -> np.ndarray:
    keys = config.subject_keys
    spec = config["adtte"]["baseline_source"]
    if not src.has(spec["domain"]):
        return np.ones(len(subjects), dtype=bool)
    data = src.get(spec["domain"], columns=read_with(spec["filter"], keys + [spec["date"]]))
    data = rows_where(data, spec["filter"], where="adtte.baseline_source.filter")
    d = derive_vars_dt(data[keys + [spec["date"]]], "B", spec["date"], highest_imputation="n")
    d = join(d, subjects[keys + [start]], keys, "inner")
    base = d.loc[d["BDT"] <= num(d[start]), keys].drop_duplicates().assign(_B=True)
    return join(subjects[keys], base, keys, "left")["_B"].fillna(False).astype(bool).to_numpy()


_RECORD_COLS = ["DT", "SRCDOM", "SRCVAR", "SRCSEQ", "DESC"]


class TteContext:
    """What every declared parameter reads: population, SDTM, OVR records per criterion (built once)."""

    def __init__(self, src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig):
        self.src, self.adsl, self.config = src, adsl, config
        self.keys = config.subject_keys
        cfg = config["adtte"]
        start = cfg["start_date"]
        pop = adsl.loc[mask(adsl, cfg["population"], where="adtte.population") & num(adsl[start]).notna()]
        # only the ADSL variables the parameters read (keys, start dates, death, treatment end): every
        # per-parameter frame below is built from this one, so it stays narrow
        read = set(self.keys) | {start, "DTHDT", "TRTEDT"} | {
            p["start"] for p in cfg["parameters"] if p["start"] and p["start"] != "first_response"}
        pop = fresh(pop[[c for c in pop.columns if c in read]])
        self.pop = join(pop, death_trace(src, pop, self.keys), self.keys, "left")
        self._nact = None
        self._ovr: dict[str, pd.DataFrame] = {}

    @property
    def nact(self) -> pd.DataFrame:
        if self._nact is None:
            self._nact = run_new_therapy_dates(self.src, self.config)
        return self._nact

    def ovr(self, use: dict) -> pd.DataFrame:
        if use["suffix"] not in self._ovr:
            self._ovr[use["suffix"]] = run_ovr_records(self.src, self.adsl, self.config, use)
        return self._ovr[use["suffix"]]

    def records(self, name: str, p: dict, use: dict | None) -> pd.DataFrame:
        """All candidate records of a dated source: keys, DT, SRCDOM, SRCVAR, SRCSEQ, DESC."""
        keys = self.keys
        if name == "death":
            d = self.pop.loc[num(self.pop["DTHDT"]).notna()]
            return pd.DataFrame({**{k: d[k] for k in keys}, "DT": num(d["DTHDT"]), "SRCDOM": d["DTHDOM"],
                                 "SRCVAR": d["DTHVAR"], "SRCSEQ": num(d["DTHSEQ"]), "DESC": "DEATH"})
        if name in ("progression", "first_response"):
            ovr = self.ovr(use)
            crit = use["crit"]
            if name == "progression":
                codes = crit.codes_where("progression")
                rows = ovr.loc[ovr["AVALC"].isin(codes)]
                first = codes[0] if codes else ""
                desc = rows["AVALC"].map(lambda c: "DISEASE PROGRESSION" if c == first
                                         else crit.response(c).label.upper())
            else:
                codes = crit.select(p["responders"] or "response", where=f"adtte.parameters[{p['paramcd']}]"
                                    ".responders", file=self.config.path)
                rows = ovr.loc[(ovr["ANL01FL"] == "Y") & ovr["AVALC"].isin(codes)]
                desc = "RESPONSE"
            return pd.DataFrame({**{k: rows[k] for k in keys}, "DT": rows["ADT"], "SRCDOM": "RS", "SRCVAR": "RSDTC",
                                 "SRCSEQ": num(rows["SRCSEQ"]), "DESC": desc})
        if name == "new_therapy":
            spec = self.config["new_therapy"]
            if not spec["domain"]:
                return pd.DataFrame(columns=keys + _RECORD_COLS)
            return self._domain_records(spec["domain"], spec["date"], spec["filter"], "D", "first",
                                        "NEW ANTICANCER THERAPY", "new_therapy.filter")
        if name in self.config["adtte"]["sources"]:
            spec = self.config["adtte"]["sources"][name]
            imp = spec["imputation"]
            return self._domain_records(spec["domain"], spec["date"], spec["filter"], imp["highest"], imp["rule"],
                                        spec["description"] or name.upper(), f"adtte.sources.{name}.filter")
        raise SpecError("unknown time-to-event source", file=self.config.path, column="adtte.parameters", value=name)

    def _domain_records(self, domain, date, filt, highest, rule, desc, where) -> pd.DataFrame:
        """A source's records, built once per run: every parameter naming the source reads the same ones."""
        cache = self.__dict__.setdefault("_records_cache", {})
        key = (domain, date, filt if filt is None or isinstance(filt, str) else id(filt), highest, rule, desc, where)
        if key not in cache:
            cache[key] = self._build_domain_records(domain, date, filt, highest, rule, desc, where)
        return fresh(cache[key])

    def _build_domain_records(self, domain, date, filt, highest, rule, desc, where) -> pd.DataFrame:
        keys = self.keys
        if not self.src.has(domain):
            return pd.DataFrame(columns=keys + _RECORD_COLS)
        data = self.src.get(domain, columns=read_with(filt, keys + [date, f"{domain.upper()}SEQ"]))
        data = rows_where(data, filt, where=where)
        if date not in data.columns:
            raise SpecError(f"{domain} has no variable {date}", file=self.config.path, column=where, value=date)
        seq = f"{domain.upper()}SEQ"
        d = derive_vars_dt(_columns(data, keys + [date, seq]), "_S", date, highest_imputation=highest,
                           date_imputation=rule)
        return pd.DataFrame({**{k: d[k] for k in keys}, "DT": d["_SDT"], "SRCDOM": domain.upper(), "SRCVAR": date,
                             "SRCSEQ": num(d[seq]) if seq in d.columns else np.nan, "DESC": desc})


def _columns(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The named columns ``frame`` has (a source reads a few of a domain's): later steps copy, join and filter
    only these."""
    return frame[[c for c in dict.fromkeys(names) if c in frame.columns]]


def _first(records: pd.DataFrame, subj: pd.DataFrame, keys: list[str], *, strict: bool, last: bool = False):
    """The first (or last) record per subject after (strict) / on or after STARTDT and before CUTDT: each record's
    subject row found once by key codes, the window and the pick (earliest / latest date, ties to the earlier /
    later record) with numpy; one row per subject, in date order. Unusual keys or dates: ``_first_frames``."""
    dt = records["DT"].to_numpy() if "DT" in records.columns else None
    codes = _codes(records, subj, keys) if dt is not None and dt.dtype == np.float64 else None
    at = _positions(*codes) if codes is not None else None
    if at is None:
        return _first_frames(records, subj, keys, strict=strict, last=last)
    mine = at >= 0
    start = np.where(mine, subj["STARTDT"].to_numpy(dtype=np.float64)[at], np.nan)
    cut = np.where(mine, subj["CUTDT"].to_numpy(dtype=np.float64)[at], np.nan)
    with np.errstate(invalid="ignore"):
        keep = mine & ~np.isnan(dt) & ((dt > start) if strict else (dt >= start)) & ~(dt >= cut)
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(dt[rows], kind="stable")]
    owner = at[rows]
    if last:
        _, idx = np.unique(owner[::-1], return_index=True)
        idx = len(owner) - 1 - idx
    else:
        _, idx = np.unique(owner, return_index=True)
    return records[keys + _RECORD_COLS].take(rows[np.sort(idx)]).reset_index(drop=True)


def _first_frames(records: pd.DataFrame, subj: pd.DataFrame, keys: list[str], *, strict: bool, last: bool = False):
    """``_first`` by a join, frame filters, a sort and ``drop_duplicates`` (rows sorted by key)."""
    r = join(records, subj[keys + ["STARTDT", "CUTDT"]], keys, "inner")
    r = r.loc[r["DT"].notna() & ((r["DT"] > r["STARTDT"]) if strict else (r["DT"] >= r["STARTDT"]))]
    r = r.loc[~(r["DT"] >= r["CUTDT"])]
    r = sort_rows(r, keys + ["DT"])
    return r.drop_duplicates(keys, keep="last" if last else "first")[keys + _RECORD_COLS]


def needs_rs(p: dict) -> bool:
    """Whether a declared parameter reads response assessments (RS)."""
    names = set(p["events"]) | set(p["censors"]) | set(p["censor_at"])
    return p["start"] == "first_response" or bool(names & set(ASSESSMENT_SOURCES))


def _start(p: dict, ctx: TteContext, use: dict | None) -> pd.DataFrame:
    """Subjects of the parameter with STARTDT and the record it traces to (STSDOM/STSVAR/STSSEQ)."""
    keys, cfg = ctx.keys, ctx.config["adtte"]
    subj = fresh(ctx.pop)
    if p["start"] == "first_response":
        crit = use["crit"]
        codes = crit.select(p["responders"] or "response", where=f"adtte.parameters[{p['paramcd']}].responders",
                            file=ctx.config.path)
        used = ctx.ovr(use)
        used = used.loc[used["ANL01FL"] == "Y"]
        if p["confirmed"] and crit.confirmation is not None:
            conf = confirmed_responses(used, filter_source=None, subject_keys=keys, criterion=crit, **use["confirm"])
            first = conf.loc[conf["AVALC"].isin(codes)].drop_duplicates(keys)
        else:
            first = first_response_date(used, responses=codes, filter_source=None, subject_keys=keys, criterion=crit)
        first = first[keys + ["ADT", "SRCSEQ"]].rename(columns={"ADT": "STARTDT", "SRCSEQ": "STSSEQ"})
        subj = join(subj, first, keys, "inner").assign(STSDOM="RS", STSVAR="RSDTC")
        return subj.loc[subj["STARTDT"].notna()].reset_index(drop=True)
    var = p["start"] or cfg["start_date"]
    if var not in subj.columns:
        raise SpecError("start names no ADSL variable", file=ctx.config.path,
                        column=f"adtte.parameters[{p['paramcd']}].start", value=var)
    subj["STARTDT"] = num(subj[var])
    subj["STSDOM"], subj["STSVAR"], subj["STSSEQ"] = "ADSL", var, np.nan
    return subj.loc[subj["STARTDT"].notna()].reset_index(drop=True)


def declared_parameter(p: dict, ctx: TteContext) -> pd.DataFrame:
    """One ``adtte.parameters`` declaration → ADTTE records (see the module docstring for the rules)."""
    keys = ctx.keys
    use = use_for(ctx.config, p["criterion"], key=f"adtte.parameters[{p['paramcd']}].criterion") \
        if needs_rs(p) else None
    subj = _start(p, ctx, use)
    subj["CUTDT"], subj["CUTDESC"], subj["CUTOWN"] = np.nan, "", False
    subj["CUTDOM"], subj["CUTVAR"], subj["CUTSEQ"] = "", "", np.nan
    sources = ctx.config["adtte"]["sources"]
    for name in p["censor_at"]:             # the earliest date of these sources ends follow-up
        recs = ctx.records(name, p, use)
        first = recs.loc[recs["DT"].notna()].sort_values(keys + ["DT"], kind="mergesort").drop_duplicates(keys)
        subj = join(subj, first[keys + _RECORD_COLS], keys, "left")
        earlier = subj["DT"].notna() & ~(subj["DT"] >= subj["CUTDT"])
        subj["CUTDT"] = subj["CUTDT"].where(~earlier, subj["DT"])
        subj["CUTDESC"] = np.where(earlier, char(subj["DESC"]), subj["CUTDESC"])
        own = name in sources and sources[name]["censor_date"] == "event_date"
        subj["CUTOWN"] = np.where(earlier, own, subj["CUTOWN"]).astype(bool)
        for cut, col in (("CUTDOM", "SRCDOM"), ("CUTVAR", "SRCVAR"), ("CUTSEQ", "SRCSEQ")):
            subj[cut] = subj[cut].where(~earlier, subj[col])
        subj = subj.drop(columns=_RECORD_COLS)
    frames: dict[str, pd.DataFrame] = {"subj": subj}
    ev_cols = []
    for i, name in enumerate(p["events"]):
        first = _first(ctx.records(name, p, use), subj, keys, strict=name in ASSESSMENT_SOURCES)
        first = first.rename(columns={c: f"E{i}{c}" for c in _RECORD_COLS})
        subj = join(subj, first, keys, "left")
        ev_cols.append(i)
    subj["EVDT"] = subj[[f"E{i}DT" for i in ev_cols]].min(axis=1) if ev_cols else np.nan
    if use is not None:
        crit = use["crit"]
        assessed = ctx.ovr(use).loc[lambda d: d["AVALC"].isin(crit.adequate)]
        assessed = pd.DataFrame({**{k: assessed[k] for k in keys}, "DT": assessed["ADT"], "SRCDOM": "RS",
                                 "SRCVAR": "RSDTC", "SRCSEQ": num(assessed["SRCSEQ"]), "DESC": ""})
        assessed = join(assessed, subj[keys + ["EVDT"]], keys, "inner")
        assessed = assessed.loc[assessed["EVDT"].isna() | (assessed["DT"] < assessed["EVDT"])].drop(columns="EVDT")
        last = _first(assessed, subj, keys, strict=True, last=True)
        subj = join(subj, last[keys + ["DT", "SRCSEQ"]].rename(columns={"DT": "LAADT", "SRCSEQ": "LASEQ"}), keys, "left")
    else:
        subj["LAADT"], subj["LASEQ"] = np.nan, np.nan
    has_base = _has_baseline(ctx.src, subj, "STARTDT", ctx.config) if p["censor_no_baseline"] else \
        np.ones(len(subj), dtype=bool)
    anchor = subj["LAADT"].fillna(subj["STARTDT"])
    for i in ev_cols:
        ok = subj[f"E{i}DT"].notna() & has_base
        if p["max_gap_days"] is not None:
            ok &= ~(subj[f"E{i}DT"] - anchor > p["max_gap_days"])
        subj[f"E{i}OK"] = ok
    at_start = subj["LAADT"].isna() | ~has_base
    subj["CNSDT"] = subj["LAADT"].where(~at_start, subj["STARTDT"])
    subj["CNSSEQ"] = subj["LASEQ"].where(~at_start, subj["STSSEQ"])
    subj["CNSDOM"] = np.where(at_start, subj["STSDOM"], "RS")
    subj["CNSVAR"] = np.where(at_start, subj["STSVAR"], "RSDTC")
    subj["CNSDESC"] = np.select(
        [~has_base, at_start, subj["CUTDT"].notna()],
        ["NO BASELINE ASSESSMENT", "NO ADEQUATE POST-BASELINE ASSESSMENT",
         "LAST ADEQUATE ASSESSMENT BEFORE " + char(subj["CUTDESC"])], "LAST ADEQUATE ASSESSMENT")
    own = (subj["CUTOWN"] & subj["CUTDT"].notna() & has_base).to_numpy(dtype=bool)
    if own.any():                           # censor_date: event_date: censored at the cut source's own date
        subj.loc[own, "CNSDT"] = subj.loc[own, "CUTDT"]
        subj.loc[own, "CNSSEQ"] = subj.loc[own, "CUTSEQ"]
        subj["CNSDOM"] = np.where(own, subj["CUTDOM"], subj["CNSDOM"])
        subj["CNSVAR"] = np.where(own, subj["CUTVAR"], subj["CNSVAR"])
        subj["CNSDESC"] = np.where(own, char(subj["CUTDESC"]), subj["CNSDESC"])
    subj["OWNCUT"] = own
    frames["subj"] = subj
    events = [EventSource("subj", date=f"E{i}DT", filter=f"E{i}OK",
                          copy_vars={"SRCDOM": f"E{i}SRCDOM", "SRCVAR": f"E{i}SRCVAR", "SRCSEQ": f"E{i}SRCSEQ",
                                     "EVNTDESC": f"E{i}DESC"}, set_values_to={"CNSDTDSC": ""}) for i in ev_cols]
    censors = []
    for j, name in enumerate(p["censors"]):
        censors += _censor_sources(name, j, p, ctx, use, subj, frames)
    if own.any() and "last_adequate_assessment" not in p["censors"]:
        censors.append(CensorSource("subj", date="CNSDT", filter="OWNCUT", copy_vars=_CNS_COPY))
    out = derive_param_tte(subj, frames, start_date="STARTDT", event_conditions=events, censor_conditions=censors,
                           set_values_to={"PARAMCD": p["paramcd"]}, subject_keys=keys)
    return out


_CNS_COPY = {"SRCSEQ": "CNSSEQ", "EVNTDESC": "CNSDESC", "CNSDTDSC": "CNSDESC", "SRCDOM": "CNSDOM", "SRCVAR": "CNSVAR"}


def _censor_sources(name, j, p, ctx, use, subj, frames) -> list[CensorSource]:
    keys = ctx.keys
    if name == "last_adequate_assessment":
        if use is None:
            raise SpecError("last_adequate_assessment needs response assessments (RS)", file=ctx.config.path,
                            column=f"adtte.parameters[{p['paramcd']}].censors", value=name)
        return [CensorSource("subj", date="CNSDT", copy_vars=_CNS_COPY)]
    if name == "start":
        desc = {"EVNTDESC": "START OF TREATMENT", "CNSDTDSC": "START OF TREATMENT"}
        return [CensorSource("subj", date="STARTDT", copy_vars={"SRCDOM": "STSDOM", "SRCVAR": "STSVAR",
                                                                "SRCSEQ": "STSSEQ"}, set_values_to=desc)]
    if name == "last_alive":
        alive = {"EVNTDESC": "LAST KNOWN ALIVE DATE", "CNSDTDSC": "LAST KNOWN ALIVE DATE"}
        subj["_TRTEDT"] = num(subj["TRTEDT"]).where(~(num(subj["TRTEDT"]) >= subj["CUTDT"]))   # follow-up cut
        out = [CensorSource("subj", date="_TRTEDT", set_values_to={**alive, "SRCDOM": "ADSL", "SRCVAR": "TRTEDT",
                                                                   "SRCSEQ": np.nan})]
        uncut = subj["CUTDT"].isna().all()
        for i, item, records, latest in last_alive_records(ctx.src, ctx.config):
            domain = item["domain"].upper()
            if records is None:             # no record and no such date variable: the error names it
                derive_vars_dt(ctx.src.get(domain).iloc[:0], "_L", item["date"])
            if uncut:                       # no follow-up cut: the record derive_param_tte would pick, per subject
                data = latest.rename(columns={"DT": "_LDT", "SEQ": "_SEQ"})
            else:
                data = join(records.rename(columns={"DT": "_LDT", "SEQ": "_SEQ"}), subj[keys + ["CUTDT"]], keys,
                            "inner")
                data = data.loc[~(data["_LDT"] >= data["CUTDT"])]
            frames[f"alive{i}"] = data
            out.append(CensorSource(f"alive{i}", date="_LDT", copy_vars={"SRCSEQ": "_SEQ"},
                                    set_values_to={**alive, "SRCDOM": domain, "SRCVAR": item["date"]}))
        return out
    first = _first(ctx.records(name, p, use), subj, keys, strict=False)
    frames[f"cns{j}"] = first
    return [CensorSource(f"cns{j}", date="DT", copy_vars={"SRCDOM": "SRCDOM", "SRCVAR": "SRCVAR", "SRCSEQ": "SRCSEQ",
                                                          "EVNTDESC": "DESC", "CNSDTDSC": "DESC"})]


def build_adtte(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig, *, parameters: list | None = None
                ) -> pd.DataFrame:
    cfg = config["adtte"]
    keys = config.subject_keys
    declared = cfg["parameters"] if parameters is None else parameters
    ctx = TteContext(src, adsl, config)
    params = [declared_parameter(p, ctx) for p in declared]
    adtte = pd.concat(params, ignore_index=True) if params else pd.DataFrame(
        columns=keys + ["PARAMCD", "CNSR", "EVNTDESC", "CNSDTDSC"])
    names = {p["paramcd"]: (p["param"] or f"{p['paramcd']} (days)", float(i)) for i, p in
             enumerate(cfg["parameters"], start=1)}
    adtte["PARAM"] = adtte["PARAMCD"].map(lambda c: names[c][0])
    adtte["PARAMN"] = adtte["PARAMCD"].map(lambda c: names[c][1])
    adtte["AVALU"] = "DAYS"
    adtte["EVNTDESC"] = char(adtte["EVNTDESC"])
    adtte["CNSDTDSC"] = np.where(adtte["CNSR"] == 1, char(adtte["CNSDTDSC"]), "")
    adtte["SRCSEQ"] = num(adtte["SRCSEQ"]) if "SRCSEQ" in adtte.columns else np.nan
    adtte = join(adtte, adsl[keys + [c for c in ADSL_VARS if c in adsl.columns and c != "TRTSDT"]], keys, "left")
    keep = [c for c in ORDER if c in adtte.columns]
    return sort_rows(adtte[keep], keys + ["PARAMN"]).reset_index(drop=True)
