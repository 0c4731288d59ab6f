"""Run the catalogue over a package: pandera schemas per dataset, dataset rules, study rules."""
from __future__ import annotations

from ..specs.ct import load_ct
from ..specs.standards import load_standard
from .context import ValidationContext, detect_scope
from .findings import ValidationReport
from .registry import ADAM, applies, rules_for
from .schema import run_schema
from . import rules_core  # noqa: F401  (registers the core rules)

STANDARD_FOR = {"SDTM": "SDTMIG 3.4", ADAM: "ADaMIG 1.3"}


def validate_datasets(datasets: dict, *, ct=None, standard=None, scope: str | None = None,
                      define=None, options: dict | None = None) -> ValidationReport:
    """Validate a package (dict name → Dataset); returns every finding, sorted, never raises on data."""
    scope = scope or detect_scope(datasets.keys())
    ctx = ValidationContext(datasets={k.upper(): v for k, v in datasets.items()},
                            ct=ct if ct is not None else load_ct(),
                            standard=standard or load_standard(STANDARD_FOR[scope]), scope=scope,
                            define=define, options=options or {})
    report = ValidationReport(datasets={name: len(ds.frame) for name, ds in sorted(ctx.datasets.items())})
    dataset_rules = rules_for(scope, "dataset")
    study_rules = rules_for(scope, "study")
    column_rules = rules_for(scope, "column")
    for name, ds in sorted(ctx.datasets.items()):
        report.extend(run_schema(ds, ctx))
        for rule in dataset_rules:
            if applies(rule, name):
                report.extend(rule.check(ds, ctx))
    for rule in study_rules:
        report.extend(rule.check(ctx))
    report.rules_run = len(dataset_rules) + len(study_rules) + len(column_rules)
    report.findings = report.sorted()
    return report
