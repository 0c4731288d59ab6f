"""`trialforge verify OUT_DIR`: re-check a submission folder against its manifest.

Exit codes follow the CLI convention: 0 every file matches, 1 something was added, removed or
changed, 2 the folder or its manifest is unusable.
"""
from __future__ import annotations

import click

from .manifest import ManifestError, verify_manifest


@click.command("verify")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=str))
@click.option("--inputs", "inputs_root", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Study folder holding the raw inputs and specs (default: as recorded in the manifest).")
def verify_command(out_dir: str, inputs_root: str | None) -> None:
    """Verify OUT_DIR's files against OUT_DIR/manifest.json (SHA-256)."""
    try:
        changes = verify_manifest(out_dir, inputs_root=inputs_root)
    except ManifestError as exc:
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(2)
    if not changes:
        click.echo(f"OK: every file in {out_dir} matches manifest.json")
        raise SystemExit(0)
    for change in changes:
        click.echo(str(change))
    click.echo(f"{len(changes)} difference(s) from manifest.json", err=True)
    raise SystemExit(1)
