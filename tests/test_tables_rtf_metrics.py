"""`rtf_metrics.string_width_in` measures printable ASCII pair by pair (`_PairwiseLength`); every width must
equal Pillow's layout of the whole text (`getlength`, what rtflite measures), or a column width or page cut
of a table would move."""
from __future__ import annotations

import itertools
import random

import pytest

from trialforge.tables import rtf_metrics
from trialforge.tables.rtf_metrics import _ASCII, _PAIRWISE_FONTS, _font, string_width_in

ALPHABET = "".join(sorted(_ASCII))


def _plain(text: str, font: int, size: float) -> float:
    """The width as before the fast path: the whole text laid out by Pillow."""
    return _font(font, size).getlength(text) / rtf_metrics.DPI


@pytest.mark.parametrize("size", [8, 9, 12])
def test_every_pair_of_printable_ascii_is_the_whole_texts_width(size):
    for font in _PAIRWISE_FONTS:
        for a, b in itertools.product(ALPHABET, repeat=2):
            assert string_width_in(a + b, font, size) == _plain(a + b, font, size), (a + b, size)


def test_triples_and_kerned_words_are_the_whole_texts_width():
    """Three-character texts of the characters fonts kern or join most (capitals, f/i/l, punctuation, digits):
    a ligature or context rule would change a triple and not its pairs; and words with many kerned pairs."""
    chars = "AFLPTVWYfilt1.,-' "
    for font in _PAIRWISE_FONTS:
        for t in map("".join, itertools.product(chars, repeat=3)):
            assert string_width_in(t, font, 9) == _plain(t, font, 9), t
        for t in ["AVATAR", "LT11.1", "office", "affluent fluffier", "WAVY-TYPE", "P.T.A.", "CD70-CART-101-103-018",
                  "  36 (  29.8)", "2024-10-28", "ALT (U/L)", "Y'all", "1111111"]:
            assert string_width_in(t, font, 9) == _plain(t, font, 9), t


def test_random_ascii_texts_and_kerning_is_counted():
    rng = random.Random(15)
    texts = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(2, 40))) for _ in range(3000)]
    for t in texts:
        assert string_width_in(t, 1, 9) == _plain(t, 1, 9), t
    # not a sum of characters: "AV" and "11" are kerned in the font, and the width says so
    f = _font(1, 9)
    assert string_width_in("AV", 1, 9) < (f.getlength("A") + f.getlength("V")) / 72
    assert string_width_in("11", 1, 9) < 2 * f.getlength("1") / 72


def test_other_texts_and_fonts_take_the_whole_text_layout():
    for t in ["", "x", "≥65", "naïve", "×10⁹/L", "A\u00a0V"]:
        assert string_width_in(t, 1, 9) == _plain(t, 1, 9)
    assert 2 not in _PAIRWISE_FONTS or string_width_in("AVAV", 2, 9) == _plain("AVAV", 2, 9)
