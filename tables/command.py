"""`trialforge tables`: CSR tables and figures from ADaM."""
from __future__ import annotations

from pathlib import Path

import click

from .adam_io import read_adam_folder
from .build import build_tables


def adam_from_study(study_dir: Path):
    """Hook for STUDY_DIR: the pipeline will build ADaM in memory; until then read STUDY_DIR/out/adam."""
    folder = study_dir / "out" / "adam"
    if folder.is_dir():
        return read_adam_folder(folder)
    raise click.UsageError(f"{study_dir}: no ADaM found at {folder}; run the pipeline first or pass --adam")


@click.command("tables")
@click.argument("study_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--adam", "adam_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of ADaM XPT files.")
@click.option("--only", multiple=True, help="Output id or id prefix (e.g. 14.3.1); repeatable.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default STUDY_DIR/out/tables, or ./tables-out with --adam).")
def tables_command(study_dir, adam_dir, only, out_dir):
    """Write CSR tables (RTF, HTML, JSON) and figures (PNG, SVG, RTF) with an index.html."""
    if (study_dir is None) == (adam_dir is None):
        raise click.UsageError("give either STUDY_DIR or --adam XPT_DIR")
    adam = read_adam_folder(adam_dir) if adam_dir else adam_from_study(study_dir)
    out = out_dir or (study_dir / "out" / "tables" if study_dir else Path("tables-out"))
    paths = build_tables(adam, out, only=list(only) or None)
    click.echo(f"wrote {len(paths)} files to {out} (open {out / 'index.html'})")
