"""The edit-run loop (issue 15): `trialforge sdtm --only AE` and `trialforge run --no-tables`.

Expected domain sets come from reading the bundled specs by hand (AE's --DY and EPOCH read DM; DM's
reference dates are aggregates of AE, CM, DS, EX and SV); expected bytes come from the recorded
output checksums of the full bundled run (tests/data/output_checksums), never from a second call.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from trialforge import cli
from trialforge.sdtm.relrec import build_relrec
from trialforge.specs.metadata import Dataset, DatasetMeta
from trialforge.specs.standards import load_standard

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cd70-cart"
RECORD = ROOT / "tests" / "data" / "output_checksums" / "cd70-cart.json"


def test_only_unknown_domain_exits_2_naming_it(tmp_path):
    result = CliRunner().invoke(cli.main, ["sdtm", str(EXAMPLE), "--only", "AE,ZZ", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    line = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert len(line) == 1 and "no spec builds ZZ" in line[0] and "AE" in line[0]
    assert not (tmp_path / "o").exists()


def test_only_option_splits_commas_and_repeats():
    assert cli._domain_list(None, None, ("ae,lb", "AE", " cm ")) == ("AE", "LB", "CM")
    assert cli._domain_list(None, None, ()) is None


def test_help_shows_the_edit_loop_options():
    runner = CliRunner()
    assert "--only" in runner.invoke(cli.main, ["sdtm", "--help"]).output
    assert "--no-tables" in runner.invoke(cli.main, ["run", "--help"]).output


def _relrec_input(domains):
    frames = {"TU": pd.DataFrame({"TULNKID": ["T01"]}), "TR": pd.DataFrame({"TRLNKID": ["T01"], "TRLNKGRP": ["A"]}),
              "RS": pd.DataFrame({"RSLNKGRP": ["A"]})}
    return {d: Dataset(DatasetMeta(name=d, label=d), frames[d]) for d in domains}


def test_relrec_of_a_subset_keeps_only_relationships_whose_domains_were_built():
    path = EXAMPLE / "specs" / "relrec.yaml"          # TUTR: TU + TR; TRRS: TR + RS
    std = load_standard("SDTMIG 3.4")
    relrec = build_relrec(path, "S1", _relrec_input(["TU", "TR"]), std, subset=True)
    assert relrec.frame[["RELID", "RDOMAIN", "IDVAR"]].values.tolist() == [["TUTR", "TR", "TRLNKID"],
                                                                            ["TUTR", "TU", "TULNKID"]]
    assert build_relrec(path, "S1", _relrec_input(["TU"]), std, subset=True) is None
    with pytest.raises(Exception, match="TR.TRLNKID does not exist"):
        build_relrec(path, "S1", _relrec_input(["TU"]), std)            # a full build still names it


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_sdtm_only_ae_writes_ae_and_what_it_reads(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.main, ["sdtm", str(EXAMPLE), "--only", "ae", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (out / "sdtm").glob("*.xpt"))
    assert written == ["ae.xpt", "cm.xpt", "dm.xpt", "ds.xpt", "ex.xpt", "suppae.xpt", "suppcm.xpt", "suppdm.xpt",
                       "suppex.xpt", "sv.xpt"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert "--only=AE" in manifest["command"]
    if RECORD.is_file():                                 # the subset's AE is byte-identical to the full run's
        record = json.loads(RECORD.read_text())
        for name in ("ae.xpt", "dm.xpt", "suppae.xpt"):
            assert _sha(out / "sdtm" / name) == record[f"sdtm/{name}"], name


@pytest.mark.slow
def test_run_no_tables_writes_the_package_without_tables(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.main, ["run", str(EXAMPLE), "--no-tables", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "adam" / "adsl.xpt").is_file() and (out / "sdtm" / "define.xml").is_file()
    assert not (out / "tables").exists()
    if RECORD.is_file():
        record = json.loads(RECORD.read_text())
        assert _sha(out / "adam" / "adsl.xpt") == record["adam/adsl.xpt"]
