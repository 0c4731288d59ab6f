"""The ``trialforge`` command: one click group wiring the layers.

Exit codes: 0 success, 1 validation findings at or above the failing severity, 2 bad input, usage or an
output folder that cannot be used or written, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
User errors print one line naming file/column/row/value, never a traceback.
"""
from __future__ import annotations

import errno
import os
import signal
import sys
from pathlib import Path

import click

from . import __version__
from .errors import Interrupted, TrialforgeError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_INTERNAL = 70


def _progress(stage, name, n):
    click.echo(f"  {stage:8} {name:10} {n:>8}", err=True)


# Commands that live with their layer, imported only when used (tables pulls in matplotlib and scipy,
# which would otherwise cost every command seconds of start-up). Their one-line help is kept here too, so
# `trialforge --help` lists them without importing them (a test keeps it equal to the command's own).
LAZY_COMMANDS = {
    "validate": (".validation.command", "validate_command"),
    "synth": (".synth.command", "synth_command"),
    "adam": (".adam.command", "adam_command"),
    "tables": (".tables.command", "tables_command"),
    "verify": (".submission.verify_command", "verify_command"),
}
LAZY_SHORT_HELP = {
    "validate": "Validate a folder of SDTM or ADaM datasets (XPT or Dataset-JSON, any origin).",
    "synth": "Generate a bundled study's raw CRF export (one CSV per form) at any size.",
    "adam": "Build ADSL ADAE ADLB ADRS ADTTE ADPC ADPP (+ SDTM PP) from SDTM, gate them, write XPT.",
    "tables": "Write CSR tables (RTF, HTML, JSON), listings and figures (PNG, SVG, RTF, HTML) with an index.html.",
    "verify": "Verify OUT_DIR's files against OUT_DIR/manifest.json (SHA-256).",
}


_STOPPED = "stopped; nothing written to the output folder (an earlier output is left as it was)"


def _raise_terminated(signum, frame):
    raise Interrupted(signum)


# Examples shown under the help of the commands that live with their layer (``trialforge adam --help``).
LAZY_EXAMPLES = {
    "validate": ["trialforge validate out/sdtm",
                 "trialforge validate pilot/sdtm --define pilot/sdtm/define.xml --report-dir /tmp/report",
                 "trialforge validate out/adam --fail-on warning"],
    "adam": ["trialforge adam path/to/study --out /tmp/adam",
             "trialforge adam --sdtm out/sdtm --spec path/to/study/specs/adam.yaml --out /tmp/adam"],
    "tables": ["trialforge tables path/to/study --out /tmp/tables",
               "trialforge tables --adam out/adam --only 14.3.1 --out /tmp/tables"],
    "verify": ["trialforge verify out", "trialforge verify /copy/of/out --inputs path/to/study"],
    "synth": ["trialforge synth --subjects 50 --seed 1 --out /tmp/raw"],
}


