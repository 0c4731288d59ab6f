"""`trialforge synth`: write the synthetic raw EDC export (one CSV per CRF form)."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import TrialforgeError
from .generate import DEFAULT_N, DEFAULT_SEED, generate


@click.command("synth")
@click.option("--subjects", "-n", type=int, default=DEFAULT_N, show_default=True,
              help="Number of screened subjects (screen failures included).")
@click.option("--seed", "-s", type=int, default=DEFAULT_SEED, show_default=True,
              help="Random seed; the same seed and size give byte-identical files.")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the raw CSV files into (created if missing).")
def synth_command(subjects: int, seed: int, out_dir: Path) -> None:
    """Generate the raw CRF export of the CD70 CAR-T example study (NCT07181720-like)."""
    try:
        paths = generate(subjects, seed, out_dir=out_dir)
    except TrialforgeError as exc:
        raise click.UsageError(exc.message) from exc
    except OSError as exc:
        raise click.UsageError(f"cannot write to {out_dir}: {exc.strerror}") from exc
    click.echo(f"wrote {len(paths)} raw forms for {subjects} screened subjects (seed {seed}) to {out_dir}")
