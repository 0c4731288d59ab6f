"""Run manifest: hashes of inputs/specs/outputs, deterministic bytes, and verify reporting."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from trialforge.submission.manifest import (Change, ManifestError, build_manifest, verify_manifest,
                                            write_manifest)
from trialforge.submission.verify_command import verify_command


def study(tmp_path: Path) -> Path:
    """A study folder: raw/ and specs/ beside out/ with a few outputs in subfolders."""
    root = tmp_path / "study"
    (root / "raw").mkdir(parents=True)
    (root / "specs").mkdir()
    (root / "out" / "sdtm").mkdir(parents=True)
    (root / "raw" / "dm.csv").write_text("SUBJNO,SEX\n001,M\n")
    (root / "raw" / "ae.csv").write_text("SUBJNO,AETERM\n001,FEVER\n")
    (root / "specs" / "dm.yaml").write_text("domain: DM\n")
    (root / "out" / "sdtm" / "dm.xpt").write_bytes(b"HEADER RECORD dm")
    (root / "out" / "sdtm" / "ae.xpt").write_bytes(b"HEADER RECORD ae")
    (root / "out" / "define.xml").write_text("<ODM/>")
    return root


def make(root: Path) -> dict:
    manifest = build_manifest(root / "out", inputs=[root / "raw" / "dm.csv", root / "raw" / "ae.csv"],
                              specs=[root / "specs" / "dm.yaml"], command=["trialforge", "run", "study.yaml"],
                              tool_version="0.1.0", standards={"SDTMIG": "3.4", "CT": "2022-09-30"},
                              validation_summary={"error": 0, "warning": 2, "notice": 1})
    write_manifest(root / "out", manifest)
    return manifest


def test_manifest_records_hashes_relative_sorted(tmp_path):
    root = study(tmp_path)
    m = make(root)
    assert [e["path"] for e in m["inputs"]] == ["../raw/ae.csv", "../raw/dm.csv"]
    assert [e["path"] for e in m["outputs"]] == ["define.xml", "sdtm/ae.xpt", "sdtm/dm.xpt"]
    assert m["specs"][0]["sha256"] == hashlib.sha256(b"domain: DM\n").hexdigest()
    assert m["outputs"][2] == {"path": "sdtm/dm.xpt", "bytes": 16,
                               "sha256": hashlib.sha256(b"HEADER RECORD dm").hexdigest()}
    on_disk = json.loads((root / "out" / "manifest.json").read_text())
    assert on_disk == m and on_disk["validation"]["warning"] == 2


def test_manifest_bytes_are_deterministic(tmp_path):
    a, b = study(tmp_path / "a"), study(tmp_path / "b")
    make(a)
    make(b)
    assert (a / "out" / "manifest.json").read_bytes() == (b / "out" / "manifest.json").read_bytes()


def test_verify_all_match(tmp_path):
    root = study(tmp_path)
    make(root)
    assert verify_manifest(root / "out") == []


def test_changing_one_dataset_reports_exactly_that_file(tmp_path):
    root = study(tmp_path)
    make(root)
    (root / "out" / "sdtm" / "ae.xpt").write_bytes(b"HEADER RECORD ae, edited")
    changes = verify_manifest(root / "out")
    assert [(c.section, c.path, c.kind) for c in changes] == [("outputs", "sdtm/ae.xpt", "changed")]
    assert changes[0].expected == hashlib.sha256(b"HEADER RECORD ae").hexdigest()


def test_added_removed_and_changed_input(tmp_path):
    root = study(tmp_path)
    make(root)
    (root / "out" / "sdtm" / "dm.xpt").unlink()
    (root / "out" / "sdtm" / "lb.xpt").write_bytes(b"new")
    (root / "raw" / "dm.csv").write_text("SUBJNO,SEX\n001,F\n")
    got = sorted((c.section, c.path, c.kind) for c in verify_manifest(root / "out"))
    assert got == [("inputs", "../raw/dm.csv", "changed"), ("outputs", "sdtm/dm.xpt", "removed"),
                   ("outputs", "sdtm/lb.xpt", "added")]


def test_missing_input_is_an_error_when_building(tmp_path):
    root = study(tmp_path)
    with pytest.raises(ManifestError):
        build_manifest(root / "out", inputs=[root / "raw" / "nope.csv"], specs=[], command=[],
                       tool_version="0", standards={}, validation_summary={})


def test_verify_command_exit_codes(tmp_path):
    root = study(tmp_path)
    make(root)
    runner = CliRunner()
    ok = runner.invoke(verify_command, [str(root / "out")])
    assert ok.exit_code == 0, ok.output
    (root / "out" / "define.xml").write_text("<ODM changed='1'/>")
    changed = runner.invoke(verify_command, [str(root / "out")])
    assert changed.exit_code == 1
    assert "define.xml" in changed.output
    (root / "out" / "manifest.json").write_text("{broken")
    assert runner.invoke(verify_command, [str(root / "out")]).exit_code == 2
    assert runner.invoke(verify_command, [str(tmp_path / "nowhere")]).exit_code == 2


def test_change_prints_readably():
    assert str(Change("outputs", "sdtm/ae.xpt", "changed")).split() == ["changed", "outputs", "sdtm/ae.xpt"]


# ------------------------------------------------------------------ inputs relative to the study folder
def make_rooted(root: Path, out: Path) -> dict:
    manifest = build_manifest(out, inputs=[root / "raw" / "dm.csv", root / "raw" / "ae.csv"],
                              specs=[root / "specs" / "dm.yaml"], command=["trialforge", "run"],
                              tool_version="0.1.0", standards={}, validation_summary={}, inputs_root=root)
    write_manifest(out, manifest)
    return manifest


def test_inputs_recorded_relative_to_the_study_folder(tmp_path):
    root = study(tmp_path)
    m = make_rooted(root, root / "out")
    assert m["inputs_root"] == ".."
    assert [e["path"] for e in m["inputs"]] == ["raw/ae.csv", "raw/dm.csv"]
    assert [e["path"] for e in m["specs"]] == ["specs/dm.yaml"]
    assert verify_manifest(root / "out") == []
    (root / "raw" / "dm.csv").write_text("SUBJNO,SEX\n001,F\n")
    assert [(c.section, c.path, c.kind) for c in verify_manifest(root / "out")] == [("inputs", "raw/dm.csv", "changed")]


def test_copied_output_verifies_against_inputs_named_on_the_command_line(tmp_path):
    root = study(tmp_path)
    make_rooted(root, root / "out")
    import shutil
    elsewhere = tmp_path / "archive" / "deep" / "out"
    shutil.copytree(root / "out", elsewhere)
    assert {c.section for c in verify_manifest(elsewhere)} == {"inputs", "specs"}   # ../ is not the study
    assert verify_manifest(elsewhere, inputs_root=root) == []
    result = CliRunner().invoke(verify_command, [str(elsewhere), "--inputs", str(root)])
    assert result.exit_code == 0, result.output


ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"   # FIPS 180-2, "abc"


def test_file_digests_hash_each_file_with_two_threads_as_one(tmp_path):
    from trialforge.submission.manifest import file_digests
    paths = []
    for i in range(5):
        paths.append(tmp_path / f"f{i}.txt")
        paths[-1].write_bytes(b"abc")
    (tmp_path / "empty").write_bytes(b"")
    paths.append(tmp_path / "empty")
    got = file_digests(paths, threads=2)
    assert got == file_digests(paths, threads=1)
    assert got[str(paths[0].resolve())] == (ABC_SHA256, 3)
    assert got[str((tmp_path / "empty").resolve())] == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0)
    with pytest.raises(ManifestError, match="does not exist"):
        file_digests([tmp_path / "missing"])


def test_build_manifest_takes_digests_already_made_and_hashes_the_rest(tmp_path):
    """A digest handed in is recorded as given (the file is not read again); the others are hashed."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_bytes(b"abc")
    (out / "b.txt").write_bytes(b"abc")
    given = {str((out / "a.txt").resolve()): ("0" * 64, 3)}
    manifest = build_manifest(out, inputs=[], specs=[], command=["t"], tool_version="0", standards={},
                              validation_summary={}, digests=given)
    assert manifest["outputs"] == [{"path": "a.txt", "sha256": "0" * 64, "bytes": 3},
                                   {"path": "b.txt", "sha256": ABC_SHA256, "bytes": 3}]


