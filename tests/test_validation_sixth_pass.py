"""Fast paths of the sixth speed pass (issue 15) against independently computed answers.

Each test computes the expected value another way (pandas' own ``duplicated``, the slow path kept here as
a reference, or by hand) on data chosen so that a wrong fast path gives a different answer."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialforge.validation.rules_structure import all_told_apart


def _told_apart_by_pandas(codes: list) -> bool:
    """Reference: no two records share the combination (pandas hashes whole rows)."""
    return not pd.DataFrame({i: c for i, c in enumerate(codes)}).duplicated(keep=False).any()


@pytest.mark.parametrize("seed", range(40))
def test_all_told_apart_matches_pandas_duplicated(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    ncols = int(rng.integers(1, 5))
    widths = [int(rng.choice([2, 3, 7, n // 2 + 1, n + 5, 10 ** 7])) for _ in range(ncols)]
    codes = [rng.integers(0, w, size=n) for w in widths]
    if seed % 3 == 0:                 # every record different in the last column but one pair planted equal
        codes[-1] = np.arange(n)
        widths[-1] = n
        if seed % 2 == 0:
            for c in codes:
                c[n - 1] = c[0]
    assert all_told_apart(codes, widths) == _told_apart_by_pandas(codes)


def test_all_told_apart_by_hand():
    # records 0 and 2 agree in both columns; records told apart once the pair differs anywhere
    assert all_told_apart([np.array([0, 1, 0, 2]), np.array([5, 5, 5, 5])], [3, 6]) is False
    assert all_told_apart([np.array([0, 1, 0, 2]), np.array([5, 5, 4, 5])], [3, 6]) is True
    # a group that splits in the second column while another stays shared until the third
    a, b, c = np.array([0, 0, 1, 1, 1]), np.array([0, 1, 0, 0, 2]), np.array([9, 9, 3, 3, 9])
    assert all_told_apart([a, b, c], [2, 3, 10]) is False
    c[3] = 4
    assert all_told_apart([a, b, c], [2, 3, 10]) is True
    # a wide column (the factorize branch) holding one repeated value among distinct ones
    wide = np.array([10 ** 8, 5, 10 ** 8 - 1, 10 ** 8], dtype=np.int64)
    assert all_told_apart([wide], [10 ** 9]) is False
    assert all_told_apart([wide, np.array([0, 0, 0, 1])], [10 ** 9, 2]) is True
    assert all_told_apart([np.array([3])], [4]) is True
    assert all_told_apart([], []) is False


# ---- TF-ADSL-004: raw Arrow comparison first ----------------------------------------------------------

from trialforge.specs.metadata import Dataset, DatasetMeta  # noqa: E402
from trialforge.validation import rules_adam  # noqa: E402
from trialforge.validation.context import ValidationContext, cached_columns, clear_profiles  # noqa: E402


def _ds(name, frame):
    return cached_columns(Dataset(DatasetMeta(name=name, label=name), frame))


def _adsl_ctx(bds: pd.DataFrame, adae: pd.DataFrame | None = None):
    adsl = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "ARM": ["A", "B ", None], "AGE": [50.0, 61.0, np.nan]})
    adsl["ARM"] = adsl["ARM"].astype("str")
    sets = {"ADSL": _ds("ADSL", adsl), "ADLB": _ds("ADLB", bds)}
    if adae is not None:
        sets["ADAE"] = _ds("ADAE", adae)
    return ValidationContext(datasets=sets, ct=None, standard=None)


def _planted():
    # trailing space, ADSL's own trailing space, "" vs null, an unknown subject: none differs in trimmed text;
    # S2 "C" and S1's AGE 51 do
    return pd.DataFrame({"USUBJID": ["S1", "S1", "S2", "S3", "S3", "S9", "S2", "S1"],
                         "ARM": pd.array(["A", "A ", "B", "", None, "Z", "C", "A"], dtype="str"),
                         "AGE": [50.0, 50.0, 61.0, np.nan, np.nan, 1.0, 61.0, 51.0]})


def _found(ctx):
    return [(f.dataset, f.variable, f.row, f.value) for f in rules_adam.adsl_copies_consistent(ctx)]


def test_adsl_copies_raw_shortcut_by_hand(monkeypatch):
    clear_profiles()
    exact = pd.DataFrame({"USUBJID": ["S2", "S1", "S3", "S9"], "ARM": pd.array(["B ", "A", None, "Q"], dtype="str")})
    ctx = _adsl_ctx(_planted(), exact)
    calls = []
    real = rules_adam._same_raw_text
    monkeypatch.setattr(rules_adam, "_same_raw_text", lambda *a: calls.append(real(*a)) or calls[-1])
    assert _found(ctx) == [("ADLB", "ARM", 7, "C (ADSL: B)"), ("ADLB", "AGE", 8, "51 (ADSL: 50)")]
    # ADLB's ARM differs in raw bytes (goes on to the profiles); ADAE's copy is exact (settled in Arrow)
    assert calls == [False, True]


def test_adsl_copies_shortcut_agrees_with_the_profile_path(monkeypatch):
    rng = np.random.default_rng(7)
    subjects = np.array(["S1", "S2", "S3", "S9"])
    arms = {"S1": "A", "S2": "B ", "S3": None, "S9": "Z"}
    for trial in range(6):
        n = 300
        usub = rng.choice(subjects, n)
        arm = [arms[s] for s in usub]
        if trial % 2:                      # plant a few differences (a changed value, a missing one)
            for i in rng.choice(n, 3, replace=False):
                arm[i] = rng.choice(["C", None, "A  "])
        frame = pd.DataFrame({"USUBJID": usub, "ARM": pd.array(arm, dtype="str")})
        halves = pd.concat([frame.iloc[:100], frame.iloc[100:]], ignore_index=True)   # chunked Arrow columns
        for bds in (frame, halves):
            clear_profiles()
            fast = _found(_adsl_ctx(bds))
            clear_profiles()
            with monkeypatch.context() as m:
                m.setattr(rules_adam, "_same_raw_text", lambda *a: False)
                slow = _found(_adsl_ctx(bds))
            assert fast == slow
            def trimmed(v):
                return "" if v is None or v != v else v.strip()
            expected = [i + 1 for i, (s, a) in enumerate(zip(usub, bds["ARM"].tolist()))
                        if s != "S9" and trimmed(a) != trimmed(arms[s])]
            assert [row for _ds_, _var, row, _v in fast] == expected
            assert bool(expected) == bool(trial % 2)


# ---- the Excel report without openpyxl -----------------------------------------------------------------

from trialforge.validation import report_formats, xlsx_book  # noqa: E402
from trialforge.validation.findings import Finding, ValidationReport  # noqa: E402
from trialforge.validation.xlsx_rows import all_plain  # noqa: E402


def _report(n: int, seed: int = 0) -> ValidationReport:
    rng = np.random.default_rng(seed)
    texts = ["x", " lead", "trail ", "a & b < c > d", "caf\u00e9 \u00b5g", "quote \" and '", "", "#N/A-like",
             "tab\there", "2020-01-01", "=", "line\nbreak", "cr\rhere"]
    found = []
    for i in range(n):
        ds = ["AE", "LB", "DM", "SUPPAE"][i % 4]
        rid = ["TF-VAL-001", "TF-CT-002", "TF-KEY-002", "TF-NOT-REGISTERED"][int(rng.integers(4))]
        found.append(Finding(rule_id=rid, severity=["error", "warning", "notice"][i % 3], dataset=ds,
                             message=texts[int(rng.integers(len(texts)))] or "m",
                             variable=None if i % 5 == 0 else f"{ds}TERM", usubjid=None if i % 7 == 0 else f"S-{i % 37}",
                             seq=None if i % 6 == 0 else str(i % 11), row=None if i % 9 == 0 else i + 1,
                             value=None if i % 4 == 0 else texts[int(rng.integers(len(texts)))]))
    return ValidationReport(findings=found, datasets={"AE": 10, "DM": 3, "LB": 99, "EX": 0},
                            rules_run=7, rule_ids=["TF-CT-002", "TF-KEY-002", "TF-VAL-001"], standard="SDTMIG 3.4")


_TEMPLATE_OPENPYXL = "3.1.5"      # the openpyxl release validation/data/xlsx_parts.json was recorded from


def _assert_same_workbook(fast, slow):
    """Byte for byte when the installed openpyxl is the template's release; after a newer openpyxl is
    installed (a fresh CI machine), part by part with only openpyxl's own name-and-version label set aside,
    so a release bump alone does not fail the suite while any other difference still does."""
    import zipfile

    import openpyxl
    if openpyxl.__version__ == _TEMPLATE_OPENPYXL:
        assert fast.read_bytes() == slow.read_bytes()
        return
    label = f"Openpyxl {openpyxl.__version__}".encode()
    with zipfile.ZipFile(fast) as a, zipfile.ZipFile(slow) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            mine, theirs = a.read(name), b.read(name).replace(label, f"Openpyxl {_TEMPLATE_OPENPYXL}".encode())
            assert mine == theirs, name


@pytest.mark.parametrize("n, package", [(0, ""), (1, "S1 SDTM"), (37, "CD70-CART ADAM"), (6000, "big")])
def test_excel_without_openpyxl_is_openpyxls_file(tmp_path, n, package):
    """The template workbook (rows streamed in slices of 4,096) is byte for byte the openpyxl workbook."""
    report = _report(n, seed=n)
    fast = report_formats.write_excel(report, tmp_path / "fast.xlsx", package=package)
    sheets = report_formats.excel_sheets(report)
    assert all(all_plain(rows) for _t, _h, rows, _w in sheets) and xlsx_book.supported(sheets)
    title = f"Validation {package} SDTMIG 3.4".strip()
    slow = report_formats._excel_by_openpyxl(sheets, tmp_path / "slow.xlsx", title, True)
    _assert_same_workbook(fast, slow)
    if n == 6000:   # the openpyxl path itself, every cell through openpyxl (no text rows): the same workbook
        cells = report_formats._excel_by_openpyxl(sheets, tmp_path / "cells.xlsx", title, False)
        assert cells.read_bytes() == slow.read_bytes()


def test_excel_title_needing_escapes_goes_through_openpyxl(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(xlsx_book, "workbook_bytes", lambda *a, **k: calls.append(1))
    report_formats.write_excel(_report(3), tmp_path / "a.xlsx", package="R&D <x>")
    report_formats.write_excel(_report(3), tmp_path / "b.xlsx", package="caf\u00e9")
    assert calls == []
    import zipfile
    core = zipfile.ZipFile(tmp_path / "a.xlsx").read("docProps/core.xml").decode()
    assert "Validation R&amp;D &lt;x&gt; SDTMIG 3.4" in core


# ---- report layouts and counts --------------------------------------------------------------------------

from trialforge.validation.layout import compiled  # noqa: E402
from trialforge.validation import report as report_mod  # noqa: E402


def test_compiled_layout_by_hand():
    f = compiled(["<a>", 0, "</a>{x}'\"\\", 1, "", 0])
    assert f("1", "two") == "<a>1</a>{x}'\"\\two1"
    assert compiled(["only"])() == "only"


def test_report_formats_equal_plain_report_results(tmp_path):
    """Counts memoised per report (``_SortedOnce``) and the compiled JSON layout give what the plain report and
    ``json.dumps`` give."""
    import json
    rep = _report(500, seed=3)
    memo = report_mod._sorted_once(rep)
    assert [memo.count(s) for s in ("error", "warning", "notice", "fatal")] == \
        [rep.count(s) for s in ("error", "warning", "notice", "fatal")]
    assert report_formats.dataset_counts(memo) == report_formats._dataset_counts(rep)
    expected = {}
    for f in rep.findings:
        expected[f.rule_id, f.severity] = expected.get((f.rule_id, f.severity), 0) + 1
    assert dict(report_mod.rule_counts(memo)) == expected
    text = report_mod.report_json(memo, package="P")
    assert text == json.dumps(report_mod.report_dict(rep, package="P"), indent=1, ensure_ascii=True) + "\n"


def test_subject_rows_equal_get_indexer():
    clear_profiles()
    subjects = pd.Index(pd.array(["S2", "S1", None, "S3 "], dtype="str"))
    usub = pd.Series(pd.array((["S1", "S3", None, "S3 ", "S2", "S1 ", "S9"] * 9), dtype="str"))
    expected = subjects.get_indexer(usub)
    got = rules_adam._subject_rows(subjects, usub)
    assert got.tolist() == expected.tolist()
    assert got.tolist()[:7] == [1, -1, 2, 3, 0, -1, -1]          # by hand: raw values, null finds ADSL's null


# ---- ISO 8601: the simple date shape judged on numpy -----------------------------------------------------

from trialforge.validation import dates as dates_mod  # noqa: E402


def _simple_reference(t: str):
    """The per-value path these replace: regex shape, year range, then ``_simple_ok`` (datetime.date)."""
    m = dates_mod._SIMPLE_RX.fullmatch(t)
    if m is None or not 1700 <= int(m.group(1)) <= 2200:
        return False, False
    return True, dates_mod._simple_ok(*m.groups())


def _date_texts(seed: int, n: int) -> list:
    rng = np.random.default_rng(seed)
    out = ["2020-02-29", "2021-02-29", "1900-02-29", "2000-02-29", "2100-02-29", "1700-01-01", "1699-12-31",
           "2200-12-31", "2201-01-01", "2020-00-10", "2020-13-01", "2020-04-31", "2020-04-30", "2020-01-00",
           "2020-01-32", "2020-01-01T24:00", "2020-01-01T23:59", "2020-01-01T10:60", "2020-01-01T10:00:60",
           "2020-01-01T10:00:59", "2020-01-01T10:00:5", "2020-01-01 10:00", "2020/01/01", "20200101AB",
           "2020-0a-01", "\u0661\u0669\u0669\u0669-01-01", "2020-01-01T10:00Z", "2020-01-01T10:00:00.5", "",
           "2020-01", "2020-01-01T", "abcdefghij", "2020-01-01T10:00:00+01", "2020\u00a001-01", "+020-01-01"]
    for _ in range(n):
        y, mo, d = int(rng.integers(1650, 2250)), int(rng.integers(0, 14)), int(rng.integers(0, 33))
        t = f"{y:04d}-{mo:02d}-{d:02d}"
        kind = int(rng.integers(4))
        if kind == 1:
            t += f"T{int(rng.integers(0, 26)):02d}:{int(rng.integers(0, 62)):02d}"
        elif kind == 2:
            t += f"T{int(rng.integers(0, 26)):02d}:{int(rng.integers(0, 62)):02d}:{int(rng.integers(0, 62)):02d}"
        elif kind == 3 and rng.random() < 0.5:
            pos = int(rng.integers(len(t)))
            t = t[:pos] + str(rng.choice(list("x-:T9 "))) + t[pos + 1:]
        out.append(t)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_simple_dates_match_the_per_value_path(seed):
    texts = _date_texts(seed, 3000)
    simple, ok = dates_mod.simple_dates(texts)
    expected = [_simple_reference(t) for t in texts]
    assert list(zip(simple.tolist(), ok.tolist())) == expected
    assert 0 < ok.sum() < simple.sum() < len(texts)        # valid, invalid and non-simple texts all present


def test_columnar_flags_match_pandas_columnar_check_on_many_dates():
    clear_profiles()
    texts = np.array(_date_texts(11, 6000), dtype=object)
    expected = dates_mod.iso8601_ok_columnar(pd.Series(texts, dtype=object)).to_numpy()
    assert dates_mod._columnar_flags(texts).tolist() == expected.tolist()
    by_hand = dict(zip(texts[:20].tolist(), dates_mod._columnar_flags(texts[:20]).tolist()))
    assert by_hand["2020-02-29"] and not by_hand["2021-02-29"] and not by_hand["1900-02-29"]
    assert by_hand["2000-02-29"] and not by_hand["2100-02-29"] and not by_hand["2020-04-31"]


# ---- Arrow byte facts: the first byte of each value ------------------------------------------------------

from trialforge.validation.context import _read_byte_facts  # noqa: E402


@pytest.mark.parametrize("case", range(8))
def test_byte_facts_first_bytes(case):
    """``lead`` (some value starts with " " or ".") is never missed; exact when no value is empty."""
    rng = np.random.default_rng(case)
    values = ["".join(rng.choice(list("AB x.9"), int(rng.integers(1 if case < 4 else 0, 6)))) for _ in range(3000)]
    values = [v if not v.startswith((" ", ".")) else "Z" + v for v in values]
    if case % 4 == 1:
        values[int(rng.integers(3000))] = " lead"
    if case % 4 == 2:
        values[-1] = ".end"
    if case % 4 == 3:
        values[0] = " first"
    if case >= 4:
        values[-1] = ""                      # an empty last value: its slot points past the buffer's end
        values[int(rng.integers(2999))] = None
    series = pd.Series(pd.array(values, dtype="str"))
    if case in (2, 6):                       # two chunks, the second a slice with an offset into its buffers
        series = pd.concat([series.iloc[:1000], series.iloc[1000:]], ignore_index=True)
    plain, lead = _read_byte_facts(series)
    truth = any(v is not None and v.startswith((" ", ".")) for v in values)
    assert plain is True
    if truth:
        assert lead is True
    elif case < 4:
        assert lead is False


# ---- baseline rules on codes and distinct combinations -------------------------------------------------

from trialforge.validation import rules_adam_tables  # noqa: E402
from trialforge.validation.registry import RULES  # noqa: E402


def _bds(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = lambda options: pd.array([options[i] for i in rng.integers(len(options), size=n)], dtype="str")  # noqa
    return pd.DataFrame({"USUBJID": pick([f"S{i}" for i in range(12)] + [None]), "PARAMCD": pick(["ALT", "AST", "ALT "]),
                         "BASETYPE": pick(["LAST", "", None]), "ABLFL": pick(["Y", "", None, "Y ", "N"] + [""] * 6),
                         "BNRIND": pick(["NORMAL", "HIGH", None, "HIGH "]), "ANRIND": pick(["NORMAL", "HIGH", ""]),
                         "BASE": np.where(rng.random(n) < 0.5, rng.random(n), np.nan),
                         "BASEC": pick(["", "1", None])})


@pytest.mark.parametrize("seed", range(5))
def test_baseline_rules_match_record_by_record_pandas(seed):
    """TF-BDS-004, TF-ADC-012 and TF-ADC-015 against the record-by-record pandas code they replace."""
    clear_profiles()
    f = _bds(seed)
    ds = _ds("ADLB", f)
    t = lambda c: f[c].astype(object).where(f[c].notna(), "").astype(str).str.strip()  # noqa: E731
    keys = ["USUBJID", "PARAMCD", "BASETYPE"]
    base = t("ABLFL") == "Y"
    dup = f[base].duplicated(keys, keep="first").reindex(f.index, fill_value=False)
    got = rules_adam.one_baseline(ds, None)
    assert [x.row for x in got] == (np.flatnonzero(dup.to_numpy()) + 1).tolist()

    # raw values, a missing one unlike any text (group_codes' meaning of "the same key")
    key = pd.Series(list(zip(*[[None if v is None or v != v else v for v in f[c].astype(object)] for c in keys])))
    with_base = set(key[base])
    populated = f["BASE"].notna() | (t("BASEC") != "")
    expected = populated & ~key.isin(with_base)
    got = RULES["TF-ADC-012"].check(ds, None)
    assert [x.row for x in got] == (np.flatnonzero(expected.to_numpy()) + 1).tolist()

    bad = base & (t("BNRIND") != t("ANRIND"))
    got = RULES["TF-ADC-015"].check(ds, None)
    assert [(x.row, x.value) for x in got] == [(i + 1, f"{t('BNRIND')[i]} vs {t('ANRIND')[i]}")
                                               for i in np.flatnonzero(bad.to_numpy())]
    assert got and expected.any()


# ---- TF-DY-002: subjects' reference days through the USUBJID profile -------------------------------------

from trialforge.validation import rules_timing  # noqa: E402


def _subject_days_reference(subjects, ref_by_subject):
    """The code the profile path replaces: factorise the subjects, map each to DM.RFSTDTC."""
    codes, uniques = pd.factorize(subjects, use_na_sentinel=False)
    mapped = pd.Series(uniques).map(ref_by_subject)
    return rules_timing._days(rules_timing.complete_date(mapped))[codes]


@pytest.mark.parametrize("dtype", ["str", object])
def test_subject_days_equal_factorised_lookup(dtype):
    clear_profiles()
    dm = pd.DataFrame({"USUBJID": pd.array(["S1", "S2", "S3", "S4 "], dtype="str"),
                       "RFSTDTC": ["2020-01-10", "2020-02", "2020-03-01T10:00", "2021-12-31"]})
    ref = dm.drop_duplicates("USUBJID").set_index("USUBJID")["RFSTDTC"]
    rng = np.random.default_rng(5)
    pool = np.array(["S1", "S2", "S3", "S4", "S4 ", "S9", None], dtype=object)
    subjects = pd.Series(pd.array(pool[rng.integers(len(pool), size=500)], dtype=dtype))
    got = rules_timing._subject_days(subjects, ref)
    clear_profiles()
    expected = _subject_days_reference(subjects, ref)
    assert got.tolist() == expected.tolist()
    days = dict(zip(pool.tolist(), [18271, rules_timing.NO_DAY, 18322, rules_timing.NO_DAY, 18992,
                                    rules_timing.NO_DAY, rules_timing.NO_DAY]))   # by hand: days since 1970
    assert got.tolist() == [days[s if s == s else None] for s in subjects.astype(object).where(subjects.notna(), None)]


def test_epoch_triples_numbered_as_the_three_factorisations():
    rng = np.random.default_rng(9)
    n = 2000
    subject, epoch = rng.integers(0, 40, n), rng.integers(0, 5, n)
    for date in (rng.integers(18000, 18400, n), rng.choice([-(2 ** 40), 5, 2 ** 40], n)):   # packed / fallback
        c1 = pd.factorize(subject * 5 + epoch)[0]
        c2, dates = pd.factorize(date)
        expected = pd.factorize(c1.astype(np.int64) * len(dates) + c2)[0]
        assert rules_timing._triples(subject, epoch, 5, date).tolist() == expected.tolist()
