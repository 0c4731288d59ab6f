"""Behaviour of the tables layer on a small hand-made ADaM (tables/demo_adam.py): selection, missing
datasets, clear errors, label templates, spanning headers, determinism. Numbers of the real example are
checked in test_tables_real.py."""
from __future__ import annotations

from pathlib import Path

import re

import numpy as np
import pytest

from trialforge.errors import SpecError
from trialforge.specs.metadata import Dataset
from trialforge.tables import labels
from trialforge.tables.build import build_tables as _build_tables, compute_table
from trialforge.tables.catalogue import load_catalogue

_CAT = load_catalogue(Path(__file__).resolve().parents[1] / "examples" / "cd70-cart" / "tables.yaml")


class catalog:  # the CD70 study catalogue (examples/cd70-cart/tables.yaml), as the old module exposed it
    TABLES = tuple(o for o in _CAT.outputs if o.kind != "Figure")
    FIGURES = tuple(_CAT.figures)


def build_tables(*args, **kw):
    kw.setdefault("catalogue", _CAT)
    return _build_tables(*args, **kw)
from trialforge.tables.demo_adam import make_adam
from trialforge.tables.spec import (ByColumns, Categorical, Columns, Continuous, Population, SubjectsWith,
                                    TableSpec)

SAFETY = Population("Safety", "SAFFL == 'Y'")
FEW = ["14.1.2", "14.3.1.3", "14.2.2.1"]      # one table of each layout family and one figure


@pytest.fixture(scope="module")
def adam():
    return make_adam()


def with_frame(adam, name, frame):
    return dict(adam, **{name: Dataset(adam[name].meta, frame)})


# ------------------------------------------------------------------ label templates
@pytest.mark.parametrize("template,row,expected", [
    ("{DOSELVL}", {"DOSELVL": "DL2"}, "DL2"),
    ("{ROUTE:title}", {"ROUTE": "INTRAPLEURAL"}, "Intrapleural"),
    ("{TUMTYPE:sentence}", {"TUMTYPE": "RENAL CELL CARCINOMA"}, "Renal cell carcinoma"),
    ("{DOSELVL} = {ACTARM:after=: }", {"DOSELVL": "DL1", "ACTARM": "Part A Intravenous DL1: 1.0 x 10^6 cells/kg"},
     "DL1 = 1.0 x 10^6 cells/kg"),
    ("{ACTARM:before=:}", {"ACTARM": "Part A Intravenous DL1: 1.0"}, "Part A Intravenous DL1"),
    ("Cohort {TRT01AN}", {"TRT01AN": 3.0}, "Cohort 3"),
    ("{ROUTE:title}", {"ROUTE": None}, ""),
])
def test_label_templates(template, row, expected):
    assert labels.render(template, row) == expected


def test_label_template_errors_name_the_problem():
    with pytest.raises(SpecError, match="unknown variable NOPE"):
        labels.render("{NOPE}", {"A": 1})
    with pytest.raises(SpecError, match="unknown label transform"):
        labels.render("{A:shout}", {"A": "x"})


# ------------------------------------------------------------------ headers
def test_span_header_merges_adjacent_columns_and_legend_becomes_a_footnote(adam):
    adsl = adam["ADSL"].frame
    spec = TableSpec("99.1", "Spans", SAFETY, ByColumns(
        columns=Columns(label="{DOSELVL}", span="{ROUTE:title}", legend="{DOSELVL} = {TRT01A}"),
        blocks=(SubjectsWith("Any", "ADSL"),)))
    res = compute_table(spec, adam)
    saf = adsl[adsl["SAFFL"] == "Y"].sort_values("TRT01AN", kind="mergesort")
    routes = saf.drop_duplicates("TRT01A")["ROUTE"].str.title().tolist()
    expected_spans = [(r, routes.count(r)) for r in dict.fromkeys(routes)] + [("", 1)]
    assert res.header[0] == expected_spans
    assert res.header[1][-1] == (f"Total (N={len(saf)})", 1)
    assert res.footnotes[-1].startswith(f"{saf['DOSELVL'].iloc[0]} = {saf['TRT01A'].iloc[0]}")


# ------------------------------------------------------------------ selection and missing data
def test_only_selects_by_prefix_and_missing_dataset_is_listed(adam, tmp_path):
    partial = {k: v for k, v in adam.items() if k != "ADLB"}
    paths = build_tables(partial, tmp_path, only=["14.3.1.2", "14.3.4"], figures=[])
    stems = {p.stem for p in paths}
    assert {"t_14_3_1_2_1", "t_14_3_1_2_2"} <= stems and "t_14_3_1_1" not in stems
    assert "t_14_3_4_1" not in stems
    assert "ADLB not supplied" in (tmp_path / "index.html").read_text()


