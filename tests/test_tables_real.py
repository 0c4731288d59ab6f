"""CSR outputs of the real cd70-cart example, built from the pipeline's in-memory ADaM once per module.

Every number checked here is recomputed independently from ADaM with pandas/scipy/lifelines, never
read back from the code under test; RTF, HTML and JSON are parsed and compared for every table.
"""
from __future__ import annotations

import html as htmlmod
import json
import re
from datetime import datetime
from pathlib import Path

import sys

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from trialforge.errors import SpecError
from trialforge.specs.metadata import Dataset
from trialforge.tables.build import build_tables as _build_tables
from trialforge.tables.catalogue import load_catalogue

_CAT = load_catalogue(Path(__file__).resolve().parents[1] / "examples" / "cd70-cart" / "tables.yaml")


# Deliberate change (issue #17): the example builds ADEX and ADIS and takes CRS/ICANS management from ADAE
# (its CRF records tocilizumab/corticosteroids on the AE form; no ADCM), so every declared output is built.
ABSENT: set = set()


class catalog:  # the CD70 study catalogue (examples/cd70-cart/tables.yaml), outputs the example can produce
    TABLES = tuple(o for o in _CAT.outputs if o.kind != "Figure" and not ABSENT & set(o.requires))
    FIGURES = tuple(o for o in _CAT.figures if not ABSENT & set(o.requires))


def build_tables(*args, **kw):
    import yaml
    kw.setdefault("catalogue", _CAT)
    kw.setdefault("adam_config", yaml.safe_load((EXAMPLE / "specs" / "adam.yaml").read_text()))
    return _build_tables(*args, **kw)


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cd70-cart"
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="module")
def adam(example_build) -> dict:
    return example_build("cd70-cart").adam()


