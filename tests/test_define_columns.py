"""define_columns: each column factorised once, readings per distinct value (values worked out by hand)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from trialforge.specs.metadata import CHAR, NUM, VariableMeta
from trialforge.submission.define_attrs import attrs_of, slice_attrs_of, value_attrs
from trialforge.submission.define_columns import Column, ColumnFacts
from trialforge.submission.define_vlm import slice_labels


def test_arrow_text_codes_texts_and_byte_lengths():
    col = Column(pd.Series(["b", "", None, "\u00e9\u00e9", "b"], dtype="str"))
    assert col.codes.dtype == np.int32
    assert col.codes[2] == -1 and col.codes[0] == col.codes[4] != col.codes[3]
    assert sorted(t for t in col.texts if t is not None) == ["b", "\u00e9\u00e9"]     # "" is absent
    assert col.whole().longest == 4                                               # é is 2 bytes
    assert col.distinct([col.codes[0], -1]).texts == ("b",)


def test_object_column_keeps_values_that_hash_alike_apart():
    col = Column(pd.Series([1, 1.0, "1", None], dtype=object))
    assert sorted(col.whole().texts) == ["1", "1", "1.0"]
    assert sorted(col.whole().numbers.tolist()) == [1.0, 1.0, 1.0]


def test_float_column_numbers_and_code_texts():
    col = Column(pd.Series([2.0, np.nan, 2.5, 2.0]))
    assert sorted(col.whole().numbers.tolist()) == [2.0, 2.5]
    assert sorted(t for t in col.code_texts(True) if t) == ["2", "2.5"]
    var = VariableMeta("AVAL", "Value", NUM)
    a = attrs_of(var, col.whole())
    assert (a.data_type, a.length, a.significant_digits) == ("float", 2, 1)


def test_combinations_and_groups_over_rows_with_a_present_key():
    frame = pd.DataFrame({"K": pd.Series(["A", "A", "B", "", None, "A"], dtype="str"),
                          "R": pd.Series(["1", "1", "x", "y", "z", "2"], dtype="str")})
    facts = ColumnFacts(frame)
    groups = facts.groups("K", ["R"])
    texts = facts.column("R").texts
    assert sorted(groups) == ["A", "B"]                     # "" and None keys are not slices
    assert sorted(texts[i] for i in groups["A"][:, 0]) == ["1", "2"]
    assert [texts[i] for i in groups["B"][:, 0]] == ["x"]
    assert len(facts.combinations(["K", "R"])) == 5          # (A,1) (B,x) (,y) (None,z) (A,2)


def test_slice_attrs_of_numeric_text_and_text():
    parent = VariableMeta("LBORRES", "Result", CHAR)
    col = Column(pd.Series(["1.50", "2", "12"], dtype="str"))
    a = slice_attrs_of(col.whole(), parent)
    assert (a.data_type, a.length, a.significant_digits) == ("float", 4, 2)
    a = value_attrs(pd.Series(["YELLOW", "1"], dtype="str"), parent)
    assert (a.data_type, a.length) == ("text", 6)


def test_slice_labels_take_the_first_decode_in_sorted_order():
    frame = pd.DataFrame({"LBTESTCD": pd.Series(["ALT", "ALT", "AST", "AST"], dtype="str"),
                          "LBTEST": pd.Series(["Alanine", "ALT test", None, "Aspartate"], dtype="str")})
    assert slice_labels(frame, "LBTESTCD") == {"ALT": "ALT test", "AST": "Aspartate"}


def test_numeric_shape_of_counts_digits_around_the_point_and_exponent_forms():
    from trialforge.submission.define_attrs import numeric_shape_of
    assert numeric_shape_of(np.array([-1234.5, 0.125, 0.125])) == (False, 7, 3)   # 4 whole + 3 decimals
    assert numeric_shape_of(np.array([1e-05, 2.5])) == (False, 6, 5)               # 1e-05 is 0.00001
    assert numeric_shape_of(np.array([-120.0, 7.0])) == (True, 3, 0)


def _shape_by_value(nums):
    """numeric_shape_of's answer read value by value with _decimal_shape (the reference)."""
    from trialforge.submission.define_attrs import _decimal_shape
    if len(nums) == 0:
        return True, 1, 0
    if bool((nums == np.round(nums)).all()):
        return True, len(str(int(np.abs(nums).max()))), 0
    shapes = [_decimal_shape(v) for v in np.unique(nums).tolist()]
    decimals = max(d for _, d in shapes)
    return False, max(i for i, _ in shapes) + decimals, decimals


def test_numeric_shape_of_many_values_equals_reading_every_value():
    """Over 256 distinct values the decimals are read in the order of their bound (15 significant digits):
    the same answer as formatting every value, for magnitudes from 1e-12 to 1e19, rounded values,
    exponent forms (1e15, 1e-5), 0.1 + 0.2, values next to powers of ten and subnormals."""
    from trialforge.submission.define_attrs import numeric_shape_of
    rng = np.random.default_rng(15)
    for trial in range(120):
        k = int(rng.integers(257, 2000))
        x = rng.standard_normal(k) * 10.0 ** rng.integers(-12, 20, size=k)
        if trial % 3 == 0:
            x = np.round(x, int(rng.integers(0, 8)))
        if trial % 4 == 0:
            x[:10] = [0.0, -0.0, 1e15, 999999999999999.9, 1e-4, 9.99999999999999e-5, 0.1 + 0.2, 1 / 3, 1e-300, 5e-324]
        if trial % 5 == 0:
            x = 10.0 ** rng.integers(-6, 17, size=k) * (1 - 1e-16 * rng.integers(0, 3, size=k))
        if trial % 6 == 0:
            x = rng.integers(-500, 500, size=k) / 8 + 0.125      # few decimals, many values
        assert numeric_shape_of(x) == _shape_by_value(x), trial
    x = np.arange(1000) / 100 + 0.001                              # by hand: 9.991 is the largest
    assert numeric_shape_of(x) == (False, 4, 3)


