"""run_study's stage_timer: the benchmark's view of the pipeline reads the clock and changes no byte."""
from __future__ import annotations

import hashlib

from conftest import add_trial_summary
from trialforge.pipeline import run_study


def _hashes(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def test_stage_timer_sees_every_stage_and_changes_no_output(mini_study, tmp_path):
    add_trial_summary(mini_study, """
        - {TSPARMCD: SSTDTC, TSPARM: Study Start Date, TSVAL: "2025-01-01"}
    """)                                                   # the gate needs SSTDTC: the package is written
    calls = []
    timed = run_study(mini_study, out_dir=tmp_path / "a", adam=False, tables=False,
                      stage_timer=lambda stage, wall, cpu: calls.append((stage, wall, cpu)))
    plain = run_study(mini_study, out_dir=tmp_path / "b", adam=False, tables=False)
    assert not timed.has_errors
    assert [c[0] for c in calls] == ["sdtm", "sdtm_gate", "reports", "xpt", "dataset_json", "define", "manifest"]
    assert all(wall >= 0 and cpu >= 0 for _stage, wall, cpu in calls)
    assert _hashes(timed.published) == _hashes(plain.published) and len(_hashes(plain.published)) > 3
