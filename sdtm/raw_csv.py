"""Reading a raw CSV export safely: the encoding, the delimiter, the header and the quoting are checked
around the pandas parse, so a problem is named where it starts instead of where the parser trips.

- encoding: a UTF-8 or UTF-16 byte-order mark wins; UTF-16 without a mark is recognised by its zero
  bytes; otherwise UTF-8, then Windows-1252 (the spec's ``encoding:`` overrides all of this);
- delimiter: trialforge reads comma-separated files; a header split by semicolons or tabs is named;
- header: a column name given twice is named (pandas would silently rename the second "X.1");
- quoting: every record must have as many fields as the header; a quote that never closes, or closes
  only after swallowing whole lines of records, is reported at the row and column where it opens.

Rows are line numbers in the file (header = row 1), like ``_ROW`` everywhere else.
"""
from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import RawDataError

FALLBACK = ("utf-8", "cp1252")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def read_csv_text(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """A raw CSV as a frame of text (no NA conversion) after the checks above; RawDataError otherwise.

    pandas reads a short row as blanks without a word, so every record's field count is checked first
    (a comma count per line when the file has no quotes, else the csv module's C reader).
    """
    return read_csv_fields(path, encoding)[0]


def read_csv_fields(path: Path, encoding: str | None = None) -> tuple[pd.DataFrame, bool]:
    """``read_csv_text``'s frame, and whether a field may begin or end with whitespace
    (``outer_blanks_possible``): when not, no value needs stripping."""
    text, raw = _decode(path, encoding)
    check_header(text, path)
    check_records(text, path, raw=raw)
    return _parse_text(text, raw), outer_blanks_possible(text, raw=raw)


def _parse_text(text: str, raw: np.ndarray | None) -> pd.DataFrame:
    """``pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)``, parsed from UTF-8 bytes (the
    file's own when they are the text's ASCII code points): from a text handle pandas encodes the text again
    chunk by chunk. Without NA strings nothing is missing, so every field is the parser's own str
    (``dtype=object``, no NA pass); the columns become ``str`` only where pandas infers that dtype for text."""
    frame = _parse_plain(text) if len(text) < _PLAIN_MAX and '"' not in text and "\r" not in text else None
    if frame is None:
        data = raw.base if raw is not None and isinstance(raw.base, bytes) else text.encode("utf-8")
        frame = pd.read_csv(io.BytesIO(data), dtype=object, na_filter=False, encoding="utf-8")
    if pd.Series(["a"], dtype=str).dtype != object:       # outside objstrings.object_strings(): pandas' str dtype
        frame = frame.astype(str)
    return frame


_PLAIN_MAX = 1 << 16        # characters: below this a short export is split in Python (pandas' parser costs ~1.5 ms
                            # a call whatever the size; beyond it pandas is faster and shares equal fields' objects)


def _parse_plain(text: str) -> pd.DataFrame | None:
    """A short export without quotes or carriage returns, split at line feeds and commas: the frame
    ``pd.read_csv(dtype=object, na_filter=False)`` gives it. None (pandas reads it) for anything where pandas
    does more than split: a blank header name (pandas names it "Unnamed: i"), a single column (a blank line
    is skipped), a line of another width (an empty line, skipped by pandas), no data line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) < 2:
        return None
    header = lines[0].split(",")
    width = len(header)
    if width < 2 or any(not name.strip() for name in header) or len(set(header)) != width:
        return None
    rows = [line.split(",") for line in lines[1:]]
    if any(len(row) != width for row in rows):
        return None
    data = {}
    for name, values in zip(header, zip(*rows)):
        column = np.empty(len(rows), dtype=object)
        column[:] = values
        data[name] = column
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)), columns=header)


def _ascii_bytes(text: str, raw: np.ndarray | None) -> np.ndarray:
    """The ASCII text's bytes as uint8 (the file's own bytes when ``_decode`` gave them)."""
    return raw if raw is not None else np.frombuffer(text.encode("ascii"), dtype=np.uint8)


# every character str.strip() removes (str.isspace(); tests/test_sdtm_working.py recomputes the list)
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


_BLANK_BYTES = np.zeros(256, dtype=bool)       # ASCII whitespace but the line feed (a record's end outside quotes)
_BLANK_BYTES[[ord(c) for c in WHITESPACE if ord(c) < 128 and c != "\n"]] = True
_RARE_BLANKS = [c for c in WHITESPACE if ord(c) < 128 and c not in " \n\r"]
_QUOTE, _COMMA, _LF = ord('"'), ord(","), ord("\n")


def outer_blanks_possible(text: str, *, raw: np.ndarray | None = None) -> bool:
    """False only when no field of the CSV text can begin or end with whitespace, so stripping every value
    (``sources._stripped``: a hash per column, ~0.1 s a column of a million records) would change nothing.

    A field's first character follows a delimiter (a comma or line feed outside quotes), its opening quote or
    the text's start; its last one precedes a delimiter, its closing quote or the text's end. So each blank's
    neighbours are looked at (numpy over the bytes), the number of quotes before a comma telling a delimiter
    from a comma inside a quoted value; a line feed inside quotes beside a quote counts as a blank. Anything
    unusual answers True: a carriage return, non-ASCII text, a quote outside quotes that does not open a field
    (the parser reads it as a character, so counting quotes would mislead). False positives only cost the
    per-column check.
    """
    if "\r" in text or not text.isascii():
        return True
    if not text:
        return False
    data = _ascii_bytes(text, raw)
    n = len(data)
    quotes = np.flatnonzero(data == _QUOTE) if '"' in text else np.zeros(0, dtype=np.intp)

    def outside(positions):                 # an even number of quotes before each position
        return np.searchsorted(quotes, positions) % 2 == 0

    if len(quotes):
        prev = data[np.maximum(quotes - 1, 0)]
        stray = (quotes > 0) & outside(quotes) & (prev != _COMMA) & (prev != _LF) & (prev != _QUOTE)
        if stray.any():
            return True
        for side in (quotes - 1, quotes + 1):       # a line feed inside quotes next to a quote
            side = side[(side >= 0) & (side < n)]
            feeds = side[data[side] == _LF]
            if len(feeds) and not outside(feeds).all():
                return True
    blank = _BLANK_BYTES[data] if any(c in text for c in _RARE_BLANKS) else data == ord(" ")
    blanks = np.flatnonzero(blank)
    del blank
    if not len(blanks):
        return False
    if blanks[0] == 0 or blanks[-1] == n - 1:
        return True
    for side in (blanks - 1, blanks + 1):
        near = data[side]
        if (near == _QUOTE).any():
            return True
        edge = side[(near == _COMMA) | (near == _LF)]
        if len(edge) and outside(edge).any():
            return True
    return False


def detect_encoding(data: bytes) -> str | None:
    """The encoding a byte-order mark or UTF-16's zero bytes announce, else None."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:4000]
    if len(head) >= 4 and b"\0" in head:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even == 0:
            return "utf-16-le"
        if even > len(head) // 4 and odd == 0:
            return "utf-16-be"
    return None


