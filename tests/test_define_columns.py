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
