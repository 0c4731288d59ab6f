"""Declarative table and figure specifications.

An output is data, not a script: an id, titles, the analysis population, how subjects are split into
columns, and a list of row blocks. Every dataset, variable and PARAMCD an output reads is named here
(or in a catalogue YAML that `catalogue.py` reads into these types), so a rename in ADaM is a one-line change.
Shared code in `engine.py`, `layouts.py` and `figures.py` turns the specs into cells and pictures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence


# ---------------------------------------------------------------- population and columns
@dataclass(frozen=True)
class Population:
    """Analysis set: a filter on ADSL, e.g. SAFFL == 'Y'."""

    label: str
    where: str
    dataset: str = "ADSL"


@dataclass(frozen=True)
class SubjectVar:
    """A per-subject value derived from a record-level dataset (e.g. maximum CRS grade from ADAE)."""

    name: str
    dataset: str
    var: str
    where: str | None = None
    agg: str = "max"                 # max | min | first | last
    order_by: tuple[str, ...] = ()   # for first/last
    fill: object = None              # value for subjects with no record
    bins: tuple[float, ...] = ()     # cut points: [a, b) intervals, labelled by `bin_labels`
    bin_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Columns:
    """Subjects go to one column by `var` (ordered by `order`), plus an optional Total column.

    `labels` maps a value to its header text; `label` is a template over ADSL variables (see
    `labels.py`, e.g. "{DOSELVL}") used for values `labels` does not name; `span` is a template whose
    text heads runs of adjacent columns (e.g. "Part {PART}: {ROUTE:title}"); `legend` is a template
    whose distinct texts, in column order, become one footnote (e.g. "{DOSELVL} = {TRT01A:after=: }").
    `fallback` names the column for subjects whose `var` is missing (e.g. enrolled but never treated).
    `derive` builds `var` first from another dataset.
    """

    var: str | None = "TRT01A"       # None: one column (the Total) for the whole population
    order: str | None = "TRT01AN"
    total: str | None = "Total"
    labels: Mapping[object, str] | None = None
    fallback: str | None = None
    derive: SubjectVar | None = None
    show_n: bool = True
    label: str | None = None
    span: str | None = None
    legend: str | None = None


@dataclass(frozen=True)
class Split:
    """A record-level sub-column under every column (e.g. 'Grade >=3' with ATOXGRN >= 3)."""

    label: str
    where: str | None = None


# ---------------------------------------------------------------- row blocks
@dataclass(frozen=True)
class Header:
    """A label row with empty cells."""

    label: str
    indent: int = 0


@dataclass(frozen=True)
class SubjectsWith:
    """Number (%) of subjects with at least one record in `dataset` meeting `where`."""

    label: str
    dataset: str
    where: str | None = None
    indent: int = 0


@dataclass(frozen=True)
class Categorical:
    """Distribution of a per-subject value: one row per level, n (%) of the column N.

    `levels` fixes order and labels (value -> label); values outside it are listed after, sorted,
    unless `only_levels`. A multi-record dataset must say how to reduce it with `agg`. `case` ("sentence",
    "title") re-cases the labels of levels that `levels` does not name (CT values are upper case);
    `show_empty=False` drops declared levels that no population subject has.
    """

    var: str
    label: str
    dataset: str = "ADSL"
    where: str | None = None
    levels: Mapping[object, str] | Sequence[object] | None = None
    only_levels: bool = False
    missing_label: str | None = "Missing"
    agg: str | None = None
    order_by: tuple[str, ...] = ()
    indent: int = 0
    case: str | None = None
    show_empty: bool = True          # False: declared levels nobody has are left out (long CT lists)


@dataclass(frozen=True)
class Continuous:
    """Descriptive statistics of a numeric variable (per subject, or per record with per_record).

    With `unit_var`, the unit of the selected records is appended to the label: "Peak CRP (mg/L)";
    records in more than one unit are a spec error (convert in ADaM, never in the table).
    """

    var: str
    label: str
    dataset: str = "ADSL"
    where: str | None = None
    agg: str | None = None
    order_by: tuple[str, ...] = ()
    per_record: bool = False
    stats: tuple[str, ...] = ("n", "mean_sd", "median", "q1_q3", "min_max")
    decimals: int = 1
    indent: int = 0
    unit_var: str | None = None
    range_decimals: int | None = None      # min/max decimals; default one fewer than `decimals`
    compute: str | None = None             # `var` is this expression over `dataset` (e.g. "ASTDT - TRTSDT")


@dataclass(frozen=True)
class Binomial:
    """Responders among the column N with the exact (Clopper-Pearson) CI: two rows."""

    label: str
    dataset: str
    where: str
    ci_label: str = "95% CI"
    alpha: float = 0.05
    indent: int = 0


@dataclass(frozen=True)
class TimeToEvent:
    """Kaplan-Meier summary of one ADTTE parameter: events, censored, median (CI), landmark rates."""

    paramcd: str
    label: str
    dataset: str = "ADTTE"
    time_var: str = "AVAL"
    cnsr_var: str = "CNSR"
    param_var: str = "PARAMCD"
    days_per_unit: float = 30.4375           # report in months
    unit: str = "months"
    landmarks: tuple[float, ...] = (6, 12)   # in `unit`
    quartiles: bool = True
    alpha: float = 0.05
    indent: int = 0


@dataclass(frozen=True)
class AEHierarchy:
    """Subjects with events by SOC and PT, sorted by descending frequency in the sort column.

    The split where-clauses act on records, so 'Grade >=3' counts subjects whose maximum grade for the
    term is >= 3. Ties sort alphabetically. `any_label` heads the table with any-event counts.
    """

    dataset: str = "ADAE"
    where: str | None = "TRTEMFL == 'Y'"
    soc: str | None = "AEBODSYS"
    term: str = "AEDECOD"
    any_label: str = "Subjects with at least one event"
    sort_split: int = 0
    worst_var: str | None = None     # splits act on the subject's maximum of this per SOC/PT (worst grade)


@dataclass(frozen=True)
class Association:
    """One row: the p-value of a test of association between an event and a per-subject value.

    `test: wilcoxon` compares `value_var` (ADSL, numeric) between subjects with and without a record
    meeting `where` in `dataset` (exact Wilcoxon rank-sum / Mann-Whitney when n is small); `fisher`
    tests the event against the table's columns (two columns, Total excluded). The p-value is shown in
    the last column.
    """

    label: str
    dataset: str
    where: str | None = None
    value_var: str | None = None
    test: str = "wilcoxon"
    indent: int = 0


# ---------------------------------------------------------------- layouts
@dataclass(frozen=True)
class ByColumns:
    """The common layout: subjects in columns (by treatment), statistics in rows."""

    blocks: tuple
    columns: Columns = field(default_factory=Columns)
    splits: tuple[Split, ...] = ()
    stub_header: str = ""


@dataclass(frozen=True)
class DoseEscalation:
    """DLT evaluability, DLT counts and the 3+3 decision per dose level and route, then MTD per route.

    One row per cohort (`group_var`, ordered by `group_order`), labelled by the `label` template;
    `describe` adds (header, template) columns before the counts. Only subjects meeting
    `escalation_where` (the dose-escalation part) are counted: expansion subjects pooled into the same
    dose level and route are not part of the 3+3 decisions.
    """

    adae: str = "ADAE"
    dlt_where: str = "DLTFL == 'Y'"
    evaluable_where: str = "DLTEVLFL == 'Y'"
    group_var: str = "TRT01A"
    group_order: str = "TRT01AN"
    route_var: str = "ROUTE"
    dose_var: str = "DOSELVL"
    term_var: str = "AEDECOD"
    grade_var: str = "ATOXGRN"
    label: str = "{TRT01A}"
    route_label: str = "{ROUTE}"
    describe: tuple[tuple[str, str], ...] = ()
    escalation_where: str | None = None
    expansion_where: str | None = None     # subjects of the expansion part: their dose level per route is listed


@dataclass(frozen=True)
class ParamStats:
    """One parameter of a BDS dataset and the statistics shown for it."""

    paramcd: str
    label: str
    stats: tuple[str, ...] = ("n", "gmean", "gcv", "median", "min", "max")
    sig: int | None = 3            # significant figures (PK convention); None = fixed decimals
    decimals: int = 2


@dataclass(frozen=True)
class ParameterByGroup:
    """Rows: parameter x group; columns: statistics (PK parameter tables)."""

    dataset: str
    params: tuple[ParamStats, ...] = ()  # empty: every parameter of the dataset (PARAM as label)
    group_var: str = "TRT01A"
    group_order: str = "TRT01AN"
    param_var: str = "PARAMCD"
    value_var: str = "AVAL"
    unit_var: str | None = "AVALU"
    where: str | None = None
    group_label: str | None = None       # template over ADSL variables, e.g. "{ROUTE:title} {DOSELVL}"
    stats: tuple[str, ...] = ("n", "mean", "sd", "median", "min", "max")   # for params not listed
    decimals: int = 1
    stub_header: str = "Parameter / group"


@dataclass(frozen=True)
class ListColumn:
    """One listing column: `value` is a label template over the record and ADSL variables."""

    label: str
    value: str
    format: str | None = None       # date (SAS date number -> YYYY-MM-DD) | int | num1


@dataclass(frozen=True)
class Listing:
    """Section 16.2 style listing: one row per record of `dataset` meeting `where`, sorted."""

    dataset: str
    columns: tuple[ListColumn, ...]
    where: str | None = None
    sort_by: tuple[str, ...] = ("USUBJID",)
    compute: Mapping[str, str] | None = None     # NAME: pandas expression over the merged record
    empty_text: str = "No records meet the criteria."


@dataclass(frozen=True)
class ShiftTable:
    """Baseline reference-range category (rows) against the worst post-baseline category (columns).

    Per parameter: subjects with a baseline and >= 1 post-baseline record meeting `post_where`;
    `direction` low counts LOW if any post-baseline LOW, high counts HIGH if any HIGH."""

    dataset: str = "ADLB"
    params: tuple[ParamStats, ...] = ()
    baseline_var: str = "BNRIND"
    value_var: str = "ANRIND"
    post_where: str | None = None
    direction: str = "low"
    levels: Mapping[str, str] | None = None     # category -> label, in order
    columns: object = None                      # unused (population total)


@dataclass(frozen=True)
class ParameterByVisit:
    """Rows: parameter x analysis visit; columns: descriptive statistics (population total)."""

    dataset: str
    params: tuple[ParamStats, ...] = ()
    where: str | None = None
    visit_var: str = "AVISIT"
    visit_order: str = "AVISITN"
    value_var: str = "AVAL"
    unit_var: str | None = "AVALU"
    stats: tuple[str, ...] = ("n", "mean_sd", "median", "min_max")
    decimals: int = 1
    columns: object = None


# ---------------------------------------------------------------- outputs
@dataclass(frozen=True)
class TableSpec:
    id: str
    title: str
    population: Population
    layout: object
    footnotes: tuple[str, ...] = ()
    requires: tuple[str, ...] = ("ADSL",)
    kind: str = "Table"              # Table | Listing

    @property
    def stem(self) -> str:
        return ("l_" if self.kind == "Listing" else "t_") + self.id.replace(".", "_")


@dataclass(frozen=True)
class FigureSpec:
    id: str
    title: str
    population: Population
    plot: object
    footnotes: tuple[str, ...] = ()
    requires: tuple[str, ...] = ("ADSL",)
    kind: str = "Figure"

    @property
    def stem(self) -> str:
        return "f_" + self.id.replace(".", "_")


# ---------------------------------------------------------------- figure kinds
PER_PAGE = 50        # default cap of subjects per page of a per-subject figure (a study may declare its own)


def _check_per_page(plot) -> None:
    """A per-subject figure is cut into pages of at most `per_page` subjects (CSR practice: a swimmer
    plot of 10,000 subjects is not one picture); the cap must be a whole number >= 1. `max_subjects`
    (optional) is the most subjects the study shows one by one: above it the figure is not produced
    and says why (a CSR moves per-subject displays to listings at that size)."""
    n = plot.per_page
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise TypeError(f"per_page must be a whole number of subjects >= 1, not {n!r}")
    m = plot.max_subjects
    if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
        raise TypeError(f"max_subjects must be a whole number of subjects >= 1 (or absent), not {m!r}")


@dataclass(frozen=True)
class KMPlot:
    paramcd: str
    dataset: str = "ADTTE"
    group_var: str = "TRT01A"
    group_order: str | None = "TRT01AN"
    days_per_unit: float = 30.4375
    unit: str = "months"
    tick_every: float = 3
    ylabel: str = "Probability"
    group_label: str | None = None       # template over ADSL variables, e.g. "{ROUTE:title}"


@dataclass(frozen=True)
class Waterfall:
    """Best % change from baseline in the sum of diameters, bars coloured by BOR."""

    tumour_datasets: tuple[str, ...] = ("ADTR", "ADRS")   # first one supplied is used
    tumour_where: str = "PARAMCD == 'SUMDIAM' and ADY > 0"
    pchg_var: str = "PCHG"
    bor_dataset: str = "ADRS"
    bor_where: str = "PARAMCD == 'BOR'"
    bor_var: str = "AVALC"
    bar_label: str | None = "{SUBJID}"   # template over ADSL variables for the x tick labels
    per_page: int = PER_PAGE             # subjects per figure page (pages numbered "page k of n")
    max_subjects: int | None = None      # more subjects than this: not produced, with the reason (no cap)

    def __post_init__(self):
        _check_per_page(self)


@dataclass(frozen=True)
class Swimmer:
    """Time on study per subject with response, progression and death markers."""

    ovr_dataset: str = "ADRS"
    ovr_where: str = "PARAMCD == 'OVR'"
    start_var: str = "TRTSDT"
    end_var: str = "LSTALVDT"
    death_var: str = "DTHDT"
    group_var: str = "TRT01A"
    group_order: str | None = "TRT01AN"
    days_per_unit: float = 30.4375
    unit: str = "months"
    group_label: str | None = None
    subject_label: str = "{SUBJID}"
    per_page: int = PER_PAGE             # subjects per figure page (pages numbered "page k of n")
    max_subjects: int | None = None      # more subjects than this: not produced, with the reason (no cap)

    def __post_init__(self):
        _check_per_page(self)


@dataclass(frozen=True)
class Spider:
    """% change from baseline in the sum of diameters over time, one line per subject."""

    tumour_datasets: tuple[str, ...] = ("ADTR", "ADRS")   # first one supplied is used
    tumour_where: str = "PARAMCD == 'SUMDIAM'"
    pchg_var: str = "PCHG"
    day_var: str = "ADY"
    group_var: str = "TRT01A"
    group_order: str | None = "TRT01AN"
    days_per_unit: float = 30.4375
    unit: str = "months"
    group_label: str | None = None
    per_page: int = PER_PAGE             # subjects per figure page (pages numbered "page k of n")
    max_subjects: int | None = None      # more subjects than this: not produced, with the reason (no cap)

    def __post_init__(self):
        _check_per_page(self)


@dataclass(frozen=True)
class MeanConcentration:
    """Mean (+/- SD) concentration over nominal time on a log scale, one line per group; with
    `panel_var`, one panel per value (e.g. route) sharing the y axis."""

    dataset: str = "ADPC"
    where: str | None = None
    time_var: str = "NFRLT"
    value_var: str = "AVAL"
    unit_var: str = "AVALU"
    blq_var: str | None = "BLQFL"
    group_var: str = "TRT01A"
    group_order: str | None = "TRT01AN"
    xlabel: str = "Nominal time since infusion (days)"
    group_label: str | None = None
    panel_var: str | None = None
    panel_order: str | None = None
    panel_label: str | None = None
    xscale: str = "symlog"               # linear | symlog (days 0-28 and months 3-18 both legible)


@dataclass(frozen=True)
class IndividualProfiles:
    """One line per subject (log scale), one panel per group: individual cellular kinetics."""

    dataset: str = "ADPC"
    where: str | None = None
    time_var: str = "AFRLT"
    value_var: str = "AVAL"
    unit_var: str = "AVALU"
    group_var: str = "TRT01A"
    group_order: str | None = "TRT01AN"
    group_label: str | None = None
    xlabel: str = "Time since infusion (days)"
    per_page: int = PER_PAGE             # subjects per figure page (pages numbered "page k of n")
    max_subjects: int | None = None      # more subjects than this: not produced, with the reason (no cap)

    def __post_init__(self):
        _check_per_page(self)


@dataclass(frozen=True)
class StripPlot:
    """A per-subject ADSL value (y) by a per-subject group (x): points and the group median."""

    value_var: str
    group: SubjectVar
    group_labels: Mapping[object, str] | None = None
    ylabel: str = ""
    xlabel: str = ""


DATASET_FIELDS = ("dataset", "adae", "bor_dataset", "ovr_dataset")


def datasets_of(obj) -> tuple[str, ...]:
    """Datasets an output reads (ADSL first): walks the spec's fields named like a dataset."""
    found = ["ADSL"]

    def walk(o):
        if isinstance(o, (list, tuple)):
            for x in o:
                walk(x)
            return
        if not hasattr(o, "__dataclass_fields__"):
            return
        for name in o.__dataclass_fields__:
            v = getattr(o, name)
            if name in DATASET_FIELDS and isinstance(v, str):
                found.append(v.upper())
            elif name == "tumour_datasets":
                continue
            else:
                walk(v)
    walk(obj)
    return tuple(dict.fromkeys(found))
