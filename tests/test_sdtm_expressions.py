import pandas as pd
import pytest

from trialforge.errors import SpecError
from trialforge.sdtm.expressions import evaluate, evaluate_mask, names


def frame():
    return pd.DataFrame({"A": ["Yes", "No", ""], "B": ["1", "5", "x"], "C": ["a", "b", "c"]})


@pytest.mark.parametrize("expr,expected", [
    ("A == 'Yes'", [True, False, False]),
    ("upper(A) == 'YES' or num(B) > 3", [True, True, False]),
    ("B > 3", [False, True, False]),                    # number vs text column: compared as numbers
    ("blank(A)", [False, False, True]),
    ("not blank(A) and C in ['a', 'c']", [True, False, False]),
    ("C not in ['a']", [False, True, True]),
    ("icontains(A, 'ye')", [True, False, False]),
])
def test_masks(expr, expected):
    assert evaluate_mask(expr, frame()).tolist() == expected


def test_values_and_names():
    assert evaluate("coalesce(A, C)", frame()).tolist() == ["Yes", "No", "c"]
    assert names("num(B) > 3 and upper(A) == 'X'") == {"A", "B"}


@pytest.mark.parametrize("expr", ["__import__('os')", "A.upper()", "lambda: 1", "open('x')", "A[0]"])
def test_unsafe_or_unknown_syntax_is_rejected(expr):
    with pytest.raises(SpecError):
        evaluate(expr, frame())


def test_unknown_column_is_named():
    with pytest.raises(SpecError) as err:
        evaluate("Z == 1", frame())
    assert err.value.column == "Z"
