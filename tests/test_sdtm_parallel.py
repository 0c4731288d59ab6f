"""Domain-parallel SDTM mapping (sdtm/steps.py, SdtmBuilder._run_split): with two jobs the domains no other
domain reads are mapped in a forked worker; the datasets, the notes, the progress lines and the first error
must be those of the one-process build, which these tests build as the reference."""
import shutil
import sys
from pathlib import Path

import pytest

from trialforge import jobs
from trialforge.jobs import can_fork
from trialforge.pipeline import DEFAULT_STUDY
from trialforge.sdtm import engine
from trialforge.sdtm.steps import FINISH, MAP1, MAP2, Step, sequential_steps, split_plan, step_needs
from trialforge.specs.ct import load_ct
from trialforge.specs.study import load_study

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from sdtm_bench import dataset_hash  # noqa: E402

needs_fork = pytest.mark.skipif(not can_fork(), reason="the split build needs fork")


# --- the plan, on hand-made dependency graphs -------------------------------------------------------------

def test_steps_are_numbered_in_the_sequential_order():
    steps = sequential_steps(["AE", "DM", "LB"], ["DM", "AE", "LB"])
    assert [(s.pos, s.kind, s.domain) for s in steps] == [
        (0, MAP1, "AE"), (1, MAP1, "DM"), (2, MAP1, "LB"),
        (3, MAP2, "DM"), (4, MAP2, "AE"), (5, MAP2, "LB"),
        (6, FINISH, "AE"), (7, FINISH, "DM"), (8, FINISH, "LB")]


def test_needs_follow_the_state_the_sequential_build_shows():
    # DM aggregates AE; LB reads DM; PC reads EX, whose phase 2 comes after PC's: PC sees EX's phase 1 only
    steps = sequential_steps(["AE", "DM", "EX", "LB", "PC"], ["DM", "AE", "LB", "PC", "EX"])
    at = {(s.kind, s.domain): s for s in steps}
    needs = step_needs(steps, {"DM": {"AE"}, "AE": {"DM"}, "LB": {"DM"}, "PC": {"DM", "EX"}, "EX": {"DM"}})
    assert needs[at[(MAP1, "LB")]] == frozenset()
    assert needs[at[(MAP2, "LB")]] == {at[(MAP1, "LB")], at[(MAP1, "DM")], at[(MAP2, "DM")], at[(MAP1, "AE")]}
    assert needs[at[(MAP2, "PC")]] == {at[(MAP1, "PC")], at[(MAP1, "DM")], at[(MAP2, "DM")], at[(MAP1, "AE")],
                                       at[(MAP1, "EX")]}
    assert needs[at[(FINISH, "PC")]] == needs[at[(MAP2, "PC")]] | {at[(MAP2, "PC")]}


def test_split_takes_the_large_unread_domain_and_its_prefix():
    steps = sequential_steps(["AE", "DM", "LB", "MH"], ["DM", "AE", "LB", "MH"])
    reads = {"DM": {"AE"}, "AE": {"DM"}, "LB": {"DM"}, "MH": set()}
    prefix, worker = split_plan(steps, reads, {"AE": 1e6, "DM": 1e6, "LB": 1e7, "MH": 3e6})     # raw bytes
    assert worker == {"LB"}
    assert [(s.kind, s.domain) for s in prefix] == [(MAP1, "AE"), (MAP1, "DM"), (MAP2, "DM")]
    # AE and DM read each other: neither may leave; a study without a large domain stays in one process
    assert split_plan(steps, reads, {"AE": 1e7, "DM": 1e7, "LB": 1e5, "MH": 1e5}) is None


def test_split_adds_the_domain_that_balances_best_not_the_next_largest():
    # after LB the worker is short by ~6 units: PC (4) overshoots the balance (worker 15.7, here 13.5),
    # SE (2.5) brings both ends closest (worker 14.1, here 15.0), then nothing else shortens the path
    steps = sequential_steps(["AE", "DM", "LB", "PC", "SE"], ["DM", "AE", "LB", "PC", "SE"])
    reads = {"DM": {"AE"}, "AE": {"DM"}, "LB": {"DM"}, "PC": {"DM"}, "SE": {"DM"}}
    prefix, worker = split_plan(steps, reads, {"AE": 5e6, "DM": 5e6, "LB": 10e6, "PC": 4e6, "SE": 2.5e6})
    assert worker == {"LB", "SE"}
    assert [(s.kind, s.domain) for s in prefix] == [(MAP1, "AE"), (MAP1, "DM"), (MAP2, "DM")]


def test_no_split_when_every_domain_is_read():
    steps = sequential_steps(["AE", "DM"], ["DM", "AE"])
    assert split_plan(steps, {"DM": {"AE"}, "AE": {"DM"}}, {"AE": 5e6, "DM": 5e6}) is None


def test_step_is_ordered_by_position():
    assert sorted([Step(3, MAP1, "B"), Step(1, FINISH, "A")])[0].pos == 1


# --- the bundled example, one process against the split build --------------------------------------------

def _example(tmp_path) -> Path:
    root = tmp_path / "study"
    shutil.copytree(DEFAULT_STUDY, root)
    return root


