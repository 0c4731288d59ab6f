"""Build every declared output: RTF + HTML + JSON per table, PNG + SVG + RTF + HTML + JSON per figure,
and one index.html linking them all. Outputs whose datasets were not supplied are listed, not built."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..errors import SpecError
from . import catalog
from .engine import compute_by_columns, frame_of
from .figures import render_figure, save_figure
from .layouts import compute_dose_escalation, compute_parameter_by_group
from .render import figure_to_html, figure_to_rtf, index_html, table_to_html, table_to_rtf
from .spec import ByColumns, DoseEscalation, FigureSpec, ParameterByGroup, TableSpec

LAYOUTS = {ByColumns: compute_by_columns, DoseEscalation: compute_dose_escalation,
           ParameterByGroup: compute_parameter_by_group}


def compute_table(spec: TableSpec, adam: dict):
    try:
        fn = LAYOUTS[type(spec.layout)]
    except KeyError:
        raise SpecError(f"output {spec.id}: unknown layout {type(spec.layout).__name__}") from None
    return fn(spec, adam)


def _selected(spec, only) -> bool:
    if not only:
        return True
    return any(spec.id == o or spec.id.startswith(o.rstrip(".") + ".") or spec.stem == o for o in only)


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))   # bytes: no platform newline translation
    return path


def build_tables(adam: dict, out_dir, only: list[str] | None = None, study: dict | None = None,
                 tables=None, figures=None) -> list[Path]:
    """Write the selected outputs to `out_dir`; returns every file written (index.html last).

    `adam` maps dataset names (ADSL, ADAE, ...) to Dataset objects (or frames); `only` holds output ids
    or id prefixes ("14.3.1" selects 14.3.1.x); `study` may carry "title"/"studyid" for the index.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    adam = {k.upper(): v for k, v in adam.items()}
    study = study or {}
    specs = [s for s in (tables if tables is not None else catalog.TABLES) if _selected(s, only)] + \
            [s for s in (figures if figures is not None else catalog.FIGURES) if _selected(s, only)]
    if only and not specs:
        raise SpecError("no output matches --only", value=",".join(only))
    specs.sort(key=lambda s: (s.kind != "Table", tuple(int(p) for p in s.id.split("."))))  # tables, then figures
    written: list[Path] = []
    entries: list[dict] = []
    for spec in specs:
        missing = [d for d in spec.requires if d.upper() not in adam]
        entry = {"id": spec.id, "kind": spec.kind, "title": spec.title, "population": spec.population.label,
                 "files": {}}
        if missing:
            entry["note"] = f"not produced: {', '.join(missing)} not supplied"
            entries.append(entry)
            continue
        stem = out / spec.stem
        if isinstance(spec, TableSpec):
            res = compute_table(spec, adam)
            files = {"RTF": f"{spec.stem}.rtf", "JSON": f"{spec.stem}.json"}
            written += [_write(stem.with_suffix(".rtf"), table_to_rtf(res)),
                        _write(stem.with_suffix(".json"), res.to_json()),
                        _write(stem.with_suffix(".html"), table_to_html(res, {"Index": "index.html", **files}))]
        else:
            written += _build_figure(spec, adam, stem)
            files = {"PNG": f"{spec.stem}.png", "SVG": f"{spec.stem}.svg", "RTF": f"{spec.stem}.rtf",
                     "JSON": f"{spec.stem}.json"}
        entry["html"] = f"{spec.stem}.html"
        entry["files"] = {"HTML": entry["html"], **files}
        entries.append(entry)
    title = study.get("title") or study.get("studyid") or _studyid(adam) or "Study"
    written.append(_write(out / "index.html", index_html(str(title), entries)))
    return written


def _studyid(adam: dict) -> str | None:
    adsl = adam.get("ADSL")
    if adsl is None:
        return None
    f = frame_of(adsl)
    return str(f["STUDYID"].iloc[0]) if "STUDYID" in f and len(f) else None


def _build_figure(spec: FigureSpec, adam: dict, stem: Path) -> list[Path]:
    fig, data = render_figure(spec, adam)
    paths = save_figure(fig, stem)
    png = stem.with_suffix(".png")
    payload = {"id": spec.id, "kind": spec.kind, "title": spec.title, "population": spec.population.label,
               "data": json.loads(_frame_json(data))}
    paths.append(_write(stem.with_suffix(".json"), json.dumps(payload, indent=1, ensure_ascii=False) + "\n"))
    paths.append(_write(stem.with_suffix(".rtf"), figure_to_rtf(spec.kind, spec.id, spec.title,
                                                                 spec.population.label, png, list(spec.footnotes))))
    files = {"Index": "index.html", "PNG": png.name, "SVG": f"{stem.name}.svg", "RTF": f"{stem.name}.rtf",
             "JSON": f"{stem.name}.json"}
    paths.append(_write(stem.with_suffix(".html"), figure_to_html(spec.kind, spec.id, spec.title,
                                                                   spec.population.label, f"{stem.name}.svg",
                                                                   list(spec.footnotes), files)))
    return paths


def _frame_json(df: pd.DataFrame) -> str:
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c]):
            df[c] = df[c].round(6)
    return df.to_json(orient="records", double_precision=10)
