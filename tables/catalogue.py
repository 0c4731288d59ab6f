"""Output catalogues as data: a study's `tables.yaml` (named in study.yaml) plus the package's shipped
blocks (`tables/catalogues/*.yaml`), read into the dataclasses of `spec.py`.

A catalogue file holds `include` (shipped blocks to start from), `exclude` (ids to leave out), `defs`
(named texts substituted for `${NAME}` in every string), `populations`, `columns` (named column sets;
a list = alternatives, the first whose variables all exist is used), `settings` (running header and
footer) and `outputs`. Later definitions replace earlier ones by name/id, so a study overrides a block.
The format is documented in docs/tables.md; every key not listed there is an error naming file and key.
"""
from __future__ import annotations

import os

import dataclasses
import functools
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import SpecError
from . import spec as S

SHIPPED = Path(__file__).resolve().parent / "catalogues"
FORMAT = 1

BLOCKS = {"header": S.Header, "subjects_with": S.SubjectsWith, "categorical": S.Categorical,
          "continuous": S.Continuous, "binomial": S.Binomial, "time_to_event": S.TimeToEvent,
          "ae_hierarchy": S.AEHierarchy, "association": S.Association}
LAYOUTS = {"by_columns": S.ByColumns, "dose_escalation": S.DoseEscalation,
           "parameter_by_group": S.ParameterByGroup, "listing": S.Listing, "shift": S.ShiftTable,
           "parameter_by_visit": S.ParameterByVisit}
PLOTS = {"km": S.KMPlot, "waterfall": S.Waterfall, "swimmer": S.Swimmer, "spider": S.Spider,
         "mean_concentration": S.MeanConcentration, "individual_profiles": S.IndividualProfiles,
         "strip": S.StripPlot}
NESTED = {"derive": S.SubjectVar, "group": S.SubjectVar, "splits": S.Split, "params": S.ParamStats, "columns_list": S.ListColumn}
TOP_KEYS = {"catalogue", "include", "exclude", "defs", "populations", "columns", "settings", "outputs"}
OUTPUT_KEYS = {"id", "kind", "title", "population", "footnotes", "requires", "layout", "plot", "columns",
               "blocks", "splits", "stub_header"}
KINDS = {"table": "Table", "figure": "Figure", "listing": "Listing"}


@dataclass
class Catalogue:
    """Everything `build_tables` needs: the outputs in id order and the page settings."""

    outputs: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    defs: dict = field(default_factory=dict)
    sources: list = field(default_factory=list)     # files read, in order (for messages and docs)

    @property
    def tables(self) -> list:
        return [o for o in self.outputs if isinstance(o, S.TableSpec)]

    @property
    def figures(self) -> list:
        return [o for o in self.outputs if isinstance(o, S.FigureSpec)]


def shipped_blocks() -> list[str]:
    """Names usable in `include` (file stems under tables/catalogues)."""
    return sorted(p.stem for p in SHIPPED.glob("*.yaml"))


def default_catalogue() -> Catalogue:
    """The package default: ADaMIG-standard variables only."""
    return load_catalogue(None)


def study_catalogue(study) -> Catalogue:
    """The catalogue a study names in study.yaml (`tables: tables.yaml`), else the package default."""
    name = (study.raw or {}).get("tables")
    if not name:
        return default_catalogue()
    path = Path(study.root) / str(name)
    if not path.is_file():
        raise SpecError("tables catalogue named in study.yaml not found", file=path, column="tables")
    return load_catalogue(path)


_LOADED: dict = {}          # catalogue path -> (the stamps of the files it read, the Catalogue)


def load_catalogue(path) -> Catalogue:
    """Read a catalogue file (None = the shipped `default` block) with everything it includes.

    Remembered per process while none of the files it read changed (size and modification time): a run
    reads the study's catalogue for its tables and again for define.xml's analysis results; each caller
    gets its own lists and mappings (the output specs are frozen, shared)."""
    key = None if path is None else str(Path(path).resolve())
    got = _LOADED.get(key)
    if got is None or got[0] is None or got[0] != _stamps(got[1].sources):
        cat = _load_catalogue(path)
        got = _LOADED[key] = (_stamps(cat.sources), cat)
    cat = got[1]
    return Catalogue(list(cat.outputs), dict(cat.settings), dict(cat.defs), list(cat.sources))


def _stamps(files: list) -> tuple | None:
    """(size, modification time in ns) of each file; None when one cannot be read."""
    try:
        return tuple((st.st_size, st.st_mtime_ns) for st in map(os.stat, files))
    except OSError:
        return None


