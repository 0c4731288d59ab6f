"""load_domain_specs gives the specs it read last again while the files hold the same bytes."""
from __future__ import annotations

import shutil

from trialforge.pipeline import DEFAULT_STUDY
from trialforge.specs import spec as spec_module
from trialforge.specs.spec import load_domain_specs


def test_same_bytes_same_specs_changed_bytes_read_again(tmp_path):
    folder = tmp_path / "specs"
    shutil.copytree(DEFAULT_STUDY / "specs", folder)
    first = load_domain_specs(folder)
    again = load_domain_specs(folder)
    assert again == first and again is not first                 # a new list: a caller may change it
    assert all(a is b for a, b in zip(again, first))             # the same (frozen) specs, not parsed again
    fresh = spec_module._read_domain_specs(folder, sorted(folder.glob("*.yaml")))
    assert [s.dataset for s in fresh] == [s.dataset for s in first] and fresh == first
    dm = folder / "dm.yaml"
    text = dm.read_text(encoding="utf-8")
    assert "label:" in text
    dm.write_text(text.replace("label:", "label: ", 1).replace("label:  ", "label: X", 1), encoding="utf-8")
    changed = load_domain_specs(folder)                            # same size maybe, other bytes: read again
    assert all(a is not b for a, b in zip(changed, first))
    assert [s.dataset for s in changed] == [s.dataset for s in first]


def test_another_folder_is_read(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(DEFAULT_STUDY / "specs", a)
    shutil.copytree(DEFAULT_STUDY / "specs", b)
    specs_a = load_domain_specs(a)
    specs_b = load_domain_specs(b)
    assert all(str(s.file).startswith(str(b)) for s in specs_b)
    assert [s.dataset for s in specs_a] == [s.dataset for s in specs_b]
