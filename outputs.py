"""Output folders that never cost a user a file: built in a staging folder beside the target, swapped in.

The contract (docs/outputs.md):

- trialforge replaces only a folder it wrote (it holds ``MARKER``, or a trialforge ``manifest.json`` from
  before the marker existed) or an empty or absent one; anything else is refused (exit 2, folder named);
- the target may not be, or contain, an input (the study folder, its raw/ and specs/), nor lie inside
  raw/ or specs/;
- a failed run (validation errors) publishes its reports to ``<target>.failed`` and leaves the target as
  it was;
- the swap holds a lock file beside the target (``.<name>.lock``, fcntl) and is one atomic rename
  exchange where the kernel offers it; SIGINT/SIGTERM are held off during it;
- staging folders (``.<name>.staging-<pid>``) and half-swapped ``.<name>.old-<pid>`` folders of
  processes that no longer run are removed (or put back) by the next run;
- operating-system errors while writing become one ``OutputFolderError`` naming the path and the cause.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import signal
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .errors import OutputFolderError

MARKER = ".trialforge-output"
MARKER_TEXT = ("This folder was written by trialforge. The next run replaces it whole:\n"
               "do not keep other files here.\n")
FAILED_SUFFIX = ".failed"


# ----------------------------------------------------------------------------------------- checks

def is_trialforge_output(folder: Path) -> bool:
    """True when ``folder`` holds the marker, or a manifest.json trialforge wrote (earlier versions)."""
    folder = Path(folder)
    if (folder / MARKER).is_file():
        return True
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("tool"), dict) and data["tool"].get("name") == "trialforge"


def _is_within(path: Path, folder: Path) -> bool:
    """True when ``path`` is ``folder`` or lies inside it (both resolved)."""
    return path == folder or folder in path.parents


def resolve_target(target) -> Path:
    """The real folder ``target`` names (a symlink is followed); a file or a dangling link is refused."""
    given = Path(target).expanduser()
    if given.is_symlink() and not given.exists():
        raise OutputFolderError("output folder is a symbolic link to a missing path", file=given)
    real = given.resolve()
    if real.exists() and not real.is_dir():
        raise OutputFolderError("output folder is a file, not a folder", file=given)
    existing = next(p for p in real.parents if p.exists())
    if not existing.is_dir():
        raise OutputFolderError("the output folder cannot be created: a folder above it is a file", file=existing)
    return real


def check_target(target, *, inputs: Iterable = (), input_dirs: Iterable = ()) -> Path:
    """Refuse an output folder trialforge must not replace; return it resolved.

    ``inputs``: paths the output may not be or contain (the study folder, a spec file);
    ``input_dirs``: folders the output may not be, contain or lie inside (raw/, specs/, an SDTM input).
    """
    real = resolve_target(target)
    for raw in list(inputs) + list(input_dirs):
        path = Path(raw).expanduser().resolve()
        if _is_within(path, real):
            what = "is" if path == real else "contains"
            raise OutputFolderError(f"output folder {what} an input of this run ({path}); "
                                    f"choose an --out outside the study's inputs", file=target)
    for raw in input_dirs:
        folder = Path(raw).expanduser().resolve()
        if _is_within(real, folder):
            raise OutputFolderError(f"output folder lies inside the input folder {folder}; choose another --out",
                                    file=target)
    if real.is_dir() and not is_trialforge_output(real):
        try:
            non_empty = any(real.iterdir())
        except OSError as exc:
            raise os_error(exc, real) from None
        if non_empty:
            raise OutputFolderError(
                f"refusing to replace a folder trialforge did not write (it is not empty and has no {MARKER}); "
                "choose another --out, or empty or remove the folder", file=target)
    return real


def failed_path(target: Path) -> Path:
    """Where a failed run's reports go: beside the target, never inside it."""
    target = Path(target)
    return target.parent / f"{target.name}{FAILED_SUFFIX}"


def os_error(exc: OSError, path=None, *, staging: Path | None = None, target: Path | None = None) -> OutputFolderError:
    """One line naming the path and the cause (``Permission denied [EACCES]``); staging paths read as the target."""
    name = exc.filename if exc.filename is not None else path
    if name is not None and staging is not None and target is not None:
        try:
            name = target / Path(name).relative_to(staging)
        except ValueError:
            pass
    code = errno.errorcode.get(exc.errno or 0, "")
    cause = (exc.strerror or str(exc)) + (f" [{code}]" if code else "")
    return OutputFolderError(f"cannot write the output: {cause}", file=name)