class Group(click.Group):
    """Turns TrialforgeError and OS errors into one line and exit 2, signals into exit 130/143, and
    unexpected errors into a short report."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx, name):
        if name in LAZY_COMMANDS and name not in self.commands:
            import importlib
            module_name, attr = LAZY_COMMANDS[name]
            command = getattr(importlib.import_module(module_name, __package__), attr)
            if name in LAZY_EXAMPLES and not command.epilog and "Example" not in (command.help or ""):
                command.epilog = "\b\nExamples:\n" + "\n".join(f"  {e}" for e in LAZY_EXAMPLES[name])
            self.add_command(command, name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx, formatter):
        """One row per command with its whole first sentence (click would cut it at the terminal width)."""
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_SHORT_HELP and name not in self.commands:     # listed without importing it
                rows.append((name, LAZY_SHORT_HELP[name]))
            elif (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=200)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx):
        previous = _install_sigterm()
        try:
            return super().invoke(ctx)
        except TrialforgeError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            click.echo(f"interrupted by SIGINT: {_STOPPED}", err=True)
            sys.exit(128 + signal.SIGINT)
        except Interrupted as exc:
            click.echo(f"{exc}: {_STOPPED}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except OSError as exc:      # the machine, not the program: permissions, read-only, disk full
            code = errno.errorcode.get(exc.errno or 0, "")
            where = f" ({exc.filename})" if exc.filename else ""
            click.echo(f"error: {exc.strerror or exc}{f' [{code}]' if code else ''}{where}", err=True)
            sys.exit(EXIT_USAGE)
        except Exception as exc:  # a bug, not the user's fault: say so without a traceback
            if os.environ.get("TRIALFORGE_DEBUG"):
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc} (set TRIALFORGE_DEBUG=1 for a traceback)",
                       err=True)
            sys.exit(EXIT_INTERNAL)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def _install_sigterm():
    """SIGTERM raises ``Interrupted`` like Ctrl-C raises KeyboardInterrupt, so staging folders are cleaned."""
    try:
        return signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:          # not the main thread (an embedding application): leave signals alone
        return None


@click.group(cls=Group, context_settings={"max_content_width": 110})
@click.version_option(__version__, prog_name="trialforge")
def main():
    """trialforge: raw CRF exports to a regulator-ready CDISC submission.

    \b
    Examples:
      trialforge run                               # the bundled example study, output in ./out
      trialforge run path/to/study --out /tmp/out  # your study
      trialforge validate out/sdtm                 # check any folder of SDTM/ADaM XPT or Dataset-JSON
      trialforge COMMAND --help                    # options and examples of one command

    \b
    Exit codes: 0 success; 1 validation findings; 2 bad input, usage or an unusable output folder
    (one line naming it); 130 Ctrl-C; 143 SIGTERM.
    """


def _run_command(study_dir, out_dir, *, adam: bool, tables: bool, name: str, options=(), only=None, jobs=None):
    from .pipeline import DEFAULT_STUDY, run_study
    from .validation.report import summary_lines
    click.echo(f"trialforge {__version__} {name}: {study_dir or DEFAULT_STUDY}", err=True)
    # --jobs is not recorded in the manifest's command: it changes no output byte
    result = run_study(study_dir, out_dir=out_dir, progress=_progress, adam=adam, tables=tables, only=only, jobs=jobs,
                       command=["trialforge", name] + ([str(study_dir)] if study_dir else []) + list(options))
    for line in result.warnings:
        click.echo(f"warning: {line}", err=True)
    for package, report in result.reports.items():
        for line in summary_lines(report, title=f"{package} validation"):
            click.echo(line)
    reports = [result.published / "validation" / name / "validation.html" for name in result.reports]
    if result.has_errors:
        click.echo(f"validation errors: nothing written to {result.out_dir} (an earlier output there is left "
                   f"as it was); the report is in {result.published}")
        for path in reports:
            click.echo(f"  validation report: {path}")
        sys.exit(EXIT_FINDINGS)
    click.echo(f"wrote {result.files} files to {result.out_dir}")
    if (result.published / "tables" / "index.html").is_file():
        click.echo(f"  tables:            {result.published / 'tables' / 'index.html'}")
    for line in result.not_produced:
        click.echo(f"  {line}")
    for path in reports:
        click.echo(f"  validation report: {path}")


_STUDY_ARG = click.argument("study_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
_OUT_OPT = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                        help="Output folder (default: STUDY_DIR/out, or ./out for the bundled example). "
                             "Must be absent, empty or an earlier trialforge output; never the study folder, "
                             "a folder above it, or inside raw/ or specs/.")

_JOBS_OPT = click.option("--jobs", "jobs", type=click.IntRange(min=0), default=None, metavar="N",
                         help="Processes to use: the SDTM gate runs in a forked process while ADaM is derived, "
                              "the SDTM package is written while ADaM is gated, and the CSR tables and figures are "
                              "built in N forked processes beside the package. Default: TRIALFORGE_JOBS, else every "
                              "available core; 1 = one process, step after step; 0 = every core. Outputs are "
                              "identical.")

_OUTPUT_CONTRACT = """
    \b
    Output folder safety:
      OUT is replaced whole, all at once, and only when it is absent, empty or an
      earlier trialforge output (it holds .trialforge-output); anything else exits 2.
      A run with validation errors leaves OUT as it was and writes its reports to
      OUT.failed/ (printed). Ctrl-C / SIGTERM leave OUT as it was.

    \b
    Exit codes:
      0    success
      1    validation errors: nothing written to OUT, reports in OUT.failed/
      2    bad input or usage, or OUT cannot be used or written (one line naming it)
      130  interrupted (Ctrl-C);  143  terminated (SIGTERM)
