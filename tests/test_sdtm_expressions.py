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


@pytest.mark.parametrize("expression", ["startswith(R, '<')", "endswith(R, '5')", "substr(R, 2)", "substr(R, 1, 2)",
                                        "upper(T)", "lower(T)", "strip(T)", "length(T)", "contains(T, 'b')",
                                        "icontains(T, 'B')", "matches(R, '<?[0-9.]+')"])
def test_text_functions_on_distinct_values_equal_pandas_per_row(expression):
    """Long columns are computed per distinct text and taken back; the reference is pandas' .str method on
    every row (values, dtype and name), with missing values, blanks and repeats."""
    import numpy as np
    import pandas as pd
    from trialforge.objstrings import object_strings
    from trialforge.sdtm import expressions
    from trialforge.sdtm.uniques import DISTINCT_ROWS_MIN
    rng = np.random.default_rng(1)
    n = DISTINCT_ROWS_MIN + 1000
    with object_strings():
        frame = pd.DataFrame({
            "R": pd.Series(rng.choice(["<0.5", "12.5", "7", "", None, "<1.5", "ab"], n), dtype=object),
            "T": pd.Series(rng.choice([" aB ", "b", "Abc", "", None, "xyz "], n), dtype=object)})
        got = expressions.evaluate(expression, frame)
        name, _, rest = expression.partition("(")
        column = rest.split(",")[0].rstrip(")")
        args = [eval(a) for a in rest.rstrip(")").split(",")[1:]]   # the constants, as Python reads them
        text = frame[column].fillna("").astype(str)
        reference = {"startswith": lambda: text.str.startswith(*args), "endswith": lambda: text.str.endswith(*args),
                     "substr": lambda: text.str.slice(args[0] - 1, None if len(args) < 2 else args[0] - 1 + args[1]),
                     "upper": lambda: text.str.upper(), "lower": lambda: text.str.lower(),
                     "strip": lambda: text.str.strip(), "length": lambda: text.str.len(),
                     "contains": lambda: text.str.contains(*args, regex=False),
                     "icontains": lambda: text.str.lower().str.contains(args[0].lower(), regex=False),
                     "matches": lambda: text.str.fullmatch(*args).fillna(False)}[name]()
    pd.testing.assert_series_equal(got, reference, check_exact=True)