def _row_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_raw(path: Path, encoding: str | None = None) -> str:
    """The file's text; an undecodable byte is named with its row."""
    return _decode(path, encoding)[0]


# codecs whose bytes are the text's own code points when the text is ASCII
_ASCII_COMPATIBLE = {"utf-8", "utf-8-sig", "cp1252", "ascii", "iso8859-1"}


def _decode(path: Path, encoding: str | None = None) -> tuple[str, np.ndarray | None]:
    """``decode_raw``'s text, and the file's bytes as a numpy view when they are the text's ASCII code points
    one for one (the numpy checks read them without encoding the text again)."""
    data = Path(path).read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise RawDataError("raw file is an Excel workbook (zip), not CSV: give it the .xlsx extension", file=path)
    encodings = [encoding] if encoding else [detect_encoding(data)] if detect_encoding(data) else list(FALLBACK)
    error = None
    for enc in encodings:
        try:
            text = data.decode(enc)
        except LookupError:
            raise RawDataError(f"unknown encoding {enc!r} in the spec", file=path, value=enc) from None
        except UnicodeDecodeError as exc:
            error = (enc, exc)
            continue
        if text.startswith("\ufeff"):
            text = text[1:]
        if "\0" in text:
            raise RawDataError("raw file holds NUL characters: not a text CSV (or a wrong encoding:)",
                               file=path, row=text.count("\n", 0, text.index("\0")) + 1)
        same = len(text) == len(data) and codecs.lookup(enc).name in _ASCII_COMPATIBLE and text.isascii()
        return text, np.frombuffer(data, dtype=np.uint8) if same else None
    enc, exc = error
    bad = exc.object[exc.start:exc.end]
    raise RawDataError(f"cannot decode raw file as {enc} (byte {bad.hex(' ')}); set encoding: in the spec source",
                       file=path, row=_row_of(exc.object, exc.start), value=bad.decode("latin-1")) from None


_HEAD_LINES = 64


def _head(text: str) -> str:
    """The text up to the end of its first lines (all of it when shorter): the header is read from it
    without copying a whole export into a StringIO."""
    pos = -1
    for _ in range(_HEAD_LINES):
        pos = text.find("\n", pos + 1)
        if pos < 0:
            return text
    return text[:pos + 1]


