"""``trialforge adam``: build ADaM from a study (its SDTM built in memory) or any folder of SDTM XPT files,
gate it like ``trialforge run`` and write XPT.

``--out DIR`` receives ``DIR/<dataset>.xpt`` for the ADaM datasets, ``DIR/sdtm/pp.xpt`` for the SDTM PP
domain the NCA produces, and ``DIR/validation/{adam,sdtm}/`` reports. The folder is replaced all at once and
only when trialforge wrote it (or it is empty or absent; ``docs/outputs.md``); when the gate finds errors DIR is
left as it was, the reports go to ``DIR.failed/`` and the command exits 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import click

from trialforge.errors import SpecError
from trialforge.specs.metadata import Dataset

from .build import build_adam
from .config import load_adam_config

GATE: dict = {}   # as ``trialforge run`` (pipeline.GATE): column rules evaluated directly, the same findings as
                  # through pandera (tests/test_validation_rules.py checks both paths on SDTM and ADaM)


@dataclass
class AdamRun:
    """What ``run_adam`` produced: ADaM datasets, SDTM-side datasets (PP), the inputs' SDTM and settings."""

    adam: dict[str, Dataset]
    sdtm_extra: dict[str, Dataset]
    sdtm: dict[str, Dataset]
    ct: object = None
    created: datetime | None = None
    reports: dict = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return any(r.has_errors for r in self.reports.values())


def run_adam(study_dir: Path | None, sdtm_dir: Path | None, spec: Path | None) -> AdamRun:
    """Resolve inputs and build ADaM.

    SDTM comes from ``sdtm_dir`` (XPT written by any tool) when given, else is built in memory from
    ``study_dir`` exactly as ``trialforge run`` builds it. The spec defaults to STUDY_DIR/specs/adam.yaml.
    """
    from trialforge.specs.ct import load_ct
    from trialforge.submission.xpt import read_xpt_folder

    study = None
    if study_dir is not None:
        from trialforge.specs.study import load_study
        study = load_study(study_dir)
        spec = spec or study.specs_dir / "adam.yaml"
    if spec is None or (study is None and sdtm_dir is None):
        raise SpecError("give a STUDY_DIR, or --sdtm DIR with --spec FILE")
    config = load_adam_config(spec)
    ct = load_ct(list(study.ct_files) or None) if study is not None else load_ct()
    if sdtm_dir is not None:
        sdtm = read_xpt_folder(sdtm_dir)
    else:
        from trialforge.sdtm.engine import build_sdtm
        sdtm = build_sdtm(study, ct=ct)
    datasets = build_adam(sdtm, config)
    created = datetime.fromisoformat(study.created) if study is not None and study.created else None
    return AdamRun(adam={k: v for k, v in datasets.items() if k.startswith("AD")},
                   sdtm_extra={k: v for k, v in datasets.items() if not k.startswith("AD")},
                   sdtm=dict(sdtm), ct=ct, created=created)


def gate_adam(run: AdamRun) -> AdamRun:
    """Validate ADaM (scope ADaM) and the SDTM it adds (PP, checked beside DM) with the run gate."""
    from trialforge.validation.runner import validate_datasets

    run.reports["adam"] = validate_datasets(run.adam, ct=run.ct, scope="ADaM", options=GATE)
    if run.sdtm_extra:
        dm = {"DM": run.sdtm["DM"]} if "DM" in run.sdtm else {}
        # DM is there for the study rules to read; its own rules are the SDTM gate's (as ``trialforge run``)
        report = validate_datasets({**dm, **run.sdtm_extra}, ct=run.ct, scope="SDTM",
                                   options=dict(GATE, datasets=sorted(run.sdtm_extra)))
        report.findings = [f for f in report.findings if f.dataset in run.sdtm_extra]
        run.reports["sdtm"] = report
    return run


def write_adam(run: AdamRun, out_dir: Path, *, inputs=(), input_dirs=()) -> list[Path]:
    """Gate reports always; XPT files only when the gate found no errors (all-or-nothing folder swap).

    A run with gate errors leaves ``out_dir`` as it was and puts its reports in ``<out_dir>.failed``.
    """
    from trialforge.outputs import staged_output
    from trialforge.submission.xpt import write_xpt
    from trialforge.validation.report import write_reports

    written: list[Path] = []
    with staged_output(out_dir, inputs=inputs, input_dirs=input_dirs) as stage:
        staging, stage.failed = stage.path, run.has_errors
        for name, report in sorted(run.reports.items()):
            write_reports(report, staging / "validation" / name)
        if not run.has_errors:
            for name, ds in sorted(run.adam.items()):
                path = staging / f"{name.lower()}.xpt"
                write_xpt(ds, path, created=run.created)
                written.append(path)
            for name, ds in sorted(run.sdtm_extra.items()):
                (staging / "sdtm").mkdir(exist_ok=True)
                path = staging / "sdtm" / f"{name.lower()}.xpt"
                write_xpt(ds, path, created=run.created)
                written.append(path)
    return [stage.destination / p.relative_to(staging) for p in written]


@click.command("adam")
@click.argument("study_dir", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--sdtm", "sdtm_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="folder of SDTM XPT files (any tool); default: build SDTM from STUDY_DIR")
@click.option("--spec", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="ADaM spec YAML (default STUDY_DIR/specs/adam.yaml)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="write the gated ADaM XPT files (and sdtm/pp.xpt, validation reports) here")
def adam_command(study_dir, sdtm_dir, spec, out_dir):
    """Build ADSL ADAE ADLB ADRS ADTTE ADPC ADPP (+ SDTM PP) from SDTM, gate them, write XPT."""
    guard = {"inputs": [p for p in (study_dir, spec) if p is not None], "input_dirs": [p for p in (sdtm_dir,) if p]}
    if out_dir is not None:
        from trialforge.outputs import check_target
        check_target(out_dir, **guard)         # refuse before the work: not ours, or overlaps an input
    run = gate_adam(run_adam(study_dir, sdtm_dir, spec))     # TrialforgeError: the CLI group reports it
    for name, ds in sorted({**run.adam, **run.sdtm_extra}.items()):
        click.echo(f"{name}: {len(ds.frame)} records, {len(ds.meta.variables)} variables")
    for name, report in sorted(run.reports.items()):
        click.echo(f"validate {name}: {report.count('error')} errors, {report.count('warning')} warnings")
    if out_dir is not None:
        paths = write_adam(run, out_dir, **guard)
        failed = Path(f"{Path(out_dir).resolve()}.failed")
        click.echo(f"wrote {len(paths)} XPT files to {out_dir}" if not run.has_errors
                   else f"nothing written to {out_dir}; reports in {failed / 'validation'}")
    if run.has_errors:
        for name, report in sorted(run.reports.items()):
            for f in [f for f in report.findings if f.severity == "error"][:10]:
                click.echo(f"error: {name} {f.dataset} {f.rule_id} {f.variable or ''} {f.message}", err=True)
        raise SystemExit(1)
