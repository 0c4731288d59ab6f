"""The ``trialforge`` command: one click group wiring the layers.

Exit codes: 0 success, 1 validation findings at or above the failing severity, 2 bad input or usage.
User errors print one line naming file/column/row/value, never a traceback.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import TrialforgeError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _progress(stage, name, n):
    click.echo(f"  {stage:8} {name:10} {n:>8}", err=True)


# Commands that live with their layer, imported only when used (tables pulls in matplotlib and scipy,
# which would otherwise cost every command seconds of start-up).
LAZY_COMMANDS = {
    "validate": (".validation.command", "validate_command"),
    "synth": (".synth.command", "synth_command"),
    "adam": (".adam.command", "adam_command"),
    "tables": (".tables.command", "tables_command"),
    "verify": (".submission.verify_command", "verify_command"),
}


class Group(click.Group):
    """Turns TrialforgeError into one line and exit 2, and unexpected errors into a short report."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx, name):
        if name in LAZY_COMMANDS and name not in self.commands:
            import importlib
            module_name, attr = LAZY_COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module_name, __package__), attr), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TrialforgeError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(EXIT_USAGE)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug, not the user's fault: say so without a traceback
            if os.environ.get("TRIALFORGE_DEBUG"):
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc} (set TRIALFORGE_DEBUG=1 for a traceback)",
                       err=True)
            sys.exit(70)


@click.group(cls=Group)
@click.version_option(__version__, prog_name="trialforge")
def main():
    """trialforge: raw CRF exports to a regulator-ready CDISC submission."""


def _run_command(study_dir, out_dir, *, adam: bool, tables: bool, name: str):
    from .pipeline import DEFAULT_STUDY, run_study
    from .validation.report import summary_lines
    click.echo(f"trialforge {__version__} {name}: {study_dir or DEFAULT_STUDY}", err=True)
    result = run_study(study_dir, out_dir=out_dir, progress=_progress, adam=adam, tables=tables,
                       command=["trialforge", name] + ([str(study_dir)] if study_dir else []))
    for package, report in result.reports.items():
        for line in summary_lines(report, title=f"{package} validation"):
            click.echo(line)
    if result.has_errors:
        click.echo(f"validation errors: no datasets written; report in {result.out_dir / 'validation'}")
        sys.exit(EXIT_FINDINGS)
    click.echo(f"wrote {len(result.written)} files to {result.out_dir}")


_STUDY_ARG = click.argument("study_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
_OUT_OPT = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                        help="Output folder (default: STUDY_DIR/out, or ./out for the bundled example).")


@main.command()
@_STUDY_ARG
@_OUT_OPT
def run(study_dir, out_dir):
    """The whole job for STUDY_DIR (default: the bundled CD70 CAR-T example): SDTM, ADaM, package, tables."""
    _run_command(study_dir, out_dir, adam=True, tables=True, name="run")


@main.command()
@_STUDY_ARG
@_OUT_OPT
def sdtm(study_dir, out_dir):
    """SDTM only: map, gate and write out/sdtm (XPT, Dataset-JSON, define.xml) and the manifest."""
    _run_command(study_dir, out_dir, adam=False, tables=False, name="sdtm")


@main.command()
@_STUDY_ARG
@_OUT_OPT
def define(study_dir, out_dir):
    """The submission package without tables: SDTM + ADaM XPT, Dataset-JSON, define.xml 2.1, manifest."""
    _run_command(study_dir, out_dir, adam=True, tables=False, name="define")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rows", default=5, show_default=True, help="How many records to show.")
def xpt(path, rows):
    """Show an XPT file's dataset and variable metadata and its first records (any SAS-written XPT)."""
    from .submission.xpt import read_xpt
    ds = read_xpt(path)
    click.echo(f"{ds.meta.name}: {ds.meta.label!r}, {len(ds.frame)} records, {len(ds.meta.variables)} variables")
    for v in ds.meta.variables:
        click.echo(f"  {v.name:8} {v.type:4} {str(v.length or ''):>4} {v.format or '':12} {v.label}")
    if rows:
        click.echo(ds.frame.head(rows).to_string())


@main.command()
@click.argument("domain", required=False)
@_STUDY_ARG
@click.option("--excel", "excel", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the study's metadata as a Pinnacle 21 define spec workbook (OUT.xlsx).")
@click.option("--to-yaml", "to_yaml", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Print the YAML specs a mapping workbook (sheets Mapping, Sources) describes.")
def spec(domain, study_dir, excel, to_yaml):
    """Show how a domain is mapped: each variable's label, type, core, origin and rule (from its spec)."""
    from .pipeline import DEFAULT_STUDY
    if to_yaml is not None:
        from .spec_tools import mapping_yaml
        click.echo(mapping_yaml(to_yaml, domain), nl=False)
        return
    if excel is not None:
        from .spec_tools import write_study_workbook
        from .specs.study import load_study
        folder = study_dir or (Path(domain) if domain else None)      # `spec --excel OUT.xlsx STUDY_DIR`
        path = write_study_workbook(load_study(folder or DEFAULT_STUDY), excel)
        click.echo(f"wrote {path}")
        return
    if domain is None:
        raise click.UsageError("give a DOMAIN, or --excel OUT.xlsx, or --to-yaml MAPPING.xlsx")
    from .sdtm.engine import standard_metadata
    from .specs.spec import load_domain_specs
    from .specs.standards import load_standard
    from .specs.study import load_study
    study = load_study(study_dir or DEFAULT_STUDY)
    specs = {s.dataset: s for s in load_domain_specs(study.specs_dir)}
    if domain.upper() not in specs:
        raise TrialforgeError(f"no spec builds {domain.upper()}; specs: {', '.join(sorted(specs))}",
                              file=study.specs_dir)
    s = specs[domain.upper()]
    meta = standard_metadata(s, load_standard("SDTMIG 3.4"))
    if study.define_spec:                       # the define spec workbook's statements, as the run uses them
        from .specs.define_workbook import apply_workbook, read_define_workbook
        meta = apply_workbook(meta, read_define_workbook(study.define_spec), spec_file=s.file)
    click.echo(f"{meta.name}: {meta.label} ({meta.cls}); keys {', '.join(meta.keys)}; file {s.file}")
    for v in meta.variables:
        rule = s.variables[v.name]
        click.echo(f"  {v.name:8} {v.type:4} {v.core:4} {v.origin or '':11} {rule.kind:11} {v.label}")


if __name__ == "__main__":
    main()
