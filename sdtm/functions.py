"""The escape hatch: named Python functions a spec can call (``{function: name, args: {...}}``).

Functions are registered by name, never evaluated from spec text. A study can ship its own
module (study.yaml ``plugins: [functions.py]``) that registers more with ``@register``.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable

import pandas as pd

from ..errors import SpecError

REGISTRY: dict[str, Callable] = {}


def register(name: str):
    """Decorator: make ``fn(frame: DataFrame, **args) -> Series`` callable from specs as ``name``."""
    def wrap(fn):
        REGISTRY[name] = fn
        return fn
    return wrap


def get(name: str) -> Callable:
    if name not in REGISTRY:
        raise SpecError(f"unknown function {name!r}; registered: {', '.join(sorted(REGISTRY)) or 'none'}",
                        value=name)
    return REGISTRY[name]


def load_plugins(paths) -> None:
    """Import study plugin modules so their @register calls run."""
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise SpecError("plugin module not found", file=path)
        spec = importlib.util.spec_from_file_location(f"trialforge_plugin_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise SpecError(f"plugin module failed to import: {exc}", file=path) from None


@register("age_in_years")
def age_in_years(frame: pd.DataFrame, birth: str, reference: str) -> pd.Series:
    """Completed years between two ISO 8601 dates (both complete), as SDTM AGE is usually derived."""
    from .dates import iso_date_part
    b, r = iso_date_part(frame[birth]), iso_date_part(frame[reference])
    years = r.dt.year - b.dt.year
    before_birthday = (r.dt.month < b.dt.month) | ((r.dt.month == b.dt.month) & (r.dt.day < b.dt.day))
    return (years - before_birthday.astype(int)).where(b.notna() & r.notna())
