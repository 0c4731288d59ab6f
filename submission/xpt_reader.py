"""Read SAS XPORT files (v5, and the v8/v9 long-name variant) into a Dataset.

Our own reader so that round trips check our writer against an independent implementation
(pyreadstat) and so that ADaM can read SDTM from any folder of XPT with its metadata (labels,
lengths, formats) intact. Semantics follow SAS:
- character values lose trailing blanks; an all-blank value (SAS's character missing) reads as "";
- numeric values become float64; every SAS missing value (., ._, .A-.Z) becomes NaN;
- text is decoded as UTF-8 (ASCII is a subset) and, if that fails, as Windows-1252 (the CDISC
  pilot files), unless an encoding is given.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from trialforge.errors import DatasetReadError
from trialforge.specs.metadata import CHAR, NUM, Dataset, DatasetMeta, VariableMeta
from trialforge.submission import xpt_layout as lay
from trialforge.submission.xpt_ibm import ibm_to_ieee

_PREFIX = b"HEADER RECORD*******"
_KINDS = {  # version -> record kinds
    5: dict(library=b"LIBRARY ", member=b"MEMBER  ", descriptor=b"DSCRPTR ", namestr=b"NAMESTR ",
            obs=b"OBS     "),
    8: dict(library=b"LIBV8   ", member=b"MEMBV8  ", descriptor=b"DSCPTV8 ", namestr=b"NAMSTV8 ",
            obs=b"OBSV8   "),
}
FALLBACK_ENCODING = "cp1252"


@dataclass(frozen=True)
class _Var:
    name: bytes
    label: bytes
    type: str
    length: int
    position: int
    format: lay.SasFormat


def read_xpt(path, *, encoding: str | None = None) -> Dataset:
    """Read the (first) member of an XPT file as a Dataset with name, label and variable metadata.

    Raises DatasetReadError naming the file when it is missing, truncated or not an XPT file.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetReadError(f"cannot read XPT file: {exc.strerror or exc}", file=path) from None
    return _Parser(data, path, encoding).dataset()


