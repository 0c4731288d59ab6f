"""The catalogue as users see it: counts in README and docs match the registry, the docs table is the
registry's, --list-rules needs no folder, and rules declare the IG versions they apply to."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from click.testing import CliRunner

from trialforge.validation.command import validate_command
from trialforge.validation.registry import RULES, SDTM, load_all, rules_for

ROOT = Path(__file__).resolve().parents[1]
STANDARDS = Path("/work/shared/standards")
load_all()


def _counts_from_registry():
    covered = {p for r in RULES.values() for p in r.p21}
    ids = {}
    for which in ("sdtm", "adam"):
        path = STANDARDS / f"p21_rules_{which}.csv"
        if path.is_file():          # the shared P21 catalogue, counted independently of the shipped id lists
            ids[which] = {row["Pinnacle 21 ID"] for row in csv.DictReader(path.open(encoding="utf-8"))}
        else:
            ids[which] = set((ROOT / "validation" / "data" / f"p21_{which}_ids.txt").read_text().split())
    return len(RULES), len(covered & ids["sdtm"]), len(ids["sdtm"]), len(covered & ids["adam"]), len(ids["adam"])


def test_readme_and_docs_state_the_registry_counts():
    rules, sdtm, sdtm_total, adam, adam_total = _counts_from_registry()
    sentence = re.compile(r"holds (\d+) rules; they implement (\d+) of the (\d+) Pinnacle 21 SDTM rule ids and "
                          r"(\d+) of the (\d+) ADaM ids")
    for doc in ("README.md", "docs/validation.md"):
        m = sentence.search((ROOT / doc).read_text(encoding="utf-8"))
        assert m, doc
        assert tuple(int(x) for x in m.groups()) == (rules, sdtm, sdtm_total, adam, adam_total), doc
    assert sdtm >= 300 and adam >= 200


def test_docs_table_lists_every_rule():
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| (TF-[A-Z0-9]+-[0-9]+) \|", text, re.M))
    assert listed == set(RULES)
    from trialforge.validation.catalogue_doc import markdown_table
    assert markdown_table() in text, "docs/validation.md is stale: python -m trialforge.validation.catalogue_doc --write"


def test_list_rules_needs_no_folder():
    result = CliRunner().invoke(validate_command, ["--list-rules"])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 0 and len(rows) == len(RULES)


def test_missing_folder_is_a_usage_error():
    result = CliRunner().invoke(validate_command, [])
    assert result.exit_code == 2


def test_rules_apply_from_their_ig_version():
    older = {r.id for r in rules_for(SDTM, "dataset", "3.2")}
    newer = {r.id for r in rules_for(SDTM, "dataset", "3.4")}
    assert "TF-ARM-006" in newer and "TF-ARM-006" not in older
    assert RULES["TF-ARM-006"].since == "3.3"
