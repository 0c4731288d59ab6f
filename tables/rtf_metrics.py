"""Text widths for pagination and column widths, with rtflite's font metrics but without its cost.

``rtflite.strwidth.get_string_width`` opens the font file (a Path built, PIL ``truetype`` loaded) on
every call; a 1,000-subject AE listing measured ~69,000 strings, ~12 s of font loading. Here the
font object is loaded once per (font, size) and the width is the same expression
(``getlength(text) / 72``), so every width, and so every page cut and column width, is unchanged.
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


def string_width_in(text: str, font: int = 1, size: float = 9) -> float:
    """Width of ``text`` in inches, equal to ``rtflite.strwidth.get_string_width(text, font, size)``."""
    return _font(font, size).getlength(text) / DPI
