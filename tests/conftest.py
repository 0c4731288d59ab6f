"""Shared fixtures: a tiny, hand-written study folder built fresh in tmp for each test."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


MINI_STUDY = """
study: {id: MINI-01, title: Mini study}
created: "2026-01-31T00:00:00"
visits:
  - {visit: SCREENING, visitnum: 1, raw: [Screening], day: -28}
  - {visit: DAY 1, visitnum: 2, raw: [Day 0, Infusion], day: 1}
epochs:
  - {epoch: SCREENING, start: RFICDTC}
  - {epoch: TREATMENT, start: RFXSTDTC}
  - {epoch: FOLLOW-UP, start: RFXENDTC, offset_days: 1}
"""

MINI_DM_CSV = """
SITE,PATNO,ICDAT,BRTHYR,GENDER,SF,INFDAT
01,001,01 JAN 2025,1960,Male,No,10 JAN 2025
01,002,03 JAN 2025,1971,Female,No,12 JAN 2025
02,001,05 JAN 2025,1955,F,Yes,
"""

MINI_AE_CSV = """
SITE,PATNO,TERM,PT,SOC,STDAT,STTIM,ENDAT,SEV,SERIOUS,CRSGR
01,001,fever,Pyrexia,General disorders and administration site conditions,11 JAN 2025,08:30,13 JAN 2025,Mild,No,
01,001,CRS,Cytokine release syndrome,Immune system disorders,UN JAN 2025,,,Severe,Yes,Grade 3
01,002,headache,Headache,Nervous system disorders,05 JAN 2025,,06 JAN 2025,Moderate,No,
"""

MINI_EX_CSV = """
SITE,PATNO,DRUG,DOSE,STDAT
01,001,CART,1.5,10 JAN 2025
01,001,FLU,30,05 JAN 2025
01,002,CART,2,12 JAN 2025
01,002,FLU,30,07 JAN 2025
"""

MINI_DM_SPEC = """
domain: DM
keys: [STUDYID, USUBJID]
sources:
  dm: {file: dm.csv}
variables:
  STUDYID: {constant: "${study.id}"}
  DOMAIN: {constant: DM}
  USUBJID: {template: "{STUDYID}-{SITE}-{PATNO}"}
  SUBJID: {template: "{SITE}-{PATNO}"}
  RFSTDTC: {aggregate: {domain: EX, value: EXSTDTC, fn: min, where: "EXTRT == 'CART'"}}
  RFXSTDTC: {aggregate: {domain: EX, value: EXSTDTC, fn: min}}
  RFXENDTC: {aggregate: {domain: EX, value: EXSTDTC, fn: max}}
  RFICDTC: {datetime: {date: ICDAT, format: DD MON YYYY}}
  SITEID: {from: SITE}
  SEX: {from: GENDER, ct: SEX, synonyms: {Male: M, Female: F}}
  ARMCD: {when: [{if: "SF == 'Yes'", then: ""}], else: {constant: CART}}
  ARMNRS: {when: [{if: "SF == 'Yes'", then: SCREEN FAILURE}]}
  COUNTRY: USA
supp:
  - {qnam: BRTHYR, qlabel: Birth Year, from: BRTHYR}
"""

MINI_AE_SPEC = """
domain: AE
keys: [STUDYID, USUBJID, AEDECOD, AESTDTC]
sources:
  ae: {file: ae.csv}
variables:
  STUDYID: {constant: "${study.id}"}
  DOMAIN: {constant: AE}
  USUBJID: {template: "{STUDYID}-{SITE}-{PATNO}"}
  AESEQ: {seq: true}
  AETERM: {from: TERM}
  AEDECOD: {from: PT}
  AEBODSYS: {from: SOC}
  AESEV: {from: SEV, ct: AESEV}
  AESER: {from: SERIOUS, ct: NY}
  EPOCH: {epoch: AESTDTC}
  AESTDTC: {datetime: {date: STDAT, time: STTIM, format: DD MON YYYY}}
  AEENDTC: {datetime: {date: ENDAT, format: DD MON YYYY}}
  AESTDY: {study_day: AESTDTC}
  AEENDY: {study_day: AEENDTC}
supp:
  - {qnam: AECRSGR, qlabel: ASTCT CRS Grade, from: CRSGR, map: {"Grade 3": "3"}, qorig: CRF}
