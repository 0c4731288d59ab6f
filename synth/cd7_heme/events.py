"""Adverse events and the medications given for them (CRS / ICANS management, prophylaxis).

CRS and ICANS carry the ASTCT consensus grade next to the CTCAE grade; DLT is ticked for events in
the 28 days after the infusion that meet the protocol definition (CRS grade 4, ICANS grade 3 or
higher, any other non-haematological grade 4-5 event). Cytopenias start with lymphodepletion.
A subject whose death cause is an adverse event has a fatal sepsis ending on the day of death.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .course import Subject

HAEM = {"Neutrophil count decreased", "Platelet count decreased", "Anaemia", "Lymphocyte count decreased",
        "Febrile neutropenia"}

# pt, probability, onset window (days after infusion), duration range, grade probabilities G1..G4,
# p(serious), relatedness to CAR-T (0 not related .. 4 definitely)
TEMPLATES = [
    ("Neutrophil count decreased", 0.95, (-3, 0), (14, 60), (0, 0, 0.25, 0.75), 0.0, 3),
    ("Platelet count decreased", 0.80, (-2, 3), (14, 60), (0, 0.1, 0.4, 0.5), 0.0, 3),
    ("Anaemia", 0.70, (-2, 7), (14, 45), (0, 0.4, 0.6, 0), 0.0, 2),
    ("Lymphocyte count decreased", 0.90, (-4, -1), (10, 40), (0, 0, 0.2, 0.8), 0.0, 2),
    ("Febrile neutropenia", 0.45, (1, 10), (3, 8), (0, 0, 1.0, 0), 0.5, 2),
    ("Pneumonia", 0.20, (7, 200), (7, 21), (0, 0.3, 0.6, 0.1), 0.8, 2),
    ("Cytomegalovirus infection reactivation", 0.25, (14, 120), (10, 40), (0.3, 0.6, 0.1, 0), 0.1, 1),
    ("Nausea", 0.30, (-5, 7), (1, 5), (0.7, 0.3, 0, 0), 0.0, 1),
    ("Fatigue", 0.35, (-5, 60), (3, 40), (0.6, 0.35, 0.05, 0), 0.0, 2),
    ("Diarrhoea", 0.15, (-3, 21), (1, 5), (0.7, 0.3, 0, 0), 0.0, 1),
    ("Hypokalaemia", 0.25, (0, 21), (2, 10), (0.5, 0.3, 0.2, 0), 0.0, 1),
    ("Alanine aminotransferase increased", 0.20, (3, 21), (5, 20), (0.6, 0.3, 0.1, 0), 0.0, 2),
    ("Headache", 0.20, (0, 14), (1, 4), (0.8, 0.2, 0, 0), 0.0, 1),
    ("Rash", 0.08, (0, 60), (5, 21), (0.7, 0.3, 0, 0), 0.0, 2),
]
REL_TEXT = ["Not related", "Unlikely related", "Possibly related", "Probably related", "Definitely related"]


@dataclass
class AE:
    pt: str
    start: int
    end: int | None
    start_min: int | None
    grade: int
    astct: int | None
    serious: bool
    rel: int
    dlt: bool
    tocilizumab: bool = False
    steroid: bool = False
    fatal: bool = False
    end_precision: int = 0


def build_aes(s: Subject, seed: int) -> list[AE]:
    """All adverse events of one treated subject, in onset order, cut at the end of follow-up."""
    rng = np.random.default_rng([seed, 2, s.index])
    out: list[AE] = []
    inf = s.infusion
    if rng.random() < 0.9:
        g = int(rng.choice([1, 2, 3, 4], p=[0.45, 0.35, 0.15, 0.05]))
        st = inf + int(rng.integers(0, 7))
        out.append(AE("Cytokine release syndrome", st, st + int(rng.integers(2, 11)), int(rng.integers(0, 1440)),
                      g, g, g >= 3, 4, g >= 4 and st - inf <= 28, tocilizumab=g >= 2, steroid=g >= 3))
    if rng.random() < 0.18:
        g = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
        st = inf + int(rng.integers(4, 13))
        out.append(AE("Immune effector cell-associated neurotoxicity syndrome", st, st + int(rng.integers(2, 8)),
                      int(rng.integers(0, 1440)), g, g, g >= 3, 4, g >= 3, steroid=g >= 2))
    for pt, p, (a, b), (d1, d2), grades, p_ser, rel in TEMPLATES:
        if rng.random() >= p:
            continue
        st = inf + int(rng.integers(a, b + 1))
        g = int(rng.choice([1, 2, 3, 4], p=grades))
        dlt = pt not in HAEM and g >= 4 and 0 <= st - inf <= 28
        out.append(AE(pt, st, st + int(rng.integers(d1, d2 + 1)), None, g, None, rng.random() < p_ser, rel, dlt))
    if s.death is not None and s.death_cause == "Adverse event":
        st = max(inf + 1, s.death - int(rng.integers(3, 10)))
        out.append(AE("Sepsis", st, s.death, int(rng.integers(0, 1440)), 5, None, True, 2,
                      st - inf <= 28, fatal=True))
    kept = []
    for ae in out:
        if ae.start > s.followup_end:
            continue
        if ae.end is not None and ae.end > s.followup_end and not ae.fatal:
            ae.end = None                       # ongoing at the end of follow-up
        if ae.end is not None and not ae.fatal and rng.random() < 0.05:
            ae.end_precision = 1                # site knew only the month it resolved
        kept.append(ae)
    return sorted(kept, key=lambda e: (e.start, e.pt))


@dataclass
class Med:
    name: str
    indication: str
    dose: float
    unit: str
    route: str
    freq: str
    start: int
    end: int | None


def build_meds(s: Subject, aes: list[AE]) -> list[Med]:
    """Tocilizumab / dexamethasone for CRS and ICANS, and antiviral prophylaxis from lymphodepletion."""
    out = [Med("Acyclovir", "Antiviral prophylaxis", 400, "mg", "Oral", "Twice daily", s.ld_start,
               min(s.infusion + 180, s.followup_end) if s.infusion + 180 <= s.followup_end else None)]
    for ae in aes:
        label = "Cytokine release syndrome" if ae.pt.startswith("Cytokine") else "ICANS"
        if ae.tocilizumab:
            out.append(Med("Tocilizumab", label, float(min(800, round(8 * s.weight))), "mg", "Intravenous",
                           "Once", ae.start + 1, ae.start + 1))
        if ae.steroid:
            out.append(Med("Dexamethasone", label, 10, "mg", "Intravenous", "Every 6 hours", ae.start + 1,
                           min(ae.start + 3, s.followup_end)))
    return [m for m in out if m.start <= s.followup_end]
