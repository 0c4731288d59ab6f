"""Tests of the synthetic raw EDC export: determinism, edge sizes, and clinical coherence.

The coherence checks re-derive everything from the written CSV files with independent code
(raw-date parser, RECIST 1.1 tables written from the paper, 3+3 rule), never with synth's own helpers.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from trialforge.errors import TrialforgeError
from trialforge.synth import DEFAULT_N, DEFAULT_SEED, FORMS, build_forms, generate
from trialforge.synth.command import synth_command

BUNDLED = Path(__file__).resolve().parents[1] / "examples" / "cd70-cart" / "raw"
MON = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
DATE_RE = re.compile(r"^(\d{2}|UN) ([A-Z]{3}|UNK) (\d{4})$")
SCREENING_FORMS = {"dm", "ie", "ihc", "mh", "prior_tx", "sv", "ecog", "lb", "ds"}


def parse_date(text: str):
    """Full raw date -> date; partial or blank -> None."""
    if not isinstance(text, str) or not text or text.startswith("UN") or "UNK" in text:
        return None
    d, m, y = text.split()
    return date(int(y), MON[m], int(d))


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("raw500")
    generate(500, 12345, out_dir=out)
    return out


# ---------------------------------------------------------------- determinism and sizes

def test_bundled_example_is_exactly_the_default_output(tmp_path):
    paths = generate(out_dir=tmp_path)
    assert sorted(p.name for p in paths) == sorted(p.name for p in BUNDLED.glob("*.csv"))
    for p in paths:
        assert p.read_bytes() == (BUNDLED / p.name).read_bytes(), p.name


def test_same_seed_same_bytes_different_seed_different(tmp_path):
    a, b, c = (generate(30, seed, out_dir=tmp_path / name) for name, seed in (("a", 5), ("b", 5), ("c", 6)))
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]
    assert (tmp_path / "a" / "ae.csv").read_bytes() != (tmp_path / "c" / "ae.csv").read_bytes()


def test_files_are_utf8_with_lf_only_and_non_ascii_only_in_unit_columns():
    for p in BUNDLED.glob("*.csv"):
        raw = p.read_bytes()
        assert b"\r" not in raw and raw.endswith(b"\n"), p.name
        frame = pd.read_csv(p, dtype=str, keep_default_na=False)
        for col in frame.columns:
            if frame[col].map(lambda x: not x.isascii()).any():
                assert col.endswith("U"), (p.name, col)


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_small_studies_keep_every_form_and_column(tmp_path, n):
    paths = generate(n, n, out_dir=tmp_path)
    assert [p.stem for p in paths] == list(FORMS)
    for p in paths:
        assert p.read_text(encoding="utf-8").splitlines()[0] == (BUNDLED / p.name).read_text(encoding="utf-8").splitlines()[0]
    assert len(read(tmp_path, "dm")) == n


@pytest.mark.parametrize("bad", [0, -3, 1.5, True, "10"])
def test_invalid_subject_count_is_a_user_error(bad, tmp_path):
    with pytest.raises(TrialforgeError):
        generate(bad, 1, out_dir=tmp_path)


def test_command_writes_and_reports_errors_as_usage_errors(tmp_path):
    assert isinstance(synth_command, click.Command)
    ok = CliRunner().invoke(synth_command, ["--subjects", "4", "--seed", "3", "--out", str(tmp_path / "o")])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "o" / "dm.csv").exists()
    bad = CliRunner().invoke(synth_command, ["--subjects", "0", "--out", str(tmp_path / "p")])
    assert bad.exit_code == 2 and "subjects" in bad.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad = CliRunner().invoke(synth_command, ["--subjects", "2", "--out", str(blocker)])
    assert bad.exit_code == 2


def test_default_study_shape():
    dm = read(BUNDLED, "dm")
    assert len(dm) == DEFAULT_N and DEFAULT_SEED == 20250930
    assert (dm["SCRNFAIL"] == "Yes").sum() == 6
    assert dm["SITENO"].nunique() >= 3
    assert dm["SUBJNO"].str.fullmatch(r"\d{3}-\d{3}").all()
    infused = set(read(BUNDLED, "ex_cart")["SUBJNO"])
    enrolled = set(dm.loc[dm["SCRNFAIL"] == "No", "SUBJNO"])
    assert 1 <= len(enrolled - infused) <= 2
    assert set(dm.loc[dm["SCRNFAIL"] == "No", "ROUTE"]) == {"Intravenous", "Intrapleural", "Intraperitoneal"}


# ---------------------------------------------------------------- coherence on a larger study

def test_date_fields_are_raw_edc_dates(big):
    for name in FORMS:
        frame = read(big, name)
        for col in [c for c in frame.columns if c.endswith("DAT")]:
            vals = frame[col][frame[col] != ""]
            bad = vals[~vals.str.match(DATE_RE)]
            assert bad.empty, (name, col, bad.head().tolist())
        for col in [c for c in frame.columns if c.endswith(("TIM", "STTM", "ENTM"))]:
            vals = frame[col][frame[col] != ""]
            assert vals.str.fullmatch(r"([01]\d|2[0-3]):[0-5]\d").all(), (name, col)
    ae = read(big, "ae")
    assert ae["AESTDAT"].str.startswith("UN").any()          # partial AE dates exist
    assert read(big, "dm")["BRTHDAT"].str.startswith("UN UNK").any()


def test_treatment_sequence_consent_enrolment_ld_infusion(big):
    dm = read(big, "dm").set_index("SUBJNO")
    ld = read(big, "ex_ld")
    cart = read(big, "ex_cart").set_index("SUBJNO")
    ld["d"] = ld["EXLDDAT"].map(parse_date)
    for subj, g in ld.groupby("SUBJNO"):
        day0 = parse_date(cart.loc[subj, "EXCDAT"])
        offsets = sorted({(d - day0).days for d in g["d"]})
        assert offsets == [-5, -4, -3], subj
        assert set(g["EXLDTRT"]) == {"Fludarabine", "Cyclophosphamide"}
        consent, enrol = parse_date(dm.loc[subj, "CONSDAT"]), parse_date(dm.loc[subj, "ENROLDAT"])
        assert consent < enrol < min(g["d"])
    assert set(ld["SUBJNO"]) == set(cart.index)


def _day0(big):
    cart = read(big, "ex_cart")
    return dict(zip(cart["SUBJNO"], cart["EXCDAT"].map(parse_date)))


def test_crs_onset_days_and_dlt_window(big):
    ae = read(big, "ae")
    day0 = _day0(big)
    ae["dy"] = [(parse_date(d) - day0[s]).days if parse_date(d) else None for s, d in zip(ae["SUBJNO"], ae["AESTDAT"])]
    crs = ae[ae["AEPT"] == "Cytokine release syndrome"]
    assert crs["dy"].between(1, 14).all()
    assert (crs["AECRSGR"] != "").all() and (ae.loc[ae["AEPT"] != "Cytokine release syndrome", "AECRSGR"] == "").all()
    share_g12 = crs["AECRSGR"].isin(["Grade 1", "Grade 2"]).mean()
    assert share_g12 > 0.8
    dlt = ae[ae["AEDLT"] == "Yes"]
    assert len(dlt) > 0 and dlt["dy"].between(0, 28).all()
    assert (ae.loc[~ae["dy"].between(0, 28), "AEDLT"] == "").all()
    ser = ae[ae["AESER"] == "Yes"]
    crit = ser[["AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE"]]
    assert (crit == "Yes").any(axis=1).all()
    assert ((ae["AESER"] == "Yes") | (ae["AESHOSP"] == "")).all()


def test_dose_escalation_follows_three_plus_three(big):
    dm = read(big, "dm")
    cart = read(big, "ex_cart")
    dlt = set(read(big, "ae").query("AEDLT == 'Yes'")["SUBJNO"])
    a = dm[(dm["PART"] == "Part A: Dose Escalation") & dm["SUBJNO"].isin(cart["SUBJNO"])].copy()
    a["dl"] = a["DOSELVL"].str.extract(r"^DL(\d)")[0].astype(int)
    a["dlt"] = a["SUBJNO"].isin(dlt)
    for route, g in a.groupby("ROUTE"):
        levels = sorted(g["dl"].unique())
        assert levels == list(range(1, levels[-1] + 1)), route
        for lvl in levels[:-1]:                   # every level below the top opened one was cleared
            c = g[g["dl"] == lvl]
            assert (len(c) == 3 and c["dlt"].sum() == 0) or (len(c) == 6 and c["dlt"].sum() <= 1), (route, lvl)
        top = g[g["dl"] == levels[-1]]
        assert len(top) <= 6 and top["dlt"].sum() <= 2 + (len(top) > 3)


def _dated_records(big):
    """(form, subject, date) for every full date on forms that record events after enrolment."""
    cols = {"sv": "VISDAT", "lb": "LBDAT", "cyto": "LBDAT", "pc": "PCDAT", "ada": "ADADAT", "tr": "TRDAT",
            "rs": "RSDAT", "ecog": "QSDAT", "ae": "AESTDAT", "subseq_tx": "STSTDAT", "ds": "DSDAT", "tu": "TUDAT"}
    rows = []
    for form, col in cols.items():
        f = read(big, form)
        rows.append(pd.DataFrame({"form": form, "SUBJNO": f["SUBJNO"], "d": f[col].map(parse_date)}))
    return pd.concat(rows).dropna()


def test_deaths_follow_infusion_and_nothing_is_recorded_after_death(big):
    death = read(big, "death")
    day0 = _day0(big)
    ddate = dict(zip(death["SUBJNO"], death["DTHDAT"].map(parse_date)))
    for s, d in ddate.items():
        if s in day0:
            assert d > day0[s]
    recs = _dated_records(big)
    recs["death"] = recs["SUBJNO"].map(ddate)
    after = recs[recs["death"].notna() & (recs["d"] > recs["death"])]
    assert after.empty, after.head()
    ds = read(big, "ds")
    eos = ds[ds["DSEVENT"] == "End of study"].set_index("SUBJNO")
    for s, d in ddate.items():
        assert eos.loc[s, "DSREAS"] == "Death" and parse_date(eos.loc[s, "DSDAT"]) == d
    fatal = read(big, "ae").query("AEGRADE == 'Grade 5 - Death'")
    assert set(fatal["SUBJNO"]) == set(death.loc[death["DTHCAUSE"] == "Adverse event", "SUBJNO"])


# RECIST 1.1 Table 1 (Eisenhauer 2009), written out independently as data.
RECIST_TABLE = {
    ("CR", "CR", "No"): "CR", ("CR", "NA", "No"): "CR", ("CR", "NON-CR/NON-PD", "No"): "PR",
    ("CR", "NE", "No"): "PR", ("PR", "NON-CR/NON-PD", "No"): "PR", ("PR", "NE", "No"): "PR",
    ("PR", "CR", "No"): "PR", ("PR", "NA", "No"): "PR", ("SD", "NON-CR/NON-PD", "No"): "SD",
    ("SD", "NE", "No"): "SD", ("SD", "CR", "No"): "SD", ("SD", "NA", "No"): "SD",
    ("NE", "NON-CR/NON-PD", "No"): "NE", ("NE", "CR", "No"): "NE", ("NE", "NA", "No"): "NE", ("NE", "NE", "No"): "NE",
}
ABBR = {"Complete Response (CR)": "CR", "Partial Response (PR)": "PR", "Stable Disease (SD)": "SD",
        "Progressive Disease (PD)": "PD", "Not Evaluable (NE)": "NE", "Non-CR/Non-PD": "NON-CR/NON-PD",
        "Not Applicable": "NA"}


def expected_overall(t, nt, new):
    if t == "PD" or nt == "PD" or new == "Yes":
        return "PD"
    return RECIST_TABLE[(t, nt, new)]


def test_overall_response_matches_recist_table_on_every_record(big):
    rs = read(big, "rs")
    assert len(rs) > 500
    for t, nt, new, ovr in zip(rs["TRGRESP"], rs["NTRGRESP"], rs["NEWLES"], rs["OVRLRESP"]):
        assert ABBR[ovr] == expected_overall(ABBR[t], ABBR[nt], new), (t, nt, new, ovr)


def test_target_response_recomputed_from_measurements(big):
    tr = read(big, "tr")
    rs = read(big, "rs")
    tu = read(big, "tu")
    nodal = set(zip(tu["SUBJNO"], tu["LESID"], tu["NODAL"].eq("Yes")))
    nodal = {(s, l) for s, l, n in nodal if n}
    tgt = tr[tr["LESTYPE"] == "Target"].copy()
    tgt["diam"] = pd.to_numeric(tgt["DIAM"])
    tgt["nodal"] = [(s, l) in nodal for s, l in zip(tgt["SUBJNO"], tgt["LESID"])]
    assert (tgt.loc[tgt["nodal"], "MEASTYPE"] == "Short axis").all()
    vis = {v: i for i, v in enumerate(["Baseline", "Day 28", "Month 2", "Month 3", "Month 4", "Month 6", "Month 9",
                                       "Month 12", "Month 15", "Month 18", "Month 21", "Month 24"])}
    resp = dict(zip(zip(rs["SUBJNO"], rs["VISIT"]), rs["TRGRESP"].map(ABBR)))
    for subj, g in tgt.groupby("SUBJNO"):
        base = nadir = None
        for visit, v in sorted(g.groupby("VISIT"), key=lambda kv: vis[kv[0]]):
            total = v["diam"].sum()
            if visit == "Baseline":
                base = nadir = total
                continue
            if v["diam"].isna().any():
                exp = "NE"
            elif total >= 1.2 * nadir and total - nadir >= 5:
                exp = "PD"
            elif (v.loc[~v["nodal"], "diam"] == 0).all() and (v.loc[v["nodal"], "diam"] < 10).all():
                exp = "CR"
            elif total <= 0.7 * base:
                exp = "PR"
            else:
                exp = "SD"
            if not v["diam"].isna().any():
                nadir = min(nadir, total)
            assert resp[(subj, visit)] == exp, (subj, visit)


def test_no_assessment_after_progression_and_response_rates_look_like_cart_in_solid_tumours(big):
    rs = read(big, "rs")
    order = ["Day 28", "Month 2", "Month 3", "Month 4", "Month 6", "Month 9", "Month 12", "Month 15", "Month 18", "Month 21", "Month 24"]
    rs["k"] = rs["VISIT"].map(order.index)
    for _, g in rs.sort_values("k").groupby("SUBJNO"):
        pd_rows = list(g["OVRLRESP"] == "Progressive Disease (PD)")
        assert not any(pd_rows[:-1])
    best = rs.groupby("SUBJNO")["OVRLRESP"].agg(set)
    orr = best.map(lambda s: bool(s & {"Complete Response (CR)", "Partial Response (PR)"})).mean()
    cr = best.map(lambda s: "Complete Response (CR)" in s).mean()
    assert 0.15 <= orr <= 0.40 and cr < 0.08


def test_pk_below_lloq_convention(big):
    pc = read(big, "pc")
    q = pc[pc["PCMETHOD"] == "qPCR"]
    res = q["PCORRES"]
    num = pd.to_numeric(res.where(~res.isin(["BLQ", ""])), errors="raise")
    assert (num.dropna() >= pd.to_numeric(q["PCLLOQ"]).loc[num.dropna().index]).all()
    assert ((res == "") == (q["PCSTAT"] == "Not Done")).all()
    assert (res[q["PCTPT"].isin(["Pre-lymphodepletion", "Pre-infusion"])].isin(["BLQ", ""])).all()
    assert (res == "BLQ").any() and q["PCORRESU"].eq("copies/µg gDNA").all()
    # expansion: median peak later than day 4 and before day 28
    q = q[~res.isin(["BLQ", ""])].assign(v=num.dropna())
    peak = q.loc[q.groupby("SUBJNO")["v"].idxmax(), "PCTPT"]
    assert peak.isin(["Day 7", "Day 10", "Day 14"]).mean() > 0.6


def test_screen_failures_only_on_screening_forms(big):
    dm = read(big, "dm")
    sf = set(dm.loc[dm["SCRNFAIL"] == "Yes", "SUBJNO"])
    assert sf
    for name in FORMS:
        f = read(big, name)
        present = set(f["SUBJNO"]) & sf
        if name not in SCREENING_FORMS:
            assert not present, name
        elif "VISIT" in f.columns:
            assert set(f.loc[f["SUBJNO"].isin(sf), "VISIT"]) <= {"Screening"}, name
    ie = read(big, "ie")
    assert (ie.loc[ie["SUBJNO"].isin(sf), "IEYN"] == "No").all()
    assert (ie.loc[~ie["SUBJNO"].isin(sf), "IEYN"] == "Yes").all()
    ihc = read(big, "ihc")
    assert (ihc.loc[~ihc["SUBJNO"].isin(sf), "IHCSCORE"] == "3+").all()
    failed_ihc = set(ie.loc[ie["IETESTCD"] == "IN03", "SUBJNO"])
    assert (ihc.loc[ihc["SUBJNO"].isin(failed_ihc), "IHCSCORE"] != "3+").all()


def test_units_differ_by_site_as_local_labs_report_them(big):
    lb = read(big, "lb")
    hgb_units = set(lb.loc[lb["LBTEST"].isin(["Hemoglobin", "Haemoglobin"]), "LBORRESU"])
    assert hgb_units == {"g/dL", "g/L"}
    crp = read(big, "cyto").query("LBTEST == 'C-reactive protein'")
    assert set(crp["LBORRESU"]) == {"mg/L", "mg/dL"}


def test_cytokines_rise_with_crs_grade(big):
    ae = read(big, "ae")
    grade = ae[ae["AEPT"] == "Cytokine release syndrome"].set_index("SUBJNO")["AECRSGR"]
    il6 = read(big, "cyto").query("LBTEST == 'Interleukin-6'")
    il6 = il6.assign(v=pd.to_numeric(il6["LBORRES"].str.lstrip("<")))
    peak = il6.groupby("SUBJNO")["v"].max()
    g = peak.index.map(lambda s: grade.get(s, "Grade 0"))
    med = peak.groupby(g).median()
    assert med["Grade 0"] < med["Grade 1"] < med["Grade 2"]


def test_build_forms_matches_files(big):
    forms = build_forms(500, 12345)
    for name, frame in forms.items():
        assert frame.equals(read(big, name)), name


def test_every_form_and_column_is_documented():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "raw_forms.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", doc, flags=re.M)
    common = next(s for s in sections if s.startswith("Conventions"))
    common_cols = set(re.findall(r"^\| ([A-Z]+) \|", common, flags=re.M))
    for name in FORMS:
        sec = next((s for s in sections if s.startswith(f"{name}.csv")), None)
        assert sec is not None, f"{name}.csv not documented"
        cells = re.findall(r"^\| ([A-Z][A-Z0-9 ,/]*?) \|", sec, flags=re.M)
        documented = {c.strip() for cell in cells for c in re.split(r"[,/]", cell)} | common_cols
        header = read(BUNDLED, name).columns
        missing = [c for c in header if c not in documented]
        assert not missing, (name, missing)
