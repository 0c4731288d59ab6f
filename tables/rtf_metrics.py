"""Text widths for pagination and column widths, with rtflite's font metrics but without its cost.

``rtflite.strwidth.get_string_width`` opens the font file (a Path built, PIL ``truetype`` loaded) on
every call; a 1,000-subject AE listing measured ~69,000 strings, ~12 s of font loading. Here the
font object is loaded once per (font, size) and the width is the same expression
(``getlength(text) / 72``), so every width, and so every page cut and column width, is unchanged.

Printable ASCII texts are measured from their characters' and adjacent pairs' lengths (`_PairwiseLength`):
Pillow's layout of one word (~60-70 us) was most of a listing's column widths, and a listing's words are
mostly distinct (subject ids, dates) while their characters and pairs are few.
"""
from __future__ import annotations

import functools
import importlib.util
import math
import sys
from pathlib import Path

from PIL import ImageFont
from PIL import __version__ as PILLOW_VERSION

DPI = 72.0
_PILLOW_INT_SIZE = tuple(map(int, PILLOW_VERSION.split(".")[:2])) < (10, 0)


@functools.lru_cache(maxsize=None)
def _font(font: int, size: float) -> ImageFont.FreeTypeFont:
    """The PIL font rtflite measures RTF font number ``font`` with (Times New Roman -> Liberation
    Serif), loaded once."""
    mapping = _font_mapping()
    name = mapping.get_font_number_to_name_mapping()[font]
    path = _rtflite_dir() / "fonts" / mapping.get_font_paths()[name]
    return ImageFont.truetype(str(path), size=int(math.ceil(size)) if _PILLOW_INT_SIZE else size)


def _rtflite_dir() -> Path:
    """rtflite's package folder, found without importing the package."""
    return Path(importlib.util.find_spec("rtflite").submodule_search_locations[0])


@functools.lru_cache(maxsize=None)
def _font_mapping():
    """rtflite's ``FontMapping`` (its module imports the standard library only), loaded from its file:
    importing ``rtflite.fonts_mapping`` runs ``rtflite/__init__`` (pydantic models, polars; ~0.5 s of CPU)
    although no table needs rtflite's objects any more. An rtflite already imported is used as it is."""
    if "rtflite" in sys.modules:
        from rtflite.fonts_mapping import FontMapping
        return FontMapping
    spec = importlib.util.spec_from_file_location("_trialforge_rtflite_fonts_mapping",
                                                  _rtflite_dir() / "fonts_mapping.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FontMapping


_ASCII = frozenset(map(chr, range(0x20, 0x7F)))   # printable ASCII: the texts measured pair by pair
_PAIRWISE_FONTS = frozenset({1})     # fonts whose layout is checked to be pairwise (tests/test_tables_rtf_metrics.py)


class _PairwiseLength:
    """`font.getlength(text)` for a text of printable ASCII, as the sum of each character's length and each
    adjacent pair's kerning (the pair's length less its two characters'), each measured once by `getlength`.

    Why it is the same number: HarfBuzz's layout of these characters in the font is a glyph per character
    advanced by its own width, adjusted by pair kerning only (no ligature or context rule changes it: the
    tests compare every pair and triple of the alphabet, and the words of the bundled studies, with
    `getlength`); the lengths are multiples of 1/64 pixel, so the float sums are exact in any order."""

    def __init__(self, font):
        self.getlength = font.getlength
        self.glyphs: dict = {}
        self.pairs: dict = {}

    def __call__(self, text: str) -> float:
        glyphs, pairs = self.glyphs, self.pairs
        total = 0.0
        prev = None
        for ch in text:
            w = glyphs.get(ch)
            if w is None:
                w = glyphs[ch] = self.getlength(ch)
            total += w
            if prev is not None:
                k = pairs.get(prev + ch)
                if k is None:
                    k = pairs[prev + ch] = self.getlength(prev + ch) - glyphs[prev] - w
                total += k
            prev = ch
        return total


@functools.lru_cache(maxsize=None)
def _pairwise(font: int, size: float) -> _PairwiseLength:
    return _PairwiseLength(_font(font, size))


def string_width_in(text: str, font: int = 1, size: float = 9) -> float:
    """Width of ``text`` in inches, equal to ``rtflite.strwidth.get_string_width(text, font, size)``."""
    if len(text) > 1 and font in _PAIRWISE_FONTS and _ASCII.issuperset(text):
        return _pairwise(font, size)(text) / DPI
    return _font(font, size).getlength(text) / DPI
