"""Run the catalogue over a package: column rules per variable, dataset rules, study rules,
and define.xml-vs-data checks when a define is given."""
from __future__ import annotations

import importlib
import os
from pathlib import Path

from ..specs.ct import load_ct
from ..specs.standards import load_standard
from .collector import fewer_collections
from .context import ValidationContext, cached_columns, clear_profiles, detect_scope, forget_texts
from .finding_table import FindingTable
from .findings import ERROR, Finding, ValidationReport
from .registry import ADAM, applies, load_all, rules_for
from .schema import column_findings

STANDARD_FOR = {"SDTM": "SDTMIG 3.4", ADAM: "ADaMIG 1.3"}


def validate_datasets(datasets: dict, *, ct=None, standard=None, scope: str | None = None,
                      define=None, options: dict | None = None) -> ValidationReport:
    """Validate a package (dict name → Dataset); returns every finding, sorted, never raises on data.

    ``define``: path to a define.xml (checked against the data when ``validation.define_checks``
    is available). ``options``: ``{"pandera": True}`` evaluates column rules through the pandera
    schema instead of the direct path (same findings, slower); ``{"only": [rule ids]}`` runs just
    those rules; ``{"unreadable": [(file, cause)]}`` feeds TF-IO-001; ``{"datasets": [names]}`` runs the column
    and dataset rules on those datasets only, the others being there for the study rules to read (the gate
    of the SDTM the ADaM stage makes, PP, beside DM: DM's own rules ran in the SDTM gate).
    """
    with fewer_collections():
        return _validate(datasets, ct=ct, standard=standard, scope=scope, define=define, options=options)


def _validate(datasets: dict, *, ct, standard, scope, define, options) -> ValidationReport:
    load_all()
    clear_profiles()
    scope = scope or detect_scope(datasets.keys())
    ctx = ValidationContext(datasets={k.upper(): cached_columns(v) for k, v in datasets.items()},
                            ct=ct if ct is not None else load_ct(),
                            standard=standard or load_standard(STANDARD_FOR[scope]), scope=scope,
                            define=define, options=options or {})
    report = ValidationReport(datasets={name: len(ds.frame) for name, ds in sorted(ctx.datasets.items())})
    only = set(ctx.options.get("only") or ())
    version = ctx.options.get("ig_version") if scope != ADAM else None
    dataset_rules = [r for r in rules_for(scope, "dataset", version) if not only or r.id in only]
    study_rules = [r for r in rules_for(scope, "study", version) if not only or r.id in only]
    column_rules = [r for r in rules_for(scope, "column", version) if not only or r.id in only]
    use_pandera = bool(ctx.options.get("pandera"))
    checked = ctx.options.get("datasets")
    checked = None if checked is None else {str(n).upper() for n in checked}
    found = _Found()
    keep = found.add
    for name, ds in sorted(ctx.datasets.items()):
        if checked is not None and name not in checked:
            continue
        if use_pandera:
            from .schema import run_schema
            keep(_guard(lambda: run_schema(ds, ctx), "TF-SCHEMA", name))
        elif column_rules:
            keep(_guard(lambda: column_findings(ds, ctx, column_rules), "TF-SCHEMA", name))
        for rule in dataset_rules:
            if applies(rule, name):
                keep(_guard(lambda: rule.check(ds, ctx), rule.id, name))
        forget_texts()
    for rule in study_rules:
        keep(_guard(lambda: rule.check(ctx), rule.id, "(study)"))
    forget_texts()
    n_define = 0
    if define is not None:
        defined, n_define = define_findings(define, ctx.datasets)
        keep(defined)
    report.extend(found.table())
    report.rules_run = len(dataset_rules) + len(study_rules) + len(column_rules) + n_define
    report.rule_ids = sorted(r.id for r in dataset_rules + study_rules + column_rules)
    report.standard = ctx.standard.name
    report.sort()
    return report


class _Found:
    """Every rule's findings in the order they came: runs of ``Finding`` objects and ``FindingTable``s (the
    column and value rules' large reports), made one table at the end (``FindingTable.join``) rather than
    merged into the report's table after each rule."""

    def __init__(self):
        self.parts: list = []
        self.objects: list = []

    def add(self, found) -> None:
        if isinstance(found, FindingTable):
            if self.objects:
                self.parts.append(self.objects)
                self.objects = []
            self.parts.append(found)
        else:
            self.objects.extend(found)          # taken now, as ``ValidationReport.extend`` took them

    def table(self) -> FindingTable:
        return FindingTable.join(self.parts + [self.objects])


def _guard(run, rule_id, dataset):
    """A rule that breaks on unexpected data reports that as an error instead of stopping the run."""
    try:
        return run() or []
    except Exception as exc:  # noqa: BLE001  (foreign data must never crash the validator)
        if os.environ.get("TRIALFORGE_DEBUG"):
            raise
        return [Finding(rule_id=rule_id, severity=ERROR, dataset=dataset,
                        message=f"rule could not run: {type(exc).__name__}: {exc}")]


def define_findings(define, datasets) -> tuple[list[Finding], int]:
    """define.xml vs data (``validation.define_checks``, when that module exists): findings, checks run."""
    try:
        module = importlib.import_module(".define_checks", __package__)
    except ModuleNotFoundError:
        return [], 0
    checker = getattr(module, "check_define_vs_data", None)
    if checker is None:
        return [], 0
    n = len([k for k in dir(module) if k.startswith("tf_def_")])
    return list(checker(Path(define), datasets)), n
