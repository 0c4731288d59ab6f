"""Errors a user can cause. The CLI turns them into one message and exit code 2.

Every error names where the problem is (file, column, row, value) so the user can fix the input
without reading a traceback.
"""
from __future__ import annotations


class TrialforgeError(Exception):
    """Base class: a problem in the user's inputs (data, specs, study configuration, arguments)."""

    def __init__(self, cause: str, *, file=None, column=None, row=None, value=None):
        self.cause = cause
        self.file = None if file is None else str(file)
        self.column = column
        self.row = row
        self.value = value
        super().__init__(self.message)

    @property
    def location(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(f"file {self.file}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        return ", ".join(parts)

    @property
    def message(self) -> str:
        loc = self.location
        return f"{self.cause} ({loc})" if loc else self.cause


class SpecError(TrialforgeError):
    """A mapping spec, study.yaml or metadata file is malformed or names something unknown."""


class RawDataError(TrialforgeError):
    """A raw CRF export is missing, empty, lacks a column, or holds a value that cannot be mapped."""


class DateFormatError(RawDataError):
    """A raw date/time does not match the format the spec declares."""


class TerminologyError(RawDataError):
    """A raw value has no controlled-terminology mapping."""


class DatasetReadError(TrialforgeError):
    """An input dataset (XPT, Dataset-JSON) cannot be read."""


class OutputFolderError(TrialforgeError):
    """An output folder may not be used (not one trialforge wrote, overlaps the inputs) or cannot be
    written (permissions, read-only file system, disk full)."""


class Interrupted(BaseException):
    """The run was stopped by a signal (SIGINT or SIGTERM); the CLI exits 128 + the signal number.

    A BaseException like KeyboardInterrupt so no ``except Exception`` swallows it on its way out, and
    every ``finally``/staging clean-up runs.
    """

    def __init__(self, signum: int):
        import signal
        self.signum = signum
        self.exit_code = 128 + int(signum)
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
