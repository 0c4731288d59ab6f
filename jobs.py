"""How many processes a run may use (``--jobs N`` / ``TRIALFORGE_JOBS``) and a small pool of forked workers.

Why fork: the CSR outputs read ADaM frames the parent already holds; a forked worker sees them copy-on-write,
without pickling gigabytes or rebuilding anything. Each task returns a small picklable result; the caller
gathers the results in task order, so what is written never depends on which worker ran first.

The workers ignore Ctrl-C (the parent stops them), die with the parent (Linux ``PR_SET_PDEATHSIG``) and
are stopped and reaped by ``close()`` on any error, so no worker outlives a run.
"""
from __future__ import annotations

import gc
import os
import signal
import sys
from contextlib import contextmanager
from itertools import count

from .errors import TrialforgeError

ENV = "TRIALFORGE_JOBS"


class JobsError(TrialforgeError):
    """``--jobs`` or ``TRIALFORGE_JOBS`` is not a whole number >= 0."""


class WorkerStopped(TrialforgeError):
    """A worker process ended without returning its result (killed, e.g. by the out-of-memory killer)."""


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32"


def resolve_jobs(jobs=None) -> int:
    """``jobs`` (from --jobs), else ``TRIALFORGE_JOBS``, else the available cores; 0 also means the cores.

    1 runs everything in this process, in the order of earlier versions. Without fork (Windows) always 1.
    """
    source = "--jobs"
    if jobs is None:
        jobs = os.environ.get(ENV, "").strip() or None
        source = ENV
    if jobs is None:
        n = available_cores()
    else:
        try:
            n = int(str(jobs).strip())
        except ValueError:
            n = -1
        if n < 0:
            raise JobsError(f"{source}: expected a whole number of processes >= 1 (0 = every available core)",
                            value=str(jobs))
        n = n or available_cores()
    return n if can_fork() else 1