def _build(root, jobs, monkeypatch=None):
    study = load_study(root)
    notes, progress = [], []
    try:
        out = engine.build_sdtm(study, ct=_CT, notes=notes, progress=lambda n, k: progress.append((n, k)),
                                jobs=jobs)
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        # the worker's traceback rides along as a note (shown with TRIALFORGE_DEBUG); the error is the same
        return ("error", type(exc), str(exc), {k: v for k, v in vars(exc).items() if k != "__notes__"}, progress)
    return ("ok", {name: dataset_hash(ds) for name, ds in out.items()}, notes, progress)


_CT = load_ct(None)


@pytest.fixture
def split_spy(monkeypatch):
    """Counts split builds, so each test knows the worker really ran."""
    calls = []
    real = engine.SdtmBuilder._run_split

    def spy(self, all_steps, prefix, worker_domains):
        calls.append(set(worker_domains))
        return real(self, all_steps, prefix, worker_domains)
    monkeypatch.setattr(engine.SdtmBuilder, "_run_split", spy)
    return calls


def _only_lb_in_worker(monkeypatch):
    """A plan with LB alone in the worker (PC then maps here): the prefix is what LB's steps need."""
    def plan(steps, reads, costs):
        needs = step_needs(steps, reads)
        own = [s for s in steps if s.domain == "LB"]
        return sorted(set().union(*(needs[s] for s in own)) - set(own)), {"LB"}
    monkeypatch.setattr(engine, "split_plan", plan)


def _replace_first(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@needs_fork
def test_example_split_build_equals_one_process(tmp_path, split_spy):
    root = _example(tmp_path)
    one = _build(root, 1)
    two = _build(root, 2)
    assert split_spy and "LB" in split_spy[0]
    assert one[0] == "ok" and one == two
    assert [name for name, _ in two[3]][:3] == ["AE", "SUPPAE", "CM"]        # progress in spec order


@needs_fork
def test_notes_come_back_in_sequential_order(tmp_path, split_spy, monkeypatch):
    root = _example(tmp_path)
    _only_lb_in_worker(monkeypatch)
    # a numeric standard result (a working variable) warns on a result holding digits that is no number
    _replace_first(root / "specs" / "lb.yaml", "working:\n",
                   "working:\n  NUMRES: {standardize: {result: LBORRES, unit: LBORRESU, test: LBTESTCD, output: n}}\n")
    _replace_first(root / "specs" / "pc.yaml", "working:\n",
                   "working:\n  NUMRES: {standardize: {result: PCORRES, unit: PCORRESU, test: PCTESTCD, output: n}}\n")
    _replace_first(root / "raw" / "lb.csv", ",4.86,", ",4.86 x10,")          # LB (worker)
    _replace_first(root / "raw" / "pc.csv", "BLQ,copies", "5 copies,copies")  # PC (here)
    one = _build(root, 1)
    two = _build(root, 2)
    assert split_spy == [{"LB"}]
    assert one[0] == "ok" and [n["dataset"] for n in one[2]] == ["LB", "PC"]
    assert one == two


@needs_fork
@pytest.mark.parametrize("bad", [
    ("lb",),                    # only the worker's domain fails
    ("lb", "mh"),               # the worker's error comes first in the sequential order
    ("ae", "lb"),               # the prefix (read by DM) fails before the worker's domain
    ("ds", "lb"),               # the prefix again (DS is read by DM)
    ("ie", "lb"),               # an error here after the fork, before the worker's domain
    ("lb", "tr"),               # both in the worker
])
def test_first_error_is_the_sequential_one(tmp_path, split_spy, bad):
    root = _example(tmp_path)
    dates = {"lb": "06 JUN 2023", "mh": "UN APR 2020", "ae": "31 JUL 2023", "ds": None, "tr": None, "ie": None}
    for name in bad:
        path = root / "raw" / f"{name}.csv"
        header, first = path.read_text().splitlines()[:2]
        date = dates[name] or next(v for v in first.split(",") if v.count(" ") == 2 and v[-4:].isdigit())
        _replace_first(path, date, "32 XYZ 2023")
    one = _build(root, 1)
    two = _build(root, 2)
    assert split_spy
    assert one[0] == "error" and one == two


@needs_fork
@pytest.mark.parametrize("bad", [(), ("lb", "mh")])
def test_prefix_that_cannot_be_pickled_maps_the_worker_domains_here(tmp_path, split_spy, monkeypatch, bad):
    """A prefix value that cannot be pickled (a plugin's object, say): the worker stops, this process maps its
    domains, and the result (or the first error) is still the sequential one."""
    root = _example(tmp_path)
    for name in bad:
        path = root / "raw" / f"{name}.csv"
        date = {"lb": "06 JUN 2023", "mh": "UN APR 2020"}[name]
        _replace_first(path, date, "32 XYZ 2023")
    one = _build(root, 1)
    real = jobs.Handover.dumps

    def dumps(value):
        domains, stop = value
        if domains is not None:
            raise TypeError("cannot pickle this")
        return real(value)
    monkeypatch.setattr(jobs.Handover, "dumps", staticmethod(dumps))
    two = _build(root, 2)
    assert split_spy
    assert one == two and one[0] == ("error" if bad else "ok")