def read_xpt_folder(folder) -> dict[str, Dataset]:
    """Every ``*.xpt`` file in ``folder`` keyed by upper-case dataset name, in sorted name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetReadError("XPT folder does not exist", file=folder)
    found: dict[str, Dataset] = {}
    for path in sorted(p for p in folder.iterdir() if p.suffix == ".xpt" and p.is_file()):
        dataset = read_xpt(path)
        key = dataset.meta.name.upper()
        if key in found:
            raise DatasetReadError(f"two XPT files hold dataset {key}", file=path)
        found[key] = dataset
    return dict(sorted(found.items()))


class _Parser:
    """Walks the 80-byte records of one file; every structural problem becomes DatasetReadError."""

    def __init__(self, data: bytes, path: Path, encoding: str | None):
        self.data, self.path, self.encoding = data, path, encoding

    def fail(self, cause: str, **where) -> DatasetReadError:
        return DatasetReadError(cause, file=self.path, **where)

    def record(self, offset: int, size: int = lay.RECORD) -> bytes:
        if offset + size > len(self.data):
            raise self.fail("truncated XPT file (ends inside the header)")
        return self.data[offset:offset + size]

    def expect(self, offset: int, kind: bytes) -> bytes:
        rec = self.record(offset)
        if not rec.startswith(_PREFIX + kind):
            raise self.fail(f"not a SAS XPORT file (expected the {kind.decode().strip()} header "
                            f"record at byte {offset})")
        return rec

    def dataset(self) -> Dataset:
        first = self.record(0) if len(self.data) >= lay.RECORD else b""
        version = next((v for v, k in _KINDS.items() if first.startswith(_PREFIX + k["library"])), None)
        if version is None:
            raise self.fail("not a SAS XPORT file (no library header record)")
        if len(self.data) % lay.RECORD:
            raise self.fail(f"truncated XPT file: {len(self.data)} bytes is not a whole number of "
                            f"{lay.RECORD}-byte records (the file was cut short)")
        kinds = _KINDS[version]
        member = self.expect(3 * lay.RECORD, kinds["member"])
        try:
            namestr_length = int(member[74:78])
        except ValueError:
            raise self.fail("corrupt XPT member header") from None
        if namestr_length not in (136, 140):
            raise self.fail(f"unsupported NAMESTR length {namestr_length}")
        self.expect(4 * lay.RECORD, kinds["descriptor"])
        desc1, desc2 = self.record(5 * lay.RECORD), self.record(6 * lay.RECORD)
        name = desc1[8:40] if version == 8 else desc1[8:16]
        label = desc2[32:72]
        offset = 7 * lay.RECORD
        head = self.expect(offset, kinds["namestr"])
        try:
            n_vars = int(head[48:58])
        except ValueError:
            raise self.fail("corrupt XPT NAMESTR header") from None
        offset += lay.RECORD
        raw = self.record(offset, n_vars * namestr_length)
        offset += n_vars * namestr_length
        offset += -offset % lay.RECORD
        variables = self.variables(raw, n_vars, namestr_length, version)
        if version == 8:
            offset, extras = self.long_labels(offset, n_vars)
            variables = [self.extend(v, extras.get(i, {})) for i, v in enumerate(variables)]
        obs = self.expect(offset, kinds["obs"])
        start = offset + lay.RECORD
        end = self.member_end(start)
        count = obs[48:].strip()           # v8 writers may record the row count here
        n_rows = int(count) if version == 8 and count.isdigit() and int(count) else None
        return self.build(name, label, variables, start, end, n_rows)

    def variables(self, raw: bytes, n_vars: int, namestr_length: int, version: int) -> list[_Var]:
        if namestr_length == 136:          # VAX/VMS: same fields, 4 bytes shorter tail
            raw = b"".join(raw[i * 136:(i + 1) * 136] + b"\0" * 4 for i in range(n_vars))
        recs = np.frombuffer(raw, dtype=lay.NAMESTR_DTYPE, count=n_vars)
        out = []
        for rec in recs:
            ntype = int(rec["ntype"])
            if ntype not in (lay.NUM_TYPE, lay.CHAR_TYPE):
                raise self.fail(f"corrupt NAMESTR (variable type {ntype})")
            name = rec["nname"]
            if version == 8 and rec["longname"].strip(b" \0"):
                name = rec["longname"]
            fmt = lay.SasFormat(_text(rec["nform"]).decode("ascii", "replace"),
                                int(rec["nfl"]), int(rec["nfd"]))
            out.append(_Var(_text(name), _text(rec["nlabel"]), NUM if ntype == lay.NUM_TYPE else CHAR,
                            int(rec["nlng"]), int(rec["npos"]), fmt))
        return out

    def long_labels(self, offset: int, n_vars: int) -> tuple[int, dict[int, dict]]:
        """v8 LABELV8/LABELV9 section: long name, label (> 40) and, for V9, long format per variable."""
        rec = self.record(offset)
        v9 = rec.startswith(_PREFIX + b"LABELV9 ")
        if not (v9 or rec.startswith(_PREFIX + b"LABELV8 ")):
            return offset, {}
        try:
            count = int(rec[48:].split()[0])
        except (IndexError, ValueError):
            raise self.fail("corrupt XPT LABELV8/V9 header") from None
        if count > n_vars:
            raise self.fail("corrupt XPT LABELV8/V9 header (more labels than variables)")
        fields = 5 if v9 else 3            # number, name/label(/format/informat) lengths
        pos = offset + lay.RECORD
        extras: dict[int, dict] = {}
        for _ in range(count):
            number, *lengths = (int(x) for x in np.frombuffer(self.record(pos, 2 * fields), ">i2"))
            pos += 2 * fields
            texts = []
            for length in lengths:
                texts.append(self.record(pos, length).rstrip(b" ") if length else b"")
                pos += length
            extras[number - 1] = dict(zip(("name", "label", "format"), texts))
        pos += -pos % lay.RECORD
        return pos, extras

    def extend(self, var: _Var, extra: dict) -> _Var:
        changes = {k: extra[k] for k in ("name", "label") if extra.get(k)}
        if extra.get("format"):
            try:
                changes["format"] = lay.parse_format(extra["format"].decode("ascii"))
            except (ValueError, UnicodeDecodeError):
                raise self.fail("corrupt format in XPT LABELV9 record", value=extra["format"]) from None
        return replace(var, **changes)

    def member_end(self, start: int) -> int:
        """End of this member's observations: the next member header (80-aligned) or end of file."""
        marker = _PREFIX + b"MEMB"
        at = self.data.find(marker, start)
        while at != -1 and (at - start) % lay.RECORD:
            at = self.data.find(marker, at + 1)
        return len(self.data) if at == -1 else at

    def build(self, name: bytes, label: bytes, variables: list[_Var], start: int, end: int,
              n_rows: int | None) -> Dataset:
        row_length = max((v.position + v.length for v in variables), default=0)
        size = end - start
        n = size // row_length if row_length else 0
        if n_rows is not None and n_rows <= n:
            n = n_rows
        # The last record is blank-padded to 80 bytes: blank "rows" inside that padding are not data.
        while n_rows is None and n and size - (n - 1) * row_length < lay.RECORD and \
                self.data[start + (n - 1) * row_length:start + n * row_length].strip(b" ") == b"":
            n -= 1
        if size < 0 or n * row_length > size:
            raise self.fail("truncated XPT file (observations cut short)")
        rest = self.data[start + n * row_length:end]
        if n_rows is None and rest.strip(b" "):
            raise self.fail(f"truncated XPT file: the last observation is cut short after {n} complete "
                            f"records ({len(rest)} of {row_length} bytes)")
        rows = np.frombuffer(self.data, dtype=np.uint8, count=n * row_length, offset=start)
        rows = rows.reshape(n, row_length)
        for v in variables:
            if v.position + v.length > row_length or v.length < 1 or (v.type == NUM and v.length > 8):
                raise self.fail("corrupt NAMESTR (variable position/length)", column=_safe(v.name))
        raw_text = {v.name: _char_column(rows, v) for v in variables if v.type == CHAR}
        encoding = self.encoding or self.choose_encoding([name, label, *(x for v in variables
                                                          for x in (v.name, v.label)),
                                                          *raw_text.values()])
        columns: dict[str, object] = {}
        metas = []
        for v in variables:
            vname = self.decode(v.name, encoding, "variable name")
            if v.type == NUM:
                columns[vname] = ibm_to_ieee(rows[:, v.position:v.position + v.length])
            else:
                columns[vname] = self.decode_column(raw_text[v.name], encoding, vname)
            metas.append(VariableMeta(name=vname, label=self.decode(v.label, encoding, "label"),
                                      type=v.type, length=v.length, format=str(v.format) or None))
        frame = pd.DataFrame(columns, index=pd.RangeIndex(n))
        meta = DatasetMeta(name=self.decode(_text(name), encoding, "dataset name"),
                           label=self.decode(_text(label), encoding, "dataset label"),
                           variables=tuple(metas))
        return Dataset(meta, frame)

    def choose_encoding(self, pieces) -> str:
        """UTF-8 if every byte string decodes as UTF-8 (ASCII included), else Windows-1252."""
        for piece in pieces:
            values = [piece] if isinstance(piece, bytes) else piece
            if isinstance(piece, np.ndarray):
                if not piece.size or piece.view(np.uint8).max(initial=0) < 128:
                    continue
                values = piece[np.fromiter((max(x, default=0) >= 128 for x in piece), bool, len(piece))]
            for value in values:
                try:
                    bytes(value).decode("utf-8")
                except UnicodeDecodeError:
                    return FALLBACK_ENCODING
        return "utf-8"

    def decode(self, raw: bytes, encoding: str, what: str) -> str:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise self.fail(f"cannot decode {what} as {encoding}: {exc}", value=raw) from None

    def decode_column(self, values: np.ndarray, encoding: str, column: str) -> np.ndarray:
        """Bytes array -> object array of str; ASCII columns take numpy's C-speed cast."""
        if not values.size or values.view(np.uint8).max(initial=0) < 128:
            return values.astype(str).astype(object)
        out = np.empty(len(values), dtype=object)
        for i, value in enumerate(values.tolist()):
            try:
                out[i] = value.decode(encoding)
            except (UnicodeDecodeError, LookupError) as exc:
                raise self.fail(f"cannot decode text as {encoding}: {exc}", column=column,
                                row=i + 1, value=value) from None
        return out


def _char_column(rows: np.ndarray, v: _Var) -> np.ndarray:
    """Fixed-width bytes with trailing blanks (and NULs) removed, as a numpy 'S' array."""
    block = np.ascontiguousarray(rows[:, v.position:v.position + v.length])
    values = block.view(f"S{v.length}").ravel()
    return np.char.rstrip(values, b" ") if values.size else values


def _text(raw) -> bytes:
    return bytes(raw).rstrip(b" \0")


def _safe(raw: bytes) -> str:
    return raw.decode("latin-1")