"""

MINI_EX_SPEC = """
domain: EX
keys: [STUDYID, USUBJID, EXTRT, EXSTDTC]
sources:
  ex: {file: ex.csv}
variables:
  STUDYID: {constant: "${study.id}"}
  DOMAIN: {constant: EX}
  USUBJID: {template: "{STUDYID}-{SITE}-{PATNO}"}
  EXSEQ: {seq: true}
  EXTRT: {from: DRUG}
  EXDOSE: {from: DOSE}
  EXSTDTC: {datetime: {date: STDAT}}
  EXSTDY: {study_day: EXSTDTC}
"""


@pytest.fixture
def mini_study(tmp_path) -> Path:
    """A three-subject study (one screen failure) with DM, AE and EX specs."""
    root = tmp_path / "mini"
    write(root / "study.yaml", MINI_STUDY)
    write(root / "raw" / "dm.csv", MINI_DM_CSV)
    write(root / "raw" / "ae.csv", MINI_AE_CSV)
    write(root / "raw" / "ex.csv", MINI_EX_CSV)
    write(root / "specs" / "dm.yaml", MINI_DM_SPEC)
    write(root / "specs" / "ae.yaml", MINI_AE_SPEC)
    write(root / "specs" / "ex.yaml", MINI_EX_SPEC)
    return root


TS_SPEC = """
domain: TS
keys: [STUDYID, TSPARMCD, TSSEQ]
sources:
  ts: {table: ts}
variables:
  STUDYID: {constant: "${study.id}"}
  DOMAIN: TS
  TSSEQ: {seq: {by: [TSPARMCD]}}
  TSPARMCD: {from: TSPARMCD}
  TSPARM: {from: TSPARM}
  TSVAL: {from: TSVAL}
"""


def add_trial_summary(study: Path, records: str) -> Path:
    """Give a test study a TS domain authored in study.yaml (``records``: YAML list items under trial_design.ts)."""
    config = study / "study.yaml"
    config.write_text(config.read_text() + "\ntrial_design:\n  ts:\n" + textwrap.indent(
        textwrap.dedent(records).strip("\n"), "    ") + "\n")
    write(study / "specs" / "ts.yaml", TS_SPEC)
    return study


# ------------------------------------------------------------------ the bundled studies, built once
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class ExampleBuild:
    """One bundled study's SDTM and ADaM, built once per test session.

    Several modules read the same example build; building it per module cost ~10 s each. Every access
    hands out a deep copy of the datasets, so a test that changes a frame never leaks into another."""

    def __init__(self, name: str):
        from trialforge.pipeline import build_adam_stage
        from trialforge.sdtm.engine import build_sdtm
        from trialforge.specs.ct import load_ct
        from trialforge.specs.study import load_study
        self.study = load_study(EXAMPLES / name)
        self.ct = load_ct(list(self.study.ct_files) or None)
        self._sdtm = build_sdtm(self.study, ct=self.ct)
        self._adam, self._extra = build_adam_stage(self.study, self._sdtm)

    @staticmethod
    def _copy(datasets: dict) -> dict:
        import copy
        return {k: copy.deepcopy(v) for k, v in datasets.items()}

    def sdtm(self) -> dict:
        return self._copy(self._sdtm)

    def adam(self) -> dict:
        return self._copy(self._adam)

    def extra(self) -> dict:
        return self._copy(self._extra)


_EXAMPLE_BUILDS: dict[str, ExampleBuild] = {}


@pytest.fixture(scope="session")
def example_build():
    """`example_build("cd70-cart")` -> ExampleBuild of that bundled study (built on first use)."""
    def get(name: str = "cd70-cart") -> ExampleBuild:
        if name not in _EXAMPLE_BUILDS:
            _EXAMPLE_BUILDS[name] = ExampleBuild(name)
        return _EXAMPLE_BUILDS[name]
    return get


@pytest.fixture(scope="session")
def example_package(tmp_path_factory):
    """The bundled example's submission package (`run --no-tables`), written once per session; read only."""
    from trialforge.pipeline import run_study
    folder = tmp_path_factory.mktemp("example_package") / "out"
    run_study(None, out_dir=folder, tables=False)
    return folder
