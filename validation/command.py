"""``trialforge validate``: validate any folder of SDTM or ADaM datasets, whoever wrote them.

Exit codes: 0 no findings at or above --fail-on, 1 there are, 2 unusable input (missing folder,
no readable datasets, bad arguments).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from ..errors import TrialforgeError
from .report import EXTRA_FORMATS, FORMATS

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
STANDARDS = {"sdtmig-3.3": "SDTM", "sdtmig-3.4": "SDTM", "adamig-1.3": "ADaM"}
IG_VERSION = {"sdtmig-3.3": "3.3", "sdtmig-3.4": "3.4"}   # rule applicability (Rule.since); metadata stays 3.4


def run_validation(folder, *, standard: str = "auto", define=None, ct_files=(), options=None):
    """Read ``folder``, validate each standard's datasets, return (package, merged report)."""
    from ..specs.ct import load_ct
    from .findings import merge_reports
    from .package import read_package
    from .runner import validate_datasets

    package = read_package(folder)
    if not package.datasets:
        detail = f"; unreadable: {package.unreadable[0][0]}: {package.unreadable[0][1]}" if package.unreadable else ""
        raise TrialforgeError(f"no readable .xpt or Dataset-JSON files in folder{detail}", file=folder)
    ct = load_ct(list(ct_files) or None)
    groups = package.split(STANDARDS.get(standard))
    reports = []
    for i, (scope, datasets) in enumerate(sorted(groups.items(), key=lambda kv: kv[0] != "SDTM")):
        opts = dict(options or {})
        opts["unreadable"] = package.unreadable if i == 0 else []
        if standard in IG_VERSION:
            opts["ig_version"] = IG_VERSION[standard]
        reports.append(validate_datasets(datasets, ct=ct, scope=scope, define=define, options=opts))
    return package, merge_reports(reports)


@click.command("validate")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--standard", type=click.Choice(["auto", *STANDARDS]), default="auto", show_default=True,
              help="Standard of the package; auto detects SDTM vs ADaM per dataset by name and structure.")
@click.option("--define", "define", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="define.xml (2.1) to check against the data.")
@click.option("--ct", "ct_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Controlled terminology file(s) in NCI EVS text layout (repeatable); default: the bundled CT.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "notice"]), default="error", show_default=True,
              help="Lowest severity that makes the exit code 1.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write reports here (validation.json, .html, .xlsx, validation-junit.xml).")
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS + EXTRA_FORMATS),
              help="Report formats to write (repeatable; default: json, html, xlsx, junit). core-json follows "
                   "CDISC CORE's JSON report fields.")
@click.option("--compare-core", "compare_core", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="A CDISC CORE JSON report on the same package: list the findings one tool has "
                                 "and the other lacks (written to core-comparison.json with --report-dir).")
@click.option("--max-lines", type=int, default=30, show_default=True, help="Rule/dataset lines in the terminal summary.")
@click.option("--list-rules", is_flag=True, help="Print the rule catalogue (JSON lines) and exit.")
def validate_command(folder, standard, define, ct_files, fail_on, report_dir, formats, compare_core, max_lines,
                     list_rules):
    """Validate a folder of SDTM or ADaM datasets (XPT or Dataset-JSON, any origin)."""
    if list_rules:
        from .registry import catalogue
        for row in catalogue():
            click.echo(json.dumps(row, sort_keys=True))
        sys.exit(EXIT_OK)
    if folder is None:
        click.echo("error: FOLDER is required (or pass --list-rules)", err=True)
        sys.exit(EXIT_USAGE)
    from .report import summary_lines, write_reports
    core_doc = None
    if compare_core is not None:           # a bad CORE report is a usage error before any work is done
        from .core_report import read_core_report
        try:
            core_doc = read_core_report(compare_core)
        except TrialforgeError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(EXIT_USAGE)
    try:
        start = time.perf_counter()
        package, report = run_validation(folder, standard=standard, define=define, ct_files=ct_files)
        seconds = time.perf_counter() - start
    except TrialforgeError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(EXIT_USAGE)
    for line in summary_lines(report, title=f"validate {folder} ({report.standard})", max_rules=max_lines):
        click.echo(line)
    click.echo(f"validated in {seconds:.2f} s", err=True)
    if define is None and (Path(folder) / "define.xml").is_file():
        click.echo("note: define.xml found in the folder; pass --define to check it against the data", err=True)
    if report_dir:
        for path in write_reports(report, report_dir, formats=formats or FORMATS, package=str(folder), fail_on=fail_on,
                                  sources=package.sources):
            click.echo(f"report: {path}")
    if core_doc is not None:
        from .core_report import compare, comparison_lines
        diff = compare(report, core_doc)
        for line in comparison_lines(diff, max_lines):
            click.echo(line)
        if report_dir:
            path = Path(report_dir) / "core-comparison.json"
            path.write_text(json.dumps(diff, indent=1) + "\n", encoding="utf-8")
            click.echo(f"report: {path}")
    sys.exit(EXIT_FINDINGS if report.at_or_above(fail_on) else EXIT_OK)
