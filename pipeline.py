"""The main job, step by step: raw → SDTM → gate → XPT (then ADaM, define.xml, tables as they land).

The CLI and the benchmarks call these functions; each step reports progress through a callback
so the terminal shows one line per dataset.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .outputs import staged_folder
from .sdtm.engine import build_sdtm
from .specs.ct import load_ct
from .specs.study import Study, load_study
from .submission.xpt import write_xpt
from .validation.findings import ValidationReport
from .validation.report import write_json
from .validation.runner import validate_datasets

EXAMPLES = Path(__file__).resolve().parent / "examples"
DEFAULT_STUDY = EXAMPLES / "cd70-cart"


@dataclass
class RunResult:
    out_dir: Path
    sdtm: dict = field(default_factory=dict)
    reports: dict = field(default_factory=dict)     # "sdtm" -> ValidationReport
    written: list = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(r.has_errors for r in self.reports.values())


def created_timestamp(study: Study) -> datetime:
    """The creation date written into files: from study.yaml, never the wall clock."""
    return datetime.fromisoformat(study.created)


def write_package(datasets: dict, folder: Path, *, created: datetime, progress=None) -> list[Path]:
    """One XPT per dataset, lower-case file names as FDA expects."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, ds in sorted(datasets.items()):
        path = folder / f"{name.lower()}.xpt"
        write_xpt(ds, path, created=created)
        paths.append(path)
        if progress:
            progress("xpt", name, len(ds.frame))
    return paths


def run_study(study_dir=None, *, out_dir=None, progress=None) -> RunResult:
    """Map, validate and write a study; all outputs appear together or not at all."""
    study = load_study(study_dir or DEFAULT_STUDY)
    out_dir = Path(out_dir) if out_dir else (Path("out").resolve() if study_dir is None else study.out_dir)
    ct = load_ct(list(study.ct_files) or None)
    say = progress or (lambda *a: None)
    sdtm = build_sdtm(study, ct=ct, progress=lambda name, n: say("sdtm", name, n))
    report = validate_datasets(sdtm, ct=ct, scope="SDTM")
    say("validate", "SDTM", len(report.findings))
    result = RunResult(out_dir=out_dir, sdtm=sdtm, reports={"sdtm": report})
    with staged_folder(out_dir) as staging:
        write_json(report, staging / "validation" / "sdtm-validation.json", package="sdtm", standard="SDTMIG 3.4")
        if not report.has_errors:
            result.written += write_package(sdtm, staging / "sdtm", created=created_timestamp(study), progress=say)
    result.written = [out_dir / p.relative_to(staging) for p in result.written]
    return result
