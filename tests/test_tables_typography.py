"""CSR typography of display texts (tables/typography.py): expected strings written by hand."""
from __future__ import annotations

import pytest

from trialforge.tables.typography import typeset


@pytest.mark.parametrize("text,want", [
    ("Platelets (x 10^9/L)", "Platelets (×10⁹/L)"),
    ("10^-3", "×10⁻³"),
    ("Dose 5 ug/kg", "Dose 5 µg/kg"),
    ("ug", "µg"),
    ("drug", "drug"),                     # 'ug' inside a word is not a unit
    ("Grade >= 3, age <= 65", "Grade ≥ 3, age ≤ 65"),
    ("mean +/- SD", "mean ± SD"),
    ("a = b", "a = b"),                   # '=' alone is not a rule
    ("12 (34.5)", "12 (34.5)"),
    ("", ""),
])
def test_typeset(text, want):
    assert typeset(text) == want

