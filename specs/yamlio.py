"""YAML loading with errors that name the file and line, and strict key checking."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..errors import SpecError


class SpecLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML 1.2 booleans: only true/false. Raw CRF wording is full of Yes/No/On/Off, and YAML 1.1
    would silently turn ``{Yes: Y, No: N}`` or a join's ``on:`` key into booleans.

    libyaml's parser when PyYAML has it (8x faster on the specs, same documents), else PyYAML's."""


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))

if getattr(yaml, "__with_libyaml__", False):
    class FastSpecLoader(yaml.CSafeLoader):
        """SpecLoader's resolvers on libyaml's C parser (the same documents, ~9x faster to read)."""

    FastSpecLoader.yaml_implicit_resolvers = SpecLoader.yaml_implicit_resolvers
else:                                   # PyYAML built without libyaml
    FastSpecLoader = SpecLoader


def _parse(text: str):
    """The C parser when it reads the text; on a YAML error the Python parser, whose messages name the problem."""
    try:
        return yaml.load(text, Loader=FastSpecLoader)
    except yaml.YAMLError:
        return yaml.load(text, Loader=SpecLoader)


def load_yaml(path: Path) -> dict:
    """Read a YAML mapping; malformed YAML or a non-mapping top level is a SpecError naming the line."""
    path = Path(path)
    if not path.is_file():
        raise SpecError("file not found", file=path)
    try:
        data = _parse(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"malformed YAML: {problem}", file=path, row=row) from None
    except UnicodeDecodeError:
        raise SpecError("file is not UTF-8 text", file=path) from None
    if data is None:
        raise SpecError("file is empty", file=path)
    if not isinstance(data, dict):
        raise SpecError("top level must be a mapping of keys to values", file=path)
    return data


def did_you_mean(word, choices) -> str:
    """'; did you mean X?' for the closest choice (a typo's likely fix), else ''."""
    import difflib
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=2, cutoff=0.75)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def check_keys(mapping: dict, allowed, *, file, context: str) -> None:
    """Reject unknown keys so a typo never silently does nothing."""
    unknown = sorted(set(mapping) - set(allowed), key=str)
    if unknown:
        raise SpecError(f"unknown key {unknown[0]!r} in {context}{did_you_mean(unknown[0], allowed)}; allowed: "
                        f"{', '.join(sorted(allowed))}", file=file, value=unknown[0])
