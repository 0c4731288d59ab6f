"""``char`` of Arrow text columns through Arrow's own dictionary encoding (``_frame._arrow_codes``) against the
plain Python reading of every value (strip, missing as "") and against ``pd.factorize``'s codes and uniques."""
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from trialforge.adam._frame import _arrow_codes, char

ARROW = pd.StringDtype("pyarrow")


def _by_hand(values):
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else v.strip() for v in values]


@pytest.mark.parametrize("seed", range(6))
def test_arrow_char_equals_plain_python(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1001, 5000))           # above the short-column path
    pool = np.array(["A", " A", "B ", "", "é x", "CD70 CAR-T", None], dtype=object)
    values = pool[rng.integers(0, len(pool), n)].tolist()
    s = pd.Series(values, dtype=ARROW, name="X", index=np.arange(n) + 7)
    got = char(s)
    assert got.dtype == object and got.name == "X" and got.index.equals(s.index)
    assert got.tolist() == _by_hand(values)
    codes, uniques = _arrow_codes(s)
    want_codes, want_uniques = pd.factorize(s, use_na_sentinel=True)
    assert uniques == list(want_uniques)
    np.testing.assert_array_equal(np.where(want_codes < 0, len(uniques), want_codes), codes)


def test_other_columns_keep_the_pandas_path():
    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([["a ", "b"] * 600, [" c", None] * 600])))
    assert _arrow_codes(chunked) is None         # several chunks
    assert char(chunked).tolist() == ["a", "b"] * 600 + ["c", ""] * 600
    assert _arrow_codes(pd.Series(["a"] * 1200, dtype=object)) is None
    assert _arrow_codes(pd.Series(["a"] * 1200, dtype=pd.StringDtype("python"))) is None
    assert char(pd.Series([None] * 1200, dtype=ARROW)).tolist() == [""] * 1200


class _Text(str):
    pass


@pytest.mark.parametrize("kind", ["few", "subclass", "missing", "numbers", "distinct"])
def test_text_column_against_astype(kind):
    """make_dataset's text columns (metadata._text_column, which checks the few distinct objects of a long
    column instead of every value): what astype(str) then the text dtype gives, missing as ""."""
    from trialforge.adam.metadata import _text_column
    from trialforge.objstrings import TEXT_DTYPE
    rng = np.random.default_rng(3)
    n = 5000
    pools = {"few": ["HGB", "ALT", "CRP"], "subclass": [_Text("HGB"), "ALT"], "missing": ["HGB", None, np.nan],
             "numbers": ["HGB", 2.0, 3], "distinct": None}
    pool = pools[kind]
    values = [f"V{i}" for i in range(n)] if pool is None else [pool[i] for i in rng.integers(0, len(pool), n)]
    s = pd.Series(values, dtype=object)
    want = pd.Series(["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values],
                     dtype=object).astype(TEXT_DTYPE)
    got = _text_column(s)
    pd.testing.assert_series_equal(got, want, check_names=False)