def _load_catalogue(path) -> Catalogue:
    state = {"defs": {}, "populations": {}, "columns": {}, "settings": {}, "outputs": {}, "exclude": set(),
             "sources": []}
    if path is None:
        _merge(state, SHIPPED / "default.yaml", seen=set())
    else:
        _merge(state, Path(path), seen=set())
    outputs = []
    for (_, oid), (raw, src) in state["outputs"].items():
        if oid in state["exclude"]:
            continue
        outputs.append(_output(raw, state, src))
    outputs.sort(key=lambda o: (list(KINDS.values()).index(o.kind), _id_key(o.id)))
    return Catalogue(outputs, dict(state["settings"]), dict(state["defs"]), state["sources"])


def _id_key(oid: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in oid.split("."))


# libyaml's parser when PyYAML has it: the same documents as yaml.safe_load (same resolvers), read
# ~8x faster; the catalogue and its shipped includes are read on every run (ARM in define.xml too).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path) -> dict:
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise SpecError(f"tables catalogue is not valid YAML: {str(exc).splitlines()[0]}", file=path) from None
    if not isinstance(doc, dict):
        raise SpecError("tables catalogue must be a mapping", file=path)
    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        raise SpecError(f"unknown catalogue key {unknown[0]!r} (allowed: {', '.join(sorted(TOP_KEYS))})",
                        file=path, column=unknown[0])
    if doc.get("catalogue", FORMAT) != FORMAT:
        raise SpecError(f"unsupported catalogue format (this version reads {FORMAT})", file=path,
                        column="catalogue", value=doc.get("catalogue"))
    return doc


def _merge(state: dict, path: Path, seen: set) -> None:
    if path in seen:
        raise SpecError("catalogue includes itself", file=path, column="include")
    seen = seen | {path}
    doc = _read(path)
    for name in doc.get("include") or []:
        inc = SHIPPED / f"{name}.yaml"
        if not inc.is_file():
            raise SpecError(f"unknown catalogue block {name!r} (shipped: {', '.join(shipped_blocks())})",
                            file=path, column="include", value=name)
        _merge(state, inc, seen)
    state["sources"].append(str(path))
    for key in ("defs", "populations", "columns", "settings"):
        value = doc.get(key) or {}
        if not isinstance(value, dict):
            raise SpecError(f"{key} must be a mapping", file=path, column=key)
        state[key].update(value)
    state["exclude"] |= {str(x) for x in doc.get("exclude") or []}
    for raw in doc.get("outputs") or []:
        if not isinstance(raw, dict) or "id" not in raw:
            raise SpecError("every output needs an id", file=path, column="outputs", value=raw)
        oid = str(raw["id"])
        state["outputs"][(str(raw.get("kind", "table")).lower(), oid)] = (raw, path)
        state["exclude"].discard(oid)


# ---------------------------------------------------------------- substitution
_DEF = re.compile(r"\$\{(\w+)\}")


