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


def test_two_numeric_columns_compare_as_numbers():
    df = pd.DataFrame({"V": ["10", "9", ""], "LO": ["9", "10", "1"]})
    # as text "10" < "9"; as numbers 10 > 9
    assert evaluate_mask("num(V) < num(LO)", df).tolist() == [False, True, False]


def test_raw_reference_and_date_helpers():
    df = pd.DataFrame({"raw.T": ["raw text"], "T": ["assigned"], "D": ["2025-02-28T10:00"]})
    assert evaluate("raw.T", df).tolist() == ["raw text"]
    assert evaluate("add_days(D, 1)", df).tolist() == ["2025-03-01"]      # 2025 is not a leap year
    assert evaluate("iso_hours(num(H))", pd.DataFrame({"H": ["-0.5", "24", "1.5", "0"]})).tolist() == \
        ["-PT30M", "P1D", "PT1H30M", "PT0H"]
    assert names("raw.T == 'x' and D == ''") == {"D"}
