"""docs/adam_yaml.md documents every adam.yaml key the code accepts, and spec mistakes are one clear
SpecError naming the key and the file (the CLI exits 2, writes nothing)."""
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from trialforge.adam.build import build_adam
from trialforge.adam.config import key_paths, load_adam_config
from trialforge.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "adam_yaml.md").read_text(encoding="utf-8")
EXAMPLE_SPEC = ROOT / "examples" / "cd70-cart" / "specs" / "adam.yaml"


def documented(key: str) -> bool:
    """`a.b.c` on the page, or a table row naming the parent (`a.b` ...) and the leaf (`.c` or `c`)."""
    if f"`{key}`" in PAGE:
        return True
    parent, _, leaf = key.rpartition(".")
    return any(f"`{parent}" in line and (f"`.{leaf}`" in line or f"`{leaf}`" in line)
               for line in PAGE.splitlines())


def test_every_key_in_the_code_is_on_the_reference_page():
    missing = [k for k in key_paths() if not documented(k)]
    assert missing == []
    assert len(key_paths()) > 150


def test_the_page_lists_no_key_the_code_lacks():
    keys = set(key_paths())
    named = set(re.findall(r"`((?:study|adsl|adae|adrs|adtte|adlb|bds|adex|pk|new_therapy|custom)"
                           r"(?:\.[a-z_*]+|\[\])+)`", PAGE))
    assert sorted(n for n in named if n not in keys) == []


def spec_with(tmp_path, change):
    raw = yaml.safe_load(EXAMPLE_SPEC.read_text())
    change(raw)
    path = tmp_path / "adam.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.mark.parametrize("change, key", [
    (lambda r: r["adrs"].update(criterion="RECIST 2.0"), "adrs.criterion"),
    (lambda r: r["adtte"]["parameters"].append({"paramcd": "EFS", "events": ["relapse_of_doom"]}),
     "adtte.parameters[EFS].events"),
    (lambda r: r["adtte"]["parameters"].append("XYZ"), "adtte.parameters[3]"),
    (lambda r: r["pk"].update(time_unit="weeks"), "pk.time_unit"),
    (lambda r: r["pk"].update(auc_method="log"), "pk.auc_method"),
    (lambda r: r["pk"].update(intervals=[[28, 0]]), "pk.intervals[0]"),
    (lambda r: r["adsl"].update(blank_end="later"), "adsl.blank_end"),
    (lambda r: r["adrs"].update(sumdiam="no"), "adrs.sumdiam"),
    (lambda r: r["pk"].update(interval_tolerance="2 days"), "pk.interval_tolerance"),
    (lambda r: r["adsl"].update(last_alive_sources=[{"domain": "AE", "date": ["AESTDTC"]}]),
     "adsl.last_alive_sources[0].date"),
    (lambda r: r.update(datasets=["ADSL", "ADXX"]), "datasets"),
    (lambda r: r["adrs"].update(landmarks=[{"paramcd": "ORRM3", "param": "x"}]), "adrs.landmarks"),
    (lambda r: r["adrs"].update(landmarks=[{"paramcd": "ORRM3", "param": "x", "day": 90, "respnders": "CR"}]),
     "adrs.landmarks[0].respnders"),
])
def test_spec_mistakes_name_key_and_file(tmp_path, change, key):
    path = spec_with(tmp_path, change)
    with pytest.raises(SpecError) as err:
        load_adam_config(path)
    assert key in str(err.value) and str(path) in str(err.value)


def test_responders_outside_the_criterion_are_a_spec_error(tmp_path):
    path = spec_with(tmp_path, lambda r: r["adrs"].update(landmarks=[
        {"paramcd": "ORRM3", "param": "x", "day": 90, "responders": ["VGPR"]}]))
    with pytest.raises(SpecError) as err:
        load_adam_config(path)
    assert "adrs.landmarks[0].responders" in str(err.value) and str(path) in str(err.value)


def test_mistakes_found_while_building_name_the_spec_file(tmp_path):
    from test_adam_recipes import sdtm
    path = spec_with(tmp_path, lambda r: r["adsl"].update(populations={"EFFFL": "NOSUCHVAR == 'Y'"}))
    with pytest.raises(SpecError) as err:
        build_adam(sdtm(), load_adam_config(path))
    assert "adsl.populations.EFFFL" in str(err.value) and str(path) in str(err.value)


def test_cli_exit_2_on_a_spec_mistake(tmp_path):
    from trialforge.cli import main
    path = spec_with(tmp_path, lambda r: r["adrs"].update(criterion="RECIST 2.0"))
    res = CliRunner().invoke(main, ["adam", str(ROOT / "examples" / "cd70-cart"), "--spec", str(path)])
    assert res.exit_code == 2 and "adrs.criterion" in res.output and "Traceback" not in res.output
