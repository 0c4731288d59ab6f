"""Built outputs against independent recomputation from the demo ADaM, and RTF == HTML == JSON."""
from __future__ import annotations

import html as htmlmod
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from trialforge.errors import SpecError
from trialforge.tables import catalog
from trialforge.tables.build import build_tables
from trialforge.tables.demo_adam import make_adam
from trialforge.tables.escalation import decide
from trialforge.tables.spec import ByColumns, Categorical, Population, TableSpec


@pytest.fixture(scope="module")
def adam():
    return make_adam()


@pytest.fixture(scope="module")
def out(adam, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tables")
    build_tables(adam, d)
    return d


def load(out: Path, stem: str) -> dict:
    return json.loads((out / f"{stem}.json").read_text())


def cell(doc: dict, label: str, column: str, nth: int = 0) -> str:
    j = doc["columns"].index(column)
    rows = [r for r in doc["rows"] if r["label"] == label]
    return rows[nth]["cells"][j]


def npct(n: int, d: int) -> str:
    return "0" if n == 0 else f"{n} ({100 * n / d:.1f})"


def safety(adam):
    adsl = adam["ADSL"].frame
    return adsl[adsl["SAFFL"] == "Y"]


def col_label(trt: str, n: int) -> str:
    return f"{trt} (N={n})"


# ------------------------------------------------------------------ headers and denominators
def test_column_headers_carry_population_n(adam, out):
    saf = safety(adam)
    doc = load(out, "t_14_1_2")
    order = saf.drop_duplicates("TRT01A").sort_values("TRT01AN")["TRT01A"].tolist()
    expected = [col_label(t, int((saf["TRT01A"] == t).sum())) for t in order] + [f"Total (N={len(saf)})"]
    assert doc["columns"] == expected


def test_demographics_recomputed_with_pandas(adam, out):
    saf = safety(adam)
    doc = load(out, "t_14_1_2")
    for trt, g in saf.groupby("TRT01A"):
        col = col_label(trt, len(g))
        assert cell(doc, "Mean (SD)", col) == f"{g['AGE'].mean():.1f} ({g['AGE'].std():.2f})"
        assert cell(doc, "Female", col) == npct(int((g["SEX"] == "F").sum()), len(g))
        assert cell(doc, "Male", col) == npct(int((g["SEX"] == "M").sum()), len(g))
    assert cell(doc, "n", f"Total (N={len(saf)})") == str(saf["AGE"].notna().sum())


def test_disposition_includes_untreated_column(adam, out):
    adsl = adam["ADSL"].frame
    doc = load(out, "t_14_1_1")
    untreated = int((adsl["TRT01A"] == "").sum())
    assert f"Not treated (N={untreated})" in doc["columns"]
    assert cell(doc, "Safety Analysis Set", f"Total (N={len(adsl)})") == npct(int((adsl["SAFFL"] == "Y").sum()), len(adsl))


# ------------------------------------------------------------------ adverse events
def test_teae_by_soc_pt_recomputed_with_pandas(adam, out):
    saf = safety(adam)
    ae = adam["ADAE"].frame
    ae = ae[(ae["TRTEMFL"] == "Y") & ae["USUBJID"].isin(saf["USUBJID"])]
    doc = load(out, "t_14_3_1_2")
    ns = saf.groupby("TRT01A").size()
    columns = {f"{col_label(t, n)} | Any grade": (t, False) for t, n in ns.items()}
    columns.update({f"{col_label(t, n)} | Grade >=3": (t, True) for t, n in ns.items()})
    columns[f"Total (N={len(saf)}) | Any grade"] = (None, False)
    columns[f"Total (N={len(saf)}) | Grade >=3"] = (None, True)
    checked = 0
    for (soc, pt), _ in ae.groupby(["AEBODSYS", "AEDECOD"]):
        for col, (trt, severe) in columns.items():
            sub = ae[(ae["AEBODSYS"] == soc) & (ae["AEDECOD"] == pt)]
            if severe:
                sub = sub[sub["ATOXGRN"] >= 3]
            if trt is not None:
                sub = sub[sub["TRT01A"] == trt]
            denom = len(saf) if trt is None else int(ns[trt])
            assert cell(doc, pt, col) == npct(sub["USUBJID"].nunique(), denom), (soc, pt, col)
            checked += 1
    assert checked > 50


def test_soc_and_pt_sorted_by_descending_total_frequency(adam, out):
    saf = safety(adam)
    ae = adam["ADAE"].frame
    ae = ae[(ae["TRTEMFL"] == "Y") & ae["USUBJID"].isin(saf["USUBJID"])]
    doc = load(out, "t_14_3_1_2")
    socs = [r["label"] for r in doc["rows"][1:] if r["indent"] == 0]
    freq = ae.groupby("AEBODSYS")["USUBJID"].nunique()
    assert socs == sorted(freq.index, key=lambda s: (-freq[s], s))
    for soc in socs:
        pts = ae[ae["AEBODSYS"] == soc].groupby("AEDECOD")["USUBJID"].nunique()
        i = [r["label"] for r in doc["rows"]].index(soc)
        shown = []
        for r in doc["rows"][i + 1:]:
            if r["indent"] == 0:
                break
            shown.append(r["label"])
        assert shown == sorted(pts.index, key=lambda p: (-pts[p], p))


def test_dlt_table_applies_three_plus_three(adam, out):
    adsl = safety(adam)
    ae = adam["ADAE"].frame
    doc = load(out, "t_14_3_1_3")
    for trt, g in adsl.groupby("TRT01A"):
        ev = g[g["DLTEVLFL"] == "Y"]["USUBJID"]
        n_dlt = ae[(ae["DLTFL"] == "Y") & ae["USUBJID"].isin(ev)]["USUBJID"].nunique()
        assert cell(doc, trt, "Subjects with DLT") == f"{n_dlt}/{len(ev)}"
        assert cell(doc, trt, "3+3 decision") == decide(len(ev), n_dlt)
    assert cell(doc, "INTRAVENOUS", "3+3 decision") == "MTD DL2 (recommended dose)"
    assert cell(doc, "INTRATUMORAL", "3+3 decision") == "MTD not reached; highest cleared dose level DL1"


def test_crs_max_grade_counts(adam, out):
    saf = safety(adam)
    ae = adam["ADAE"].frame
    crs = ae[(ae["CRSFL"] == "Y") & (ae["TRTEMFL"] == "Y")].groupby("USUBJID")["ASTCTGRN"].max()
    doc = load(out, "t_14_3_1_4")
    total = f"Total (N={len(saf)})"
    for g in (1, 2, 3, 4):
        assert cell(doc, f"Grade {g}", total) == npct(int((crs == g).sum()), len(saf))


# ------------------------------------------------------------------ efficacy
def test_orr_and_exact_ci_against_scipy(adam, out):
    saf = safety(adam)
    rs = adam["ADRS"].frame
    doc = load(out, "t_14_2_1_1")
    for trt, g in list(saf.groupby("TRT01A")) + [("Total", saf)]:
        col = f"Total (N={len(saf)})" if trt == "Total" else col_label(trt, len(g))
        bor = rs[(rs["PARAMCD"] == "BOR") & rs["USUBJID"].isin(g["USUBJID"])]
        x = int(bor["AVALC"].isin(["CR", "PR"]).sum())
        ci = binomtest(x, len(g)).proportion_ci(method="exact")
        assert cell(doc, "Objective response rate (CR + PR), n (%)", col) == npct(x, len(g))
        assert cell(doc, "95% CI", col) == f"{100 * ci.low:.1f}, {100 * ci.high:.1f}"


def test_pfs_median_against_lifelines(adam, out):
    lifelines = pytest.importorskip("lifelines")
    saf = safety(adam)
    tte = adam["ADTTE"].frame
    pfs = tte[(tte["PARAMCD"] == "PFS") & tte["USUBJID"].isin(saf["USUBJID"])]
    kmf = lifelines.KaplanMeierFitter().fit(pfs["AVAL"] / 30.4375, 1 - pfs["CNSR"])
    doc = load(out, "t_14_2_2_1")
    text = cell(doc, "Median (95% CI), months", f"Total (N={len(saf)})")
    assert text.startswith(f"{kmf.median_survival_time_:.1f} (")
    assert cell(doc, "Events, n (%)", f"Total (N={len(saf)})") == npct(int((pfs["CNSR"] == 0).sum()), len(pfs))


def test_pk_geometric_cv_by_hand(adam, out):
    pp = adam["ADPP"].frame
    doc = load(out, "t_14_2_3_1")
    v = pp[(pp["PARAMCD"] == "CMAX") & (pp["TRT01A"] == "DL2 IV")]["AVAL"].to_numpy()
    s2 = np.var(np.log(v), ddof=1)
    gcv = np.sqrt(np.exp(s2) - 1) * 100
    rows = [r for r in doc["rows"] if r["label"] == "DL2 IV"]   # first DL2 IV row is under Cmax
    assert rows[0]["cells"][doc["columns"].index("Geo. CV%")] == f"{gcv:.1f}"
    assert rows[0]["cells"][doc["columns"].index("n")] == str(len(v))
    tmax = rows[1]["cells"]
    assert tmax[doc["columns"].index("Geo. mean")] == ""      # Tmax: median/min/max only


# ------------------------------------------------------------------ formats agree
CELL = re.compile(r"\{\\f\d+(?:\\[a-z]+\d*)* ?((?:[^{}\\]|\\[^a-z]|\\[a-z]+-?\d* ?)*)\}\\cell")


def rtf_rows(text: str) -> list[list[str]]:
    """Cell texts of every RTF table row (\\row ends a row)."""
    return [[c.strip() for c in CELL.findall(chunk)] for chunk in text.split("\\row")[:-1]]


def html_cells(text: str) -> list[str]:
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [htmlmod.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", body)]


@pytest.mark.parametrize("spec", catalog.TABLES, ids=lambda s: s.id)
def test_rtf_numbers_equal_html_numbers_equal_json(out, spec):
    doc = load(out, spec.stem)
    flat = [x for r in doc["rows"] for x in [r["label"], *r["cells"]]]
    assert html_cells((out / f"{spec.stem}.html").read_text()) == flat
    headers = [[doc["stub_header"] if k == 0 else ""] + [h["text"] for h in hrow]
               for k, hrow in enumerate(doc["header"])]
    rows = [r for r in rtf_rows((out / f"{spec.stem}.rtf").read_text()) if r not in headers]
    footnote_rows = [r for r in rows if len(r) == 1]
    body = [c for r in rows if len(r) > 1 for c in r]
    assert body == flat, "RTF body differs from JSON"
    assert len(footnote_rows) == (1 if doc["footnotes"] else 0)


# ------------------------------------------------------------------ index, files, determinism
def test_index_links_every_output_and_every_link_exists(out):
    index = (out / "index.html").read_text()
    links = set(re.findall(r'href="([^"]+)"', index))
    for spec in catalog.TABLES + catalog.FIGURES:
        assert f"{spec.stem}.html" in links, spec.id
    for link in links:
        assert (out / link).is_file(), link
    for page in out.glob("*.html"):
        for link in re.findall(r'(?:href|src)="([^"]+)"', page.read_text()):
            assert (out / link).is_file(), (page.name, link)


def test_figures_written_as_png_and_svg_with_data(out):
    for spec in catalog.FIGURES:
        assert (out / f"{spec.stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        svg = (out / f"{spec.stem}.svg").read_text()
        assert "<dc:date>" not in svg
        assert json.loads((out / f"{spec.stem}.json").read_text())["data"]


def test_reruns_are_byte_identical(adam, out, tmp_path):
    build_tables(adam, tmp_path)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_no_timestamps_in_rtf_or_html(out):
    for p in list(out.glob("*.rtf")) + list(out.glob("*.html")):
        text = p.read_text(errors="replace")
        assert not re.search(r"\\creatim|\\revtim|20\d\d-\d\d-\d\dT", text), p.name


# ------------------------------------------------------------------ selection, missing data, errors
def test_only_selects_by_prefix_and_missing_dataset_is_listed(adam, tmp_path):
    partial = {k: v for k, v in adam.items() if k != "ADLB"}
    paths = build_tables(partial, tmp_path, only=["14.3"])
    stems = {p.stem for p in paths}
    assert "t_14_3_1_2" in stems and "t_14_1_2" not in stems and "t_14_3_4_1" not in stems
    assert "ADLB not supplied" in (tmp_path / "index.html").read_text()


def test_unknown_variable_in_spec_is_a_spec_error(adam, tmp_path):
    bad = TableSpec("99.1", "Bad", Population("Safety", "SAFFL == 'Y'"),
                    ByColumns(blocks=(Categorical("NOSUCHVAR", "Nothing"),)))
    with pytest.raises(SpecError, match="NOSUCHVAR"):
        build_tables(adam, tmp_path, tables=[bad], figures=[])


def test_cli_reads_xpt_folder(adam, tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    from click.testing import CliRunner
    from trialforge.tables.command import tables_command
    xpt = tmp_path / "adam"
    xpt.mkdir()
    for name, ds in adam.items():
        frame = ds.frame.copy()
        for c in frame.columns:
            if frame[c].dtype == object or str(frame[c].dtype).startswith("str"):
                frame[c] = frame[c].fillna("").astype(str)
        pyreadstat.write_xport(frame, str(xpt / f"{name.lower()}.xpt"), table_name=name, file_format_version=5)
    res = CliRunner().invoke(tables_command, ["--adam", str(xpt), "--only", "14.1.2", "--only", "14.2.2.1",
                                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "o" / "t_14_1_2.json").read_text())
    assert doc["columns"][-1] == f"Total (N={len(safety(adam))})"
    assert (tmp_path / "o" / "f_14_2_2_1.png").exists()
