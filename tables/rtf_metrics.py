"""Text widths for pagination and column widths, with rtflite's font metrics but without its cost.

``rtflite.strwidth.get_string_width`` opens the font file (a Path built, PIL ``truetype`` loaded) on
every call; a 1,000-subject AE listing measured ~69,000 strings, ~12 s of font loading. Here the
font object is loaded once per (font, size) and the width is the same expression
(``getlength(text) / 72``), so every width, and so every page cut and column width, is unchanged.
"""
from __future__ import annotations

import functools
import importlib.resources as pkg_resources
import math

from PIL import ImageFont
from PIL import __version__ as PILLOW_VERSION

DPI = 72.0
_PILLOW_INT_SIZE = tuple(map(int, PILLOW_VERSION.split(".")[:2])) < (10, 0)


@functools.lru_cache(maxsize=None)
def _font(font: int, size: float) -> ImageFont.FreeTypeFont:
    """The PIL font rtflite measures RTF font number ``font`` with (Times New Roman -> Liberation
    Serif), loaded once."""
    import rtflite.fonts
    from rtflite.fonts_mapping import FontMapping
    name = FontMapping.get_font_number_to_name_mapping()[font]
    path = pkg_resources.files(rtflite.fonts) / FontMapping.get_font_paths()[name]
    return ImageFont.truetype(str(path), size=int(math.ceil(size)) if _PILLOW_INT_SIZE else size)


def string_width_in(text: str, font: int = 1, size: float = 9) -> float:
    """Width of ``text`` in inches, equal to ``rtflite.strwidth.get_string_width(text, font, size)``."""
    return _font(font, size).getlength(text) / DPI