def _subst(value, defs: dict, where: str, path: Path):
    """Replace ${NAME} in every string of `value` by defs[NAME] (recursively, a few levels deep)."""
    if isinstance(value, str):
        for _ in range(5):
            if "${" not in value:
                break

            def rep(m):
                if m.group(1) not in defs:
                    raise SpecError(f"{where}: unknown definition ${{{m.group(1)}}}", file=path,
                                    column="defs", value=m.group(1))
                return str(defs[m.group(1)])
            value = _DEF.sub(rep, value)
        return value
    if isinstance(value, list):
        return [_subst(v, defs, where, path) for v in value]
    if isinstance(value, dict):
        return {k: _subst(v, defs, where, path) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- YAML -> dataclasses
@functools.lru_cache(maxsize=None)
def _fields(cls) -> tuple[dict, frozenset]:
    """A spec class's fields by name and the names whose type is a tuple, once per class:
    `typing.get_type_hints` evaluates every annotation's text again on each call (~0.2 ms a call,
    ~230 calls a catalogue)."""
    hints = typing.get_type_hints(cls)
    return ({f.name: f for f in dataclasses.fields(cls)},
            frozenset(k for k, h in hints.items() if "tuple" in str(h)))


def _build(cls, raw: dict, where: str, path: Path):
    """A spec dataclass from a mapping; unknown keys name the file, output and key."""
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: expected a mapping for {cls.__name__}", file=path, value=raw)
    names, tuples = _fields(cls)
    unknown = [k for k in raw if k not in names]
    if unknown:
        raise SpecError(f"{where}: unknown key {unknown[0]!r} for {cls.__name__} "
                        f"(allowed: {', '.join(sorted(names))})", file=path, column=unknown[0])
    kwargs = {}
    for k, v in raw.items():
        if k in NESTED and k != "columns_list" and v is not None:
            sub = NESTED[k]
            v = tuple(_build(sub, x, where, path) for x in v) if isinstance(v, list) else _build(sub, v, where, path)
        elif k == "columns" and cls is S.Listing:
            v = tuple(_build(S.ListColumn, x, where, path) for x in v)
        elif k in tuples and isinstance(v, list):
            v = tuple(tuple(x) if isinstance(x, list) else x for x in v)
        kwargs[k] = v
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise SpecError(f"{where}: {cls.__name__}: {exc}", file=path) from None


def _typed(raw, table: dict, what: str, where: str, path: Path):
    if not isinstance(raw, dict) or "type" not in raw:
        raise SpecError(f"{where}: every {what} needs a type ({', '.join(table)})", file=path, value=raw)
    raw = dict(raw)
    name = raw.pop("type")
    if name not in table:
        raise SpecError(f"{where}: unknown {what} type {name!r} ({', '.join(table)})", file=path,
                        column="type", value=name)
    return _build(table[name], raw, where, path)


def _columns(ref, state: dict, where: str, path: Path):
    """A column set by name (from `columns:`) or inline; a list is a tuple of alternatives."""
    if ref is None:
        ref = "default"
    if isinstance(ref, str):
        if ref not in state["columns"]:
            raise SpecError(f"{where}: unknown column set {ref!r}", file=path, column="columns", value=ref)
        ref = _subst(state["columns"][ref], state["defs"], where, path)
    if isinstance(ref, list):
        alts = tuple(_build(S.Columns, _derive(c), where, path) for c in ref)
        return alts[0] if len(alts) == 1 else alts
    return _build(S.Columns, _derive(ref), where, path)


def _derive(raw: dict) -> dict:
    return raw


def _population(ref, state: dict, where: str, path: Path) -> S.Population:
    if isinstance(ref, str):
        if ref not in state["populations"]:
            raise SpecError(f"{where}: unknown population {ref!r}", file=path, column="population", value=ref)
        ref = _subst(state["populations"][ref], state["defs"], where, path)
    return _build(S.Population, ref, where, path)


def _output(raw: dict, state: dict, path: Path):
    oid = str(raw["id"])
    where = f"output {oid}"
    unknown = sorted(set(raw) - OUTPUT_KEYS)
    if unknown:
        raise SpecError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(OUTPUT_KEYS))})",
                        file=path, column=unknown[0])
    raw = _subst(raw, state["defs"], where, path)
    kind = KINDS.get(str(raw.get("kind", "table")).lower())
    if kind is None:
        raise SpecError(f"{where}: kind must be table, figure or listing", file=path, column="kind",
                        value=raw.get("kind"))
    if "title" not in raw:
        raise SpecError(f"{where}: needs a title", file=path, column="title")
    population = _population(raw.get("population", "safety"), state, where, path)
    footnotes = tuple(str(f) for f in raw.get("footnotes") or ())
    requires = tuple(raw["requires"]) if raw.get("requires") else None
    if kind == "Figure":
        plot = _typed(raw.get("plot"), PLOTS, "plot", where, path)
        out = S.FigureSpec(oid, str(raw["title"]), population, plot, footnotes,
                           requires or S.datasets_of(plot))
        return out
    layout_raw = raw.get("layout", "by_columns")
    if isinstance(layout_raw, str):           # by_columns: columns/blocks/splits at the output level
        if layout_raw != "by_columns":
            raise SpecError(f"{where}: layout {layout_raw!r} needs its keys as a mapping with a type",
                            file=path, column="layout")
        blocks = tuple(_typed(b, BLOCKS, "block", where, path) for b in raw.get("blocks") or ())
        if not blocks:
            raise SpecError(f"{where}: a by_columns table needs blocks", file=path, column="blocks")
        layout = S.ByColumns(blocks=blocks, columns=_columns(raw.get("columns"), state, where, path),
                             splits=tuple(_build(S.Split, s, where, path) for s in raw.get("splits") or ()),
                             stub_header=str(raw.get("stub_header", "")))
    else:
        lay = dict(layout_raw)
        if "columns" in lay and lay.get("type") in ("shift", "parameter_by_visit"):
            lay["columns"] = _columns(lay["columns"], state, where, path)
        layout = _typed(lay, LAYOUTS, "layout", where, path)
    return S.TableSpec(oid, str(raw["title"]), population, layout, footnotes,
                       requires or S.datasets_of(layout), kind=kind)