# ------------------------------------------------------------------------------------ stale folders

_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>staging|old)-(?P<pid>\d+)$")


def pid_alive(pid: int) -> bool:
    """True when a process with this id runs (a zombie counts as dead)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def clean_leftovers(target: Path) -> list[Path]:
    """Remove staging folders of dead processes; put back an earlier output a killed swap left as ``.old-``.

    Call with the target's lock held. Returns the folders removed or restored.
    """
    handled = []
    prefix = f".{target.name}."
    for entry in sorted(e for e in target.parent.iterdir() if e.name.startswith(prefix)):   # no glob: [ ] * in names
        m = _LEFTOVER.match(entry.name)
        if not m or m["name"] != target.name or not entry.is_dir() or entry.is_symlink():
            continue
        pid = int(m["pid"])
        if pid != os.getpid() and pid_alive(pid):
            continue
        if m["kind"] == "old" and not target.exists() and is_trialforge_output(entry):
            os.rename(entry, target)            # the swap was killed half-way: the earlier output comes back
        else:
            shutil.rmtree(entry, ignore_errors=True)
        handled.append(entry)
    return handled


# ------------------------------------------------------------------------------------------- swap

@contextmanager
def folder_lock(target: Path):
    """An exclusive fcntl lock on ``.<name>.lock`` beside the target (one swap at a time per folder)."""
    import fcntl
    lock_path = target.parent / f".{target.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield lock_path
    finally:
        os.close(fd)        # closing releases the lock


@contextmanager
def signals_held():
    """Hold SIGINT/SIGTERM while folders are renamed, so no signal lands between two renames."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False when the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def publish(staging: Path, target: Path) -> None:
    """Make ``staging`` the target in one step; the previous target (if any) is deleted afterwards.

    Call with the lock held. The target is re-checked here: it may have changed since the run began.
    """
    check_target(target)
    if target.exists():
        if _exchange(staging, target):
            shutil.rmtree(staging, ignore_errors=True)     # staging now holds the previous output
            return
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, target)


@dataclass
class Stage:
    """A staging folder and where it goes: the target, or ``<target>.failed`` when ``failed`` is set."""

    path: Path
    target: Path
    failed: bool = False

    @property
    def destination(self) -> Path:
        return failed_path(self.target) if self.failed else self.target


@contextmanager
def staged_output(target, *, inputs: Iterable = (), input_dirs: Iterable = ()):
    """Yield a ``Stage``; on success its folder replaces the target (or ``<target>.failed``).

    Bad targets are refused before anything is written; on any exception or signal the staging folder
    is removed and the target is left as it was. A successful publish to the target removes a stale
    ``<target>.failed`` of an earlier run.
    """
    target = check_target(target, inputs=inputs, input_dirs=input_dirs)
    check_target(failed_path(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with folder_lock(target):
            clean_leftovers(target)
            clean_leftovers(failed_path(target))
            staging = target.parent / f".{target.name}.staging-{os.getpid()}"
            staging.mkdir()
            (staging / MARKER).write_text(MARKER_TEXT, encoding="ascii")
    except OSError as exc:
        raise os_error(exc, target) from None
    stage = Stage(path=staging, target=target)
    try:
        yield stage
        with signals_held(), folder_lock(target):
            publish(staging, stage.destination)
            stale = failed_path(target)
            if not stage.failed and stale.is_dir() and is_trialforge_output(stale):
                shutil.rmtree(stale, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise os_error(exc, staging=staging, target=stage.destination) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@contextmanager
def staged_folder(target, *, inputs: Iterable = (), input_dirs: Iterable = ()):
    """Yield a fresh staging folder that replaces ``target`` on success (see ``staged_output``)."""
    with staged_output(target, inputs=inputs, input_dirs=input_dirs) as stage:
        yield stage.path


def count_files(folder: Path) -> int:
    """Files now under ``folder`` (what a run reports as written)."""
    return sum(1 for p in Path(folder).rglob("*") if p.is_file())
