"""Per-subject figures are cut into pages of at most `per_page` subjects (issue #15): a swimmer plot of
10,000 subjects must not be one picture 231,484 px tall. Checked on the small hand-made ADaM with a
small cap, so that several pages appear."""
from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import pytest

from trialforge.errors import SpecError
from trialforge.tables.build import build_tables
from trialforge.tables.catalogue import load_catalogue
from trialforge.tables.demo_adam import make_adam
from trialforge.tables.spec import PER_PAGE, Swimmer

CAT = load_catalogue(Path(__file__).resolve().parents[1] / "examples" / "cd70-cart" / "tables.yaml")


@pytest.fixture(scope="module")
def adam():
    return make_adam()


def _with_cap(fid: str, cap: int):
    spec = next(o for o in CAT.figures if o.id == fid)
    return dataclasses.replace(spec, plot=dataclasses.replace(spec.plot, per_page=cap))


def _png_height(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[20:24], "big")


def test_swimmer_pages_hold_at_most_the_cap_and_every_subject_once(adam, tmp_path):
    spec = _with_cap("14.2.1.4", 7)
    build_tables(adam, tmp_path, only=["14.2.1.4"], tables=[], figures=[spec], catalogue=CAT)
    adsl = adam["ADSL"].frame
    n_subjects = int((adsl["SAFFL"] == "Y").sum())              # the figure's population: safety
    pages = math.ceil(n_subjects / 7)
    assert pages > 1
    pngs = sorted(tmp_path.glob("f_14_2_1_4_p*.png"))
    assert [p.stem for p in pngs] == [f"f_14_2_1_4_p{k:0{len(str(pages))}d}" for k in range(1, pages + 1)]
    assert len(list(tmp_path.glob("f_14_2_1_4_p*.svg"))) == pages
    assert not (tmp_path / "f_14_2_1_4.png").exists()
    # every page is a bounded picture (7 rows: the 4-inch minimum height at 120 dpi, plus rounding)
    assert max(_png_height(p) for p in pngs) <= 4.1 * 120
    data = json.loads((tmp_path / "f_14_2_1_4.json").read_text())
    assert data["pages"] == pages
    per_page = {}
    for rec in data["data"]:
        per_page.setdefault(rec["page"], []).append(rec["USUBJID"])
    assert sorted(per_page) == list(range(1, pages + 1))
    assert all(len(v) <= 7 for v in per_page.values())
    ids = [s for v in per_page.values() for s in v]
    assert sorted(ids) == sorted(adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"]) and len(set(ids)) == len(ids)
    # one RTF: a page per figure page, each titled "page k of n"
    rtf = (tmp_path / "f_14_2_1_4.rtf").read_text()
    assert rtf.count("\\pagebb") == pages - 1
    for k in range(1, pages + 1):
        assert f"Figure 14.2.1.4 (page {k} of {pages})" in rtf
    # the HTML shows every page in order; the index links each page's PNG and SVG
    html = (tmp_path / "f_14_2_1_4.html").read_text()
    assert re.findall(r'<img src="([^"]+)"', html) == [p.with_suffix(".svg").name for p in pngs]
    index = (tmp_path / "index.html").read_text()
    for p in pngs:
        assert f'href="{p.name}"' in index and f'href="{p.with_suffix(".svg").name}"' in index


def test_waterfall_pages_keep_the_order_and_one_scale(adam, tmp_path):
    spec = _with_cap("14.2.1.3", 6)
    build_tables(adam, tmp_path, only=["14.2.1.3"], tables=[], figures=[spec], catalogue=CAT)
    data = json.loads((tmp_path / "f_14_2_1_3.json").read_text())
    recs = data["data"]
    assert data["pages"] == math.ceil(len(recs) / 6) > 1
    # pages follow the waterfall: best % change descending across all pages, 6 bars a page
    assert [r["best_pchg"] for r in recs] == sorted((r["best_pchg"] for r in recs), reverse=True)
    assert [r["page"] for r in recs] == [i // 6 + 1 for i in range(len(recs))]


def test_a_figure_that_fits_stays_one_page_with_the_plain_names(adam, tmp_path):
    assert PER_PAGE >= 46                      # the bundled example (46 screened) fits on one page
    build_tables(adam, tmp_path, only=["14.2.1.4"], tables=[], catalogue=CAT)
    assert (tmp_path / "f_14_2_1_4.png").exists() and not list(tmp_path.glob("f_14_2_1_4_p*"))
    assert "pages" not in json.loads((tmp_path / "f_14_2_1_4.json").read_text())


@pytest.mark.parametrize("bad", [0, -3, "many", 2.5, True])
def test_per_page_must_be_a_positive_whole_number(tmp_path, bad):
    (tmp_path / "tables.yaml").write_text(
        "catalogue: 1\ninclude: [default]\noutputs:\n"
        f"  - {{id: '9.9', kind: figure, title: Swimmer, plot: {{type: swimmer, per_page: {json.dumps(bad)}}}}}\n")
    with pytest.raises(SpecError, match="per_page"):
        load_catalogue(tmp_path / "tables.yaml")


def test_per_page_is_declared_in_the_catalogue(tmp_path):
    (tmp_path / "tables.yaml").write_text(
        "catalogue: 1\ninclude: [default]\noutputs:\n"
        "  - {id: '9.9', kind: figure, title: Swimmer, plot: {type: swimmer, per_page: 40}}\n")
    fig = next(o for o in load_catalogue(tmp_path / "tables.yaml").figures if o.id == "9.9")
    assert fig.plot == Swimmer(per_page=40)


def test_a_per_subject_figure_above_max_subjects_is_not_produced_and_says_why(adam, tmp_path):
    from trialforge.tables.build import BuildReport
    adsl = adam["ADSL"].frame
    n_subjects = int((adsl["SAFFL"] == "Y").sum())              # the swimmer's population: safety
    spec = next(o for o in CAT.figures if o.id == "14.2.1.4")
    capped = dataclasses.replace(spec, plot=dataclasses.replace(spec.plot, max_subjects=n_subjects - 1))
    report = BuildReport()
    build_tables(adam, tmp_path, only=["14.2.1.4"], tables=[], figures=[capped], catalogue=CAT, report=report)
    assert report.produced == [] and not list(tmp_path.glob("f_14_2_1_4*"))
    reason = f"{n_subjects:,} subjects exceed max_subjects {n_subjects - 1:,} of this per-subject figure"
    assert report.skipped == [("Figure 14.2.1.4", reason)]
    assert reason in (tmp_path / "index.html").read_text()
    # at the cap the figure is drawn as before
    at_cap = dataclasses.replace(spec, plot=dataclasses.replace(spec.plot, max_subjects=n_subjects))
    build_tables(adam, tmp_path / "at", only=["14.2.1.4"], tables=[], figures=[at_cap], catalogue=CAT)
    assert (tmp_path / "at" / "f_14_2_1_4.png").exists()


@pytest.mark.parametrize("bad", [0, -1, "all", 1.5, True])
def test_max_subjects_must_be_a_positive_whole_number(tmp_path, bad):
    (tmp_path / "tables.yaml").write_text(
        "catalogue: 1\ninclude: [default]\noutputs:\n"
        f"  - {{id: '9.9', kind: figure, title: Spider, plot: {{type: spider, max_subjects: {json.dumps(bad)}}}}}\n")
    with pytest.raises(SpecError, match="max_subjects"):
        load_catalogue(tmp_path / "tables.yaml")
