"""Read any folder of submission datasets (XPT v5/v8, Dataset-JSON) for validation and split it by
standard. Files that cannot be read become findings (TF-IO-001), not a crash, so one bad file does
not hide the rest of the package."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TrialforgeError
from ..specs.metadata import Dataset
from .context import is_adam_dataset
from .registry import ADAM, RULES, SDTM, register


@dataclass
class Package:
    folder: Path
    datasets: dict[str, Dataset] = field(default_factory=dict)
    unreadable: list[tuple[str, str]] = field(default_factory=list)   # (file name, cause)
    sources: dict[str, str] = field(default_factory=dict)             # dataset -> file name

    def split(self, standard: str | None = None) -> dict[str, dict[str, Dataset]]:
        """{"SDTM": {...}, "ADaM": {...}}: by the given standard, else by name and structure."""
        if standard:
            return {standard: dict(self.datasets)} if self.datasets else {}
        groups: dict[str, dict[str, Dataset]] = {}
        for name, ds in self.datasets.items():
            groups.setdefault(ADAM if is_adam_dataset(ds) else SDTM, {})[name] = ds
        return groups


def _dataset_json_reader():
    try:
        module = importlib.import_module("trialforge.submission.datasetjson")
    except ModuleNotFoundError:
        return None
    return getattr(module, "read_dataset_json", None)


def read_package(folder) -> Package:
    """Every *.xpt and Dataset-JSON *.json file in ``folder`` (not recursive), keyed by dataset name."""
    from ..submission.xpt import read_xpt
    folder = Path(folder)
    if not folder.is_dir():
        raise TrialforgeError("dataset folder does not exist", file=folder)
    package = Package(folder)
    read_json = _dataset_json_reader()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        suffix = path.suffix.lower()
        if suffix == ".xpt":
            reader = read_xpt
        elif suffix == ".json" and read_json is not None and _looks_like_dataset_json(path):
            reader = read_json
        else:
            continue
        try:
            ds = reader(path)
        except TrialforgeError as exc:
            package.unreadable.append((path.name, exc.message))
            continue
        except Exception as exc:  # noqa: BLE001  (a foreign file must not crash the validator)
            package.unreadable.append((path.name, f"{type(exc).__name__}: {exc}"))
            continue
        key = ds.meta.name.upper() or path.stem.upper()
        if key in package.datasets:
            package.unreadable.append((path.name, f"second file holding dataset {key} "
                                                  f"(first: {package.sources[key]}); ignored"))
            continue
        package.datasets[key] = ds
        package.sources[key] = path.name
    return package


def _looks_like_dataset_json(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(4096)
    return b'"columns"' in head or b'"datasetJSONVersion"' in head or b'"itemGroupOID"' in head


@register("TF-IO-001", "error", "Dataset file cannot be read", kind="study", category="Structure")
def unreadable_files(ctx):
    """Reported by ``trialforge validate`` for files it could not parse (truncated, not XPT ...)."""
    return [RULES["TF-IO-001"].finding(name, value=name, message=f"cannot read {name}: {cause}")
            for name, cause in ctx.options.get("unreadable", ())]