def _meminfo_kib(key: str) -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _own_rss_kib() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def workers_for_memory(jobs: int, *, available_kib: int | None = None, rss_kib: int | None = None) -> int:
    """At most ``jobs`` workers, and no more than the free memory can hold if each worker came to copy the
    parent's whole resident set (the worst case of copy-on-write: Python's reference counts touch the pages
    of every object a worker reads). 0 when not even one copy fits: build in this process instead.

    A forked pool otherwise risks the out-of-memory killer on a large study: the run would stop with exit 2
    and OUT untouched, but a run that cannot finish is no use. Unknown figures (not Linux) keep ``jobs``."""
    available_kib = _meminfo_kib("MemAvailable") if available_kib is None else available_kib
    rss_kib = _own_rss_kib() if rss_kib is None else rss_kib
    if not available_kib or not rss_kib or jobs <= 1:
        return jobs
    return max(0, min(jobs, int(available_kib * 0.8) // rss_kib))


_TASKS: dict = {}           # pool token -> task function; a forked worker inherits the entry of its pool
_TOKENS = count()
_NICE = [0]                 # niceness added to the workers of pools made now (``background_pools``)

#: Niceness of background pool workers: at the kernel's weights (1024 against 110 per worker) the
#: process beside them keeps ~90 % of a core, so it is not slowed, and an idle core is never left idle.
BACKGROUND_NICE = 10


@contextmanager
def background_pools(nice: int = BACKGROUND_NICE):
    """Pools made inside this block run their workers at a lower priority (``os.nice``).

    Why: the tables workers run beside the main process's own chain of steps (gates, reports, packages,
    hashing), which the run's end waits for. At equal priority three processes share two cores, the
    main chain gets two thirds of a core and is left alone at the end with one core idle; with the
    workers niced the main chain keeps a core, the workers take the other and both cores once it is
    done. Only the order of work on the CPU changes, never a result."""
    before = _NICE[0]
    _NICE[0] = nice
    try:
        yield
    finally:
        _NICE[0] = before


def _call(token: int, item):
    return _TASKS[token](item)


def _worker_start(parent: int, nice: int = 0) -> None:
    """In each worker: Ctrl-C is the parent's to handle, SIGTERM ends the worker, the parent's death too;
    ``nice`` > 0 lowers the worker's priority (``background_pools``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))    # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:        # the parent died before the line above took effect
        os._exit(1)
    if nice > 0:
        try:
            os.nice(nice)
        except (OSError, AttributeError):
            pass


_LONG_LIVED = [0]          # depth of ``long_lived_frozen`` blocks


@contextmanager
def long_lived_frozen():
    """Keep the cyclic collector off the objects alive when the block starts (``gc.freeze``), and off those
    a fork inside it freezes (``thaw`` leaves them frozen), until the outermost block ends.

    Why: a run holds ~100,000 container objects from its imports (modules, functions, standards metadata)
    for its whole life; every full collection walked all of them (the explicit ones between stages that give
    memory back, the automatic ones), 50-100 ms each, ~0.8 s of CPU at 1,000 subjects. Frozen objects still
    die by reference counting; only cyclic garbage among them would wait for the block's end (pandas frames
    hold no cycles)."""
    gc.freeze()
    _LONG_LIVED[0] += 1
    try:
        yield
    finally:
        _LONG_LIVED[0] -= 1
        if not _LONG_LIVED[0]:
            gc.unfreeze()


def thaw() -> None:
    """``gc.unfreeze()`` after a fork, unless a ``long_lived_frozen`` block keeps what is frozen frozen."""
    if not _LONG_LIVED[0]:
        gc.unfreeze()


class ForkPool:
    """``fn(item)`` for each item in up to ``jobs`` forked processes; ``results()`` in item order.

    The workers are forked when the pool is made, so they see what the parent holds at that moment.
    Python's cyclic collector is kept off the inherited objects (``gc.freeze``): walking them would
    write to every page and turn the shared memory into copies.
    """

    def __init__(self, fn, items, jobs: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        self.items = list(items)
        self.token = next(_TOKENS)
        _TASKS[self.token] = fn
        gc.collect()
        gc.freeze()
        try:
            self._pool = ProcessPoolExecutor(max_workers=max(1, min(jobs, len(self.items))),
                                             mp_context=multiprocessing.get_context("fork"),
                                             initializer=_worker_start, initargs=(os.getpid(), _NICE[0]))
            # with fork, the first submit starts every worker before the pool's own thread exists
            self._futures = [self._pool.submit(_call, self.token, item) for item in self.items]
        except BaseException:
            self.close()
            raise
        finally:
            thaw()
            _TASKS.pop(self.token, None)

    def results(self) -> list:
        """Every task's result in item order; a worker that died is one ``WorkerStopped`` line."""
        from concurrent.futures.process import BrokenProcessPool
        try:
            return [f.result() for f in self._futures]
        except BrokenProcessPool:
            raise WorkerStopped("a worker process stopped before finishing its task (killed by a signal, "
                                "e.g. out of memory; try --jobs 1)") from None
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers that still run and reap them all (idempotent)."""
        pool = getattr(self, "_pool", None)
        if pool is None:
            return
        self._pool = None
        for f in getattr(self, "_futures", ()):
            f.cancel()
        procs = list((getattr(pool, "_processes", None) or {}).values())
        if any(not f.done() for f in getattr(self, "_futures", ())):
            for p in procs:
                if p.is_alive():
                    p.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        for p in procs:
            p.join()


def _rebuild_error(cls, args, state, note):
    """An exception of ``cls`` as the worker raised it (``args`` and attributes), without calling ``__init__``:
    a TrialforgeError subclass whose constructor takes other arguments still arrives whole."""
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    if note and hasattr(exc, "add_note"):
        exc.add_note(note)
    return exc


def _portable_error(exc: BaseException):
    """What a worker sends for its exception: the class, args and attributes, and its traceback as text
    (a note on the parent's copy; TRIALFORGE_DEBUG shows it). A class or attribute that cannot be pickled
    becomes a RuntimeError carrying the same text."""
    import pickle
    import traceback
    note = "in the worker process:\n" + "".join(traceback.format_exception(exc))
    payload = (type(exc), exc.args, dict(getattr(exc, "__dict__", {})), note)
    try:
        pickle.loads(pickle.dumps(payload))
        return payload
    except Exception:  # noqa: BLE001 - anything unpicklable is described, not lost
        return (RuntimeError, (f"{type(exc).__name__}: {exc}",), {}, note)


class ForkTask:
    """``fn()`` in one process forked now; ``result()`` waits for it and returns its value or raises its error.

    For a stage that runs beside the parent's own work (the SDTM gate while ADaM is derived, the SDTM package
    while ADaM is gated): the worker sees the parent's data as it is at the fork, copy-on-write. The value
    must be small and picklable; it is written to an unlinked temporary file, so the worker exits (and frees
    its memory) as soon as it is done, whether or not the parent is ready to read. An exception in ``fn``
    reaches the parent as the same class with the same message; a worker that ends without a result
    (killed by a signal) is one ``WorkerStopped`` naming ``what``. Always ``close()`` (idempotent): it stops
    and reaps a worker still running.
    """

    def __init__(self, fn, what: str):
        import tempfile
        self.what = what
        self._file = tempfile.TemporaryFile(prefix="trialforge-task-")
        self._done = False
        self._value = self._error = None
        parent = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:                                   # the worker: never returns into the caller
            code = 1
            try:
                gc.freeze()                                 # no collector walks over the inherited objects
                _worker_start(parent)
                import pickle
                try:
                    payload = ("value", fn())
                except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent
                    payload = ("error", _portable_error(exc))
                try:                                        # streamed: no copy of the whole result in memory
                    pickle.dump(payload, self._file, protocol=pickle.HIGHEST_PROTOCOL)
                except Exception as exc:  # noqa: BLE001
                    self._file.seek(0)
                    self._file.truncate()
                    pickle.dump(("error", _portable_error(exc)), self._file)
                self._file.flush()
                code = 0
            finally:
                os._exit(code)

    def done(self) -> bool:
        """True when the worker has ended (its result is then ready without waiting)."""
        if self._done:
            return True
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, -1
        if pid == 0:
            return False
        self._collect(status)
        return True

    def result(self):
        """The task's value (waits for the worker); its exception is raised here."""
        if not self._done:
            self._wait()
        if self._error is not None:
            raise self._error
        return self._value

    def _wait(self) -> None:
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = -1
        self._collect(status)

    def _collect(self, status: int) -> None:
        """Read the result of the reaped worker (``status`` from waitpid)."""
        import pickle
        self._done = True
        try:
            stopped = status != 0 or not os.fstat(self._file.fileno()).st_size
            if not stopped:                 # read from the file as it loads: no copy of the whole result
                self._file.seek(0)
                kind, got = pickle.load(self._file)
        finally:
            self._file.close()
        if stopped:
            how = (f"killed by signal {os.WTERMSIG(status)}" if status > 0 and os.WIFSIGNALED(status)
                   else "ended without a result")
            self._error = WorkerStopped(f"the worker process for {self.what} stopped before finishing ({how}, "
                                        "e.g. out of memory; try --jobs 1)")
            return
        if kind == "value":
            self._value = got
        else:
            self._error = _rebuild_error(*got)

    def close(self) -> None:
        """Stop the worker if it still runs and reap it; its result, if any, is discarded."""
        if self._done:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self._done = True
        self._file.close()
        self._error = WorkerStopped(f"the worker process for {self.what} was stopped")


class Handover:
    """One picklable value from the parent to a forked worker, sent after the fork (``ForkTask``'s result goes
    the other way). Pickled into an unlinked temporary file, so the sender never waits for the other side to
    read it; its length goes through a pipe when it is ready. Make it before the fork, then call
    ``parent_side()`` in the parent and ``worker_side()`` in the worker; ``close()`` in both.

    ``to_parent=True`` sends the other way, from the worker to the parent before the worker's end (the SDTM
    gate's report while the same worker goes on writing files): the parent's ``receive(missing=...)`` then
    returns ``missing`` when the worker ended without sending, and ``ready()`` says whether it has sent."""

    def __init__(self, what: str, *, to_parent: bool = False):
        import tempfile
        self.what = what
        self.to_parent = to_parent
        self._file = tempfile.TemporaryFile(prefix="trialforge-handover-")
        self._read, self._write = os.pipe()

    def parent_side(self) -> None:
        self._close_end(sending=not self.to_parent)

    def worker_side(self) -> None:
        self._close_end(sending=self.to_parent)

    def _close_end(self, *, sending: bool) -> None:
        """Keep the end this side uses: the write end when it sends, else the read end."""
        if sending:
            os.close(self._read)
            self._read = None
        else:
            os.close(self._write)
            self._write = None

    def ready(self) -> bool:
        """True when ``receive()`` would not wait (the value was sent, or the sender ended)."""
        import select
        return bool(select.select([self._read], [], [], 0)[0])

    def send(self, value) -> bool:
        """Send ``value``; False (nothing sent) when it cannot be pickled."""
        try:
            data = self.dumps(value)
        except Exception:  # noqa: BLE001 - anything unpicklable: the caller decides what to send instead
            return False
        os.pwrite(self._file.fileno(), data, 0)
        os.write(self._write, len(data).to_bytes(8, "little"))
        return True

    @staticmethod
    def dumps(value) -> bytes:
        import pickle
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    _RAISE = object()

    def receive(self, missing=_RAISE):
        """The value the other side sent; waits for it. When the sender ended without sending: ``missing``
        if given, else a RuntimeError."""
        import pickle
        size = b""
        while len(size) < 8:
            got = os.read(self._read, 8 - len(size))
            if not got:
                if missing is not Handover._RAISE and not size:
                    return missing
                raise RuntimeError(f"the {'worker' if self.to_parent else 'parent'} process ended before it "
                                   f"sent {self.what}")
            size += got
        length = int.from_bytes(size, "little")
        data = bytearray()
        while len(data) < length:
            got = os.pread(self._file.fileno(), length - len(data), len(data))
            if not got:
                raise RuntimeError(f"{self.what} was cut short")
            data += got
        return pickle.loads(bytes(data))

    def close(self) -> None:
        for fd in (self._read, self._write):
            if fd is not None:
                os.close(fd)
        self._read = self._write = None
        self._file.close()
