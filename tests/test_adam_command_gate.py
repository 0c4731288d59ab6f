"""``trialforge adam``'s gate of the SDTM it makes (PP): DM is there for the study rules to read, its own rules
are not run again (as ``trialforge run``'s ``_gate_extra``); the PP findings are those of the old whole gate."""
import dataclasses

from test_adam_cli import write_foreign_sdtm    # hand-made SDTM as pyreadstat XPT (tests/ is on pythonpath)
from test_adam_recipes import SPEC

import trialforge.validation.runner as runner
from trialforge.adam.command import GATE, gate_adam, run_adam


def test_pp_gate_checks_pp_only_with_the_same_findings(monkeypatch, tmp_path):
    write_foreign_sdtm(tmp_path / "sdtm")
    run = run_adam(None, tmp_path / "sdtm", SPEC)
    assert set(run.sdtm_extra) == {"PP"} and "DM" in run.sdtm
    # the reference: the whole gate over DM and PP, then PP's findings kept (what gate_adam did before)
    ref = runner.validate_datasets({"DM": run.sdtm["DM"], **run.sdtm_extra}, ct=run.ct, scope="SDTM", options=GATE)
    expected = [dataclasses.asdict(f) for f in ref.findings if f.dataset in run.sdtm_extra]
    checked = []
    original = runner.column_findings
    monkeypatch.setattr(runner, "column_findings",
                        lambda ds, ctx, rules: checked.append(ds.meta.name) or original(ds, ctx, rules))
    got = gate_adam(run).reports["sdtm"]
    assert [dataclasses.asdict(f) for f in got.findings] == expected
    assert "DM" not in checked and checked            # PP's column rules ran, DM's did not
    assert set(got.datasets) == {"DM", "PP"}          # DM is still there for the study rules
