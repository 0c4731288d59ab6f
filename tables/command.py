"""`trialforge tables`: CSR tables and figures from ADaM.

With STUDY_DIR the pipeline's own steps build SDTM and ADaM in memory (load_study, build_sdtm,
build_adam_stage), so the tables always match the current raw data and specs; with --adam the XPT
files a run wrote (out/adam) are read back.
"""
from __future__ import annotations

from pathlib import Path

import click

from ..outputs import staged_folder
from .adam_io import read_adam_folder
from .build import BuildReport, build_study_tables, build_tables, select_outputs
from .catalogue import default_catalogue, load_catalogue, study_catalogue


def adam_from_study(study_dir: Path):
    """ADaM of a study folder built in memory with the pipeline's functions; returns (adam, study)."""
    from ..pipeline import build_adam_stage
    from ..sdtm.engine import build_sdtm
    from ..specs.ct import load_ct
    from ..specs.study import load_study
    study = load_study(study_dir)
    ct = load_ct(list(study.ct_files) or None)
    sdtm = build_sdtm(study, ct=ct)
    adam, _ = build_adam_stage(study, sdtm)
    if not adam:
        raise click.UsageError(f"{study_dir}: the study has no ADaM spec (specs/adam.yaml); pass --adam XPT_DIR")
    return adam, study


@click.command("tables")
@click.argument("study_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--adam", "adam_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of ADaM XPT files (e.g. out/adam of a run); needs adsl.xpt.")
@click.option("--catalogue", "catalogue_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Output catalogue (tables.yaml) for --adam; default: the package default catalogue.")
@click.option("--adam-spec", "adam_spec", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The adam.yaml that derived --adam (footnotes such as the TEAE window are taken from it).")
@click.option("--only", multiple=True, help="Output id or id prefix (e.g. 14.3.1); repeatable.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default STUDY_DIR/out/tables, or ./tables-out with --adam).")
@click.option("--jobs", "jobs", type=click.IntRange(min=0), default=None, metavar="N",
              help="Build the outputs in N forked processes (default: TRIALFORGE_JOBS, else every available core; "
                   "1 = one process). The files are identical.")
def tables_command(study_dir, adam_dir, catalogue_file, adam_spec, only, out_dir, jobs):
    """Write CSR tables (RTF, HTML, JSON), listings and figures (PNG, SVG, RTF, HTML) with an index.html.

    Exit 2 on bad input (unknown --only number, no ADSL, a catalogue error) or when any output fails
    (each failure is named; the other outputs are built, and an earlier output folder is kept).
    """
    if (study_dir is None) == (adam_dir is None):
        raise click.UsageError("give either STUDY_DIR or --adam XPT_DIR")
    from ..jobs import resolve_jobs
    only = list(only) or None
    jobs = resolve_jobs(jobs)
    report = BuildReport()
    if adam_dir:
        adam = read_adam_folder(adam_dir)
        catalogue = load_catalogue(catalogue_file) if catalogue_file else default_catalogue()
        select_outputs(catalogue, only)                 # an unknown number fails before any work
        out = out_dir or Path("tables-out")
        with staged_folder(out, inputs=[adam_dir] + ([catalogue_file] if catalogue_file else [])) as staging:
            config = None
            if adam_spec:
                from ..specs.yamlio import load_yaml
                config = load_yaml(adam_spec)
            paths = build_tables(adam, staging, only=only, catalogue=catalogue, adam_config=config,
                                 report=report, jobs=jobs)
    else:
        from ..specs.study import load_study
        select_outputs(study_catalogue(load_study(study_dir)), only)
        adam, study = adam_from_study(study_dir)
        out = out_dir or study.out_dir / "tables"
        from ..pipeline import protected_inputs
        with staged_folder(out, **protected_inputs(study)) as staging:     # never over raw/, specs/ or the study
            paths = build_study_tables(study, adam, staging, only=only, report=report, jobs=jobs)
    for line in report.not_produced_lines():
        click.echo(line)
    click.echo(f"wrote {len(paths)} files to {out} (open {out / 'index.html'})")