@pytest.fixture(scope="module")
def out(adam, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("real_tables")
    build_tables(adam, d, study={"title": "CD70-CART-101"})
    return d


# ------------------------------------------------------------------ helpers (independent of tables/)
def frame(adam, name: str) -> pd.DataFrame:
    return adam[name].frame


def safety(adam) -> pd.DataFrame:
    adsl = frame(adam, "ADSL")
    return adsl[adsl["SAFFL"] == "Y"]


def load(out: Path, stem: str) -> dict:
    return json.loads((out / f"{stem}.json").read_text())


def npct(n: int, d: int) -> str:
    """n (%) with half-up rounding done by hand (Python's round is half-even)."""
    if n == 0:
        return "0"
    pct = np.floor(1000 * n / d + 0.5 + 1e-9) / 10
    return f"{n} ({pct:.1f})"


def cohort_columns(pop: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(flat column label, subjects) in TRT01AN order, then Total: what the header must say."""
    cols = []
    for (_, trt), g in pop.groupby(["TRT01AN", "TRT01A"], sort=True):
        cols.append((f"{g['ROUTE'].iloc[0].title()} | {g['DOSELVL'].iloc[0]} (N={len(g)})", g))
    cols.append((f"Total (N={len(pop)})", pop))
    return cols


def cell(doc: dict, label: str, column: str, nth: int = 0) -> str:
    j = doc["columns"].index(column)
    return [r for r in doc["rows"] if r["label"] == label][nth]["cells"][j]


def rows_after(doc: dict, header_label: str) -> list[dict]:
    """Rows of the block a header row introduces (up to the next row at the header's indent)."""
    rows = doc["rows"]
    i = next(k for k, r in enumerate(rows) if r["label"] == header_label)
    out = []
    for r in rows[i + 1:]:
        if r["indent"] <= rows[i]["indent"]:
            break
        out.append(r)
    return out


# ------------------------------------------------------------------ every output, index, links
def test_every_declared_output_is_produced(out):
    index = (out / "index.html").read_text()
    assert index.count("not produced") == sum(bool(ABSENT & set(o.requires)) for o in _CAT.outputs) == 0
    for spec in catalog.TABLES:
        for ext in ("rtf", "html", "json"):
            assert (out / f"{spec.stem}.{ext}").stat().st_size > 0, (spec.id, ext)
    for spec in catalog.FIGURES:
        for ext in ("png", "svg", "rtf", "html", "json"):
            assert (out / f"{spec.stem}.{ext}").stat().st_size > 0, (spec.id, ext)
        assert (out / f"{spec.stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert json.loads((out / f"{spec.stem}.json").read_text())["data"], spec.id


def test_index_links_every_output_and_every_link_exists(out):
    links = set(re.findall(r'href="([^"]+)"', (out / "index.html").read_text()))
    for spec in catalog.TABLES + catalog.FIGURES:
        assert f"{spec.stem}.html" in links, spec.id
    for page in out.glob("*.html"):
        for link in re.findall(r'(?:href|src)="([^"]+)"', page.read_text()):
            assert (out / link).is_file(), (page.name, link)


def test_no_table_has_an_empty_column(out):
    """A column of only '0'/'-' in a population table means a mis-assigned cohort."""
    for spec in catalog.TABLES:
        doc = load(out, spec.stem)
        if spec.id in ("14.1.2", "14.2.1.1", "14.3.1.1"):
            for j, col in enumerate(doc["columns"]):
                assert any(r["cells"][j] not in ("", "0", "-") for r in doc["rows"]), (spec.id, col)


# ------------------------------------------------------------------ headers and denominators
def test_columns_are_cohorts_in_trt01an_order_with_population_n(adam, out):
    doc = load(out, "t_14_1_2")
    assert doc["columns"] == [c for c, _ in cohort_columns(safety(adam))]
    dose_legend = doc["footnotes"][-1]
    for lvl in sorted(set(safety(adam)["DOSELVL"])):
        assert f"{lvl} = " in dose_legend


def test_demographics_recomputed_with_pandas(adam, out):
    doc = load(out, "t_14_1_2")
    for col, g in cohort_columns(safety(adam)):
        age = g["AGE"].astype(float)
        assert cell(doc, "n", col) == str(age.notna().sum())
        assert cell(doc, "Median", col) == f"{np.floor(10 * age.median() + 0.5) / 10:.1f}"
        assert cell(doc, "Female", col) == npct(int((g["SEX"] == "F").sum()), len(g))
        assert cell(doc, "White", col) == npct(int((g["RACE"] == "WHITE").sum()), len(g))
        ecog = rows_after(doc, "ECOG performance status at baseline")
        assert {r["label"]: r["cells"][doc["columns"].index(col)] for r in ecog} == {
            str(lvl): npct(int((g["ECOGBL"] == lvl).sum()), len(g)) for lvl in (0, 1, 2)}


def test_disposition_counts_every_enrolled_subject(adam, out):
    adsl = frame(adam, "ADSL")
    doc = load(out, "t_14_1_1")
    total = f"Total (N={len(adsl)})"
    untreated = adsl["TRT01A"].fillna("").astype(str).str.strip() == ""
    assert f"Not treated (N={int(untreated.sum())})" in doc["columns"]
    assert cell(doc, "Safety Analysis Set", total) == npct(int((adsl["SAFFL"] == "Y").sum()), len(adsl))
    assert cell(doc, "Discontinued", total) == npct(int((adsl["EOSSTT"] == "DISCONTINUED").sum()), len(adsl))


# ------------------------------------------------------------------ adverse events
@pytest.mark.parametrize("stem,severe", [("t_14_3_1_2_1", False), ("t_14_3_1_2_2", True)])
def test_teae_by_soc_and_pt_recomputed_from_adae(adam, out, stem, severe):
    saf = safety(adam)
    ae = frame(adam, "ADAE")
    ae = ae[(ae["TRTEMFL"] == "Y") & ae["USUBJID"].isin(saf["USUBJID"])]
    if severe:
        ae = ae[ae["ATOXGRN"] >= 3]
    doc = load(out, stem)
    labels = [r["label"] for r in doc["rows"]]
    checked = 0
    for col, g in cohort_columns(saf):
        sub = ae[ae["USUBJID"].isin(g["USUBJID"])]
        assert doc["rows"][0]["cells"][doc["columns"].index(col)] == npct(sub["USUBJID"].nunique(), len(g))
        for soc, s in sub.groupby("AEBODSYS"):
            i = labels.index(soc)
            assert doc["rows"][i]["indent"] == 0
            assert doc["rows"][i]["cells"][doc["columns"].index(col)] == npct(s["USUBJID"].nunique(), len(g))
            for pt, p in s.groupby("AEDECOD"):
                j = next(k for k in range(i + 1, len(labels)) if labels[k] == pt)   # PT under its SOC
                assert doc["rows"][j]["cells"][doc["columns"].index(col)] == npct(p["USUBJID"].nunique(), len(g))
                checked += 1
    assert checked > 40
    socs = [r["label"] for r in doc["rows"][1:] if r["indent"] == 0]
    freq = ae.groupby("AEBODSYS")["USUBJID"].nunique()
    assert socs == sorted(freq.index, key=lambda s: (-freq[s], s))


def three_plus_three(n_ev: int, n_dlt: int) -> str:
    """The textbook 3+3 rule, written out independently of tables/escalation.py."""
    if n_dlt >= 2:
        return "MTD exceeded: de-escalate"
    if n_ev < 3:
        return "Incomplete: enrol to 3"
    if n_ev == 3:
        return "Escalate" if n_dlt == 0 else "Expand to 6"
    return "Incomplete: enrol to 6" if n_ev < 6 else "Escalate"


def test_dlt_table_counts_and_3_plus_3_decisions_from_adae_and_adsl(adam, out):
    saf = safety(adam)
    saf = saf[saf["PART"] == "A"]                     # 3+3 applies to the escalation part only
    ae = frame(adam, "ADAE")
    doc = load(out, "t_14_3_1_3")
    cols = doc["columns"]
    seen = 0
    for (_, _), g in saf.groupby(["TRT01AN", "TRT01A"], sort=True):
        label = f"{g['ROUTE'].iloc[0].title()} {g['DOSELVL'].iloc[0]}"
        row = next(r for r in doc["rows"] if r["label"] == label)["cells"]
        ev = g.loc[g["DLTEVLFL"] == "Y", "USUBJID"]
        n_dlt = ae.loc[(ae["DLTFL"] == "Y") & ae["USUBJID"].isin(ev), "USUBJID"].nunique()
        assert row[cols.index("Treated")] == str(len(g))
        assert row[cols.index("DLT-evaluable")] == str(len(ev))
        assert row[cols.index("Subjects with DLT")] == f"{n_dlt}/{len(ev)}"
        assert row[cols.index("3+3 decision")] == three_plus_three(len(ev), n_dlt), label
        seen += 1
    assert seen == saf["TRT01A"].nunique()
    mtd = {r["label"]: r["cells"][-1] for r in rows_after(doc, "Maximum tolerated dose by route")}
    assert set(mtd) == {r.title() for r in saf["ROUTE"]}
    part_b = safety(adam)[safety(adam)["PART"] == "B"]
    expanded = {r["label"]: r["cells"][-1] for r in rows_after(doc, "Dose level expanded (recommended dose)")}
    assert expanded == {route.title(): "; ".join(f"{lvl} (N={len(x)} treated)" for lvl, x in g.groupby("DOSELVL"))
                        for route, g in part_b.groupby("ROUTE")}


def test_crs_by_maximum_astct_grade(adam, out):
    saf = safety(adam)
    ae = frame(adam, "ADAE")
    crs = ae[(ae["CRSFL"] == "Y") & (ae["TRTEMFL"] == "Y")].groupby("USUBJID")["ASTCTGRN"].max()
    doc = load(out, "t_14_3_1_4")
    for col, g in cohort_columns(saf):
        got = {r["label"]: r["cells"][doc["columns"].index(col)] for r in rows_after(doc, "Maximum ASTCT grade of CRS")}
        mine = crs[crs.index.isin(g["USUBJID"])]
        for grade in (1, 2, 3, 4):
            assert got[f"Grade {grade}"] == npct(int((mine == grade).sum()), len(g))


# ------------------------------------------------------------------ efficacy
def test_orr_dcr_and_exact_ci_against_scipy(adam, out):
    eff = frame(adam, "ADSL")
    eff = eff[eff["EFFFL"] == "Y"]
    rs = frame(adam, "ADRS")
    bor = rs[rs["PARAMCD"] == "BOR"].set_index("USUBJID")["AVALC"]
    doc = load(out, "t_14_2_1_1")
    for col, g in cohort_columns(eff):
        b = bor.reindex(g["USUBJID"])
        for label, hits in (("Objective response rate (CR + PR), n (%)", ("CR", "PR")),
                            ("Disease control rate (CR + PR + SD + NON-CR/NON-PD), n (%)", ("CR", "PR", "SD", "NON-CR/NON-PD"))):
            x = int(b.isin(hits).sum())
            ci = binomtest(x, len(g)).proportion_ci(method="exact")
            assert cell(doc, label, col) == npct(x, len(g))
            k = 0 if "Objective" in label else 1
            lo, hi = (np.floor(1000 * v + 0.5) / 10 for v in (ci.low, ci.high))
            assert cell(doc, "95% CI", col, nth=k) == f"{lo:.1f}, {hi:.1f}", (label, col)


def test_pfs_median_and_events_against_lifelines(adam, out):
    lifelines = pytest.importorskip("lifelines")
    eff = frame(adam, "ADSL")
    eff = eff[eff["EFFFL"] == "Y"]
    tte = frame(adam, "ADTTE")
    doc = load(out, "t_14_2_2_1")
    total = f"Total (N={len(eff)})"
    pfs = tte[(tte["PARAMCD"] == "PFS") & tte["USUBJID"].isin(eff["USUBJID"])]
    kmf = lifelines.KaplanMeierFitter().fit(pfs["AVAL"] / 30.4375, 1 - pfs["CNSR"])
    assert cell(doc, "Events, n (%)", total) == npct(int((pfs["CNSR"] == 0).sum()), len(pfs))
    assert cell(doc, "Median (95% CI), months", total).startswith(f"{kmf.median_survival_time_:.1f} (")
    s6 = float(kmf.survival_function_at_times(6).iloc[0])
    assert cell(doc, "Rate at 6 months (95% CI), %", total).startswith(f"{100 * s6:.1f} (")


def test_pk_cmax_geometric_statistics_by_hand(adam, out):
    pk = frame(adam, "ADSL")
    pk = pk[pk["PKFL"] == "Y"]
    pp = frame(adam, "ADPP")
    doc = load(out, "t_14_2_3_1")
    g = pk[pk["TRT01A"] == pk["TRT01A"].value_counts().idxmax()]     # the largest cohort
    label = f"{g['ROUTE'].iloc[0].title()} {g['DOSELVL'].iloc[0]}"
    v = pp[(pp["PARAMCD"] == "CMAX") & pp["USUBJID"].isin(g["USUBJID"])]["AVAL"].dropna().to_numpy()
    gcv = np.sqrt(np.exp(np.var(np.log(v), ddof=1)) - 1) * 100
    # group rows now carry the group's N: "Intravenous DL3 (N=13)" (n < N shows who lacks a value)
    row = next(r for r in doc["rows"] if r["label"] == f"{label} (N={len(g)})")["cells"]   # first: Cmax
    assert row[doc["columns"].index("n")] == str(len(v))
    assert row[doc["columns"].index("Geo. CV%")] == f"{np.floor(10 * gcv + 0.5) / 10:.1f}"


# ------------------------------------------------------------------ RTF == HTML == JSON
CELL = re.compile(r"\{\\f\d+(?:\\[a-z]+\d*)* ?((?:[^{}\\]|\\[^a-z]|\\[a-z]+-?\d* ?)*)\}\\cell")


def rtf_rows(text: str) -> list[list[str]]:
    return [[c.replace("\\line ", " ").strip() for c in CELL.findall(chunk)] for chunk in text.split("\\row")[:-1]]


def html_cells(text: str) -> list[str]:
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [htmlmod.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", body)]


@pytest.mark.parametrize("spec", catalog.TABLES, ids=lambda s: s.id)
def test_rtf_numbers_equal_html_numbers_equal_json(out, spec):
    import rtf_reader as R
    doc = load(out, spec.stem)
    flat = [x for r in doc["rows"] for x in [r["label"], *r["cells"]]]
    assert html_cells((out / f"{spec.stem}.html").read_text()) == flat
    pages = R.pages((out / f"{spec.stem}.rtf").read_text())
    body = []
    for k, page in enumerate(pages):
        rows = page.rows[len(doc["header"]):]
        if k == len(pages) - 1 and doc["footnotes"]:
            rows = rows[:-1]
        body += [R.normalise(c.text) for r in rows if not r[0].text.endswith(" (cont.)") for c in r]
    flat = [R.normalise(x) for x in flat]
    assert body == flat, "RTF body differs from JSON"
    numbers = re.compile(r"-?\d+(?:\.\d+)?")
    assert numbers.findall(" ".join(body)) == numbers.findall(" ".join(flat))


# ------------------------------------------------------------------ CLI on the run's XPT, clear errors
def test_cli_on_xpt_written_by_the_pipeline_matches_in_memory(adam, out, tmp_path):
    from click.testing import CliRunner
    from trialforge.pipeline import write_package
    from trialforge.tables.command import tables_command
    write_package(adam, tmp_path / "adam", created=datetime(2026, 1, 31))
    res = CliRunner().invoke(tables_command, ["--adam", str(tmp_path / "adam"), "--only", "14.1.2",
                                              "--only", "14.3.1.3", "--out", str(tmp_path / "o"),
                                              "--catalogue", str(EXAMPLE / "tables.yaml"),
                                              "--adam-spec", str(EXAMPLE / "specs" / "adam.yaml")])
    assert res.exit_code == 0, res.output
    for stem in ("t_14_1_2", "t_14_3_1_3"):
        assert (tmp_path / "o" / f"{stem}.json").read_text() == (out / f"{stem}.json").read_text()
    assert "not produced" not in res.output


def test_cli_prints_each_output_not_produced(adam, tmp_path):
    # issue #17: outputs not produced are named on the console (number, title, reason), not only in index.html
    from click.testing import CliRunner
    from trialforge.pipeline import write_package
    from trialforge.tables.command import tables_command
    write_package({k: v for k, v in adam.items() if k != "ADEX"}, tmp_path / "adam", created=datetime(2026, 1, 31))
    res = CliRunner().invoke(tables_command, ["--adam", str(tmp_path / "adam"), "--only", "14.1",
                                              "--out", str(tmp_path / "o"), "--catalogue", str(EXAMPLE / "tables.yaml")])
    assert res.exit_code == 0, res.output
    assert "not produced: Table 14.1.4 Study Treatment Exposure: ADEX not supplied\n" in res.output
    assert res.output.count("not produced") == 1


@pytest.mark.slow
def test_missing_adam_variable_drops_only_the_outputs_using_it(adam, out, tmp_path):
    # Deliberate change (issue #17): a study without a study-specific ADSL variable loses only the
    # outputs that read it; every other output is built exactly as before.
    from trialforge.tables.build import BuildReport
    adsl = adam["ADSL"]
    broken = dict(adam, ADSL=Dataset(adsl.meta, adsl.frame.drop(columns=["CD70PCT"])))
    report = BuildReport()
    build_tables(broken, tmp_path, report=report)
    dropped = sorted(lab for lab, _ in report.skipped if "CD70PCT" in _)
    assert dropped == ["Figure 14.2.4.1", "Table 14.1.3", "Table 14.2.4.1"]
    assert not report.failed
    for spec in catalog.TABLES:
        if f"{spec.kind} {spec.id}" in dropped or not (out / f"{spec.stem}.json").exists():
            continue
        assert (tmp_path / f"{spec.stem}.json").read_text() == (out / f"{spec.stem}.json").read_text()


def test_renamed_parameter_is_a_clear_error_not_an_empty_table(adam, tmp_path):
    tte = adam["ADTTE"]
    f = tte.frame.assign(PARAMCD=tte.frame["PARAMCD"].replace({"PFS": "PFSINV"}))
    from trialforge.tables.build import TablesFailed
    with pytest.raises(TablesFailed, match="Table 14.2.2.1: .*no ADTTE records match"):
        build_tables(dict(adam, ADTTE=Dataset(tte.meta, f)), tmp_path, only=["14.2.2.1"], figures=[])
