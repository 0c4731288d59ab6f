"""``trialforge adam``: build ADaM from a study folder's SDTM or any folder of SDTM XPT files."""
from __future__ import annotations

from pathlib import Path

import click

from trialforge.errors import SpecError

from .build import build_adam
from .config import load_adam_config


def run_adam(study_dir: Path | None, sdtm_dir: Path | None, spec: Path | None):
    """Resolve inputs, read SDTM XPT, build ADaM; returns the dict of Datasets (writing is the lead's gate)."""
    from trialforge.submission.xpt import read_xpt_folder  # the XPT codec (submission layer)

    if study_dir is not None:
        sdtm_dir = sdtm_dir or study_dir / "out" / "sdtm"
        spec = spec or study_dir / "specs" / "adam.yaml"
    if sdtm_dir is None or spec is None:
        raise SpecError("give a STUDY_DIR, or both --sdtm and --spec")
    config = load_adam_config(spec)
    return build_adam(read_xpt_folder(sdtm_dir), config)


@click.command("adam")
@click.argument("study_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--sdtm", "sdtm_dir", type=click.Path(file_okay=False, path_type=Path), help="folder of SDTM XPT files")
@click.option("--spec", type=click.Path(dir_okay=False, path_type=Path), help="ADaM spec YAML (default specs/adam.yaml)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="output folder")
def adam_command(study_dir, sdtm_dir, spec, out_dir):
    """Build ADSL ADAE ADRS ADTTE ADPC ADPP (+ SDTM PP) from SDTM."""
    datasets = run_adam(study_dir, sdtm_dir, spec)
    for name, ds in datasets.items():
        click.echo(f"{name}: {len(ds)} records, {len(ds.meta.variables)} variables")
    if out_dir is not None:
        click.echo(f"(writing to {out_dir} is done by the submission gate)")