"""


@main.command(short_help="The whole job: SDTM, ADaM, XPT, Dataset-JSON, define.xml, validation, CSR tables.")
@_STUDY_ARG
@_OUT_OPT
@click.option("--no-tables", "no_tables", is_flag=True,
              help="Skip the CSR tables: SDTM + ADaM, gates, XPT, Dataset-JSON, define.xml and the manifest only "
                   "(the quick edit-run loop; the same output as `trialforge define`).")
@_JOBS_OPT
def run(study_dir, out_dir, no_tables, jobs):
    """The whole job for STUDY_DIR (default: the bundled example study, examples/cd70-cart): SDTM, ADaM, package, tables.

    \b
    Examples:
      trialforge run                              # bundled example -> ./out
      trialforge run studies/abc --out /tmp/abc   # your study -> /tmp/abc
      trialforge run studies/abc --no-tables      # quick: everything but the CSR tables
      trialforge run studies/abc --jobs 1         # one process (default: every core)
      trialforge verify /tmp/abc                  # recheck every checksum later

    \b
    Output layout:
      OUT/sdtm/*.xpt  OUT/adam/*.xpt        SAS XPT v5, one file per dataset
      OUT/{sdtm,adam}/json/*.json           Dataset-JSON v1.1
      OUT/{sdtm,adam}/define.xml            Define-XML 2.1
      OUT/validation/{sdtm,adam}/           validation.html/.json/.xlsx, validation-junit.xml
      OUT/tables/index.html                 CSR tables and figures (RTF, HTML, PNG, SVG)
      OUT/manifest.json                     SHA-256 of inputs, specs and outputs
      OUT/.trialforge-output                marks the folder as trialforge's
    """
    _run_command(study_dir, out_dir, adam=True, tables=not no_tables, name="run",
                 options=["--no-tables"] if no_tables else [], jobs=jobs)


run.help += _OUTPUT_CONTRACT


def _domain_list(ctx, param, values):
    """``--only AE --only LB`` or ``--only AE,LB``: upper-case domain names, in order, each once."""
    names = [n.strip().upper() for v in values for n in v.split(",") if n.strip()]
    return tuple(dict.fromkeys(names)) or None


@main.command(short_help="SDTM only: map, gate and write OUT/sdtm (XPT, Dataset-JSON, define.xml).")
@_STUDY_ARG
@_OUT_OPT
@click.option("--only", "only", multiple=True, metavar="DOMAIN[,DOMAIN]", callback=_domain_list,
              help="Map only these domains plus the domains they read (e.g. DM for --DY and EPOCH); OUT then "
                   "holds just those. Repeat or separate with commas; a domain no spec builds exits 2.")
def sdtm(study_dir, out_dir, only):
    """SDTM only: map, gate and write out/sdtm (XPT, Dataset-JSON, define.xml) and the manifest.

    \b
    Examples:
      trialforge sdtm                             # bundled example -> ./out/sdtm
      trialforge sdtm studies/abc --out /tmp/abc
      trialforge sdtm studies/abc --only AE       # the edit-run loop: AE (+ DM it reads) only
    """
    _run_command(study_dir, out_dir, adam=False, tables=False, name="sdtm", only=only,
                 options=[f"--only={','.join(only)}"] if only else [])


sdtm.help += _OUTPUT_CONTRACT


@main.command(short_help="The submission package without tables: SDTM + ADaM XPT, Dataset-JSON, define.xml.")
@_STUDY_ARG
@_OUT_OPT
def define(study_dir, out_dir):
    """The submission package without tables: SDTM + ADaM XPT, Dataset-JSON, define.xml 2.1, manifest.

    \b
    Examples:
      trialforge define studies/abc --out /tmp/abc-package
    """
    _run_command(study_dir, out_dir, adam=True, tables=False, name="define")


define.help += _OUTPUT_CONTRACT


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rows", default=5, show_default=True, help="How many records to show.")
def xpt(path, rows):
    """Show an XPT file's dataset and variable metadata and its first records (any SAS-written XPT).

    \b
    Example:
      trialforge xpt out/sdtm/ae.xpt --rows 3
    """
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
    """Show how a domain is mapped: each variable's label, type, core, origin and rule (from its spec).

    \b
    Examples:
      trialforge spec AE                          # the bundled example's AE mapping
      trialforge spec LB studies/abc
      trialforge spec --excel define-spec.xlsx studies/abc
      trialforge spec --to-yaml mapping.xlsx
    """
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


def entry() -> None:
    """The ``trialforge`` program (the script and ``python -m trialforge``): ``main`` in click's standalone
    mode, then the process ends without tearing the interpreter down (``os._exit`` after flushing stdout and
    stderr) when nothing else runs in it.

    Why: every output is complete and closed when a command returns; freeing a run's heap object by object
    at exit (a full collection, every module's globals, millions of strings) only delays the prompt (~0.2 s
    CPU at 1,000 subjects, seconds at 10,000). An embedding caller or a test calls ``main`` and keeps the
    normal exit."""
    import threading
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):             # sys.exit("message"): printed, status 1, as Python does
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):       # a closed pipe: leave it to the normal exit, which reports it
        sys.exit(code)
    if threading.active_count() > 1:    # a thread still runs (an embedding plugin's): let the normal exit join it
        sys.exit(code)
    os._exit(code)


if __name__ == "__main__":
    entry()
