"""The validation workbook written byte for byte as openpyxl 3.1 writes it, without openpyxl.

Why: importing openpyxl costs ~0.2 s of CPU (most of the bundled example's reports stage), and its save
was followed by a second pass that unzipped its file to put the data rows in (``xlsx_rows``). The report's
workbook is always the same skeleton (four sheets with a bold header row, fixed column widths, a frozen
first row and an auto-filter, fixed document properties), so its parts are written here from templates and
the rows streamed into the zip entry. The fixed parts are openpyxl's own output, kept in
``data/xlsx_parts.json``. ``report_formats.write_excel`` uses this only when every value is plain
(``xlsx_rows.plain``) and the workbook title needs no escaping; anything else goes through openpyxl.
A test compares whole files against the openpyxl path.
"""
from __future__ import annotations

import io
import json
import zipfile
from functools import lru_cache
from pathlib import Path

from .xlsx_rows import column_letters, row_chunks

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SHEET_HEAD = (f'<worksheet xmlns="{_NS}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1"/><pageSetUpPr/>'
               '</sheetPr><dimension ref="{ref}"/><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" '
               'topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" '
               'activeCell="A1" sqref="A1"/></sheetView></sheetViews><sheetFormatPr baseColWidth="8" '
               'defaultRowHeight="15"/><cols>{cols}</cols><sheetData><row r="1">{header}</row>')
_SHEET_TAIL = ('</sheetData><autoFilter ref="{ref}"/><pageMargins left="0.75" right="0.75" top="1" bottom="1" '
               'header="0.5" footer="0.5"/></worksheet>')
_CORE = ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">'
         '<dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">{creator}</dc:creator>'
         '<dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">{title}</dc:title>'
         '<dcterms:created xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
         'xsi:type="dcterms:W3CDTF">2000-01-01T00:00:00Z</dcterms:created>'
         '<dcterms:modified xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
         'xsi:type="dcterms:W3CDTF">2000-01-01T00:00:00Z</dcterms:modified></cp:coreProperties>')
_BOOK_HEAD = (f'<workbook xmlns="{_NS}"><workbookPr/><workbookProtection/><bookViews><workbookView visibility="visible" '
              'minimized="0" showHorizontalScroll="1" showVerticalScroll="1" showSheetTabs="1" tabRatio="600" '
              'firstSheet="0" activeTab="0" autoFilterDateGrouping="1"/></bookViews><sheets>')
_BOOK_TAIL = '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
# (entry, zip external attributes) in the order openpyxl writes them; "sheets" stands for the worksheets
_ORDER = (("docProps/app.xml", 0o600 << 16), ("docProps/core.xml", 0o600 << 16), ("xl/theme/theme1.xml", 0o600 << 16),
          ("sheets", 0o20140000000), ("xl/styles.xml", 0o600 << 16), ("_rels/.rels", 0o600 << 16),
          ("xl/workbook.xml", 0o600 << 16), ("xl/_rels/workbook.xml.rels", 0o600 << 16),
          ("[Content_Types].xml", 0o600 << 16))
_ROWS_PER_WRITE = 4096


@lru_cache(maxsize=1)
def _parts() -> dict:
    with (Path(__file__).parent / "data" / "xlsx_parts.json").open(encoding="utf-8") as fh:
        return json.load(fh)["parts"]


def plain_title(text: str) -> bool:
    """Document-property text this module writes as openpyxl does (printable ASCII needing no XML escape)."""
    return text.isascii() and text.isprintable() and not any(c in text for c in "&<>")


def supported(sheets) -> bool:
    """Four sheets (the fixed parts list that many), header texts plain, column widths whole numbers."""
    return len(sheets) == 4 and all(
        len(header) == len(widths) <= 26 and all(plain_title(h) and h == h.strip() and h for h in header)
        and all(type(w) is int for w in widths) and plain_title(title) and not set(title) & set("'\"")
        for title, header, _rows, widths in sheets)


def workbook_bytes(sheets, *, creator: str, title: str) -> bytes:
    """The .xlsx file of ``sheets`` [(title, header, rows, widths)] whose rows are all plain values.

    The caller checks ``supported(sheets)``, ``plain_title`` of ``creator``/``title`` and that the rows are plain
    (``xlsx_rows.all_plain``), with as many values as the header."""
    parts = _parts()
    out = io.BytesIO()
    refs = [f"A1:{column_letters(len(header))[-1]}{len(rows) + 1}" for _t, header, rows, _w in sheets]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, attrs in _ORDER:
            if name == "sheets":
                for i, (sheet, ref) in enumerate(zip(sheets, refs), start=1):
                    with dst.open(_info(f"xl/worksheets/sheet{i}.xml", attrs), "w") as fh:
                        _write_sheet(fh, sheet, ref)
                continue
            if name == "docProps/core.xml":
                text = _CORE.format(creator=creator, title=title)
            elif name == "xl/workbook.xml":
                text = _workbook(sheets, refs)
            else:
                text = parts[name]
            dst.writestr(_info(name, attrs), text.encode("utf-8"))
    return out.getvalue()


def _info(name: str, attrs: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = attrs
    return info


def _write_sheet(fh, sheet, ref: str) -> None:
    """One worksheet: its head, the data rows in slices (never the whole text at once), its tail.

    zlib's output does not depend on how its input is cut (no flush between writes), so the entry's bytes
    are those of one ``writestr`` of the whole text."""
    _title, header, rows, widths = sheet
    letters = column_letters(len(header))
    cols = "".join(f'<col width="{w}" customWidth="1" min="{j}" max="{j}"/>' for j, w in enumerate(widths, start=1))
    head = "".join(f'<c r="{letter}1" s="1" t="inlineStr"><is><t>{text}</t></is></c>'
                   for letter, text in zip(letters, header))
    fh.write(_SHEET_HEAD.format(ref=ref, cols=cols, header=head).encode("utf-8"))
    for chunk in row_chunks(rows, 2, len(header), _ROWS_PER_WRITE):
        fh.write(chunk.encode("utf-8"))
    fh.write(_SHEET_TAIL.format(ref=ref).encode("utf-8"))


def _workbook(sheets, refs) -> str:
    names = "".join(f'<sheet xmlns:r="{_REL_NS}" name="{title}" sheetId="{i}" state="visible" r:id="rId{i}"/>'
                    for i, (title, *_rest) in enumerate(sheets, start=1))
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"'{title}'!{_absolute(ref)}</definedName>" for i, ((title, *_rest), ref) in enumerate(zip(sheets, refs)))
    return _BOOK_HEAD + names + "</sheets><definedNames>" + filters + "</definedNames>" + _BOOK_TAIL


def _absolute(ref: str) -> str:
    """A1:J20845 -> $A$1:$J$20845"""
    out = []
    for cell in ref.split(":"):
        letters = cell.rstrip("0123456789")
        out.append(f"${letters}${cell[len(letters):]}")
    return ":".join(out)
