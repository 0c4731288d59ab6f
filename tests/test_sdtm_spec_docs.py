"""Every key the spec parsers accept is documented in docs/specs.md (issue #13 item 10)."""
import re
from pathlib import Path

import pytest

from trialforge.sdtm import findings, relrec
from trialforge.specs import spec, study

DOCS = (Path(__file__).resolve().parents[1] / "docs" / "specs.md").read_text(encoding="utf-8")

KEY_SETS = {
    "domain spec": spec.SPEC_KEYS, "source": spec.SOURCE_KEYS, "join": spec.JOIN_KEYS, "melt": spec.MELT_KEYS,
    "melt test": spec.MELT_TEST_KEYS, "supp": spec.SUPP_KEYS, "rule kind": set(spec.RULE_KINDS),
    "modifier": spec.RULE_MODIFIERS, "datetime": spec.DATETIME_KEYS, "aggregate": spec.AGGREGATE_KEYS,
    "aggregate fn": spec.AGGREGATE_FNS, "standardize": spec.STANDARDIZE_KEYS, "baseline": spec.BASELINE_KEYS,
    "elapsed": spec.ELAPSED_KEYS, "when branch": spec.WHEN_BRANCH_KEYS, "unmapped": set(spec.UNMAPPED_POLICIES),
    "study.yaml": study.STUDY_KEYS, "study identity": study.IDENTITY_KEYS, "visit": study.VISIT_KEYS,
    "epoch": study.EPOCH_KEYS, "ct_files entry": study.CT_FILE_KEYS, "unit table": findings.UNIT_TABLE_KEYS, "conversion": findings.CONVERSION_KEYS,
    "relrec": relrec.RELREC_KEYS,
}
CASES = sorted((group, key) for group, keys in KEY_SETS.items() for key in keys)


def documented(key: str) -> bool:
    """Shown as code (`key`) or used in a YAML example (key: ...)."""
    k = re.escape(key)
    return bool(re.search(rf"`{k}`|`{k}:|(?<![A-Za-z_]){k}:\s", DOCS))


@pytest.mark.parametrize("group,key", CASES, ids=[f"{g}-{k}" for g, k in CASES])
def test_parser_key_is_documented(group, key):
    assert documented(key), f"{group} key {key!r} is accepted by the parser but not documented in docs/specs.md"


def test_the_check_catches_an_undocumented_key():
    assert not documented("no_such_key_anywhere")