def _first_record(text: str) -> list[str]:
    """The csv module's first record (StopIteration / csv.Error as it raises them on the whole text)."""
    head = _head(text)
    if head is not text:
        reader = csv.reader(io.StringIO(head, newline=""), strict=True)
        try:
            record = next(reader)
            if reader.line_num < _HEAD_LINES:   # the record ended inside the head: the same on the whole text
                return record
        except (StopIteration, csv.Error):
            pass
    return next(csv.reader(io.StringIO(text, newline=""), strict=True))


def check_header(text: str, path: Path) -> None:
    """The delimiter (commas) and column names given once."""
    head = _head(text)
    header_line = next((line for line in io.StringIO(head, newline="") if line.strip()), None)
    if header_line is None and head is not text:
        header_line = next((line for line in io.StringIO(text, newline="") if line.strip()), None)
    header_line = (header_line or "").rstrip("\r\n")
    if not header_line:
        return                              # empty: the caller reports it
    if "," not in header_line:
        for delim, name in _OTHER_DELIMITERS.items():
            if delim in header_line:
                raise RawDataError(f"raw file is {name}-delimited; trialforge reads comma-separated CSV "
                                   "(save it again as CSV with commas)", file=path, row=1, value=header_line[:80])
    try:
        header = _first_record(text)
    except (StopIteration, csv.Error):
        return
    seen: dict[str, int] = {}
    for i, name in enumerate((h.strip() for h in header), start=1):
        if name in seen:
            raise RawDataError(f"column name appears twice in the header (columns {seen[name]} and {i})",
                               file=path, column=name, row=1, value=name)
        seen[name] = i


def check_records(text: str, path: Path, *, raw: np.ndarray | None = None) -> None:
    """Every record has the header's number of fields; a bad quote is named where it opens."""
    if '"' not in text:                     # no quoting: a record is a line, its fields are its commas + 1
        try:
            header = _first_record(text)
        except (StopIteration, csv.Error):
            return
        width = len(header)
        shape = _line_shape(text, raw)
        if shape is not None:               # numpy: a comma count per line without a Python loop
            commas, _, starts, ends = shape
            counts = np.where(starts == ends, width, commas + 1)
            wrong = np.flatnonzero(counts != width)
            if len(wrong):
                bad = int(wrong[0])
                raise RawDataError(f"row has {counts[bad]} fields, the header has {width}", file=path,
                                   row=bad + 1, value=text[starts[bad]:ends[bad]][:80])
            return
        lines = _unquoted_lines(text)
        counts = [line.count(",") + 1 if line else width for line in lines]
        bad = next((i for i, n in enumerate(counts) if n != width), None)
        if bad is not None:
            raise RawDataError(f"row has {counts[bad]} fields, the header has {width}", file=path, row=bad + 1,
                               value=lines[bad][:80])
        return
    if _quoted_lines_each_one_record(text, raw):
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return
    names = [h.strip() for h in header]
    width = len(header)
    start = reader.line_num + 1
    try:
        for record in reader:               # tight loop: the C reader does the work, Python only compares
            end = reader.line_num
            if end != start or len(record) != width:
                _check_record(record, start, end, width, text, path, names)
            start = end + 1
    except csv.Error:
        raise _quote_error(_lines(text), start, path, names) from None


def _quoted_lines_each_one_record(text: str, raw: np.ndarray | None = None) -> bool:
    """True when every line is one whole record of the header's width: a line without quotes by its
    commas, a line with quotes by the csv module on that line alone (strict: a quote left open is an error).

    Then the csv module's pass over the whole text finds nothing either (each line ends outside quotes,
    so the next starts a record); False sends the file to that pass, which names any problem. Most lines
    of a quoted export hold no quote, so the C reader sees a few lines instead of the whole file.
    """
    try:
        header = _first_record(text)
    except (StopIteration, csv.Error):
        return False
    width = len(header)
    shape = _line_shape(text, raw)
    if shape is not None:                   # numpy: comma counts and quoted lines without a Python loop
        commas, has_quote, starts, ends = shape
        if not len(starts):
            return False
        plain = ~has_quote[1:] & (starts[1:] != ends[1:])
        if (commas[1:][plain] + 1 != width).any():
            return False
        first = text[starts[0]:ends[0]]
        quoted = [text[a:b] for a, b in zip(starts[1:][has_quote[1:]].tolist(), ends[1:][has_quote[1:]].tolist())]
    else:
        lines = _unquoted_lines(text)
        if not lines or "\r" in lines[0]:
            return False
        quoted = [line for line in lines[1:] if '"' in line]
        if any(line.count(",") + 1 != width for line in lines[1:] if line and '"' not in line):
            return False
        first = lines[0]
    try:
        if next(csv.reader([first], strict=True)) != header:    # the header is its first line alone
            return False
        reader = csv.reader(quoted, strict=True)
        for expected, record in enumerate(reader, start=1):
            if reader.line_num != expected or len(record) != width:
                return False
    except (StopIteration, csv.Error):
        return False
    return True


