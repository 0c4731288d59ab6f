"""What `trialforge spec --excel` and `--to-yaml` do: the define spec workbook from a study, a mapping sheet as YAML.

Lives above the layers because writing the workbook maps the study (sdtm) and describes its
value-level metadata the way define.xml does (submission).
"""
from __future__ import annotations

from pathlib import Path

from .errors import TrialforgeError


def write_study_workbook(study, out: Path) -> Path:
    """Map the study's raw data to SDTM and write its metadata as a Pinnacle 21 define spec workbook."""
    from .pipeline import study_info
    from .sdtm.engine import build_sdtm
    from .specs.ct import load_ct
    from .specs.define_workbook_writer import write_define_workbook
    from .submission.define_vlm import value_lists
    ct = load_ct(list(study.ct_files) or None)
    datasets = build_sdtm(study, ct=ct)
    return write_define_workbook(datasets.values(), out, study=study_info(study), standard="SDTMIG 3.4", ct=ct,
                                 value_lists=value_lists)


def mapping_yaml(workbook: Path, domain: str | None = None) -> str:
    """The YAML specs a mapping workbook describes (one domain, or all separated by '---')."""
    from .specs.mapping_sheet import mapping_specs, spec_yaml
    specs = mapping_specs(workbook)
    if domain:
        if domain.upper() not in specs:
            raise TrialforgeError(f"the mapping workbook has no rows for {domain.upper()}; it maps "
                                  f"{', '.join(sorted(specs)) or 'nothing'}", file=workbook)
        return spec_yaml(specs[domain.upper()])
    return "---\n".join(spec_yaml(specs[name]) for name in sorted(specs))
