"""CSR-grade RTF and the new shells, on the real cd70-cart example built through the study's catalogue.

The RTF is read back with tests/rtf_reader.py (written apart from tables/render.py): every page of every
table and listing must carry the titles, the full column header and "Page x of y", and every row on every
page must have the indent and bold of its JSON row. LibreOffice (when installed) renders the RTF to PDF
and the page count and per-page titles are checked. New shells are recomputed with pandas from ADaM.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rtf_reader as R  # noqa: E402

from trialforge.specs.metadata import Dataset  # noqa: E402
from trialforge.tables.build import BuildReport, build_study_tables, build_tables  # noqa: E402
from trialforge.tables.catalogue import default_catalogue, load_catalogue, study_catalogue  # noqa: E402
from trialforge.tables.km import kaplan_meier, survival_at  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cd70-cart"


@pytest.fixture(scope="module")
def study():
    from trialforge.specs.study import load_study
    return load_study(EXAMPLE)


@pytest.fixture(scope="module")
def adam(example_build) -> dict:
    return example_build("cd70-cart").adam()


@pytest.fixture(scope="module")
def out(study, adam, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cd70_tables")
    build_study_tables(study, adam, d)
    return d


def tables_built(out: Path) -> list[dict]:
    docs = [json.loads(p.read_text()) for p in sorted(out.glob("[tl]_*.json"))]
    assert len(docs) >= 25
    return docs


def stem(doc) -> str:
    return ("l_" if doc["kind"] == "Listing" else "t_") + doc["id"].replace(".", "_")


# ------------------------------------------------------------------ pagination read back
def test_every_page_has_titles_column_header_and_page_x_of_y(out):
    for doc in tables_built(out):
        text = (out / f"{stem(doc)}.rtf").read_text()
        header = R.running_header(text)
        assert "Page {PAGE} of {NUMPAGES}" in header and "CD70-CART-101" in header, doc["id"]
        assert doc["population"] in header and "Data cut-off: 2025-09-30" in header
        # Deliberate change (issue #17): the header is two paragraphs with a right tab stop at the right
        # margin: protocol left and "Page x of y" right on the first line; population and cut-off right
        # on the second (it was one right-aligned paragraph).
        margin = R.text_width_twips(text)
        assert R.header_paragraphs(text) == [
            {"align": "l", "right_tabs": [margin], "left": "Protocol: CD70-CART-101",
             "right": "Page {PAGE} of {NUMPAGES}"},
            {"align": "l", "right_tabs": [margin], "left": "",
             "right": f"{doc['population']}    Data cut-off: 2025-09-30"}], doc["id"]
        want_head = [[doc["stub_header"] if k == 0 else ""] + [h["text"] for h in hrow]
                     for k, hrow in enumerate(doc["header"])]
        for n, page in enumerate(R.pages(text), start=1):
            assert page.titles == [f"{doc['kind']} {doc['id']}", doc["title"], doc["population"]], (doc["id"], n)
            got = [[R.normalise(c.text) for c in row] for row in page.rows[:len(want_head)]]
            assert got == [[R.normalise(t) for t in row] for row in want_head], (doc["id"], n)
        assert "Program: trialforge tables" in text and "Data source: ADaM ADSL" in text


def test_every_row_on_every_page_keeps_its_indent_and_bold(out):
    multi_page = 0
    for doc in tables_built(out):
        text = (out / f"{stem(doc)}.rtf").read_text()
        nhead = len(doc["header"])
        expected = list(doc["rows"])
        seen: list[dict] = []
        pages = R.pages(text)
        multi_page += len(pages) > 1
        for n, page in enumerate(pages, start=1):
            body = page.rows[nhead:]
            if n < len(pages) or not doc["footnotes"]:
                pass
            else:
                body = body[:-1]                     # the footnote row of the last page
            for row in body:
                label = row[0]
                if label.text.endswith(" (cont.)"):
                    # a repeated group heading: an earlier row of this table, at its indent, in bold
                    name = label.text[:-len(" (cont.)")]
                    assert n > 1 and label.bold
                    assert any(r["label"] == name and 200 * r["indent"] == label.indent for r in seen), name
                    assert all(R.normalise(c.text) == "" for c in row[1:])
                    continue
                want = expected.pop(0)
                seen.append(want)
                assert R.normalise(label.text) == R.normalise(want["label"]), (doc["id"], n)
                assert label.indent == 200 * want["indent"], (doc["id"], n, want["label"])
                assert label.bold == want["header"], (doc["id"], n, want["label"])
                assert [R.normalise(c.text) for c in row[1:]] == [R.normalise(c) for c in want["cells"]]
        assert expected == [], f"{doc['id']}: rows missing from the RTF"
    assert multi_page >= 3            # the check means something: several outputs span pages


def test_a_page_starting_inside_a_group_repeats_its_heading(out):
    text = (out / "t_14_3_1_2_1.rtf").read_text()
    pages = R.pages(text)
    assert len(pages) > 1
    for page in pages[1:]:
        first = page.rows[len(json.loads((out / "t_14_3_1_2_1.json").read_text())["header"])]
        if first[0].indent > 0 or first[0].text.endswith("(cont.)"):
            assert first[0].text.endswith(" (cont.)") and first[0].indent == 0 and first[0].bold


def test_figure_rtf_is_one_page_with_titles_picture_and_footnotes(out):
    for path in sorted(out.glob("f_*.rtf")):
        text = path.read_text()
        doc = json.loads(path.with_suffix(".json").read_text())
        assert "\\pagebb" not in text and text.count("\\page") == 0, path.name
        assert text.count("\\pict") == 1
        (page,) = R.pages(text)
        assert page.titles[0] == f"Figure {doc['id']}"
        for f in doc["footnotes"]:
            assert R.plain(f)[0][:20] in R.UNI.sub(lambda m: chr(int(m.group(1))), text), (path.name, f)


def test_typography_and_ascii_rtf(out):
    legend = json.loads((out / "t_14_1_2.json").read_text())["footnotes"][-1]
    assert "×10⁶" in legend and "10^" not in legend
    rtf = (out / "t_14_1_2.rtf").read_bytes()
    assert max(rtf) < 128                       # every non-ASCII character as an RTF \u escape
    assert b"\\u215*" in rtf and b"\\u8310*" in rtf     # x and superscript six
    for p in out.glob("*.json"):
        assert "x 10^" not in p.read_text() and " ug/" not in p.read_text()


# ------------------------------------------------------------------ LibreOffice render
@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext") and shutil.which("pdfinfo")),
                    reason="LibreOffice (soffice) and poppler-utils (pdftotext, pdfinfo) not installed")
def test_libreoffice_renders_the_pages_we_cut_each_with_its_title(out, tmp_path):
    names = ["t_14_3_1_2_1", "t_14_3_1_2_3", "t_14_1_1", "l_16_2_7_1", "t_14_3_1_3", "f_14_2_2_2"]
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    *[str(out / f"{n}.rtf") for n in names]], check=True, capture_output=True, timeout=600)
    for n in names:
        pdf = tmp_path / f"{n}.pdf"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        npages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
        assert npages == len(R.pages((out / f"{n}.rtf").read_text())), n
        kind = {"t": "Table", "l": "Listing", "f": "Figure"}[n[0]]
        oid = ".".join(n.split("_")[1:])
        for k in range(1, npages + 1):
            page = subprocess.run(["pdftotext", "-layout", "-f", str(k), "-l", str(k), str(pdf), "-"],
                                  capture_output=True, text=True, check=True).stdout
            assert f"{kind} {oid}" in page, (n, k)
            assert re.search(rf"Page {k}\s*of\s*{npages}", page), (n, k)
        # the running header as rendered: protocol at the left margin, "Page x of y" ending at the right one
        box = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                             text=True, check=True).stdout
        words = [(w, float(x0), float(x1)) for x0, x1, w in
                 re.findall(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]+)<', box)]
        width = float(re.search(r'<page width="([\d.]+)"', box).group(1))
        assert abs(next(x0 for w, x0, _ in words if w == "Protocol:") - 72) < 3, n            # 1 in margin
        ends = [x1 for w, _, x1 in words if w in (str(npages), f"of{npages}")]
        assert any(abs(x1 - (width - 72)) < 3 for x1 in ends), (n, ends, width)


# ------------------------------------------------------------------ footnotes from the configuration
def test_teae_and_dlt_footnotes_come_from_adam_yaml(out, adam):
    import yaml
    cfg = yaml.safe_load((EXAMPLE / "specs" / "adam.yaml").read_text())
    start = cfg["adae"]["trtemfl"]["start"]
    label = adam["ADSL"].meta.variable(start).label.lower()
    foot = json.loads((out / "t_14_3_1_1.json").read_text())["footnotes"]
    assert f"Treatment-emergent: onset on or after the {label}." in foot
    assert any(f"within {cfg['adae']['dlt']['window_days']} days" in f for f in foot)
    assert not any("TRTEMFL" in f or "ANL01FL" in f for f in foot)


def test_dlt_row_of_the_overview_agrees_with_the_dlt_table(out, adam):
    ae, adsl = adam["ADAE"].frame, adam["ADSL"].frame
    ev = set(adsl.loc[adsl["DLTEVLFL"] == "Y", "USUBJID"])
    n = ae.loc[(ae["DLTFL"] == "Y") & ae["USUBJID"].isin(ev), "USUBJID"].nunique()
    doc = json.loads((out / "t_14_3_1_1.json").read_text())
    row = next(r for r in doc["rows"] if r["label"].startswith("Dose-limiting toxicity"))
    assert row["cells"][-1].split(" ")[0] == str(n)
    dlt = json.loads((out / "t_14_3_1_3.json").read_text())
    total = sum(int(r["cells"][3].split("/")[0]) for r in dlt["rows"] if re.fullmatch(r"\d+/\d+", r["cells"][3] or ""))
    assert total == n


def test_crs_onset_is_days_since_infusion(out, adam):
    ae = adam["ADAE"].frame
    crs = ae[(ae["TRTEMFL"] == "Y") & (ae["CRSFL"] == "Y")].sort_values(["USUBJID", "ASTDT"])
    first = crs.groupby("USUBJID").first()
    days = (first["ASTDT"] - first["TRTSDT"]).astype(float)
    doc = json.loads((out / "t_14_3_1_4.json").read_text())
    i = next(k for k, r in enumerate(doc["rows"]) if r["label"].startswith("Time to onset of first CRS"))
    med = doc["rows"][i + 2]["cells"][-1]
    assert med.startswith(f"{np.floor(np.median(days) + 0.5):.0f} (")
    assert med.endswith(f"{days.min():.0f}, {days.max():.0f})")
    assert (first["ASTDY"] - days == 1).all()          # study day = days since infusion + 1 (no day 0)


# ------------------------------------------------------------------ new shells recomputed
def test_worst_grade_columns_recomputed(out, adam):
    ae, adsl = adam["ADAE"].frame, adam["ADSL"].frame
    saf = adsl[adsl["SAFFL"] == "Y"]
    te = ae[(ae["TRTEMFL"] == "Y") & ae["USUBJID"].isin(saf["USUBJID"])]
    doc = json.loads((out / "t_14_3_1_2_3.json").read_text())
    cols = doc["columns"]
    N = len(saf)
    rows = {r["label"]: r["cells"] for r in doc["rows"]}
    for soc, g in te.groupby("AEBODSYS"):
        worst = g.groupby("USUBJID")["ATOXGRN"].max()
        for grade in range(1, 6):
            k = int((worst == grade).sum())
            cell = rows[soc][next(j for j, c in enumerate(cols) if c.endswith(f"Grade {grade}"))]
            assert cell == ("0" if k == 0 else f"{k} ({100 * k / N:.1f})"), (soc, grade)
        assert rows[soc][-1].split(" ")[0] == str(g["USUBJID"].nunique())
    pt = te[te["AEDECOD"] == "Cytokine release syndrome"].groupby("USUBJID")["ATOXGRN"].max()
    assert sum(int(c.split(" ")[0]) for c in rows["Cytokine release syndrome"][:5]) == len(pt)


def test_all_deaths_table_and_listing_recomputed(out, adam):
    adsl = adam["ADSL"].frame
    dead = adsl[(adsl["SAFFL"] == "Y") & (adsl["DTHFL"] == "Y")]
    assert len(dead) >= 10
    doc = json.loads((out / "t_14_3_2_3.json").read_text())
    rows = {r["label"]: r["cells"][-1] for r in doc["rows"]}
    N = int((adsl["SAFFL"] == "Y").sum())
    assert rows["Subjects who died"] == f"{len(dead)} ({100 * len(dead) / N:.1f})"
    days = dead["DTHDT"] - dead["TRTSDT"]
    for label, k in (("≤30 days", (days <= 30).sum()), ("31-90 days", ((days > 30) & (days <= 90)).sum()),
                     (">90 days", (days > 90).sum())):
        assert rows[label] == ("0" if k == 0 else f"{k} ({100 * k / N:.1f})")
    for cause, k in dead["DTHCAUS"].value_counts().items():
        label = cause[:1].upper() + cause[1:].lower() if cause.isupper() else cause
        assert rows[label] == f"{k} ({100 * k / N:.1f})"
    listing = json.loads((out / "l_16_2_7_4.json").read_text())
    assert [r["label"] for r in listing["rows"]] == sorted(dead["USUBJID"])
    first = listing["rows"][0]
    subj = dead.set_index("USUBJID").loc[first["label"]]
    assert first["cells"][1] == (pd.Timestamp("1960-01-01") + pd.Timedelta(days=subj["DTHDT"])).strftime("%Y-%m-%d")
    assert first["cells"][2] == str(int(subj["DTHDT"] - subj["TRTSDT"]))


def test_shift_to_low_recomputed(out, adam):
    lb, adsl = adam["ADLB"].frame, adam["ADSL"].frame
    saf = set(adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"])
    lb = lb[lb["USUBJID"].isin(saf) & (lb["PARAMCD"] == "NEUT")]
    base = lb[lb["BNRIND"].astype(str).str.strip() != ""].groupby("USUBJID")["BNRIND"].first()
    post = lb[(lb["ADY"] > 1) & lb["ANRIND"].isin(["LOW", "NORMAL", "HIGH"])]
    worst = post.groupby("USUBJID")["ANRIND"].agg(lambda s: "LOW" if (s == "LOW").any() else
                                                  ("NORMAL" if (s == "NORMAL").any() else s.iloc[0]))
    both = pd.DataFrame({"b": base, "w": worst}).dropna()
    doc = json.loads((out / "t_14_3_4_3.json").read_text())
    i = next(k for k, r in enumerate(doc["rows"]) if r["label"].startswith("Neutrophils"))
    assert doc["rows"][i]["label"].endswith(f"(n={len(both)})")
    normal = doc["rows"][i + 2]               # Baseline normal
    k = int(((both["b"] == "NORMAL") & (both["w"] == "LOW")).sum())
    assert normal["label"] == "Baseline normal"
    assert normal["cells"][0] == ("0" if k == 0 else f"{k} ({100 * k / len(both):.1f})")


def test_exposure_and_ada_shells_from_supplied_datasets(adam, tmp_path):
    adsl = adam["ADSL"].frame
    saf = adsl[adsl["SAFFL"] == "Y"].reset_index(drop=True)
    rng = np.random.default_rng(7)
    dose = rng.uniform(1, 10, len(saf)).round(2)
    adex = pd.DataFrame({"USUBJID": saf["USUBJID"], "PARAMCD": "CARTDOSE", "PARAM": "CAR-T cell dose (x10^6 cells/kg)",
                         "PARAMN": 1, "AVAL": dose, "AVALU": "10^6 cells/kg"})
    visits = ["BASELINE", "DAY 28", "MONTH 3"]
    adis = pd.DataFrame([{"USUBJID": u, "PARAMCD": "ADA_BAB", "AVISIT": v, "AVISITN": k, "ABLFL": "Y" if k == 0 else "",
                          "ADY": -3 if k == 0 else 29 * k, "AVALC": "POSITIVE" if (i + k) % 4 == 0 else "NEGATIVE",
                          "AVAL": float((i + k) % 4 == 0)} for i, u in enumerate(saf["USUBJID"]) for k, v in enumerate(visits)])
    data = dict(adam, ADEX=adex, ADIS=adis)
    report = BuildReport()
    build_tables(data, tmp_path, only=["14.1.4", "14.3.5"], catalogue=study_catalogue_cd70(), report=report)
    assert not report.skipped and not report.failed
    ex = json.loads((tmp_path / "t_14_1_4.json").read_text())
    by_grp = pd.Series(dose, index=saf["TRT01A"].to_numpy())
    rows = {r["label"]: r["cells"] for r in ex["rows"]}
    grp = saf.sort_values("TRT01AN")["TRT01A"].iloc[0]
    vals = by_grp.loc[[grp]].to_numpy()
    cells = rows[f"{grp} (N={len(vals)})"]
    assert ex["rows"][0]["label"].startswith("CAR-T cell dose (×10⁶ cells/kg)")
    assert cells[0] == str(len(vals)) and cells[1] == f"{np.floor(vals.mean() * 10 + 0.5) / 10:.1f}"
    ada = json.loads((tmp_path / "t_14_3_5_2.json").read_text())
    N = len(saf)
    post = adis[(adis["ADY"] > 1) & (adis["AVALC"] == "POSITIVE")]["USUBJID"].nunique()
    base = adis[(adis["ABLFL"] == "Y") & (adis["AVALC"] == "POSITIVE")]["USUBJID"].nunique()
    got = {r["label"]: r["cells"][-1] for r in ada["rows"]}
    assert got["Positive after infusion"] == f"{post} ({100 * post / N:.1f})"
    assert got["Positive at baseline"] == f"{base} ({100 * base / N:.1f})"


def study_catalogue_cd70():
    return load_catalogue(EXAMPLE / "tables.yaml")


def test_absent_datasets_are_reported_not_failed(study, adam, tmp_path):
    # Deliberate change (issue #17): the example now builds ADEX and ADIS and takes CRS/ICANS management
    # from ADAE, so the datasets are removed here to see outputs reported as not produced.
    report = BuildReport()
    build_study_tables(study, {k: v for k, v in adam.items() if k not in ("ADEX", "ADIS")}, tmp_path,
                       only=["14.1.4", "14.3.5", "14.3.1.1"], report=report)
    index = (tmp_path / "index.html").read_text()
    for oid, ds in (("14.1.4", "ADEX"), ("14.3.5.1", "ADIS"), ("14.3.5.2", "ADIS")):
        assert re.search(rf"{re.escape(oid)}</td><td class=\"stub\">[^<]*<em>\(not produced: {ds} not supplied\)",
                         index), oid
    assert report.produced == ["Table 14.3.1.1"] and not report.failed
    assert report.not_produced_lines() == [
        "not produced: Table 14.1.4 Study Treatment Exposure: ADEX not supplied",
        "not produced: Table 14.3.5.1 Anti-CAR Antibody Positivity at Each Time Point: ADIS not supplied",
        "not produced: Table 14.3.5.2 Subjects with Anti-CAR Antibodies: ADIS not supplied"]


# ------------------------------------------------------------------ KM, catalogue, CLI
def test_km_landmark_is_zero_when_the_last_observation_is_an_event():
    fit = kaplan_meier([2, 4, 5], [1, 0, 1])          # S: 2/3 after t=2, 0 after t=5 (last at risk dies)
    assert survival_at(fit, 3)[0] == pytest.approx(2 / 3)
    assert survival_at(fit, 12)[0] == 0.0
    fit2 = kaplan_meier([2, 4, 5], [1, 1, 0])         # last observation censored: beyond it not estimable
    assert np.isnan(survival_at(fit2, 12)[0])


def test_default_catalogue_needs_only_adamig_variables():
    cat = default_catalogue()
    ids = {o.id for o in cat.outputs}
    assert {"14.1.1", "14.1.2", "14.3.1.1", "14.3.1.2.3", "14.3.2.3", "16.2.7.1", "16.2.7.4"} <= ids
    text = (Path(__file__).resolve().parents[1] / "tables" / "catalogues" / "default.yaml").read_text()
    for study_var in ("DOSELVL", "ROUTE", "PART", "CD70", "CRSFL", "DLTFL"):
        assert study_var not in text


def test_catalogue_errors_name_file_and_key(tmp_path):
    from trialforge.errors import SpecError
    bad = tmp_path / "tables.yaml"
    bad.write_text("catalogue: 1\npopulations: {safety: {label: S, where: \"SAFFL == 'Y'\"}}\noutputs:\n  - {id: '1.1', title: T, blocks: [{type: categorical, var: SEX, lable: Sex}]}\n")
    with pytest.raises(SpecError, match=r"unknown key 'lable'.*tables.yaml"):
        load_catalogue(bad)
    bad.write_text("catalogue: 1\ninclude: [oncology]\n")
    with pytest.raises(SpecError, match="unknown catalogue block 'oncology'"):
        load_catalogue(bad)


def test_cli_unknown_only_number_exits_2_and_leaves_no_folder(tmp_path):
    from click.testing import CliRunner
    from trialforge.cli import main
    res = CliRunner().invoke(main, ["tables", str(EXAMPLE), "--only", "99.9", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "99.9" in res.output
    assert not (tmp_path / "o").exists()


def test_cli_adam_folder_without_adsl_exits_2(tmp_path, adam):
    from click.testing import CliRunner
    from trialforge.cli import main
    from trialforge.submission.xpt import write_xpt
    from datetime import datetime
    (tmp_path / "adam").mkdir()
    write_xpt(adam["ADAE"], tmp_path / "adam" / "adae.xpt", created=datetime(2026, 1, 31))
    res = CliRunner().invoke(main, ["tables", "--adam", str(tmp_path / "adam"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "adsl" in res.output.lower()
    assert not (tmp_path / "o").exists()


def test_a_failing_output_is_named_the_others_built_and_the_earlier_folder_kept(adam, tmp_path):
    from trialforge.tables.build import TablesFailed
    from trialforge.outputs import MARKER, MARKER_TEXT, staged_folder
    target = tmp_path / "tables"
    target.mkdir()
    (target / MARKER).write_text(MARKER_TEXT)          # an earlier trialforge output (issue 10: only those are replaced)
    (target / "earlier.txt").write_text("earlier run")
    lb = adam["ADLB"]
    broken = dict(adam, ADLB=Dataset(lb.meta, lb.frame.assign(PARAMCD=lb.frame["PARAMCD"].replace({"CRP": "CRPX"}))))
    report = BuildReport()
    with pytest.raises(TablesFailed, match=r"Table 14.3.4.1: .*no ADLB records match"):
        with staged_folder(target) as staging:
            build_tables(broken, staging, catalogue=study_catalogue_cd70(), report=report,
                         only=["14.3.4", "14.1.2"])
    assert [f[0] for f in report.failed] == ["Table 14.3.4.1"]
    assert "Table 14.1.2" in report.produced and "Table 14.3.4.3" in report.produced
    assert sorted(p.name for p in target.iterdir()) == sorted([MARKER, "earlier.txt"])


def _outputs_mentioning(var: str) -> set[str]:
    """Outputs of the CD70 catalogue whose YAML (defs expanded) names `var`, read here from the files,
    apart from the named column sets (those fall back to plain TRT01A columns)."""
    import yaml
    files, seen = [], []

    def walk(path):
        doc = yaml.safe_load(path.read_text())
        for name in doc.get("include") or []:
            walk(Path(__file__).resolve().parents[1] / "tables" / "catalogues" / f"{name}.yaml")
        files.append(doc)
    walk(EXAMPLE / "tables.yaml")
    defs, outs = {}, {}
    for doc in files:
        defs.update(doc.get("defs") or {})
        for o in doc.get("outputs") or []:
            outs[(o.get("kind", "table"), str(o["id"]))] = o
    hits = set()
    for (kind, oid), o in outs.items():
        text = yaml.safe_dump(o)
        for _ in range(3):
            text = re.sub(r"\$\{(\w+)\}", lambda m: str(defs[m.group(1)]), text)
        if re.search(rf"\b{var}\b", text):
            hits.add(f"{kind.title()} {oid}")
    return hits


@pytest.mark.slow
def test_removing_dose_level_drops_only_the_outputs_that_name_it(adam, tmp_path):
    adsl = adam["ADSL"]
    data = dict(adam, ADSL=Dataset(adsl.meta, adsl.frame.drop(columns=["DOSELVL"])))
    report = BuildReport()
    build_tables(data, tmp_path, catalogue=study_catalogue_cd70(), report=report)
    assert not report.failed
    dropped = {lab for lab, why in report.skipped if "DOSELVL" in why}
    assert dropped == _outputs_mentioning("DOSELVL") and dropped
    demo = json.loads((tmp_path / "t_14_1_2.json").read_text())       # columns fell back to TRT01A values
    assert demo["columns"][0].startswith(adsl.frame.sort_values("TRT01AN")["TRT01A"].dropna().iloc[0])
