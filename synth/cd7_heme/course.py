"""Each screened subject's course in the CD7 CAR-T study, drawn once and read by every form.

One site, phase I dose escalation (0.5 / 1.0 / 2.0 x10^6 CAR+ cells/kg, three subjects per level
in enrolment order, later subjects expand at 1.0), fludarabine/cyclophosphamide on days -5 to -3,
one infusion on day 0. The course fixes, per subject: responses at the scheduled marrow
assessments (CR, CRi, MLFS, PR, NR, relapse, PD), bridging to allogeneic transplant, relapse,
subsequent therapy, death, withdrawal and the end of follow-up. Every form is cut at the same
dates, so a subject who died on day 143 has no record after day 143 anywhere.

Day numbers are days since 1970-01-01; ``rel`` days are days after the infusion (day 0).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .rave import day

FIRST_CONSENT = day("2023-03-06")
CUTOFF = day("2025-12-31")
LEVELS = (0.5, 1.0, 2.0)          # x10^6 CAR+ cells/kg
EXPANSION_LEVEL = 1.0
SCREEN_FAIL_SHARE = 2 / 11
ACCRUAL_DAYS = CUTOFF - 120 - FIRST_CONSENT     # consent to infusion takes at most ~50 days

#: Scheduled visits: EDC folder name, protocol day relative to the infusion, +/- window (days).
VISITS = [
    ("Screening", None, 0), ("Day -5", -5, 0), ("Day -4", -4, 0), ("Day -3", -3, 0), ("Day 0", 0, 0),
    ("Day 1", 1, 0), ("Day 4", 4, 0), ("Day 7", 7, 0), ("Day 10", 10, 0), ("Day 14", 14, 0),
    ("Day 21", 21, 2), ("Day 28 (Month 1)", 28, 2), ("Month 2", 60, 5), ("Month 3", 90, 7),
    ("Month 6", 180, 7), ("Month 9", 270, 7), ("Month 12", 365, 7), ("Month 18", 545, 7),
    ("Month 24", 730, 7),
]
RESPONSE_VISITS = ["Day 28 (Month 1)", "Month 2", "Month 3", "Month 6", "Month 9", "Month 12", "Month 18", "Month 24"]
RESPONDERS = ("CR", "CRi", "MLFS", "PR")
DISEASES = (("T-ALL", 0.5), ("T-LBL", 0.2), ("AML", 0.3))


@dataclass
class Subject:
    """One screened subject; treated-only fields stay None for screen failures."""
    index: int
    subject: str
    consent: int
    sex: str
    birth: int
    birth_precision: int
    age: int
    race: str
    height: float
    weight: float
    disease: str
    diagnosis: int
    status: str                     # Relapsed / Refractory
    cd7pct: float
    prior_lines: int
    prior_hsct: bool
    screen_fail: bool
    sf_reason: str = ""
    sf_date: int | None = None
    enrol: int | None = None
    level: float | None = None
    ld_start: int | None = None     # day -5
    infusion: int | None = None     # day 0
    inf_start_min: int = 0
    inf_end_min: int = 0
    visits: dict = field(default_factory=dict)        # attended visit label -> day number
    responses: list = field(default_factory=list)     # (visit label, day, status)
    relapse_visit_day: int | None = None
    hsct: int | None = None
    donor: str = ""
    conditioning: str = ""
    subtx: list = field(default_factory=list)         # (name, start, end or None)
    death: int | None = None
    death_cause: str = ""
    withdraw: int | None = None
    withdraw_reason: str = ""
    active_end: int | None = None   # last day of scheduled assessments (labs, PK, marrow)
    followup_end: int | None = None  # last day the subject is followed (death, withdrawal, M24, cutoff)
    completed: bool = False
    survival_contacts: list = field(default_factory=list)
    ada_prone: bool = False
    pk: dict = field(default_factory=dict)            # kinetics parameters

    @property
    def treated(self) -> bool:
        return self.infusion is not None

    def rel(self, d: int) -> int:
        return d - self.infusion

    def status_on(self, d: int) -> str:
        """Marrow status in effect on day ``d``: the last assessment on or before it ('' before the first)."""
        current = ""
        for _label, when, status in self.responses:
            if when <= d:
                current = status
        return current


def _age(birth: int, ref: int) -> int:
    b = np.datetime64("1970-01-01") + np.timedelta64(birth, "D")
    r = np.datetime64("1970-01-01") + np.timedelta64(ref, "D")
    by, bm, bd = (int(x) for x in str(b).split("-"))
    ry, rm, rd = (int(x) for x in str(r).split("-"))
    return ry - by - int((rm, rd) < (bm, bd))


def build_subjects(n: int, seed: int) -> list[Subject]:
    """All screened subjects in consent order, each with its whole course."""
    study_rng = np.random.default_rng([seed, 0])
    n_sf = int(round(n * SCREEN_FAIL_SHARE)) if n > 2 else 0
    sf = set(study_rng.choice(np.arange(1, n), size=n_sf, replace=False).tolist()) if n_sf else set()
    # consent every ~7 weeks; larger studies accrue faster so the last infusion precedes the cut-off
    gap = min(49.0, ACCRUAL_DAYS / max(n, 1))
    width = max(3, len(str(n)))
    subjects, treated = [], 0
    for i in range(n):
        rng = np.random.default_rng([seed, 1, i])
        consent = FIRST_CONSENT + int(i * gap) + int(rng.integers(0, max(1, int(gap // 3))))
        age = int(rng.integers(14, 66))
        birth = consent - age * 365 - int(rng.integers(1, 364))
        disease = str(rng.choice([d for d, _ in DISEASES], p=[p for _, p in DISEASES]))
        sex = str(rng.choice(["Male", "Female"], p=[0.62, 0.38]))
        height = float(np.round(rng.normal(172 if sex == "Male" else 160, 7), 0))
        weight = float(np.round(rng.normal(68 if sex == "Male" else 56, 9), 1))
        s = Subject(
            index=i, subject=f"01-{i + 1:0{width}d}", consent=consent, sex=sex, birth=birth,
            birth_precision=2 if rng.random() < 0.15 else 0, age=_age(birth, consent),
            race=str(rng.choice(["Asian", "White", "Other"], p=[0.9, 0.07, 0.03])),
            height=height, weight=max(weight, 38.0), disease=disease,
            diagnosis=consent - int(rng.integers(180, 1500)),
            status=str(rng.choice(["Relapsed", "Refractory"], p=[0.65, 0.35])),
            cd7pct=float(np.round(rng.uniform(72, 99.5), 1)),
            prior_lines=int(rng.integers(2, 6)), prior_hsct=bool(rng.random() < 0.25),
            screen_fail=i in sf, ada_prone=bool(rng.random() < 0.25),
        )
        if s.screen_fail:
            s.sf_reason = str(rng.choice(["CD7 expression on blasts below 70%", "Active uncontrolled infection",
                                          "Inadequate organ function"]))
            s.sf_date = consent + int(rng.integers(5, 18))
            s.followup_end = s.sf_date
        else:
            s.level = LEVELS[treated // 3] if treated < 9 else EXPANSION_LEVEL
            treated += 1
            _treat(s, rng)
        subjects.append(s)
    return subjects


def _visit_days(s: Subject, rng) -> dict:
    out = {"Screening": s.consent + int(rng.integers(0, 3))}
    for label, rel, window in VISITS[1:]:
        jitter = int(rng.integers(-window, window + 1)) if window else 0
        out[label] = s.infusion + rel + jitter
    return out


def _treat(s: Subject, rng) -> None:
    """Enrolment, lymphodepletion, infusion and the whole post-infusion course of one subject."""
    s.enrol = s.consent + int(rng.integers(5, 12))
    s.ld_start = s.enrol + int(rng.integers(14, 28))       # apheresis + manufacturing
    s.infusion = s.ld_start + 5
    s.inf_start_min = int(rng.integers(9 * 60, 14 * 60))
    s.inf_end_min = s.inf_start_min + int(rng.integers(10, 35))
    planned = _visit_days(s, rng)

    # kinetics: peak later and higher with dose
    s.pk = {"tmax": int(rng.choice([7, 10, 14], p=[0.35, 0.4, 0.25])),
            "cmax": float(10 ** rng.uniform(4.4, 5.6) * (s.level / 1.0) ** 0.4),
            "c1": float(10 ** rng.uniform(1.9, 2.7)),
            "t_fast": float(rng.uniform(4, 8)), "t_slow": float(rng.uniform(40, 150)),
            "cells_per_copy": float(10 ** rng.uniform(-2.8, -2.3))}

    # responses at the scheduled marrow assessments
    first = str(rng.choice(["CR", "CRi", "MLFS", "PR", "NR"], p=[0.42, 0.22, 0.08, 0.08, 0.20]))
    relapse_rel = None
    if first in RESPONDERS:
        if first in ("CR", "CRi", "MLFS") and rng.random() < (0.3 if s.prior_hsct else 0.55):
            s.hsct = s.infusion + int(rng.integers(40, 95))
            s.donor = str(rng.choice(["HLA-matched sibling", "Haploidentical related", "Matched unrelated"]))
            s.conditioning = str(rng.choice(["Myeloablative", "Reduced intensity"]))
        p_relapse = 0.2 if s.hsct else (0.7 if first == "PR" else 0.55)
        if rng.random() < p_relapse:
            relapse_rel = int(rng.integers(150, 600)) if s.hsct else int(rng.integers(45, 400))
    end_of_course = None        # day scheduled assessments stop (subsequent therapy)
    status = ""
    for label in RESPONSE_VISITS:
        d = planned[label]
        if label == RESPONSE_VISITS[0]:
            status = first
        elif relapse_rel is not None and s.rel(d) >= relapse_rel:
            status = "Relapse" if status in ("CR", "CRi", "MLFS") else "PD"
        elif status == "PR":
            status = str(rng.choice(["CR", "PR"], p=[0.45, 0.55]))
        elif status == "MLFS":
            status = str(rng.choice(["CR", "CRi", "MLFS"], p=[0.4, 0.2, 0.4]))
        elif status == "CRi":
            status = str(rng.choice(["CR", "CRi"], p=[0.6, 0.4]))
        s.responses.append((label, d, status))
        if status in ("NR", "Relapse", "PD"):
            end_of_course = d
            break

    deaths = []
    if end_of_course is not None:
        last_status = s.responses[-1][2]
        s.relapse_visit_day = end_of_course if last_status in ("Relapse", "PD") else None
        start = end_of_course + int(rng.integers(5, 21))
        s.subtx.append((_salvage(s, rng), start, start + int(rng.integers(20, 90))))
        if rng.random() < (0.7 if last_status == "NR" else 0.6):
            deaths.append((end_of_course + int(rng.integers(30, 260)), "Disease relapse or progression"))
    if s.hsct and rng.random() < 0.1:
        deaths.append((s.hsct + int(rng.integers(30, 200)), "Transplant-related complication"))
    if rng.random() < 0.05:
        deaths.append((s.infusion + int(rng.integers(10, 90)), "Adverse event"))
    if rng.random() < 0.05:
        s.withdraw = s.infusion + int(rng.integers(60, 600))
        s.withdraw_reason = str(rng.choice(["Withdrawal of consent", "Lost to follow-up"]))
    if deaths:
        s.death, s.death_cause = min(deaths)
    _close(s, planned, end_of_course, rng)


def _salvage(s: Subject, rng) -> str:
    dli = "Donor lymphocyte infusion" if (s.prior_hsct or s.hsct) else "Nelarabine + dexamethasone"
    options = {"T-ALL": ["Nelarabine", "Nelarabine + cyclophosphamide + etoposide", dli],
               "T-LBL": ["Chidamide + CHOP", "Nelarabine", "Radiotherapy to mediastinal mass", dli],
               "AML": ["Venetoclax + azacitidine", "FLAG-IDA", "Gilteritinib"]}[s.disease]
    return str(rng.choice(options))


def _close(s: Subject, planned: dict, end_of_course, rng) -> None:
    """Cut the course at death, withdrawal, Month 24 or the data cut-off; keep the visits inside."""
    ends = [CUTOFF, planned["Month 24"]]
    if s.death is not None:
        ends.append(s.death)
    if s.withdraw is not None:
        ends.append(s.withdraw)
    s.followup_end = min(ends)
    s.completed = s.followup_end == planned["Month 24"] and s.death != s.followup_end \
        and s.withdraw != s.followup_end
    if s.death is not None and s.death > s.followup_end:
        s.death, s.death_cause = None, ""
    if s.withdraw is not None and s.withdraw > s.followup_end:
        s.withdraw, s.withdraw_reason = None, ""
    last_active = s.followup_end if end_of_course is None else min(end_of_course, s.followup_end)
    # a death or withdrawal on a visit day: the visit did not take place
    stop = last_active if (s.death is None and s.withdraw is None) or last_active < s.followup_end \
        else last_active - 1
    s.active_end = stop
    s.visits = {k: v for k, v in planned.items() if v <= stop}
    s.responses = [r for r in s.responses if r[1] <= stop]
    if s.hsct is not None and s.hsct > stop:
        s.hsct, s.donor, s.conditioning = None, "", ""
    s.subtx = [(n, a, b if b <= s.followup_end else None) for n, a, b in s.subtx if a <= s.followup_end]
    # survival follow-up contacts every ~3 months after scheduled visits stop
    if end_of_course is not None:
        d = end_of_course + int(rng.integers(60, 100))
        while d < s.followup_end:
            s.survival_contacts.append(d)
            d += int(rng.integers(80, 100))
