"""`trialforge synth`: write the synthetic raw EDC export (one CSV per CRF form)."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import TrialforgeError
from .studies import DEFAULT_STUDY, STUDIES, generator


@click.command("synth")
@click.option("--study", type=click.Choice(sorted(STUDIES)), default=DEFAULT_STUDY, show_default=True,
              help="Which bundled study's raw layout to generate.")
@click.option("--subjects", "-n", type=int, default=None,
              help="Number of screened subjects (screen failures included); default: the bundled study's size.")
@click.option("--seed", "-s", type=int, default=None,
              help="Random seed; the same seed and size give byte-identical files. Default: the bundled seed.")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the raw CSV files into (created if missing).")
def synth_command(study: str, subjects, seed, out_dir: Path) -> None:
    """Generate a bundled study's raw CRF export (one CSV per form) at any size.

    Example: trialforge synth --study cd70-cart --subjects 1000 --seed 7 --out /tmp/raw
    """
    gen = generator(study)
    subjects = gen.DEFAULT_N if subjects is None else subjects
    seed = gen.DEFAULT_SEED if seed is None else seed
    try:
        paths = gen.generate(subjects, seed, out_dir=out_dir)
    except TrialforgeError as exc:
        raise click.UsageError(exc.message) from exc
    except OSError as exc:
        raise click.UsageError(f"cannot write to {out_dir}: {exc.strerror}") from exc
    click.echo(f"wrote {len(paths)} raw forms of {study} for {subjects} screened subjects (seed {seed}) to {out_dir}")
