"""Paged figures draw every page on one reused matplotlib figure (issue #15: drawing, not data, was the
cost of the per-subject figures). Reuse must not show: each page's PNG and SVG are byte-identical to
the page drawn on a new figure, as the figures were drawn before. Checked on the small hand-made ADaM
with a small cap, so that several pages (and, for individual profiles, several panel grids) appear."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from trialforge.tables import figures
from trialforge.tables.catalogue import load_catalogue
from trialforge.tables.demo_adam import make_adam

CAT = load_catalogue(Path(__file__).resolve().parents[1] / "examples" / "cd70-cart" / "tables.yaml")
PAGED = {"14.2.1.3": 6, "14.2.1.4": 7, "14.2.1.5": 4, "14.2.3.2": 3}   # waterfall, swimmer, spider, profiles


@pytest.fixture(scope="module")
def adam():
    return {k.upper(): v for k, v in make_adam().items()}


def _spec(fid: str, cap: int):
    spec = next(o for o in CAT.figures if o.id == fid)
    return dataclasses.replace(spec, plot=dataclasses.replace(spec.plot, per_page=cap))


def _pictures(spec, adam, out: Path) -> tuple[int, dict[str, bytes]]:
    pages = figures.render_figure(spec, adam)
    out.mkdir(parents=True, exist_ok=True)
    try:
        for k in range(pages.count):
            fig, _ = pages.draw(k)
            assert fig.get_layout_engine() is None      # no extra unrendered draw in each savefig
            figures.save_figure(fig, out / f"p{k}")
    finally:
        pages.close()
    return pages.count, {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def _new_figure_per_page(self, nrows=1, ncols=1, *, figsize, **kw):
    return plt.subplots(nrows, ncols, figsize=figsize, **kw)


@pytest.mark.parametrize("fid", sorted(PAGED))
def test_reused_figure_pages_are_byte_identical_to_new_figure_pages(fid, adam, tmp_path, monkeypatch):
    spec = _spec(fid, PAGED[fid])
    n, reused = _pictures(spec, adam, tmp_path / "reused")
    assert n > 1
    with monkeypatch.context() as m:
        m.setattr(figures.Sheets, "subplots", _new_figure_per_page)
        _, fresh = _pictures(spec, adam, tmp_path / "fresh")
    assert sorted(reused) == sorted(fresh) == sorted(f"p{k}.{e}" for k in range(n) for e in ("png", "svg"))
    assert [name for name in fresh if reused[name] != fresh[name]] == []


def test_pages_close_releases_every_figure(adam):
    before = set(plt.get_fignums())
    pages = figures.render_figure(_spec("14.2.3.2", 3), adam)
    for k in range(pages.count):
        pages.draw(k)
    assert set(plt.get_fignums()) - before
    pages.close()
    assert set(plt.get_fignums()) == before


def test_subject_rows_group_like_groupby_and_yield_nothing_for_no_rows():
    frame = pd.DataFrame({"USUBJID": ["S2", "S1", "S2", "S3", "S1", "S2"], "t": [5, 3, 1, 2, 3, 1]})
    got = figures._subject_rows(frame["USUBJID"].to_numpy())
    assert [r.tolist() for r in got] == [[1, 4], [0, 2, 5], [3]]
    by_time = np.argsort(frame["t"].to_numpy(), kind="stable")
    got = figures._subject_rows(frame["USUBJID"].to_numpy(), by_time)
    assert [r.tolist() for r in got] == [[1, 4], [2, 5, 0], [3]]   # by time, ties in frame order
    assert figures._subject_rows(np.array([], dtype=object)) == []
