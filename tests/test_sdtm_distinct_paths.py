"""The engines' plain-Python paths over distinct values (issue 15): expected values written out by hand.

Raw dates, character values, CT decoding, --DTC date parts and ADaM's parse_dtc and filters each have
a path that works one distinct value at a time; these tests give them columns with repeats, missing
values and bad values, and check the values, the dtypes and that errors still name the row.
"""
import math

import numpy as np
import pandas as pd
import pytest

from trialforge.adam._frame import mask
from trialforge.adam.dates import parse_dtc
from trialforge.errors import DateFormatError, TerminologyError
from trialforge.objstrings import object_strings
from trialforge.sdtm.algorithms import as_text, assign_ct
from trialforge.sdtm.dates import iso_date_part, iso_datetime_part, to_iso8601
from trialforge.specs.ct import load_ct
from trialforge.specs.spec import Rule


def test_raw_dates_with_repeats_and_missing_values():
    date = pd.Series(["04/03/2025", "UN/03/2025", "04/03/2025", None, "04/UNK/2025", "04/03/2025", " 29/02/2024 "],
                     index=[10, 11, 12, 13, 14, 15, 16], dtype=object)
    time = pd.Series(["13:05", "10:00", "", "09:00", "", "07:UN", "23:59"], index=date.index, dtype=object)
    out = to_iso8601(date, time, fmt="DD/MM/YYYY", unknown=("UN", "UNK"))
    assert out.tolist() == ["2025-03-04T13:05", "2025-03", "2025-03-04", "", "2025---04", "2025-03-04T07",
                            "2024-02-29T23:59"]
    assert list(out.index) == [10, 11, 12, 13, 14, 15, 16] and out.dtype == object


def test_bad_date_after_good_repeats_names_its_row():
    date = pd.Series(["01/01/2025"] * 4 + ["31/02/2025", "31/02/2025"], dtype=object)
    with pytest.raises(DateFormatError) as err:
        to_iso8601(date, fmt="DD/MM/YYYY", where={"file": "ae.csv", "column": "AESTDAT"},
                   rows=pd.Series([2, 3, 4, 5, 6, 7]))
    e = err.value
    assert "not a calendar date" in e.cause and "1 more row(s)" in e.cause and e.row == 6 and e.value == "31/02/2025"


def test_bad_time_is_an_error_even_beside_a_blank_date():
    with pytest.raises(DateFormatError) as err:
        to_iso8601(pd.Series(["01/01/2025", ""]), pd.Series(["10:00", "25:00"]), fmt="DD/MM/YYYY",
                   where={"file": "ae.csv", "column": "AESTDAT", "time_column": "AESTTIM"}, rows=pd.Series([2, 3]))
    assert "clock time" in err.value.cause and err.value.row == 3 and err.value.column == "AESTTIM"


def test_character_values_missing_become_blank_numbers_become_text():
    with object_strings():
        assert as_text(pd.Series(["a", None, np.nan, "b"], dtype=object)).tolist() == ["a", "", "", "b"]
        assert as_text(pd.Series([1.0, 2.5, np.nan])).tolist() == ["1", "2.5", ""]
        assert as_text(pd.Series([None, None], dtype=object)).tolist() == ["", ""]


def _ct_rule(**options):
    return Rule(variable="AESER", kind="from", value="AESER", options={"ct": "NY", **options}, file="ae.yaml")


class _Ctx:
    ct = load_ct()


def test_ct_decoding_of_repeated_texts_with_synonyms():
    values = pd.Series(["y", " N ", "Yes", None, "y", "Yes"], dtype=object)
    frame = pd.DataFrame({"_FILE": ["ae.csv"] * 6, "_ROW": range(2, 8)})
    with object_strings():
        out = assign_ct(values, _ct_rule(synonyms={"Yes": "Y"}), frame, _Ctx())
    assert [v if isinstance(v, str) else None for v in out.tolist()] == ["Y", "N", "Y", None, "Y", "Y"]