def test_whole_numeric_column_reads_its_rows_without_codes():
    """A float column no other question factorised: the numbers from the rows, the same attributes as
    the factorised column's; a text question about it still gets the factorised answer."""
    frame = pd.DataFrame({"AVAL": [2.0, np.nan, 2.5, 2.0, -0.0, 12.25], "N": [1.0, 2.0, 2.0, np.nan, 7.0, 1.0],
                          "I": np.array([3, 1, 3, 200, 5, 5], dtype=np.int64)})
    facts = ColumnFacts(frame)
    for name in ("AVAL", "N", "I"):
        var = VariableMeta(name, "Value", NUM)
        fast = facts.whole(name)
        assert name not in facts._columns
        assert attrs_of(var, fast) == attrs_of(var, Column(frame[name]).whole())
        assert sorted(set(fast.numbers.tolist())) == sorted(Column(frame[name]).whole().numbers.tolist())
    assert sorted(facts.whole("N").texts) == ["1.0", "2.0", "7.0"]          # from the factorised column
    assert attrs_of(VariableMeta("AVAL", "V", NUM), facts.whole("AVAL")).significant_digits == 2


def test_iso_datetime_type_with_and_without_shared_codes():
    """DataType of an --DTC column: datetime when a present value has a time part or none is present; the
    same from the rows (no codes) and from the shared codes' distinct values."""
    from trialforge.submission.arrow_text import forget_text_codes, text_codes
    cases = {"AESTDTC": (["2024-01-02", None, "", "2024-02"], "date"),
             "AEENDTC": (["2024-01-02", "2024-01-03T10:00", None], "datetime"),
             "CMSTDTC": ([None, "", None], "datetime"), "CMENDTC": ([], "datetime")}
    for shared in (False, True):
        forget_text_codes()
        for name, (values, expected) in cases.items():
            frame = pd.DataFrame({name: pd.Series(values, dtype="str")})
            if shared:
                text_codes(frame[name])
            var = VariableMeta(name, "Date", CHAR)
            assert attrs_of(var, ColumnFacts(frame).whole(name)).data_type == expected, (name, shared)
            assert attrs_of(var, Column(frame[name]).whole()).data_type == expected
    forget_text_codes()


def test_combinations_are_the_distinct_code_rows_by_table_and_by_hashing(monkeypatch):
    """The distinct code tuples equal pandas' drop_duplicates of the per-row codes (as sets: every caller
    asks set questions), through the table of a small key span and through pd.factorize."""
    from trialforge.submission import define_columns as dc
    rng = np.random.default_rng(8)
    n = 3000
    frame = pd.DataFrame({
        "A": pd.Series(rng.choice(["x", "y", "", None, "z\u00e9"], n), dtype="str"),
        "B": pd.Series(rng.choice([f"b{i}" for i in range(40)] + [None], n), dtype="str"),
        "C": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 900, n).astype(float)),
        "D": pd.Series([f"u{i}" for i in range(n)], dtype="str")})
    for table in (True, False):
        if not table:
            monkeypatch.setattr(dc, "KEY_TABLE", 0)
            monkeypatch.setattr(dc, "_distinct_keys", lambda key, size: (
                (codes := pd.factorize(key)[0].astype(np.int64)), int(codes.max()) + 1))
        facts = ColumnFacts(frame)
        for names, present in ((["A"], None), (["A", "B"], None), (["B", "C", "A"], None), (["A", "D"], None),
                               (["A", "B", "C", "D"], None), (["A", "C"], "A"), (["B", "A"], "B")):
            per_row = pd.DataFrame({n_: facts.column(n_).codes for n_ in names})
            if present is not None:
                col = facts.column(present)
                per_row = per_row[col.present[col.codes]]
            expected = {tuple(r) for r in per_row.drop_duplicates().itertuples(index=False)}
            got = facts.combinations(names, present)
            assert got.shape[1] == len(names) and len(got) == len(expected), (names, table)
            assert {tuple(r) for r in got.tolist()} == expected, (names, table)


def test_table_codes_by_hand():
    from trialforge.submission.arrow_text import table_codes
    codes, count = table_codes(np.array([7, 2, 7, 0, 2], dtype=np.int64), 9)
    assert count == 3 and codes.tolist() == [2, 1, 2, 0, 1]          # ascending keys 0, 2, 7
    assert table_codes(np.array([7, 2, 7, 0, 2], dtype=np.int64), 9, limit=2) is None       # 3 > 2
    codes, count = table_codes(np.array([3, 3, 1], dtype=np.int32), 4, limit=2, dtype=np.int32)
    assert count == 2 and codes.dtype == np.int32 and codes.tolist() == [1, 1, 0]