_SHAPE_CHUNK = 1 << 20


def _line_shape(text: str, raw: np.ndarray | None = None):
    """Per line of ``text.split("\\n")`` (a trailing empty line dropped, as ``_unquoted_lines`` gives them):
    its commas, whether it holds a quote, its start and end offsets; numpy over the bytes (running comma
    counts read at each line feed, in chunks: bounded temporaries). None for text with a carriage return or
    beyond ASCII: the per-line Python path decides."""
    if "\r" in text or not text.isascii():
        return None
    data = _ascii_bytes(text, raw)
    feeds = np.flatnonzero(data == _LF)
    lines = len(feeds) + (1 if len(data) and data[-1] != _LF else 0)
    starts = np.concatenate(([0], feeds + 1))[:lines]
    ends = np.append(feeds, len(data))[:lines]
    before_end = np.zeros(len(feeds) + 1, dtype=np.int64)     # commas before each line feed, then in all
    done = 0
    is_comma = np.empty(min(len(data), _SHAPE_CHUNK), dtype=bool)        # reused: no fresh pages per chunk
    running = np.empty(len(is_comma), dtype=np.int32)
    for lo in range(0, len(data), _SHAPE_CHUNK):
        part = data[lo:lo + _SHAPE_CHUNK]
        np.equal(part, _COMMA, out=is_comma[:len(part)])
        np.cumsum(is_comma[:len(part)], dtype=np.int32, out=running[:len(part)])
        first, last = np.searchsorted(feeds, [lo, lo + len(part)])
        before_end[first:last] = done + running[feeds[first:last] - lo]
        done += int(running[len(part) - 1])
    before_end[-1] = done
    commas = np.diff(before_end, prepend=0)[:lines]
    has_quote = np.zeros(lines, dtype=bool)
    if '"' in text:
        has_quote[np.searchsorted(feeds, np.flatnonzero(data == _QUOTE))] = True
    return commas, has_quote, starts, ends


def _unquoted_lines(text: str) -> list[str]:
    """``_lines`` by ``str.split`` when every line ends at LF or CRLF (the usual exports): the same lines."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:                   # a line ending at CR alone: the csv module's rules
            return _lines(text)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _lines(text: str) -> list[str]:
    """The file's lines as the csv module counts them (a line ends at LF, CRLF or CR)."""
    return [line.rstrip("\r\n") for line in io.StringIO(text, newline="")]


def _check_record(record, start, end, width, text, path, names) -> None:
    """A record over several lines or with the wrong number of fields: data, or a named error."""
    wrong_width = bool(record) and len(record) != width
    swallowed = end > start and width >= 3 and _swallows_records(record, width)
    if not (wrong_width or swallowed):
        return                              # a quoted value over several lines: data
    lines = _lines(text)
    if end > start:                         # one record over several lines: a quote that opened too early
        raise _quote_error(lines, start, path, names)
    raise RawDataError(f"row has {len(record)} fields, the header has {width}", file=path, row=start,
                       value=lines[start - 1][:80] if start - 1 < len(lines) else None)


def _swallows_records(record: list[str], width: int) -> bool:
    """A value over several lines that holds whole records (a line with the header's commas): a quote
    opened by mistake and closed by another mistake lines later, which would silently merge rows."""
    return any(part.count(",") >= width - 1 for value in record if "\n" in value
               for part in value.split("\n")[1:])


def _quote_error(lines: list[str], row: int, path: Path, names: list[str]) -> RawDataError:
    """Name the column and value where an unbalanced quote opens on line ``row``."""
    line = lines[row - 1] if 0 < row <= len(lines) else ""
    field, in_quote, opened = 0, False, None
    for i, ch in enumerate(line):
        if ch == '"':
            in_quote = not in_quote
            opened = i if in_quote else None
        elif ch == "," and not in_quote:
            field += 1
    column = names[field] if opened is not None and field < len(names) else None
    value = line[opened:opened + 60] if opened is not None else line[:80]
    return RawDataError("a quoted value opens here and does not close on this line (unbalanced quote)",
                        file=path, column=column, row=row, value=value)
