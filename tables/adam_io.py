"""Read a folder of ADaM XPT files into Datasets (thin adapter until submission.xpt provides it)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DatasetReadError
from ..specs.metadata import Dataset, DatasetMeta


def read_adam_folder(folder) -> dict[str, Dataset]:
    """All *.xpt in `folder` keyed by upper-case dataset name; prefers trialforge.submission.xpt."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetReadError("ADaM folder not found", file=folder)
    try:
        from ..submission.xpt import read_xpt_folder  # type: ignore[attr-defined]
    except ImportError:
        read_xpt_folder = None
    if read_xpt_folder is not None:
        out = {k.upper(): v for k, v in read_xpt_folder(folder).items()}
        _need_adsl(out, folder)
        return out
    import pyreadstat
    out: dict[str, Dataset] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() != ".xpt":
            continue
        try:
            frame, meta = pyreadstat.read_xport(str(path))
        except Exception as exc:  # noqa: BLE001
            raise DatasetReadError(f"cannot read XPT: {exc}", file=path) from None
        name = (meta.table_name or path.stem).upper()
        out[name] = Dataset(DatasetMeta(name=name, label=meta.file_label or "", standard="ADaMIG 1.3"),
                            _blank_to_missing(frame))
    if not out:
        raise DatasetReadError("no .xpt files in ADaM folder", file=folder)
    _need_adsl(out, folder)
    return out


def _need_adsl(datasets: dict, folder: Path) -> None:
    if "ADSL" not in datasets:
        raise DatasetReadError("ADaM folder has no adsl.xpt: every output needs the subject-level dataset",
                               file=folder)


def _blank_to_missing(frame: pd.DataFrame) -> pd.DataFrame:
    return frame