def test_unknown_variable_in_spec_is_reported_and_the_output_not_produced(adam, tmp_path):
    # Deliberate change (issue #17): an output naming a variable the ADaM lacks is not produced and is
    # reported with the variable (index.html and the report); it no longer stops every other output.
    from trialforge.tables.build import BuildReport
    bad = TableSpec("99.1", "Bad", SAFETY, ByColumns(blocks=(Categorical("NOSUCHVAR", "Nothing"),)))
    report = BuildReport()
    build_tables(adam, tmp_path, tables=[bad], figures=[], report=report)
    assert report.skipped == [("Table 99.1", "ADSL lacks variable(s) NOSUCHVAR")]
    assert not (tmp_path / "t_99_1.rtf").exists()
    assert "NOSUCHVAR" in (tmp_path / "index.html").read_text()


def test_bds_selection_matching_nothing_is_an_error(adam):
    spec = TableSpec("99.2", "Peak", SAFETY, ByColumns(blocks=(
        Continuous("AVAL", "Peak IL-6", dataset="ADLB", where="PARAMCD == 'IL6'", agg="max"),)))
    with pytest.raises(SpecError, match="no ADLB records match.*PARAMCD values present: CRP, FERRITIN, INTLK6"):
        compute_table(spec, adam)


def test_mixed_units_in_one_statistic_are_an_error(adam):
    lb = adam["ADLB"].frame.copy()
    lb.loc[lb.index[0], "AVALU"] = "mg/dL"
    code = lb.loc[lb.index[0], "PARAMCD"]
    spec = TableSpec("99.3", "Peak", SAFETY, ByColumns(blocks=(
        Continuous("AVAL", "Peak", dataset="ADLB", where=f"PARAMCD == '{code}'", agg="max", unit_var="AVALU"),)))
    with pytest.raises(SpecError, match="mixes units"):
        compute_table(spec, with_frame(adam, "ADLB", lb))


def test_waterfall_without_percent_change_is_an_error_not_an_empty_plot(adam, tmp_path):
    name = "ADTR" if "ADTR" in adam else "ADRS"          # where the demo keeps its tumour sums
    tr = adam[name].frame.assign(PCHG=np.nan)
    from trialforge.tables.build import TablesFailed      # one failure, named by number and reason
    with pytest.raises(TablesFailed, match="Figure 14.2.1.3: .*no PCHG"):
        build_tables(with_frame(adam, name, tr), tmp_path, only=["14.2.1.3"], tables=[])


# ------------------------------------------------------------------ determinism
def test_reruns_are_byte_identical_and_carry_no_timestamps(adam, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    build_tables(adam, a, only=FEW)
    build_tables(adam, b, only=FEW)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and len(names) > 10
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for p in list(a.glob("*.rtf")) + list(a.glob("*.html")) + list(a.glob("*.svg")):
        text = p.read_text(errors="replace")
        assert not re.search(r"\\creatim|\\revtim|<dc:date>|20\d\d-\d\d-\d\dT", text), p.name


def test_every_catalog_id_is_unique():
    ids = [(s.kind, s.id) for s in catalog.TABLES + catalog.FIGURES]
    assert len(ids) == len(set(ids))


def test_every_fact_a_shipped_block_uses_is_known(tmp_path):
    """A study including a shipped block alone must not fail on a footnote fact the block names (the dlt block
    once named an undefined @{dlt_evaluable})."""
    import re
    from trialforge.tables.catalogue import SHIPPED, load_catalogue
    from trialforge.tables.facts import Facts
    for block in sorted(p.stem for p in SHIPPED.glob("*.yaml")):
        spec = tmp_path / f"{block}.yaml"
        spec.write_text(f"catalogue: 1\ninclude: [default, {block}]\n")      # blocks build on the default
        text = repr(load_catalogue(spec))
        for key in set(re.findall(r"@\{([^}]+)\}", text)):
            Facts({}).value(key)            # raises SpecError for an unknown fact
        assert "${" not in text, block      # every ${DEF} a block uses has a default


def test_index_titles_have_their_facts_filled_in(tmp_path):
    from trialforge.tables.build import build_tables
    from trialforge.tables.catalogue import load_catalogue
    spec = tmp_path / "tables.yaml"
    spec.write_text("catalogue: 1\ninclude: [default]\ndefs: {CRITERION: Hand criterion}\noutputs:\n"
                    "  - id: '14.9.9'\n    title: Responders (@{criterion})\n    population: safety\n"
                    "    columns: total\n    blocks:\n"
                    "      - {type: subjects_with, label: Any subject, dataset: ADSL, where: \"SAFFL == 'Y'\"}\n")
    build_tables(make_adam(), tmp_path / "out", catalogue=load_catalogue(spec), only=["14.9.9"])
    index = (tmp_path / "out" / "index.html").read_text()
    assert "Responders (Hand criterion)" in index and "@{" not in index
