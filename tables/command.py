"""`trialforge tables`: CSR tables and figures from ADaM.

With STUDY_DIR the pipeline's own steps build SDTM and ADaM in memory (load_study, build_sdtm,
build_adam_stage), so the tables always match the current raw data and specs; with --adam the XPT
files a run wrote (out/adam) are read back.
"""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import TrialforgeError
from .adam_io import read_adam_folder
from .build import build_tables


def adam_from_study(study_dir: Path) -> tuple[dict, dict]:
    """ADaM of a study folder built in memory with the pipeline's functions; returns (adam, study info)."""
    from ..pipeline import build_adam_stage, study_info
    from ..sdtm.engine import build_sdtm
    from ..specs.ct import load_ct
    from ..specs.study import load_study
    study = load_study(study_dir)
    ct = load_ct(list(study.ct_files) or None)
    sdtm = build_sdtm(study, ct=ct)
    adam, _ = build_adam_stage(study, sdtm)
    if not adam:
        raise click.UsageError(f"{study_dir}: the study has no ADaM spec (specs/adam.yaml); pass --adam XPT_DIR")
    info = study_info(study)
    return adam, {"title": info["name"], "studyid": study.id}


@click.command("tables")
@click.argument("study_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--adam", "adam_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of ADaM XPT files (e.g. out/adam of a run).")
@click.option("--only", multiple=True, help="Output id or id prefix (e.g. 14.3.1); repeatable.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default STUDY_DIR/out/tables, or ./tables-out with --adam).")
def tables_command(study_dir, adam_dir, only, out_dir):
    """Write CSR tables (RTF, HTML, JSON) and figures (PNG, SVG, RTF, HTML) with an index.html."""
    if (study_dir is None) == (adam_dir is None):
        raise click.UsageError("give either STUDY_DIR or --adam XPT_DIR")
    try:
        if adam_dir:
            adam, study = read_adam_folder(adam_dir), {}
        else:
            adam, study = adam_from_study(study_dir)
        out = out_dir or (study_dir / "out" / "tables" if study_dir else Path("tables-out"))
        paths = build_tables(adam, out, only=list(only) or None, study=study)
    except TrialforgeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {len(paths)} files to {out} (open {out / 'index.html'})")
