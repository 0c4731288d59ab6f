"""Results kept for the run or computed per distinct value (seventh session): raw dates parsed once per layout,
durations written once per distinct number. Each is compared with the path that computes every call or row
(the vectorised parser, pandas' per-row ``map``)."""
from __future__ import annotations

import random

import numpy as np
import pandas as pd

from trialforge.sdtm import dates
from trialforge.sdtm.algorithms import iso_duration
from trialforge.sdtm.dates import to_iso8601
from trialforge.sdtm.expressions import evaluate


def _vectorised(date, time, fmt, time_fmt="HH:MM", unknown=dates.DEFAULT_UNKNOWN):
    """to_iso8601 by its per-format vectorised path (no fast path, no memo)."""
    saved = dates._fast_iso8601
    dates._fast_iso8601 = lambda *a, **k: None
    try:
        return to_iso8601(date, time, fmt=fmt, time_fmt=time_fmt, unknown=unknown)
    finally:
        dates._fast_iso8601 = saved


def _raw_dates(n, seed, layout):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.choice([2023, 2024])
        r = rng.random()
        if r < 0.05:
            out.append("")
        elif r < 0.1:
            out.append(layout.replace("DD", "UN").replace("MM", f"{m:02d}").replace("YYYY", str(y)))
        else:
            out.append(layout.replace("DD", f"{d:02d}").replace("MM", f"{m:02d}").replace("YYYY", str(y)))
    return pd.Series(out, dtype=object)


def test_dates_parsed_once_per_layout_are_the_vectorised_results():
    dates._PARSED_DATES.clear()
    dates._PARSED_TIMES.clear()
    day_first = _raw_dates(6000, 1, "DD/MM/YYYY")
    month_first = pd.Series([t for t in day_first], dtype=object)       # the same texts read the other way
    times = pd.Series([random.Random(i).choice(["", "08:30", "23:59", "07:UN"]) for i in range(6000)], dtype=object)
    for _ in range(2):                                                    # the second call reads the memo
        got = to_iso8601(day_first, times, fmt="DD/MM/YYYY")
        assert got.tolist() == _vectorised(day_first, times, "DD/MM/YYYY").tolist()
        ok = month_first.str.slice(0, 2).isin([f"{m:02d}" for m in range(1, 13)] + ["UN"])
        got = to_iso8601(month_first[ok], None, fmt="MM/DD/YYYY")
        assert got.tolist() == _vectorised(month_first[ok], None, "MM/DD/YYYY").tolist()
    assert {key[0] for key in dates._PARSED_DATES} == {"DD/MM/YYYY", "MM/DD/YYYY"}
    # a layout's memo never answers for another: '03/04/2024' is 3 April one way, 4 March the other
    one = pd.Series(["03/04/2024"] * 3, dtype=object)
    assert to_iso8601(one, fmt="DD/MM/YYYY").tolist() == ["2024-04-03"] * 3
    assert to_iso8601(one, fmt="MM/DD/YYYY").tolist() == ["2024-03-04"] * 3


def test_unknown_tokens_are_part_of_the_memo_key():
    dates._PARSED_DATES.clear()
    text = pd.Series(["NK/03/2025", "04/03/2025"] * 3, dtype=object)
    assert to_iso8601(text, fmt="DD/MM/YYYY", unknown=("NK",)).tolist()[:2] == ["2025-03", "2025-03-04"]
    assert dates._fast_iso8601(text, None, "DD/MM/YYYY", "HH:MM", ("UN",)) is None      # NK is no day here


def test_iso_hours_per_distinct_number_equals_per_row():
    rng = np.random.default_rng(4)
    hours = rng.choice(["-0.5", "24", "1.5", "0", "", "48", "0.25", "x", "-0.0", "2.999"], size=9000)
    frame = pd.DataFrame({"H": pd.Series(hours, dtype=object)})
    got = evaluate("iso_hours(num(H))", frame)
    numbers = pd.to_numeric(frame["H"], errors="coerce")
    want = numbers.map(lambda h: iso_duration(None if pd.isna(h) else h * 60))
    assert got.tolist() == want.tolist()
    assert got.dtype == want.dtype and got.index.equals(want.index)


def test_elapsed_per_distinct_duration_equals_per_row():
    from trialforge.sdtm.algorithms import assign_elapsed
    from trialforge.specs.spec import Rule
    rng = random.Random(9)
    start = [rng.choice(["2024-03-01T08:00", "2024-03-01T08:00:30", "2024-03-01", ""]) for _ in range(7000)]
    end = [rng.choice(["2024-03-01T12:00", "2024-03-02T08:00", "2024-02-29T07:30", "2024-03-01T08:00", ""])
           for _ in range(7000)]
    frame = pd.DataFrame({"S": pd.Series(start, dtype=object), "E": pd.Series(end, dtype=object)})
    got = assign_elapsed(frame, Rule(variable="X", kind="elapsed", value={"start": "S", "end": "E"}), None)
    s = pd.to_datetime(frame["S"].where(frame["S"].str.len() >= 16), format="%Y-%m-%dT%H:%M", errors="coerce")
    s = s.fillna(pd.to_datetime(frame["S"].where(frame["S"].str.len() >= 19).str.slice(0, 19),
                                format="%Y-%m-%dT%H:%M:%S", errors="coerce"))
    e = pd.to_datetime(frame["E"].where(frame["E"].str.len() >= 16).str.slice(0, 16), format="%Y-%m-%dT%H:%M",
                       errors="coerce")
    want = ((e - s).dt.total_seconds() / 60).map(iso_duration)
    assert got.tolist() == want.tolist() and got.dtype == want.dtype
    assert sorted(set(got)) == ['', '-PT24H30M', 'P1D', 'PT0H', 'PT4H']


def _dtc_texts(n, seed):
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        y = rng.choice([rng.randint(0, 9999), rng.randint(1900, 2100)])
        t = f"{y:04d}-{rng.randint(0, 14):02d}-{rng.randint(0, 33):02d}"
        r = rng.random()
        if r < 0.5:
            t += f"T{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}"
        elif r < 0.6:
            t += f"T{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}:{rng.randint(0, 61):02d}"
        elif r < 0.65:
            t = t[:7]
        elif r < 0.7:
            t += "T"
        elif r < 0.72:
            t = " " + t
        elif r < 0.74:
            t = t.replace("-", "/")
        texts.append(t)
    return texts + ["", "2024-02-29", "2023-02-29", "0000-01-01", "2024-01-01T24:00", "2024-01-01T23:59",
                    "\uff19\uff19\uff19\uff19-01-01", "2024-1-01", "2024-01-01T9:30"]


def test_date_parts_one_text_at_a_time_equal_pandas_parse():
    texts = pd.Series(_dtc_texts(20000, 3), dtype=object)
    assert dates._parts_in_microseconds()
    for public, vectorised, memo in ((dates.iso_date_part, dates._iso_date_part, dates._DATE_PARTS),
                                     (dates.iso_datetime_part, dates._iso_datetime_part, dates._DATETIME_PARTS)):
        memo.clear()
        want = vectorised(texts)
        for _ in range(2):                                                  # parsed, then from the memo
            got = public(texts)
            pd.testing.assert_series_equal(got, want)
    dates._DATE_PARTS.clear()
    none = pd.Series(["2024-02", "", "x"] * 3, dtype=object)                # nothing parses: seconds, as pandas
    pd.testing.assert_series_equal(dates.iso_date_part(none), dates._iso_date_part(none))
