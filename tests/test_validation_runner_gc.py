"""The gate runs with fewer garbage collections and gives the process its collector settings back."""
from __future__ import annotations

import gc

import pandas as pd

from trialforge.specs.metadata import Dataset, DatasetMeta
from trialforge.validation import runner


def test_threshold_raised_during_the_run_and_restored(monkeypatch):
    seen = []
    real = runner._validate

    def spy(*args, **kw):
        seen.append(gc.get_threshold())
        return real(*args, **kw)
    monkeypatch.setattr(runner, "_validate", spy)
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        frame = pd.DataFrame({"STUDYID": ["S"], "DOMAIN": ["XX"], "USUBJID": ["S-1"]})
        report = runner.validate_datasets({"XX": Dataset(DatasetMeta(name="XX", label="x"), frame)}, scope="SDTM",
                                          options={"only": ["TF-STR-006"]})
        assert [f.rule_id for f in report.findings] == []
        assert seen == [(100_000, 10, 10)]
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(0, 10, 10)                   # automatic collection switched off by the caller: kept off
        runner.validate_datasets({"XX": Dataset(DatasetMeta(name="XX", label="x"), frame)}, scope="SDTM",
                                 options={"only": ["TF-STR-006"]})
        assert seen[-1] == (0, 10, 10) and gc.get_threshold() == (0, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_threshold_restored_when_the_run_raises(monkeypatch):
    def boom(*args, **kw):
        raise RuntimeError("x")
    monkeypatch.setattr(runner, "_validate", boom)
    before = gc.get_threshold()
    try:
        runner.validate_datasets({}, scope="SDTM")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
