"""The build's prepared ADaM (tables/tabledata.py) and the shared-filter paths of the engine, on a hand-made
ADaM of five subjects whose counts are written out by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialforge.errors import SpecError
from trialforge.tables.build import compute_table
from trialforge.tables.engine import MissingVariable
from trialforge.tables.spec import (ByColumns, Columns, Continuous, Population, Split, SubjectsWith,
                                    TableSpec)
from trialforge.tables.tabledata import TableData, as_object_strings, referenced_columns

SAFETY = Population("Safety", "SAFFL == 'Y'")
COLS = Columns(var="ARM", order=None, total="Total")


def _adam():
    adsl = pd.DataFrame({"USUBJID": ["S1", "S2", "S3", "S4", "S5"],
                         "SAFFL": ["Y", "Y", "Y", "Y", "N"],
                         "ARM": ["A", "A", "B", "B", "B"],
                         "TRTSDT": [100.0, 100.0, 100.0, 100.0, 100.0]})
    adae = pd.DataFrame({"USUBJID": ["S1", "S1", "S2", "S3", "S4", "S5", "S9"],
                         "AEDECOD": ["PYREXIA", "RASH", None, "PYREXIA", "NAUSEA", "PYREXIA", "PYREXIA"],
                         "AETOXGR": [1.0, 3.0, 2.0, 4.0, np.nan, 3.0, 3.0],
                         "ASTDT": [101.0, 110.0, 102.0, 130.0, 105.0, 101.0, 101.0]})
    return {"ADSL": adsl.astype({"USUBJID": "str", "SAFFL": "str", "ARM": "str"}),
            "ADAE": adae.astype({"USUBJID": "str", "AEDECOD": "str"})}


def _table(*blocks, splits=()):
    return TableSpec("9.9", "t", SAFETY, ByColumns(columns=COLS, blocks=tuple(blocks), splits=tuple(splits)))


def _cells(res, label):
    return [r.cells for r in res.rows if r.label == label][0]


def test_object_strings_keep_values_and_missing():
    f = _adam()["ADAE"]
    got = as_object_strings(f)
    assert got["AEDECOD"].dtype == object and got["AETOXGR"].dtype == np.float64
    assert got["AEDECOD"].tolist()[:2] == ["PYREXIA", "RASH"] and pd.isna(got["AEDECOD"].iloc[2])
    assert got["AETOXGR"].equals(f["AETOXGR"]) and list(got.columns) == list(f.columns)


def test_referenced_columns_and_quoted_names():
    f = _adam()["ADAE"]
    assert referenced_columns(f, "AEDECOD == 'RASH' and AETOXGR >= 3") == ["AEDECOD", "AETOXGR"]
    assert referenced_columns(f, "`AEDECOD` == 'RASH'") is None


def test_mask_is_evaluated_once_with_string_semantics_of_the_original():
    data = TableData(_adam())
    calls = []

    def evaluate(frame, where):
        calls.append(where)
        return frame.eval(where, engine="python").to_numpy(dtype=bool)

    m1 = data.mask("adae", "AEDECOD.str.contains('PYR')", evaluate)
    m2 = data.mask("ADAE", "AEDECOD.str.contains('PYR')", evaluate)
    assert calls == ["AEDECOD.str.contains('PYR')"] and m1 is m2
    # the missing term is False (pandas str semantics), never a NaN that breaks the filter
    assert m1.tolist() == [True, False, False, True, False, True, True]


def test_counts_with_splits_and_records_outside_the_population():
    # TEAE counts per arm: S9 is not in ADSL and S5 is not in the safety set, so neither counts.
    res = compute_table(_table(SubjectsWith("Any", "ADAE", "AETOXGR >= 1"),
                               splits=(Split("Any grade"), Split("Grade >=3", "AETOXGR >= 3"))), _adam())
    # A: S1 (1, 3), S2 (2) -> any 2, >=3 1;  B: S3 (4), S4 (missing grade) -> any 1, >=3 1; Total 3 / 2
    assert _cells(res, "Any") == ["2 (100.0)", "1 (50.0)", "1 (50.0)", "1 (50.0)", "3 (75.0)", "2 (50.0)"]


def test_a_shared_build_gives_each_output_its_own_computed_variable():
    data = TableData(_adam())
    onset = Continuous("DAYS", "Onset", dataset="ADAE", where="AETOXGR >= 3", agg="min",
                       compute="ASTDT - TRTSDT_AE", stats=("n", "min_max"), decimals=0)
    with pytest.raises(MissingVariable):          # ADAE has no TRTSDT_AE: the output is not produced
        compute_table(_table(onset), data)
    data.source["ADAE"] = data.source["ADAE"].assign(TRTSDT_AE=100.0)
    data._frames.pop("ADAE")
    res = compute_table(_table(onset, SubjectsWith("Late", "ADAE", "DAYS > 20")), data)
    # grade >= 3: S1 day 10, S3 day 30 -> n 1 per arm; a filter on the computed DAYS reads this output's frame
    assert _cells(res, "n") == ["1", "1", "2"] and _cells(res, "Min, Max") == ["10, 10", "30, 30", "10, 30"]
    assert _cells(res, "Late") == ["0", "1 (50.0)", "1 (25.0)"]
    assert "DAYS" not in data.frame("ADAE")        # the shared frame is unchanged for the next output
    again = compute_table(_table(SubjectsWith("Any", "ADAE")), data)
    assert _cells(again, "Any") == ["2 (100.0)", "2 (100.0)", "4 (100.0)"]


def test_a_bad_filter_names_each_output():
    data = TableData(_adam())
    for oid in ("1.1", "1.2"):
        spec = TableSpec(oid, "t", SAFETY, ByColumns(columns=COLS, blocks=(SubjectsWith("x", "ADAE", "AETOXGR >> 'a'"),)))
        with pytest.raises(SpecError, match=f"output {oid}"):
            compute_table(spec, data)


@pytest.mark.parametrize("where", [
    "AEDECOD == 'PYREXIA'", "AEDECOD != 'PYREXIA'", "AEDECOD in ['RASH', 'NAUSEA']",
    "AEDECOD not in ['RASH']", "AETOXGR >= 3 and AEDECOD == 'PYREXIA'", "AETOXGR < 2 or AETOXGR != AETOXGR",
    "not (AETOXGR > 2)", "ASTDT - 100 <= 2", "'PYREXIA' == AEDECOD", "AETOXGR > -1"])
def test_simple_filters_select_the_rows_pandas_query_selects(where):
    from trialforge.simple_filter import simple_mask
    f = _adam()["ADAE"]
    expected = f.reset_index(drop=True).query(where, engine="python").index.tolist()
    got = simple_mask(f, where)
    assert got is not None and np.flatnonzero(got).tolist() == expected


@pytest.mark.parametrize("where", ["AEDECOD.str.contains('P')", "1 < AETOXGR < 3", "NOPE == 1",
                                   "`AEDECOD` == 'RASH'", "AETOXGR >> 'a'", "AEDECOD == ['RASH']",
                                   "AEDECOD in ('RASH',)"])
def test_other_filters_are_left_to_pandas(where):
    from trialforge.simple_filter import simple_mask
    assert simple_mask(_adam()["ADAE"], where) is None


def test_context_datasets_read_like_a_mapping():
    from trialforge.tables.engine import Context
    ctx = Context("9.9", _adam(), SAFETY, None)
    assert "adae" in ctx.adam and "ADEX" not in ctx.adam and ctx.adam.get("ADEX") is None
    assert sorted(ctx.adam) == ["ADAE", "ADSL"] and len(ctx.adam.get("ADAE")) == 7
    assert [k for k, _ in ctx.adam.items()] == ["ADSL", "ADAE"]


@pytest.mark.parametrize("dtype", ["str", object, "string"])
def test_subject_positions_are_get_indexer_of_the_object_values(dtype):
    """subject_positions (one look-up per distinct subject) against the plain per-record get_indexer."""
    from trialforge.tables.tabledata import subject_positions
    rng = np.random.default_rng(3)
    keys = pd.Index([f"S-{i:03d}" for i in rng.permutation(40)] + [np.nan], dtype=object)
    pool = [f"S-{i:03d}" for i in range(45)] + [None]            # 5 subjects not in keys, missing ones
    subjects = pd.Series(rng.choice(np.array(pool, dtype=object), 500), dtype=dtype)
    want = keys.get_indexer(subjects.to_numpy(dtype=object))
    got = subject_positions(keys, subjects)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    assert (got == -1).any()
    present = subjects[subjects.notna()]                        # the per-distinct-subject path
    assert np.array_equal(subject_positions(keys, present), keys.get_indexer(present.to_numpy(dtype=object)))
    assert np.array_equal(subject_positions(keys, subjects.iloc[:0]), np.empty(0, dtype=np.intp))
    data = TableData({"ADSL": pd.DataFrame({"USUBJID": pd.Series(keys[:-1], dtype=dtype)}),
                      "ADAE": pd.DataFrame({"USUBJID": subjects})})
    plain = pd.Index(data.source["ADSL"]["USUBJID"].to_numpy(dtype=object)).get_indexer(
        subjects.to_numpy(dtype=object))
    assert np.array_equal(data.positions("ADAE", "ADSL"), plain)
