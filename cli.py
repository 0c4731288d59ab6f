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


class Group(click.Group):
    """Turns TrialforgeError into one line and exit 2, and unexpected errors into a short report."""

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


@main.command()
@click.argument("study_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: STUDY_DIR/out, or ./out for the bundled example).")
def run(study_dir, out_dir):
    """Build the whole package for STUDY_DIR (default: the bundled CD70 CAR-T example)."""
    from .pipeline import DEFAULT_STUDY, run_study
    from .validation.report import summary_lines
    click.echo(f"trialforge {__version__}: {study_dir or DEFAULT_STUDY}", err=True)
    result = run_study(study_dir, out_dir=out_dir, progress=_progress,
                       command=["trialforge", "run"] + ([str(study_dir)] if study_dir else []))
    for name, report in result.reports.items():
        for line in summary_lines(report, title=f"{name} validation"):
            click.echo(line)
    if result.has_errors:
        click.echo(f"validation errors: no datasets written; report in {result.out_dir / 'validation'}")
        sys.exit(EXIT_FINDINGS)
    click.echo(f"wrote {len(result.written)} files to {result.out_dir}")


def _wire(command_path: str, attr: str):
    """Commands that live with their layer (synth, adam, tables, verify)."""
    import importlib
    module = importlib.import_module(command_path, __package__)
    main.add_command(getattr(module, attr))


for _path, _attr in [(".validation.command", "validate_command"),
                     (".synth.command", "synth_command"), (".adam.command", "adam_command"),
                     (".tables.command", "tables_command"), (".submission.verify_command", "verify_command")]:
    _wire(_path, _attr)


if __name__ == "__main__":
    main()
