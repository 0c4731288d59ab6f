"""study.yaml: the study's identity, standards versions, folders, visit schedule and epochs."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SpecError
from .yamlio import check_keys, load_yaml

STUDY_KEYS = {"study", "standards", "folders", "visits", "epochs", "created", "data_cutoff", "ct_files",
              "plugins", "domains", "trial_design", "adam", "tables", "define_spec", "ascii"}
CT_FILE_KEYS = {"file", "release", "extends"}
IDENTITY_KEYS = {"id", "title", "protocol", "sponsor", "registry_id", "phase", "description", "indication"}
VISIT_KEYS = {"visit", "visitnum", "raw", "day", "window", "unscheduled"}
EPOCH_KEYS = {"epoch", "start", "offset_days"}


@dataclass(frozen=True)
class Visit:
    visit: str
    visitnum: float
    raw: tuple[str, ...] = ()
    day: int | None = None          # planned study day (VISITDY)
    unscheduled: bool = False


@dataclass(frozen=True)
class Epoch:
    epoch: str
    start: str                      # DM reference variable, e.g. RFICDTC
    offset_days: int = 0


@dataclass
class Study:
    """A study folder: configuration plus the paths everything else is found by."""

    root: Path
    config_file: Path
    id: str
    identity: dict
    standards: dict
    folders: dict
    created: str
    data_cutoff: str | None
    visits: tuple[Visit, ...]
    epochs: tuple[Epoch, ...]
    ct_files: tuple            # CTSource per pinned CT file (specs/ct.py)
    plugins: tuple[Path, ...]
    domains: tuple[str, ...] | None
    raw: dict = field(default_factory=dict)
    define_spec: Path | None = None  # a Pinnacle 21 define spec workbook overriding standard metadata
    ascii: str = "refuse"           # "transliterate": typographic characters -> ASCII, a warning per value

    @property
    def raw_dir(self) -> Path:
        return self.root / self.folders.get("raw", "raw")

    @property
    def specs_dir(self) -> Path:
        return self.root / self.folders.get("specs", "specs")

    @property
    def out_dir(self) -> Path:
        return self.root / self.folders.get("out", "out")

    def substitutions(self) -> dict[str, str]:
        """Values a spec can reference as ${study.KEY}."""
        subs = {f"study.{k}": str(v).strip() for k, v in self.identity.items()}
        subs["study.id"] = self.id
        subs["data_cutoff"] = self.data_cutoff or ""
        subs["created"] = self.created
        subs.update({f"standards.{k}": str(v) for k, v in self.standards.items()})
        return subs


def load_study(root) -> Study:
    """Load STUDY_DIR/study.yaml and check every key."""
    root = Path(root)
    config = root / "study.yaml"
    if not root.is_dir():
        raise SpecError("study folder not found", file=root)
    data = load_yaml(config)
    check_keys(data, STUDY_KEYS, file=config, context="study.yaml")
    identity = data.get("study") or {}
    if not isinstance(identity, dict) or not identity.get("id"):
        raise SpecError("study.yaml needs study: {id: ...}", file=config, column="study.id")
    check_keys(identity, IDENTITY_KEYS, file=config, context="study")
    visits = []
    for i, v in enumerate(data.get("visits") or []):
        if not isinstance(v, dict) or "visit" not in v or "visitnum" not in v:
            raise SpecError("each visit needs visit and visitnum", file=config, row=f"visits[{i}]")
        check_keys(v, VISIT_KEYS, file=config, context=f"visits[{i}]")
        visits.append(Visit(visit=str(v["visit"]), visitnum=float(v["visitnum"]),
                            raw=tuple(str(r) for r in (v.get("raw") or [])), day=v.get("day"),
                            unscheduled=bool(v.get("unscheduled", False))))
    epochs = []
    for i, e in enumerate(data.get("epochs") or []):
        if not isinstance(e, dict) or "epoch" not in e or "start" not in e:
            raise SpecError("each epoch needs epoch and start", file=config, row=f"epochs[{i}]")
        check_keys(e, EPOCH_KEYS, file=config, context=f"epochs[{i}]")
        epochs.append(Epoch(str(e["epoch"]), str(e["start"]), int(e.get("offset_days", 0))))
    created = str(data.get("created") or "2000-01-01T00:00:00")
    define_spec = None
    if data.get("define_spec"):
        define_spec = root / str(data["define_spec"])
        if not define_spec.is_file():
            raise SpecError("define_spec workbook not found", file=config, column="define_spec", value=str(define_spec))
    ascii_mode = str(data.get("ascii", "refuse"))
    if ascii_mode not in ("refuse", "transliterate"):
        raise SpecError("ascii must be refuse (the default) or transliterate", file=config, column="ascii",
                        value=data.get("ascii"))
    domains = data.get("domains")
    return Study(
        root=root, config_file=config, id=str(identity["id"]), identity=dict(identity),
        standards=dict(data.get("standards") or {}), folders=dict(data.get("folders") or {}),
        created=created, data_cutoff=None if data.get("data_cutoff") is None else str(data["data_cutoff"]),
        visits=tuple(visits), epochs=tuple(epochs),
        ct_files=_ct_sources(root, config, data.get("ct_files") or [], define_spec),
        plugins=tuple(root / p for p in (data.get("plugins") or [])),
        domains=None if domains is None else tuple(str(d).upper() for d in domains),
        raw=data, define_spec=define_spec, ascii=ascii_mode,
    )


def _ct_sources(root: Path, config: Path, entries, define_spec: Path | None) -> tuple:
    """study.yaml ct_files: paths or {file, release, extends}; a define spec's own codelists come last.

    Without ct_files the shipped CT applies; with only a define spec, its codelists extend the shipped CT.
    """
    from .ct import DEFAULT_CT_FILES, CTSource
    if not isinstance(entries, list):
        raise SpecError("ct_files must be a list of files or {file, release, extends}", file=config,
                        column="ct_files")
    out = []
    for i, entry in enumerate(entries):
        if isinstance(entry, dict):
            check_keys(entry, CT_FILE_KEYS, file=config, context=f"ct_files[{i}]")
            if not entry.get("file"):
                raise SpecError(f"ct_files[{i}] needs file", file=config, column="ct_files")
            out.append(CTSource((root / str(entry["file"])).resolve(),
                                None if entry.get("release") is None else str(entry["release"]),
                                bool(entry.get("extends", False))))
        else:
            out.append(CTSource((root / str(entry)).resolve()))
    if define_spec is not None:
        if not out:
            out = [CTSource(p) for p in DEFAULT_CT_FILES]
        out.append(CTSource(define_spec.resolve(), None, True))
    return tuple(out)
