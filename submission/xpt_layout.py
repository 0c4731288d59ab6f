"""Record layouts of the SAS transport (XPORT) format, version 5 (SAS TS-140) and the v8 variant.

A transport file is a sequence of 80-byte records: library header, member header + descriptor,
NAMESTR header + one 140-byte NAMESTR per variable (padded with blanks to 80), OBS header, then
the observations back to back (padded with blanks to 80). Everything here is pure layout: no
pandas, no I/O, so the writer and the reader share one definition of every byte.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from trialforge.errors import TrialforgeError

RECORD = 80
NAMESTR_LENGTH = 140
SAS_VERSION = "9.4"
#: The OS field is a constant, not the host's, so files are byte-identical across machines.
SAS_OS = "LINUX"
SAS_EPOCH = date(1960, 1, 1)

# v5 limits (FDA Study Data Technical Conformance Guide; SAS TS-140).
MAX_NAME = 8
MAX_LABEL = 40
MAX_CHAR_LENGTH = 200
MAX_VARIABLES = 9999          # the NAMESTR header holds the count in 4 digits
NUMERIC_LENGTH = 8

NUM_TYPE = 1
CHAR_TYPE = 2

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A SAS format: optional '$', a name that does not end in a digit, width digits, '.', decimals.
_FORMAT_RE = re.compile(r"^(\$?(?:[A-Z_](?:[A-Z0-9_]*[A-Z_])?)?)(\d*)\.(\d*)$", re.IGNORECASE)

#: One NAMESTR as a numpy record (big-endian, 140 bytes; v8 long name/label length in the tail).
NAMESTR_DTYPE = np.dtype([
    ("ntype", ">i2"), ("nhfun", ">i2"), ("nlng", ">i2"), ("nvar0", ">i2"),
    ("nname", "S8"), ("nlabel", "S40"), ("nform", "S8"),
    ("nfl", ">i2"), ("nfd", ">i2"), ("nfj", ">i2"), ("nfill", "S2"),
    ("niform", "S8"), ("nifl", ">i2"), ("nifd", ">i2"), ("npos", ">i4"),
    ("longname", "S32"), ("lablen", ">i2"), ("rest", "S18"),
])
assert NAMESTR_DTYPE.itemsize == NAMESTR_LENGTH


class XptWriteError(TrialforgeError):
    """A dataset breaks an XPT v5 limit (name, label, length, ASCII, numeric range) and cannot be written."""


@dataclass(frozen=True)
class SasFormat:
    """A SAS display format split the way a NAMESTR stores it: name, width, decimals."""

    name: str = ""
    width: int = 0
    decimals: int = 0

    def __str__(self) -> str:
        if not self.name and not self.width and not self.decimals:
            return ""
        width = str(self.width) if self.width else ""
        decimals = str(self.decimals) if self.decimals else ""
        return f"{self.name}{width}.{decimals}"


def parse_format(text: str | None) -> SasFormat:
    """'DATE9.' -> (DATE, 9, 0); '8.2' -> ('', 8, 2); '$CHAR20.' -> ($CHAR, 20, 0); None/'' -> no format.

    Raises ValueError for text that is not a SAS format (the writer turns it into XptWriteError).
    """
    if text is None or not str(text).strip():
        return SasFormat()
    match = _FORMAT_RE.match(str(text).strip())
    if not match:
        raise ValueError(f"not a SAS format (expected NAMEw.d, e.g. DATE9. or 8.2): {text!r}")
    name, width, decimals = match.group(1).upper(), match.group(2), match.group(3)
    if len(name) > MAX_NAME:
        raise ValueError(f"SAS format name longer than {MAX_NAME} characters: {text!r}")
    width_i, decimals_i = int(width or 0), int(decimals or 0)
    if width_i > 32767 or decimals_i > 32767:
        raise ValueError(f"SAS format width/decimals out of range: {text!r}")
    return SasFormat(name, width_i, decimals_i)


def is_sas_name(name: str) -> bool:
    """True for a v5 SAS name: ASCII letter or '_' first, then letters, digits, '_', at most 8."""
    return len(name) <= MAX_NAME and bool(_NAME_RE.match(name))


def sas_timestamp(moment: datetime) -> bytes:
    """The 16-byte header timestamp 'ddMMMyy:hh:mm:ss', locale-independent."""
    text = (f"{moment.day:02d}{_MONTHS[moment.month - 1]}{moment.year % 100:02d}:"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")
    return text.encode("ascii")


def header_record(kind: str, numbers: str = "0" * 30) -> bytes:
    """'HEADER RECORD*******<kind>HEADER RECORD!!!!!!!<30 digits>  ' (80 bytes)."""
    rec = f"HEADER RECORD*******{kind:<8}HEADER RECORD!!!!!!!{numbers}  ".encode("ascii")
    assert len(rec) == RECORD, rec
    return rec


def blank_pad(data: bytes) -> bytes:
    """Pad with ASCII blanks to a multiple of 80 bytes."""
    return data + b" " * (-len(data) % RECORD)


def field(text: str | bytes, width: int) -> bytes:
    """Left-justified, blank-padded fixed-width ASCII field."""
    raw = text.encode("ascii") if isinstance(text, str) else text
    assert len(raw) <= width, (raw, width)
    return raw.ljust(width, b" ")


def library_header(stamp: bytes) -> bytes:
    """Library header record + the two real header records (SAS symbol, version, OS, dates)."""
    first = (field("SAS", 8) + field("SAS", 8) + field("SASLIB", 8) + field(SAS_VERSION, 8)
             + field(SAS_OS, 8) + b" " * 24 + stamp)
    second = stamp + b" " * 64
    return header_record("LIBRARY") + first + second


def member_header(name: bytes, label: bytes, stamp: bytes) -> bytes:
    """Member + descriptor header records and the two member descriptor records."""
    first = (field("SAS", 8) + field(name, 8) + field("SASDATA", 8) + field(SAS_VERSION, 8)
             + field(SAS_OS, 8) + b" " * 24 + stamp)
    second = stamp + b" " * 16 + field(label, 40) + field("", 8)
    return (header_record("MEMBER", "0" * 17 + "16" + "0" * 8 + f"{NAMESTR_LENGTH:03d}")
            + header_record("DSCRPTR") + first + second)


def namestr_header(n_variables: int) -> bytes:
    return header_record("NAMESTR", f"000000{n_variables:04d}" + "0" * 20)


def obs_header() -> bytes:
    return header_record("OBS")
