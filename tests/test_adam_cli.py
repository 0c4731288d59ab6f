"""``trialforge adam --sdtm DIR``: SDTM XPT written by another tool (pyreadstat, not trialforge's writer) →
gated ADaM XPT; values read back with pyreadstat and compared with hand-computed numbers."""
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from test_adam_recipes import SPEC, sdtm   # hand-made SDTMIG 3.4 frames (tests/ is on pythonpath)

from trialforge.adam.command import adam_command
from trialforge.errors import DatasetReadError


def sas(y, m, d):
    return float((date(y, m, d) - date(1960, 1, 1)).days)


def write_foreign_sdtm(folder: Path) -> None:
    """Each domain as a SAS v5 transport file via pyreadstat (text blanks as "", numbers float)."""
    folder.mkdir()
    for name, frame in sdtm().items():
        out = frame.copy()
        for col in out.columns:
            if pd.api.types.is_numeric_dtype(out[col]):
                out[col] = out[col].astype("float64")
            else:
                out[col] = out[col].astype(object).where(out[col].notna(), "").astype(str)
        pyreadstat.write_xport(out, str(folder / f"{name.lower()}.xpt"), file_format_version=5, table_name=name)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("adamcli")
    write_foreign_sdtm(tmp / "sdtm")
    res = CliRunner().invoke(adam_command, ["--sdtm", str(tmp / "sdtm"), "--spec", str(SPEC),
                                            "--out", str(tmp / "out")])
    return res, tmp / "out"


def test_exit_zero_and_every_dataset_written(result):
    res, out = result
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.glob("*.xpt"))
    assert names == ["adae.xpt", "adex.xpt", "adpc.xpt", "adpp.xpt", "adrs.xpt", "adsl.xpt", "adtte.xpt"]   # no LB or IS given; ADEX from EX (#17)
    assert (out / "sdtm" / "pp.xpt").is_file()
    assert (out / "validation" / "adam" / "validation.json").is_file()


def test_values_read_back_with_pyreadstat(result):
    _, out = result
    adsl, meta = pyreadstat.read_xport(str(out / "adsl.xpt"), disable_datetime_conversion=True)
    adsl = adsl.set_index("USUBJID")
    assert meta.table_name == "ADSL" and list(adsl.index) == ["CD70-01", "CD70-02"]
    assert adsl.loc["CD70-01", "TRTSDT"] == sas(2023, 1, 15) and adsl.loc["CD70-01", "CD70PCT"] == 80.0
    assert meta.column_names_to_labels["TRTSDT"] == "Date of First Exposure to Treatment"
    tte, _ = pyreadstat.read_xport(str(out / "adtte.xpt"), disable_datetime_conversion=True)
    assert (tte["AVAL"] == tte["ADT"] - tte["STARTDT"] + 1).all()
    pfs = tte.loc[(tte.USUBJID == "CD70-01") & (tte.PARAMCD == "PFS")].iloc[0]
    # PD on 2023-05-01, infusion 2023-01-15: 106 days later → AVAL 107, RS record RSSEQ 4
    assert (pfs["AVAL"], pfs["CNSR"], pfs["SRCDOM"], pfs["SRCSEQ"]) == (107.0, 0.0, "RS", 4.0)


def test_gate_errors_exit_one_and_write_only_reports(tmp_path):
    # PC with two units for one analyte → ADPC has two PARAMs for one PARAMCD: TF-BDS-002 (error) in the gate
    folder = tmp_path / "sdtm"
    write_foreign_sdtm(folder)
    pc, _ = pyreadstat.read_xport(str(folder / "pc.xpt"))
    pc.loc[3, "PCSTRESU"] = "copies/ng"
    pyreadstat.write_xport(pc, str(folder / "pc.xpt"), file_format_version=5, table_name="PC")
    res = CliRunner().invoke(adam_command, ["--sdtm", str(folder), "--spec", str(SPEC), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "TF-BDS-002" in res.output
    # issue 10: a failed run leaves --out alone and puts its reports beside it in o.failed/
    assert not (tmp_path / "o").exists() and list((tmp_path / "o.failed").glob("*.xpt")) == []
    assert (tmp_path / "o.failed" / "validation" / "adam" / "validation.json").is_file()


def test_duplicate_dm_subject_is_a_named_error(tmp_path):
    folder = tmp_path / "sdtm"
    write_foreign_sdtm(folder)
    dm, _ = pyreadstat.read_xport(str(folder / "dm.xpt"))
    pyreadstat.write_xport(pd.concat([dm, dm.iloc[[0]]], ignore_index=True), str(folder / "dm.xpt"),
                           file_format_version=5, table_name="DM")
    res = CliRunner().invoke(adam_command, ["--sdtm", str(folder), "--spec", str(SPEC)])
    assert isinstance(res.exception, DatasetReadError) and "CD70-01" in str(res.exception)


def test_needs_a_study_or_sdtm_and_spec(tmp_path):
    res = CliRunner().invoke(adam_command, ["--spec", str(SPEC)])
    assert res.exit_code != 0 and "STUDY_DIR" in str(res.exception or res.output)
