"""Write a file all at once or not at all: a temp file beside it, renamed into place.

Writers that stream large outputs (XPT, Dataset-JSON) use it so an error or a kill mid-write never
leaves a partial file under the final name.

The SHA-256 of the bytes is taken as they are written and kept with the file's identity (device, inode,
size, modification and change times), so the run manifest, hashing the package files a moment later in
this process, takes it instead of reading every file back (``written_digest``): the bytes hashed are the
bytes written; a later write to the file changes its size, its times (to the file system's clock tick) or
its inode (a file replaced), and the digest is then not used.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterable

#: (device, inode) -> (size, mtime_ns, ctime_ns, SHA-256 hex) of the files this process wrote here.
_DIGESTS: dict[tuple[int, int], tuple[int, int, int, str]] = {}


def write_atomically(path: Path, head: bytes, blocks: Iterable[bytes]) -> None:
    """Write ``head`` then every block to a temp file beside ``path`` and move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        digest = hashlib.sha256(head)
        with os.fdopen(fd, "wb") as out:
            out.write(head)
            for block in blocks:
                out.write(block)
                digest.update(block)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    st = os.stat(path)
    _DIGESTS[(st.st_dev, st.st_ino)] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, digest.hexdigest())


def written_digest(st: os.stat_result) -> str | None:
    """The SHA-256 taken when this process wrote the file whose ``os.stat`` is ``st``, or None (not written
    here, or written or touched since)."""
    known = _DIGESTS.get((st.st_dev, st.st_ino))
    if known is None or known[:3] != (st.st_size, st.st_mtime_ns, st.st_ctime_ns):
        return None
    return known[3]
