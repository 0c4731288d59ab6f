"""The creation date for file headers: study configuration, else SOURCE_DATE_EPOCH, never the clock.

1760486400 s after 1970-01-01 = 20376 days (2025-10-15 is 55 years * 365 + 14 leap days + 287 days
into 2025 = 20075 + 14 + 287) * 86400.
"""
from __future__ import annotations

import pytest

from trialforge.errors import SpecError
from trialforge.submission.created import DEFAULT_CREATED, creation_datetime


def test_study_configuration_wins_over_source_date_epoch():
    assert creation_datetime("2025-10-15T00:00:00", env={"SOURCE_DATE_EPOCH": "0"}) == "2025-10-15T00:00:00"


def test_date_alone_is_midnight_and_offsets_become_utc():
    assert creation_datetime("2025-10-15", env={}) == "2025-10-15T00:00:00"
    assert creation_datetime("2025-10-15T02:30:00+02:00", env={}) == "2025-10-15T00:30:00"


def test_source_date_epoch_when_the_study_says_nothing():
    assert 20376 * 86400 == 1760486400
    assert creation_datetime(None, env={"SOURCE_DATE_EPOCH": "1760486400"}) == "2025-10-15T00:00:00"
    assert creation_datetime("", env={"SOURCE_DATE_EPOCH": "86399"}) == "1970-01-01T23:59:59"


def test_fixed_default_without_either():
    assert creation_datetime(None, env={}) == DEFAULT_CREATED == "2000-01-01T00:00:00"


def test_same_inputs_same_answer_whatever_the_clock(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert creation_datetime(None) == creation_datetime(None) == DEFAULT_CREATED


@pytest.mark.parametrize("configured, env", [("15OCT2025", {}), (None, {"SOURCE_DATE_EPOCH": "yesterday"})])
def test_bad_values_are_spec_errors(configured, env):
    with pytest.raises(SpecError):
        creation_datetime(configured, env=env)
