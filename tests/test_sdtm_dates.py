"""Raw date/time → ISO 8601, study day, ISO validity: expected values worked out by hand."""
import pandas as pd
import pytest

from trialforge.errors import DateFormatError
from trialforge.sdtm.dates import is_iso8601, study_day, to_iso8601


@pytest.mark.parametrize("raw,time,fmt,expected", [
    ("04 MAR 2025", "13:05", "DD MON YYYY", "2025-03-04T13:05"),
    ("04 mar 2025", "", "DD MON YYYY", "2025-03-04"),
    ("UN MAR 2025", "10:00", "DD MON YYYY", "2025-03"),        # unknown day: truncate, drop time
    ("UN UNK 2025", "", "DD MON YYYY", "2025"),
    ("04 UNK 2025", "", "DD MON YYYY", "2025---04"),          # SDTMIG 4.4.4 form for unknown month
    ("29 FEB 2024", "UN:UN", "DD MON YYYY", "2024-02-29"),    # leap day; unknown time dropped
    ("29 FEB 2024", "07:UN", "DD MON YYYY", "2024-02-29T07"),
    ("03/04/2025", "", "MM/DD/YYYY", "2025-03-04"),
    ("2025-03-04", "", "YYYY-MM-DD", "2025-03-04"),
    ("20250304", "", "YYYYMMDD", "2025-03-04"),
    ("04.03.2025", "08:15:30", "DD.MM.YYYY", "2025-03-04T08:15:30"),
    ("", "10:00", "DD MON YYYY", ""),
])
def test_to_iso8601(raw, time, fmt, expected):
    tfmt = "HH:MM:SS" if time.count(":") == 2 else "HH:MM"
    out = to_iso8601(pd.Series([raw]), pd.Series([time]), fmt=fmt, time_fmt=tfmt)
    assert out.tolist() == [expected]


@pytest.mark.parametrize("raw,cause", [
    ("31 FEB 2025", "not a calendar date"),
    ("04 XYZ 2025", "invalid month"),
    ("2025-03-04", "does not match"),
    ("UN MAR UNK", "no known year"),
])
def test_bad_dates_name_file_column_row_value(raw, cause):
    with pytest.raises(DateFormatError) as err:
        to_iso8601(pd.Series(["01 JAN 2025", raw]), fmt="DD MON YYYY",
                   where={"file": "ae.csv", "column": "AESTDAT"}, rows=pd.Series([2, 3]))
    e = err.value
    assert cause in e.cause and e.file == "ae.csv" and e.column == "AESTDAT" and e.row == 3 and e.value == raw


def test_bad_time_names_time_column():
    with pytest.raises(DateFormatError) as err:
        to_iso8601(pd.Series(["01 JAN 2025"]), pd.Series(["25:00"]),
                   where={"file": "ae.csv", "column": "AESTDAT", "time_column": "AESTTIM"}, rows=pd.Series([2]))
    assert err.value.column == "AESTTIM" and err.value.value == "25:00"


def test_study_day_has_no_day_zero():
    ref = pd.Series(["2025-03-04"] * 5)
    dtc = pd.Series(["2025-03-04", "2025-03-05T10:00", "2025-03-03", "2025-02-27", "2025-03"])
    # same day → 1; next day → 2; day before → -1; 5 days before → -5; partial → missing
    assert study_day(dtc, ref).tolist()[:4] == [1, 2, -1, -5]
    assert pd.isna(study_day(dtc, ref).iloc[4])


def test_is_iso8601():
    values = ["2025-03-04", "2025-03-04T10:15:00", "2025", "2025-03", "2025---04", "",
              "2025-02-30", "2025-13", "2025-03-04T24:00", "04MAR2025", "2025-3-4"]
    assert is_iso8601(pd.Series(values)).tolist() == [True] * 6 + [False] * 5