def test_ct_unmapped_value_is_named_or_blanked_by_policy():
    values = pd.Series(["Y", "Y", "Maybe"], dtype=object)
    frame = pd.DataFrame({"_FILE": ["ae.csv"] * 3, "_ROW": [2, 3, 4]})
    with object_strings():
        with pytest.raises(TerminologyError) as err:
            assign_ct(values, _ct_rule(), frame, _Ctx())
        blanked = assign_ct(values, _ct_rule(unmapped="blank"), frame, _Ctx())
    assert err.value.row == 4 and err.value.value == "Maybe"
    assert blanked.tolist() == ["Y", "Y", ""]


def test_date_parts_remembered_across_calls_keep_values_and_dtype():
    with object_strings():
        first = iso_date_part(pd.Series(["2025-03-04T10:00", "2025-03", None], dtype=object, name="AESTDTC"))
        again = iso_date_part(pd.Series(["2025-03", "2025-03-04T10:00", "2024-02-29"], dtype=object))
        none = iso_date_part(pd.Series(["2025", ""], dtype=object))
        timed = iso_datetime_part(pd.Series(["2025-03-04T10:30:15", "2025-03-04"], dtype=object))
    assert first.name == "AESTDTC" and str(first.dtype) == "datetime64[us]"
    assert first.tolist()[0] == pd.Timestamp("2025-03-04") and first.isna().tolist() == [False, True, True]
    assert again.isna().tolist() == [True, False, False] and again[2] == pd.Timestamp("2024-02-29")
    assert str(none.dtype) == "datetime64[s]" and none.isna().all()       # nothing parses: pandas gives seconds
    assert timed[0] == pd.Timestamp("2025-03-04 10:30") and pd.isna(timed[1])


def test_adam_parse_dtc_repeats_partials_and_errors():
    parts = parse_dtc(pd.Series(["2019-02", "2019---07", "2019-02", "", "2020-02-29T23:59:59.9", "2019-02"]))
    rows = [[None if math.isnan(v) else v for v in row] for row in parts.to_numpy().tolist()]
    assert rows == [[2019, 2, None, None, None, None], [2019, None, 7, None, None, None],
                    [2019, 2, None, None, None, None], [None] * 6, [2020, 2, 29, 23, 59, 59],
                    [2019, 2, None, None, None, None]]
    with pytest.raises(DateFormatError) as err:
        parse_dtc(pd.Series(["2019-02", "2019-02", "2019-02-29"]))
    assert err.value.row == 3 and err.value.value == "2019-02-29" and "impossible" in err.value.cause


def test_adam_filter_reads_only_named_columns_of_a_wide_frame():
    frame = pd.DataFrame({"AVAL": [1.0, 5.0, 3.0], "AVALC": ["1", "5", "X"], **{f"V{i}": [i] * 3 for i in range(50)}})
    assert mask(frame, "AVAL > 2").tolist() == [False, True, True]
    assert mask(frame, "AVALC == 'X' or V7 == 8").tolist() == [False, False, True]


def test_recode_of_repeated_texts_ignores_case_and_blanks_and_keeps_or_blanks_the_rest():
    from trialforge.sdtm.algorithms import recode
    values = pd.Series([" grade 1 ", "Grade 2", None, "GRADE 1", "other"], dtype=object)
    frame = pd.DataFrame({"_FILE": ["ae.csv"] * 5, "_ROW": range(2, 7)})
    mapping = {"Grade 1": "1", "Grade 2": "2"}
    rule = Rule(variable="AETOXGR", kind="from", value="AEGRADE", options={"map": mapping}, file="ae.yaml")
    with object_strings():
        kept = recode(values, rule, frame, unmapped="keep")
        blanked = recode(values, rule, frame, unmapped="blank")
        with pytest.raises(TerminologyError) as err:
            recode(values, rule, frame)
    assert kept.tolist()[:2] == ["1", "2"] and kept.tolist()[3:] == ["1", "other"] and kept.isna().tolist()[2]
    assert blanked.tolist()[3:] == ["1", ""]
    assert err.value.row == 6 and err.value.value == "other"
