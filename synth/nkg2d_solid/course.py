"""Each subject's clinical course, drawn once and shared by every form so they agree.

Order of events: consent < enrolment < apheresis < lymphodepletion (days -5..-3) < infusion (day 0);
tumour assessments stop at progression; death, withdrawal, the 24-month visit or the data cut-off
ends follow-up. One random stream per subject (``default_rng([seed, 1, i])``), so subject i's course
does not depend on how many subjects follow.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import design as D

EPOCH = np.datetime64("1970-01-01")


def day_no(date) -> int:
    return int((np.datetime64(date, "D") - EPOCH).astype(int))


CUTOFF = day_no(D.DATA_CUTOFF)


@dataclass
class Subject:
    i: int
    rid: str
    consent: int
    sex: int
    age: int
    birth: int
    birth_prec: int            # 0 full date, 1 day unknown, 2 month and day unknown
    race: int
    weight: float
    height: float
    tumour: int
    diag: int
    prior_lines: int
    measurable: bool
    screen_fail: bool = False
    sf_reason: int = 0
    enrol: int | None = None
    part: int = 0
    dl: int = 0
    infused: bool = False
    not_infused_reason: int = 0
    aph: int | None = None
    inf: int | None = None         # day number of the infusion (day 0)
    death: int | None = None
    death_cause: int = 0
    eos: int | None = None
    eos_reason: int = 0            # 1 completed, 2 death, 3 withdrew consent, 4 lost to follow-up, 5 progression before infusion
    last_contact: int = 0
    end: int = 0                   # last day the subject is followed in the data (<= cut-off)
    baseline_img: int | None = None
    lesions: list = field(default_factory=list)
    assessments: list = field(default_factory=list)   # dicts per tumour assessment
    pd_day: int | None = None
    best: str = ""
    crs_grade: int = 0
    crs_onset: int = 0
    crs_dur: int = 0
    icans_grade: int = 0
    icans_onset: int = 0
    icans_dur: int = 0
    fatal_ae: bool = False
    expansion: float = 1.0


def _response_category(rng, dl: int) -> str:
    p_cr, p_pr, p_sd = {1: (0.03, 0.10, 0.40), 2: (0.12, 0.20, 0.38), 3: (0.18, 0.25, 0.32)}[dl]
    return str(rng.choice(["CR", "PR", "SD", "PD"], p=[p_cr, p_pr, p_sd, 1 - p_cr - p_pr - p_sd]))


def build_subjects(n: int, seed: int) -> list[Subject]:
    """Every screened subject's course (screen failures included)."""
    window = CUTOFF - D.LAST_CONSENT_BEFORE_CUTOFF - day_no(D.ACCRUAL_START)
    out: list[Subject] = []
    treated = 0
    for i in range(n):
        rng = np.random.default_rng([seed, 1, i])
        consent = day_no(D.ACCRUAL_START) + int(window * i / max(n, 1)) + int(rng.integers(0, max(window // max(n, 1), 1)))
        tumour = int(rng.choice(list(D.TUMOURS), p=[t[1] for t in D.TUMOURS.values()]))
        sex = 2 if tumour == 5 else int(rng.choice([1, 2], p=[0.62, 0.38]))
        age = int(np.clip(rng.normal(54, 10), 24, 75))
        birth = consent - age * 365 - int(rng.integers(1, 364))
        s = Subject(i=i, rid=str(1001 + i), consent=consent, sex=sex, age=age, birth=birth,
                    birth_prec=int(rng.choice([0, 1, 2], p=[0.85, 0.10, 0.05])),
                    race=int(rng.choice([1, 3, 2], p=[0.92, 0.06, 0.02])),
                    weight=round(float(np.clip(rng.normal(64 if sex == 2 else 70, 10), 42, 110)), 1),
                    height=round(float(rng.normal(160 if sex == 2 else 171, 6)), 0),
                    tumour=tumour, diag=consent - int(rng.integers(300, 1800)),
                    prior_lines=int(rng.integers(1, 5)), measurable=bool(rng.random() < 0.85))
        # age in completed years at consent, from the (possibly partial) birth date actually recorded
        s.age = int((s.consent - s.birth) // 365.25)
        s.expansion = float(np.exp(rng.normal(0, 0.6)))
        if i > 0 and rng.random() < 0.15:
            s.screen_fail, s.sf_reason = True, int(rng.choice([1, 2, 3, 4], p=[0.45, 0.30, 0.15, 0.10]))
            s.end = s.eos = s.last_contact = consent + int(rng.integers(5, 20))
            s.eos_reason = 6
            out.append(s)
            continue
        s.enrol = consent + int(rng.integers(7, 18))
        s.aph = s.enrol + int(rng.integers(1, 5))
        inf = s.aph + int(rng.integers(18, 29))
        s.part = 1 if treated < len(D.ESCALATION) else 2
        s.dl = D.ESCALATION[treated] if s.part == 1 else D.EXPANSION_DL
        if i > 2 and rng.random() < 0.06:
            # enrolled, never infused: progression during manufacturing
            s.not_infused_reason = 1
            s.eos = s.end = s.last_contact = min(inf - 6, CUTOFF)
            s.eos_reason = 5
            out.append(s)
            continue
        treated += 1
        s.infused, s.inf = True, inf
        s.baseline_img = inf - 5 - int(rng.integers(3, 15))
        _course(s, rng)
        out.append(s)
    return out


def _course(s: Subject, rng) -> None:
    """Tumour response, CRS/ICANS, death and end of study of a treated subject."""
    inf = s.inf
    s.crs_grade = int(rng.choice([0, 1, 2, 3], p={1: [0.55, 0.35, 0.10, 0.0], 2: [0.35, 0.40, 0.20, 0.05],
                                                   3: [0.20, 0.35, 0.30, 0.15]}[s.dl]))
    s.crs_onset, s.crs_dur = int(rng.integers(1, 5)), int(rng.integers(2, 9))
    if s.crs_grade and rng.random() < {1: 0.0, 2: 0.08, 3: 0.25}[s.dl]:
        s.icans_grade = int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))
        s.icans_onset, s.icans_dur = s.crs_onset + int(rng.integers(1, 4)), int(rng.integers(2, 7))
    s.fatal_ae = bool(rng.random() < 0.03)
    horizon = min(inf + D.FOLLOW_UP_DAYS, CUTOFF)
    withdraw = inf + int(rng.integers(30, 700)) if rng.random() < 0.06 else None
    if s.fatal_ae:
        s.death, s.death_cause = inf + int(rng.integers(20, 80)), 2
    _tumour(s, rng, withdraw)
    if s.pd_day is not None and s.death is None:
        s.death, s.death_cause = s.pd_day + int(rng.exponential(220)) + 10, 1
    elif s.death is None and rng.random() < 0.05:
        s.death, s.death_cause = inf + int(rng.integers(200, 700)), 3
    stop = [x for x in (s.death, withdraw) if x is not None]
    first_stop = min(stop) if stop else None
    if first_stop is not None and first_stop <= horizon:
        s.eos = first_stop
        s.eos_reason = 2 if first_stop == s.death else int(rng.choice([3, 4]))
        if s.eos_reason != 2:
            s.death, s.death_cause = None, 0
    elif inf + D.FOLLOW_UP_DAYS <= CUTOFF:
        s.eos, s.eos_reason = inf + D.FOLLOW_UP_DAYS, 1
    if s.death is not None and s.death > CUTOFF:
        s.death, s.death_cause = None, 0
    s.end = s.eos if s.eos is not None else CUTOFF - int(rng.integers(0, 25))
    s.last_contact = s.end
    s.assessments = [a for a in s.assessments if a["day"] <= s.end]
    if s.pd_day is not None and s.pd_day > s.end:
        s.pd_day = None


def _tumour(s: Subject, rng, withdraw) -> None:
    """Baseline lesions and per-assessment RECIST 1.1 measurements and responses."""
    sites = list(D.LESION_SITES[s.tumour])
    order = rng.permutation(len(sites))
    n_target = int(rng.integers(1, 4)) if s.measurable else 0
    n_nontarget = int(rng.integers(0, 3)) if s.measurable else int(rng.integers(1, 3))
    lesions = []
    for k, j in enumerate(order[: n_target + n_nontarget]):
        site, desc, nodal = sites[j]
        target = k < n_target
        size = float(rng.uniform(18 if nodal else 12, 60)) if target else 0.0
        lesions.append({"id": f"{'T' if target else 'NT'}{k + 1 if target else k - n_target + 1}", "cls": 1 if target else 2,
                        "site": site, "desc": desc, "nodal": nodal, "size": round(size), "day": s.baseline_img,
                        "event": "baseline_arm_1", "method": int(rng.choice([1, 2], p=[0.8, 0.2]))})
    s.lesions = lesions
    cat = _response_category(rng, s.dl)
    s.best = cat
    base = sum(l["size"] for l in lesions if l["cls"] == 1)
    nadir = base
    n_ass = len(D.TUMOUR_EVENTS)
    pd_at = {"PD": 0, "SD": int(rng.integers(1, 6)), "PR": int(rng.integers(3, 9)), "CR": int(rng.integers(5, 12))}[cat]
    cr_at = int(rng.integers(1, 3)) if cat == "CR" else 99     # CR from month 2 or month 3
    new_at_pd = bool(rng.random() < 0.4)
    stop = min(x for x in (s.death, withdraw, s.inf + D.FOLLOW_UP_DAYS + 10, CUTOFF) if x is not None)
    for k, ev in enumerate(D.TUMOUR_EVENTS):
        day = s.inf + D.EVENT_DAY[ev] + int(rng.integers(-3, 4))
        if day > stop:
            break
        progressed = k >= pd_at
        if cat == "CR":
            frac = 0.0 if k >= cr_at else (0.55 if k == 0 else 0.25)
        elif cat == "PR":
            frac = [0.85, 0.6, 0.5][min(k, 2)]
        elif cat == "SD":
            frac = float(rng.uniform(0.85, 1.08))
        else:
            frac = 1.0
        if progressed:
            frac = max(nadir / base if base else 1.0, 0.2) * float(rng.uniform(1.25, 1.5)) if base else 1.0
        meas = []
        for l in lesions:
            if l["cls"] != 1:
                continue
            if frac == 0.0:
                v = 5 if l["nodal"] else 0
            else:
                v = max(round(l["size"] * frac * float(rng.uniform(0.93, 1.07))), 3)
            meas.append((l["id"], v))
        sld = sum(v for _, v in meas)
        all_gone = frac == 0.0
        if base:
            if all_gone:
                trg = "CR"
            elif sld >= 1.2 * nadir and sld - nadir >= 5:
                trg = "PD"
            elif sld <= 0.7 * base:
                trg = "PR"
            else:
                trg = "SD"
        else:
            trg = "NA"
        nontargets = [l for l in lesions if l["cls"] == 2]
        new = False
        if not nontargets:
            ntg = "NA"
        elif progressed and not base and not new_at_pd:
            ntg = "PD"                                  # unequivocal progression of non-target disease
        elif all_gone or (cat == "CR" and not base and k >= cr_at):
            ntg = "CR"
        else:
            ntg = "NONCR"
        if progressed and (new_at_pd or (trg != "PD" and ntg != "PD")):
            new = True
        if trg == "PD" or ntg == "PD" or new:
            ovr = "PD"
        elif trg == "CR" and ntg in ("CR", "NA"):
            ovr = "CR"
        elif trg == "NA":
            ovr = "CR" if ntg == "CR" else "NONCR"
        elif trg in ("CR", "PR"):
            ovr = "PR"
        else:
            ovr = "SD"
        if base and sld < nadir:
            nadir = sld
        s.assessments.append({"event": ev, "day": day, "meas": meas, "sld": sld if base else None, "trg": trg,
                              "ntg": ntg, "new": new, "ovr": ovr, "nt_state": ntg})
        if new:
            site, desc, nodal = sites[order[-1]]
            s.lesions.append({"id": "N1", "cls": 3, "site": site, "desc": f"New lesion: {desc}", "nodal": nodal,
                              "size": 0, "day": day, "event": ev, "method": 1})
        if ovr == "PD":
            s.pd_day = day
            break