def test_paths_given_through_a_link_or_relative_are_recorded_by_where_they_resolve(tmp_path, monkeypatch):
    """Inputs named through a symlinked folder and a relative path, and out/ named through a link: each
    entry is the resolved file's path relative to the resolved folder (by hand below), as before the
    manifest resolved each path once."""
    root = study(tmp_path)
    (tmp_path / "link").symlink_to(root)
    monkeypatch.chdir(tmp_path)
    manifest = build_manifest(tmp_path / "link" / "out", inputs=[tmp_path / "link" / "raw" / "dm.csv",
                                                               Path("study/raw/ae.csv")],
                              specs=[Path("link/specs/dm.yaml")], command=["t"], tool_version="0", standards={},
                              validation_summary={}, inputs_root=root)
    assert [e["path"] for e in manifest["inputs"]] == ["raw/ae.csv", "raw/dm.csv"]
    assert manifest["inputs"][1]["sha256"] == hashlib.sha256(b"SUBJNO,SEX\n001,M\n").hexdigest()
    assert [e["path"] for e in manifest["specs"]] == ["specs/dm.yaml"]
    assert [e["path"] for e in manifest["outputs"]] == ["define.xml", "sdtm/ae.xpt", "sdtm/dm.xpt"]
    assert manifest["outputs"][2] == {"path": "sdtm/dm.xpt", "bytes": 16,
                                      "sha256": hashlib.sha256(b"HEADER RECORD dm").hexdigest()}
    assert manifest["inputs_root"] == ".."


@pytest.mark.parametrize("size", [0, 1, (1 << 18) + 7, (3 << 20) + 1])
def test_sha256_file_equals_hashlib_of_the_bytes(tmp_path, monkeypatch, size):
    """hashlib.file_digest where Python has it, the block loop otherwise: both the SHA-256 of the bytes."""
    import hashlib
    import os
    from trialforge.submission import manifest as m
    path = tmp_path / "f.bin"
    data = os.urandom(size)
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert m.sha256_file(path) == expected
    monkeypatch.setattr(m, "_FILE_DIGEST", None)
    assert m.sha256_file(path) == expected
