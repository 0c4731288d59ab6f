"""The stylesheet a reviewer's browser needs, shipped beside each define.xml, and define.html.

define.xml names `define2-1.xsl` in an `xml-stylesheet` processing instruction, so a browser that
still runs XSLT shows the define as tables with links to each dataset's XPT (def:leaf). Browsers
are dropping XSLT, so the same stylesheet is also run here (lxml's libxslt) into define.html, a
plain HTML page. The stylesheet is Lex Jansen's CDISC define2-1.xsl (MIT licence, shipped with its
licence file as package data: `submission/stylesheet/`). The rendering is a function of the
define.xml bytes only: same define, same define.html. The shipped stylesheet is run with its OID
look-ups indexed (define_xsl_keys): the same HTML bytes, about ten times faster.
"""
from __future__ import annotations

from pathlib import Path

from lxml import etree

STYLESHEET_DIR = Path(__file__).resolve().parent / "stylesheet"
STYLESHEET_NAME = "define2-1.xsl"
LICENCE_NAME = "define2-1.xsl.LICENSE"
STYLESHEET = STYLESHEET_DIR / STYLESHEET_NAME
HTML_NAME = "define.html"


def stylesheet_instruction(href: str = STYLESHEET_NAME):
    """The `<?xml-stylesheet type="text/xsl" href="define2-1.xsl"?>` node put before <ODM>."""
    return etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{href}"')


def ship_stylesheet(folder) -> list[Path]:
    """Copy define2-1.xsl and its licence into `folder` (beside a define.xml); return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in (STYLESHEET_NAME, LICENCE_NAME):
        target = folder / name
        target.write_bytes((STYLESHEET_DIR / name).read_bytes())
        out.append(target)
    return out


_TRANSFORMS: dict[str, etree.XSLT] = {}


def _transform(xsl_path: Path) -> etree.XSLT:
    key = str(xsl_path)
    if key not in _TRANSFORMS:                 # parsing the 190 kB stylesheet once per process
        _TRANSFORMS[key] = etree.XSLT(_indexed(xsl_path) if xsl_path == STYLESHEET else etree.parse(key))
    return _TRANSFORMS[key]


def _indexed(xsl_path: Path):
    """The shipped stylesheet's tree with keyed look-ups (define_xsl_keys); another stylesheet is
    run as given, since the rewrites rely on how define2-1.xsl defines its global sequences."""
    from .define_xsl_keys import indexed_stylesheet
    text, _rewritten = indexed_stylesheet(xsl_path.read_text(encoding="utf-8"))
    return etree.fromstring(text.encode("utf-8"), base_url=str(xsl_path)).getroottree()


def render_define_html(define_path, out=None, xsl_path=None) -> Path:
    """Render define.xml to HTML (default: define.html beside it) with the shipped stylesheet."""
    define_path = Path(define_path)
    out = Path(out) if out else define_path.with_name(HTML_NAME)
    result = _transform(Path(xsl_path) if xsl_path else STYLESHEET)(etree.parse(str(define_path)))
    out.write_bytes(bytes(result))
    return out
