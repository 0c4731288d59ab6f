"""Every output of each bundled study's run is byte-identical to the recorded checksums.

Speed work must not change a byte; a deliberate content change re-records with
``python benchmarks/output_checksums.py --write`` and names the difference in its commit.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("output_checksums", ROOT / "benchmarks" / "output_checksums.py")
checksums = importlib.util.module_from_spec(spec)
spec.loader.exec_module(checksums)


def test_differences_names_each_changed_file():
    recorded = {"a.xpt": "1", "b.xpt": "2", "c.xpt": "3"}
    current = {"a.xpt": "1", "b.xpt": "9", "d.xpt": "4"}
    assert checksums.differences(recorded, current) == ["missing  c.xpt", "new      d.xpt", "changed  b.xpt"]


@pytest.mark.slow
@pytest.mark.parametrize("study", checksums.STUDIES)
def test_bundled_study_outputs_are_byte_identical_to_the_record(study, tmp_path):
    recorded = json.loads((checksums.RECORD / f"{study}.json").read_text(encoding="utf-8"))
    current = checksums.output_checksums(study, tmp_path)
    assert checksums.differences(recorded, current) == []
