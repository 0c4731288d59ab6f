"""Write a file all at once or not at all: a temp file beside it, renamed into place.

Writers that stream large outputs (XPT, Dataset-JSON) use it so an error or a kill mid-write never
leaves a partial file under the final name.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable


def write_atomically(path: Path, head: bytes, blocks: Iterable[bytes]) -> None:
    """Write ``head`` then every block to a temp file beside ``path`` and move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(head)
            for block in blocks:
                out.write(block)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
