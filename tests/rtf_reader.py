"""A small RTF reader for tests, written independently of tables/render.py: splits an RTF into pages
(\\pagebb / \\page), reads each page's title paragraphs and its table rows with, per cell, the text,
the left indent (\\li, twips) and bold (\\b), and whether the running header carries "Page x of y".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

CELL = re.compile(r"\\pard((?:\\[a-z]+-?\d*)*)\s*\{((?:[^{}]|\{[^{}]*\})*)\}\\cell")
UNI = re.compile(r"\\uc1\\u(\d+)\*")


@dataclass
class Cell:
    text: str
    indent: int
    bold: bool


@dataclass
class Page:
    titles: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)


def plain(rtf_text: str) -> tuple[str, bool]:
    """Cell/paragraph content to text; bold when the font group switches \\b on."""
    bold = bool(re.match(r"\\f\d+\\b(?![a-z])", rtf_text))
    t = UNI.sub(lambda m: chr(int(m.group(1))), rtf_text)
    t = re.sub(r"^\\f\d+(?:\\b(?![a-z]))?\s?", "", t)
    t = t.replace("\\line ", "\n")
    t = re.sub(r"\{\\field\{\\\*\\fldinst NUMPAGES \}\}", "{NUMPAGES}", t)
    t = t.replace("\\chpgn", "{PAGE}")
    return t, bold


def normalise(text: str) -> str:
    """Collapse the padding used for decimal alignment (no-break spaces, runs of spaces, line breaks)."""
    return re.sub(r"\(\s+", "(", re.sub(r"\s+", " ", text.replace("\u00a0", " "))).strip()


def running_header(text: str) -> str:
    m = re.search(r"\{\\header(.*?)\}\}\s*\n", text, flags=re.S)
    return plain(m.group(1))[0] if m else ""


def header_paragraphs(text: str) -> list[dict]:
    """The running header's paragraphs: alignment (ql/qc/qr), right tab stops (twips) and the text left
    and right of the first \\tab ("right" is None without a tab)."""
    start = text.index("{\\header")
    depth, i = 0, start
    while True:                                   # the header group, by brace depth
        if text[i] == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
        if depth == 0:
            break
    group = text[start + len("{\\header"):i - 1]
    out = []
    for para in re.findall(r"\{\\pard(.*?)\\par\}", group, flags=re.S):
        props = re.match(r"((?:\\(?!tab(?![a-z]))[a-z]+-?\d*)*)", para).group(1)
        parts = para[len(props):].split("\\tab", 1)
        texts = [plain("".join(re.findall(r"\{\\f\d+ ?((?:[^{}]|\{[^{}]*\{[^{}]*\}\})*)\}", p)))[0]
                 for p in parts]
        out.append({"align": (re.findall(r"\\q([lrcj])(?![a-z])", props) or ["l"])[-1],
                    "right_tabs": [int(x) for x in re.findall(r"\\tqr\\tx(\d+)", props)],
                    "left": texts[0], "right": texts[1] if len(texts) > 1 else None})
    return out


def text_width_twips(text: str) -> int:
    """Width between the margins, from the RTF's own page setup (\\paperw, \\margl, \\margr)."""
    get = {k: int(re.search(rf"\\{k}(\d+)", text).group(1)) for k in ("paperw", "margl", "margr")}
    return get["paperw"] - get["margl"] - get["margr"]


def pages(text: str) -> list[Page]:
    body = text.split("\\margl", 1)[1]
    chunks = re.split(r"\{\\pard\\pagebb|\\page\b", body)
    out = []
    for k, chunk in enumerate(chunks):
        if k:
            chunk = "{\\pard" + chunk
        page = Page()
        head = chunk.split("\\trowd", 1)[0] if "\\trowd" in chunk else chunk
        para = re.search(r"\{\\pard[^{]*((?:\{\\f\d+[^{}]*\}|\\line|\\fs\d+)+)\\par\}", head)
        page.titles = [plain(t)[0] for t in re.findall(r"\{(\\f\d+[^{}]*)\}", para.group(1))] if para else []
        for row in chunk.split("\\row")[:-1]:
            cells = []
            for m in CELL.finditer(row):
                props, content = m.group(1), m.group(2)
                li = re.search(r"\\li(-?\d+)", props)
                text, bold = plain(content)
                cells.append(Cell(text, int(li.group(1)) if li else 0, bold))
            if cells:
                page.rows.append(cells)
        out.append(page)
    return out
