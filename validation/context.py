"""What validation rules see: the datasets, their standard, CT, and helpers to point at records."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from pandas.core.internals import SingleBlockManager

from ..arrow_offsets import offset_width, value_ends
from ..specs.metadata import Dataset, VariableMeta
from .registry import ADAM, SDTM


@dataclass
class ValidationContext:
    datasets: dict[str, Dataset]
    ct: object
    standard: object                 # specs.standards.Standard for the package's IG
    scope: str = SDTM                # SDTM / ADaM
    define: object | None = None
    options: dict = field(default_factory=dict)

    _std_cache: dict = field(default_factory=dict, repr=False)

    def get(self, name: str) -> Dataset | None:
        return self.datasets.get(name.upper())

    def standard_dataset(self, name: str):
        """The standard's DatasetMeta for ``name`` (SUPPxx, templated ADaM names), or None if unknown."""
        key = ("ds", name.upper())
        if key not in self._std_cache:
            try:
                self._std_cache[key] = self.standard.dataset(name.upper())
            except Exception:
                self._std_cache[key] = None
        return self._std_cache[key]

    def standard_variable(self, dataset: str, name: str) -> VariableMeta | None:
        key = ("var", dataset.upper(), name)
        if key not in self._std_cache:
            try:
                self._std_cache[key] = self.standard.variable(dataset.upper(), name)
            except Exception:
                self._std_cache[key] = None
        return self._std_cache[key]

    def profile(self, dataset: Dataset, name: str) -> ColumnProfile:
        """``profile`` of one column, computed once per validation run."""
        key = ("prof", dataset.name, name, id(dataset.frame))
        if key not in self._std_cache:
            self._std_cache[key] = profile(dataset.frame[name])
        return self._std_cache[key]

    def unique(self, dataset: Dataset, name: str) -> tuple[np.ndarray, pd.Series]:
        prof = self.profile(dataset, name)
        return prof.codes, prof.values

    def column(self, dataset: Dataset, name: str) -> pd.Series:
        """The column, with its distinct-value profile primed so every column rule reuses it."""
        series = dataset.frame[name]
        _MEMO[:] = [series, self.profile(dataset, name)]
        return series

    def variable(self, dataset: Dataset, name: str) -> VariableMeta | None:
        """What the rules should assume about a variable: the standard's core/codelist/label, the
        package's own type, length and format, and the package's own codelist when it names one.

        A package read from XPT only knows name/label/type/length/format; a package built from
        specs also knows core/codelist. Either way the standard fills the gaps.
        """
        key = ("eff", dataset.name.upper(), name, id(dataset.meta))
        if key in self._std_cache:
            return self._std_cache[key]
        own = dataset.meta.variable(name)
        std = self.standard_variable(dataset.name, name)
        if std is not None and own is None and std.role == "Result Qualifier":
            std = replace(std, codelist=None, codelist_code=None)
        if std is None:
            out = own
        elif own is None:
            out = std
        else:
            has_own_cl = bool(own.codelist or own.codelist_code) and \
                (own.codelist_code or own.codelist) not in (std.codelist_code, std.codelist)
            if not has_own_cl and std.role == "Result Qualifier":
                # a result's codelist applies per test (value-level metadata), not to every record
                std = replace(std, codelist=None, codelist_code=None)
            out = replace(std, type=own.type or std.type, length=own.length, format=own.format,
                          codelist=own.codelist if has_own_cl else std.codelist,
                          codelist_code=own.codelist_code if has_own_cl else std.codelist_code,
                          origin=own.origin, significant_digits=own.significant_digits)
        self._std_cache[key] = out
        return out


def numeric(series: pd.Series) -> bool:
    """``pd.api.types.is_numeric_dtype(series)``, answered once per dtype (the column rules ask it of every
    column several times: ~5 us a call, the same answer for every column of a dtype)."""
    dtype = series.dtype
    try:
        hit = _NUMERIC.get(dtype)
    except TypeError:                    # an unhashable dtype: ask pandas each time
        return pd.api.types.is_numeric_dtype(series)
    if hit is None:
        hit = _NUMERIC[dtype] = bool(pd.api.types.is_numeric_dtype(dtype))
    return hit


_NUMERIC: dict = {}


def series_of(values: np.ndarray, index: pd.Index) -> pd.Series:
    """``pd.Series(values, index=index)`` for a fresh 1-D numpy array the caller hands over (no copy).

    pandas' constructor checks and copies its input (~50-100 us a call, whatever the length); rules build a
    Series from a numpy verdict thousands of times per run, so they wrap the array in a block directly
    (same dtype, same index object, name None). Anything else goes through the constructor."""
    if type(values) is np.ndarray and values.ndim == 1 and values.dtype.kind in "biufO" \
            and len(values) == len(index):
        out = pd.Series._from_mgr(SingleBlockManager.from_array(values, index), [index])
        object.__setattr__(out, "_name", None)
        return out
    return pd.Series(values, index=index, dtype=values.dtype if type(values) is np.ndarray else None)


class ColumnCache(pd.DataFrame):
    """A read-only view of a dataset's frame that hands out the same Series for the same column.

    pandas 3 builds a new Series on every ``frame[col]``; a validation run asks for the same few hundred
    columns some ten thousand times (every rule reads its columns itself), and that wrapping was a tenth
    of the gate's time. The Series are the frame's own data (no copy); anything derived from the frame
    (``loc``, ``drop_duplicates`` ...) is a plain DataFrame again. Rules never write to a dataset."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def _constructor_sliced_from_mgr(self, mgr, axes):
        # what DataFrame does for itself; for a subclass pandas would wrap the Series once more (4x the cost)
        ser = pd.Series._from_mgr(mgr, axes)
        object.__setattr__(ser, "_name", None)
        return ser

    def __getitem__(self, key):
        if isinstance(key, str):
            cache = self.__dict__.setdefault("_series", {})
            hit = cache.get(key)
            if hit is None:
                hit = cache[key] = self._column(key)
            return hit
        return super().__getitem__(key)

    def _column(self, key: str) -> pd.Series:
        """``DataFrame.__getitem__`` of one column name, by the steps it takes for a unique flat column index
        (``_get_item`` -> ``_ixs``) without its checks of the key's kind (~40 % of a column's first read)."""
        columns = self.columns
        if isinstance(columns, pd.MultiIndex) or not columns.is_unique:
            return super().__getitem__(key)
        loc = columns.get_loc(key)
        mgr = self._mgr.iget(loc)
        # the frame's own index object, not the view pandas makes per column: masks built on any column are
        # then aligned with the frame by identity (``findings_at``, pandas' binary operations), no reindexing
        mgr.axes[0] = self._mgr.axes[1]
        ser = pd.Series._from_mgr(mgr, mgr.axes)
        object.__setattr__(ser, "_name", columns[loc])
        return ser.__finalize__(self)


def cached_columns(dataset: Dataset) -> Dataset:
    """The dataset with its frame wrapped in ``ColumnCache`` (the caller's Dataset is left as it was).

    The wrapper shares the frame's block manager (no per-block shallow copy: rules never write)."""
    frame = dataset.frame
    return Dataset(dataset.meta, ColumnCache._from_mgr(frame._mgr, frame._mgr.axes))


def detect_scope(names) -> str:
    """ADaM when every dataset is named AD*, SDTM otherwise."""
    names = [n.upper() for n in names]
    return ADAM if names and all(n.startswith("AD") for n in names) else SDTM


def is_adam_dataset(dataset: Dataset) -> bool:
    """ADaM by name and structure: AD* name and no SDTM DOMAIN column (ADSL, BDS, OCCDS, ADTTE ...)."""
    name = dataset.name.upper()
    return name.startswith("AD") and "DOMAIN" not in dataset.frame.columns


class ColumnProfile:
    """One column seen through its distinct values: codes map every record to its value.

    ``texts`` (numpy, object) is the trimmed text of each distinct value, the last entry "" standing for
    missing; ``values`` is the same as a pandas Series, built only for rules that ask for one. Verdicts
    several rules share (blank, ISO 8601 validity) are computed once per profile, on numpy arrays."""

    __slots__ = ("codes", "width", "_texts", "_raw", "_make", "_values", "_nbytes", "_ascii", "_present", "_blank",
                 "_flags", "_arrow")

    def __init__(self, codes: np.ndarray, texts: np.ndarray | None, raw: list | None, *, width: int | None = None,
                 make=None, arrow=None):
        self.codes = codes           # int64 per record, never -1 (missing is the last entry)
        self.width = len(raw) if width is None else width      # distinct values + the missing entry
        self._texts = texts
        self._raw = raw              # untrimmed text of each distinct value (XPT limits count every byte)
        self._make = make            # () -> (texts, raw) when they are built on first use (numeric columns)
        self._values = self._nbytes = self._ascii = self._present = self._blank = None
        self._flags = {}
        self._arrow = arrow          # Arrow's array of the distinct raw values (``raw`` but the missing entry)

    @property
    def texts(self) -> np.ndarray:
        if self._texts is None:
            self._texts, self._raw = self._make()
        return self._texts

    @property
    def raw(self) -> list:
        if self._raw is None:
            self._texts, self._raw = self._make()
        return self._raw

    @property
    def values(self) -> pd.Series:
        """Trimmed text of each distinct value as a pandas Series (the last entry is "": missing)."""
        if self._values is None:
            self._values = series_of(self.texts, pd.RangeIndex(len(self.texts)))
        return self._values

    @property
    def nbytes(self) -> np.ndarray:
        """UTF-8 bytes of each raw distinct value (the missing entry: 0)."""
        if self._nbytes is None:
            facts = _dictionary_bytes(self._arrow)
            if facts is not None:
                self._nbytes, self._ascii = facts
            else:
                self._nbytes = np.fromiter((len(v.encode("utf-8")) for v in self.raw), dtype=np.int64,
                                           count=len(self.raw))
        return self._nbytes

    @property
    def printable_ascii(self) -> np.ndarray:
        """Each raw distinct value is printable ASCII (``isascii() and isprintable()``: every byte 0x20-0x7E)."""
        if self._ascii is None:
            facts = _dictionary_bytes(self._arrow)
            if facts is not None:
                self._nbytes, self._ascii = facts
            else:
                self._ascii = np.fromiter((v.isascii() and v.isprintable() for v in self.raw), dtype=bool,
                                          count=len(self.raw))
        return self._ascii

    @property
    def present(self) -> np.ndarray:
        """Which distinct values occur (the missing entry may not)."""
        if self._present is None:
            self._present = np.bincount(self.codes, minlength=self.width) > 0
        return self._present

    @property
    def blank(self) -> np.ndarray:
        """Which distinct values are missing or blank text (the trimmed text is "")."""
        if self._blank is None:
            if self._texts is None and self._make is not None:
                # a column of numbers, not spelled yet: no number's text is blank, only the missing entry is
                self._blank = np.zeros(self.width, dtype=bool)
                self._blank[-1] = True
            else:
                self._blank = self.texts == ""
        return self._blank

    def flags(self, key, fn) -> np.ndarray:
        """``fn(texts)`` as a bool array, computed once per profile for each ``key`` (rules that ask the
        same question of a column share the answer)."""
        out = self._flags.get(key)
        if out is None:
            out = self._flags[key] = np.asarray(fn(self.texts), dtype=bool)
        return out

    def mask(self, per_value: np.ndarray) -> np.ndarray:
        return np.asarray(per_value, dtype=bool)[self.codes]


def _dictionary_bytes(array) -> tuple[np.ndarray, np.ndarray] | None:
    """(UTF-8 length, printable ASCII) of every value of an Arrow text array without nulls, read from its
    offsets and bytes, with the missing entry (0, True) appended; None when ``array`` is not such an array.

    Why: TF-XPT-001/002 ask both of every short text column's distinct values (a Python call per value; DM's
    dates and identifiers are thousands of distinct values). A string is printable ASCII exactly when every
    one of its UTF-8 bytes is 0x20-0x7E (a non-ASCII character's bytes are all >= 0x80)."""
    if array is None or array.null_count:
        return None
    ends = value_ends(array)
    if ends is None:
        return None
    n = len(array)
    values = array.buffers()[2]
    sizes = np.append(ends[1:] - ends[:-1], 0)
    first, last = int(ends[0]), int(ends[-1])
    if values is None or last == first:
        return sizes, np.ones(n + 1, dtype=bool)
    body = np.frombuffer(values, dtype=np.uint8, count=last - first, offset=first)
    odd = np.concatenate(([0], np.cumsum((body < 0x20) | (body > 0x7E), dtype=np.int64)))
    starts = ends - first
    return sizes, np.append(odd[starts[1:]] == odd[starts[:-1]], True)


class ValueMask:
    """A column rule's verdict per distinct value of a column, expanded to records only when asked.

    The direct gate path (``schema.column_findings``) asks "does any record fail?" on the distinct values
    and builds record positions only for the failing ones; pandera and any other caller get the usual
    boolean Series from ``to_series`` (``schema.as_mask``)."""

    __slots__ = ("series", "prof", "flags")

    def __init__(self, series: pd.Series, prof: ColumnProfile, flags: np.ndarray):
        self.series, self.prof, self.flags = series, prof, flags

    def __invert__(self) -> ValueMask:
        return ValueMask(self.series, self.prof, ~self.flags)

    def any(self) -> bool:
        return bool((self.flags & self.prof.present).any())

    def positions(self) -> np.ndarray:
        return np.flatnonzero(self.flags[self.prof.codes])

    def to_series(self) -> pd.Series:
        return series_of(self.flags[self.prof.codes], self.series.index)

    # anything else behaves as the boolean Series (callers of a rule function outside the gate)
    def __getattr__(self, name):
        if name.startswith("__") or name in ValueMask.__slots__:
            raise AttributeError(name)
        return getattr(self.to_series(), name)

    def __len__(self) -> int:
        return len(self.series)

    def __iter__(self):
        return iter(self.to_series())

    def __array__(self, dtype=None, copy=None):
        out = self.flags[self.prof.codes]
        return out if dtype is None else out.astype(dtype)

    def __and__(self, other):
        return self.to_series() & other

    def __or__(self, other):
        return self.to_series() | other


def value_mask(series: pd.Series, fn) -> ValueMask:
    """``fn`` (a vectorised predicate over distinct trimmed text, missing = "") as a ValueMask of ``series``."""
    prof = profile(series)
    return ValueMask(series, prof, np.asarray(fn(prof.values), dtype=bool))


def _array_key(series: pd.Series):
    """Identity of a column's data (pandas 3 hands out a new Series per ``frame[col]``, but the same
    Arrow array, or a view of the same buffer), plus the object that keeps that data alive."""
    values = series._values
    if isinstance(values, np.ndarray):
        info = values.__array_interface__
        return ("np", info["data"][0], values.shape, info["strides"], values.dtype.str), \
            (values.base if values.base is not None else values)
    return ("ea", id(values), len(values)), values


def clear_profiles() -> None:
    """Forget every column profile (the runner starts each validation with a clean slate)."""
    from .dates import _COLUMNAR_SEEN, _COMPONENTS, _ISO_SEEN, _KEYS, _PARTS_SEEN, _SEEDS
    _ISO_SEEN.clear()
    _COLUMNAR_SEEN.clear()
    _BYTE_FACTS.clear()
    _PARTS_SEEN.clear()
    _SEEDS.clear()
    _PROFILES.clear()
    _MEMO.clear()
    _TEXTS.clear()
    _TEXT_OF.clear()
    _COMPONENTS.clear()
    _KEYS.clear()


def profile(series: pd.Series) -> ColumnProfile:
    """Distinct-value view of a column, computed once per column per validation run: hundreds of rules
    read the same columns, and factorising is the costly part."""
    if _MEMO and _MEMO[0] is series:       # column rules run one after another on the same Series
        return _MEMO[1]
    key, keep = _array_key(series)
    hit = _PROFILES.get(key)
    if hit is not None:
        return hit[1]
    prof = _profile(series)
    if len(_PROFILES) >= 1024:
        _PROFILES.pop(next(iter(_PROFILES)))
    _PROFILES[key] = (keep, prof)
    return prof


def _profile(series: pd.Series) -> ColumnProfile:
    arrow = _arrow_strings(series)
    dictionary = None
    if arrow is not None:
        codes, raw, dictionary = arrow
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        if numeric(series):
            # the text of numbers is built when a rule first reads it: key groupings (TF-KEY-002's every
            # column) need only the codes, and spelling thousands of distinct results was half their cost
            codes = np.asarray(codes, dtype=np.int64)
            width = len(uniques) + 1
            prof = ColumnProfile(np.where(codes < 0, width - 1, codes), None, None, width=width,
                                 make=lambda: _texts_of([_plain_text(v) for v in uniques]))
            _MEMO[:] = [series, prof]
            return prof
        raw = [v if isinstance(v, str) else str(v) for v in np.asarray(uniques, dtype=object)]
    texts, raw = _texts_of(raw)
    codes = np.asarray(codes, dtype=np.int64)
    if arrow is None or codes.min(initial=0) < 0:     # missing values: the last entry ("") stands for them
        codes = np.where(codes < 0, len(raw) - 1, codes)
    prof = ColumnProfile(codes, texts, raw, arrow=dictionary)
    _MEMO[:] = [series, prof]
    return prof


def _texts_of(raw: list) -> tuple[np.ndarray, list]:
    """(trimmed texts, raw texts) of distinct values, each with the missing entry "" appended."""
    raw.append("")
    texts = np.empty(len(raw), dtype=object)
    texts[:] = [v.strip() for v in raw]
    return texts, raw


def _arrow_strings(series: pd.Series):
    """(codes, distinct values, Arrow array of the distinct values) of an Arrow-backed text column straight from
    Arrow's dictionary encoding (what ``pd.factorize`` does underneath, without its wrapping): codes -1 for
    missing, values in order of first appearance, as ``pd.factorize`` gives them. None for any other kind of
    column."""
    values = series._values
    data = getattr(values, "_pa_array", None)
    if data is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    if not (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
        return None
    if isinstance(data, pa.ChunkedArray):
        # one chunk (the usual case) is encoded as it is: combine_chunks would copy it (~8 % of the profiles)
        array = data.chunk(0) if data.num_chunks == 1 else data.combine_chunks()
    else:
        array = data
    encoded = pc.dictionary_encode(array)
    indices = encoded.indices
    dictionary = encoded.dictionary
    if indices.null_count == 0:
        return indices.to_numpy().astype(np.int64), dictionary.to_pylist(), dictionary
    codes = indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return codes, dictionary.to_pylist(), dictionary


def plain_ascii_text(series: pd.Series, limit: int = 200) -> bool:
    """True when ``series`` is an Arrow text column whose every value is printable ASCII (bytes 0x20-0x7E) of at
    most ``limit`` (200) bytes, read from Arrow's value buffers without building the column's profile; False
    when that cannot be told so cheaply (another kind of column, or some value that needs looking at).

    Why: TF-XPT-001/002 ask this of every text column, and were the only rules that profiled many of them
    (the profile's dictionary encoding is the costly part); a column that passes here cannot fail either."""
    return limit == 200 and _byte_facts(series)[0]


def plain_unpadded_text(series: pd.Series) -> bool:
    """``plain_ascii_text`` and no value starts with a space or a "." (TF-TXT-001 cannot fail on it: no line
    break, no leading space, and "." alone would start with one of them)."""
    plain, lead = _byte_facts(series)
    return plain and not lead


def _byte_facts(series: pd.Series) -> tuple[bool, bool]:
    """(plain printable ASCII of <= 200 bytes, some value starts with " " or "."), once per column per run.

    A column already profiled is judged on its profile's Arrow dictionary (its distinct values: the same
    answer, from a fraction of the bytes). A short column not profiled is not read (the answer is "not known"):
    reading its buffers costs a few dozen numpy calls, about what its profile costs, and a later rule often
    needs the profile anyway."""
    key, keep = _array_key(series)
    hit = _BYTE_FACTS.get(key)
    if hit is None:
        known = _MEMO[1] if _MEMO and _MEMO[0] is series else _PROFILES.get(key, (None, None))[1]
        if known is not None and known._arrow is not None:
            facts = _arrow_byte_facts(known._arrow)
        elif len(series) < BYTE_FACTS_MIN_ROWS:
            return False, True
        else:
            facts = _read_byte_facts(series)
        if len(_BYTE_FACTS) >= 1024:
            _BYTE_FACTS.pop(next(iter(_BYTE_FACTS)))
        hit = _BYTE_FACTS[key] = (keep, facts)
    return hit[1]


BYTE_FACTS_MIN_ROWS = 2000
_BYTE_FACTS: dict = {}   # data identity -> (data kept alive, facts); cleared with the column profiles


def _read_byte_facts(series: pd.Series) -> tuple[bool, bool]:
    data = getattr(series._values, "_pa_array", None)
    if data is None:
        return False, True
    return _arrow_byte_facts(data)


def _arrow_byte_facts(data) -> tuple[bool, bool]:
    """``_byte_facts`` of an Arrow string array or chunked array (a column, or its distinct values)."""
    if offset_width(data.type) is None:
        return False, True
    lead = False
    for chunk in (data.chunks if hasattr(data, "chunks") else (data,)):
        if not len(chunk):
            continue
        ends = value_ends(chunk)
        if ends is None:
            return False, True
        values = chunk.buffers()[2]
        sizes = ends[1:] - ends[:-1]
        if sizes.max() > 200:                # a null's slot is empty; any longer one is looked at properly
            return False, True
        first, last = int(ends[0]), int(ends[-1])
        if values is None or last == first:
            continue
        body = np.frombuffer(values, dtype=np.uint8, count=last - first, offset=first)
        if body.max() > 0x7E or body.min() < 0x20:
            return False, True
        if not lead:
            # the first byte of every value; an empty value's slot points at the next value's first byte (or
            # past the end: clipped), which can only make ``lead`` True where it is not: the caller then looks
            # at the column's values properly (a false "no lead" would be the wrong answer, and cannot happen)
            starts = ends[:-1] - first if first else ends[:-1]
            firsts = np.take(body, starts, mode="clip")
            lead = bool((firsts == 0x20).any() or (firsts == 0x2E).any())
    return True, lead


def is_profiled(series: pd.Series) -> bool:
    """Whether ``profile(series)`` is already known (no rule pays for a profile it merely checks for)."""
    if _MEMO and _MEMO[0] is series:
        return True
    return _array_key(series)[0] in _PROFILES


def group_codes(frame: pd.DataFrame, columns) -> np.ndarray:
    """One integer per record naming its combination of ``columns`` (raw values; missing is one value).

    Key groupings (USUBJID+PARAMCD+BASETYPE ...) are asked by many rules; combining the columns'
    distinct-value codes is a few integer operations instead of joining strings row by row.
    """
    columns = list(columns)
    if not columns:
        return np.zeros(len(frame), dtype=np.int64)
    out, bound = None, 1
    for col in columns:
        prof = profile(frame[col])
        codes = prof.codes.astype(np.int64, copy=False)
        width = prof.width
        if out is None:
            out, bound = codes, width
            continue
        if bound * width >= 2 ** 62:         # renumber densely (< number of records) before it could overflow
            out = pd.factorize(out)[0].astype(np.int64, copy=False)
            bound = len(out) + 1
        out, bound = out * width + codes, bound * width
    return out


def distinct_rows(frame: pd.DataFrame, columns) -> tuple[np.ndarray, np.ndarray]:
    """(combination per record, position of the first record of each combination) of ``columns``' raw values.

    Why: a rule that compares several columns record by record (--ORRES vs --STRESC under the same unit)
    gives the same verdict for every record holding the same values; LB's 100,000 records hold a few
    thousand combinations, so a rule judges those and expands the verdict with ``verdict[combo]``."""
    combo = pd.factorize(group_codes(frame, columns))[0].astype(np.int64, copy=False)
    if not len(combo):
        return combo, np.zeros(0, dtype=np.int64)
    # factorize numbers combinations in order of first appearance: a record starts one when its number
    # exceeds every number before it
    seen = np.maximum.accumulate(combo)
    first = np.flatnonzero(np.r_[True, combo[1:] > seen[:-1]])
    return combo, first


def texts_at(series: pd.Series, positions: np.ndarray) -> pd.Series:
    """Trimmed text ("" for missing, as ``text``) of the records at ``positions``, on a fresh RangeIndex."""
    prof = profile(series)
    return series_of(prof.texts[prof.codes[positions]], pd.RangeIndex(len(positions)))


def text_is(series: pd.Series, value: str) -> np.ndarray:
    """``(text(series) == value).to_numpy()``, compared once per distinct value (ABLFL = "Y" over 1.4 million
    ADLB records was an object comparison per record in several rules)."""
    prof = profile(series)
    return (prof.texts == value)[prof.codes]


def text_in(series: pd.Series, allowed) -> np.ndarray:
    """``text(series).isin(allowed).to_numpy()``, judged once per distinct trimmed text (flag columns over
    every ADaM record were an object comparison per record)."""
    prof = profile(series)
    allowed = frozenset(allowed)
    texts = prof.texts
    return np.fromiter((t in allowed for t in texts.tolist()), dtype=bool, count=len(texts))[prof.codes]


def unique_text(series: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, trimmed text of each distinct value): rules work on distinct values, then map back.

    SDTM columns repeat a few values many times, so string work on the distinct values is what
    makes whole-package validation fast. Missing is the last entry, "".
    """
    prof = profile(series)
    return prof.codes, prof.values


_MEMO: list = []
_PROFILES: dict = {}     # data identity -> (data kept alive, ColumnProfile)


def _plain_text(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def per_value(series: pd.Series, fn) -> pd.Series:
    """Boolean mask of ``fn`` (a vectorised predicate over distinct trimmed text) for every record."""
    codes, values = unique_text(series)
    result = np.asarray(fn(values), dtype=bool)
    return series_of(result[codes], series.index)


def unknown_values(subjects: pd.Series, known: set) -> pd.Series:
    """Records whose trimmed text is not blank and not in ``known``: ``~text(s).isin(known) & (text(s) != "")``
    judged once per distinct value (a findings dataset holds a hundred records per subject, a few epochs)."""
    prof = profile(subjects)
    bad = np.fromiter((t != "" and t not in known for t in prof.texts.tolist()), dtype=bool, count=len(prof.texts))
    return series_of(bad[prof.codes], subjects.index)


unknown_subjects = unknown_values      # USUBJID not in DM / ADSL


def blank(series: pd.Series) -> pd.Series:
    """Missing for a numeric column, missing or all-blank text for a character column."""
    if numeric(series):
        return series.isna()
    prof = profile(series)
    return series_of(prof.blank[prof.codes], series.index)


def populated(series: pd.Series) -> pd.Series:
    """``~blank(series)`` in one step (a fresh Series: callers may combine it in place)."""
    if numeric(series):
        return series.notna()
    prof = profile(series)
    return series_of(~prof.blank[prof.codes], series.index)


def text(series: pd.Series) -> pd.Series:
    """Trimmed text of a column ("" for missing), whatever the dtype (object or pandas string).

    The result remembers its distinct values (``distinct``), so string tests on it (numeric text,
    patterns) run once per distinct value instead of once per record. The same Series is handed out
    again for the same column while a dataset is being checked (rules only read it)."""
    prof = profile(series)
    out = _TEXT_OF.get(id(prof))
    if out is None or out[0] is not prof or out[1].index is not series.index:
        values = prof.texts[prof.codes]
        out = (prof, TextSeries._from_mgr(SingleBlockManager.from_array(values, series.index), [series.index]))
        object.__setattr__(out[1], "_name", None)
        _TEXT_OF[id(prof)] = out
    out = out[1]
    if id(out) not in _TEXTS:
        if len(_TEXTS) >= 16:
            _TEXTS.pop(next(iter(_TEXTS)))
        _TEXTS[id(out)] = (out, prof)
    return out


class TextSeries(pd.Series):
    """The Series ``text`` hands out: compared with one text (``text(s) == "Y"``, ``!= ""``), it is judged once
    per distinct value of its column and spread over the records by the profile's codes.

    Why: rules compare trimmed text with a constant thousands of times per run, each an object comparison
    per record (comp_method_OBJECT_ARRAY was a sixth of the SDTM gate's CPU at 1,000 subjects). Every record's
    text is its distinct value's text (all ``str``), so the answer is the same. Anything derived from it
    (``where``, ``loc``, arithmetic) is a plain Series again; any other comparison is pandas' own."""

    @property
    def _constructor(self):
        return pd.Series

    def _constructor_from_mgr(self, mgr, axes):
        ser = pd.Series._from_mgr(mgr, axes=axes)
        object.__setattr__(ser, "_name", None)
        return ser

    def _cmp_method(self, other, op):
        if type(other) is str:
            hit = _TEXTS.get(id(self))
            if hit is not None and hit[0] is self:
                prof = hit[1]
                per_value = np.asarray(op(prof.texts, other), dtype=bool)
                out = series_of(per_value[prof.codes], self.index)
                object.__setattr__(out, "_name", self._name)
                return out
        return super()._cmp_method(other, op)


def forget_texts() -> None:
    """Drop the text Series kept for reuse (the runner calls this between datasets to bound memory)."""
    _TEXT_OF.clear()


_TEXT_OF: dict = {}      # id(profile) -> (profile, its text Series): one per column while a dataset is checked


def distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """(codes, distinct values) of a Series ``text`` returned (and nobody changed since), else None."""
    hit = _TEXTS.get(id(values))
    if hit is None or hit[0] is not values:
        return None
    return hit[1].codes, hit[1].values


def str_test(values: pd.Series, test) -> pd.Series:
    """``test`` (a vectorised bool test over text) of every record, run on distinct values when
    ``values`` came from ``text``; the same answer as ``test(values)``."""
    seen = distinct(values)
    if seen is None:
        return test(values)
    codes, uniques = seen
    per_value = np.asarray(test(uniques), dtype=bool)
    return series_of(per_value[codes], values.index)


def text_match(values: pd.Series, pattern: str, *, full: bool = False) -> pd.Series:
    """``values.str.match(pattern)`` (``str.fullmatch`` when ``full``) as a bool Series.

    Why: for a Series ``text`` returned, the pattern is tried once per distinct text with ``re`` exactly as
    pandas' object-dtype ``str.match`` does (``regex.match(x) is not None``), without the ~100-200 us of pandas'
    accessor and wrapping per call (rules ask this of every dataset); any other Series goes through pandas."""
    hit = _TEXTS.get(id(values))
    test = _regex(pattern).fullmatch if full else _regex(pattern).match
    if hit is None or hit[0] is not values:
        if values.dtype == object:
            items = values.to_numpy().tolist()
            if all(type(v) is str for v in items):    # pandas' object path: the same test on every element
                return series_of(np.fromiter((test(v) is not None for v in items), dtype=bool, count=len(items)),
                                 values.index)
        return values.str.fullmatch(pattern) if full else values.str.match(pattern)
    prof = hit[1]
    texts = prof.texts
    per_value = np.fromiter((test(t) is not None for t in texts.tolist()), dtype=bool, count=len(texts))
    return series_of(per_value[prof.codes], values.index)


def text_len(values: pd.Series) -> pd.Series:
    """``values.str.len()``; for a Series ``text`` returned (all text), the length of each distinct text spread
    over the records as int64, as pandas gives it for text without missing values."""
    hit = _TEXTS.get(id(values))
    if hit is None or hit[0] is not values:
        return values.str.len()
    prof = hit[1]
    texts = prof.texts
    per_value = np.fromiter(map(len, texts.tolist()), dtype=np.int64, count=len(texts))
    return series_of(per_value[prof.codes], values.index)


def _regex(pattern: str):
    hit = _PATTERNS.get(pattern)
    if hit is None:
        import re
        hit = _PATTERNS[pattern] = re.compile(pattern)
    return hit


_PATTERNS: dict = {}     # pattern text -> compiled pattern (a handful, for the whole process)
_TEXTS: dict = {}        # id of a text() result -> (that Series, its profile); the last few only


def prefix(dataset: Dataset) -> str:
    """The two-letter variable prefix of a domain (AE for AE, SUPPAE has none)."""
    return dataset.name.upper()[:2]


def seq_var(dataset: Dataset) -> str | None:
    name = dataset.name.upper()
    cand = f"{name[:2]}SEQ" if not name.startswith("SUPP") else None
    if cand and cand in dataset.frame.columns:
        return cand
    return "ASEQ" if "ASEQ" in dataset.frame.columns else None


def record_keys(dataset: Dataset, index, pos=None) -> dict:
    """USUBJID, --SEQ and 1-based row of the records at ``index`` (for Findings); ``pos``: their
    positions when the caller knows them."""
    frame = dataset.frame
    sv = seq_var(dataset)
    if pos is None:
        pos = frame.index.get_indexer(pd.Index(index))
    out = {"row": [int(p) + 1 for p in pos]}
    # a run's findings on a dataset share one per-record conversion of its keys, worth building once a report
    # names more than a few of its records (one rule reporting 16 of LB's 137,000 converts just those 16)
    cached = isinstance(frame, ColumnCache) and (len(pos) * 64 >= len(frame)
                                                  or "_derived" in frame.__dict__)
    if "USUBJID" not in frame:
        out["usubjid"] = [None] * len(pos)
    elif cached:        # every rule reporting on this dataset reads the same subjects: convert them once
        subjects = _once(frame, "usubjid", lambda: _subject_texts(frame["USUBJID"]))
        out["usubjid"] = [subjects[p] for p in pos.tolist()]
    else:
        out["usubjid"] = _subject_texts(frame["USUBJID"].iloc[pos])
    if not sv:
        out["seq"] = [None] * len(pos)
    elif cached:
        seqs = _once(frame, "seq", lambda: seq_texts(frame[sv]))
        out["seq"] = [seqs[p] for p in pos.tolist()]
    else:
        out["seq"] = [_seq_text(v) for v in frame[sv].iloc[pos].tolist()]
    return out


def _once(frame: ColumnCache, key: str, make):
    """A per-record list derived from a ColumnCache frame, built once per validation run."""
    store = frame.__dict__.setdefault("_derived", {})
    if key not in store:
        store[key] = make()
    return store[key]


def _subject_texts(column: pd.Series) -> list:
    """USUBJID as text per record; a missing one is None (not the float NaN, which no report can sort
    next to text, nor the string "nan")."""
    return [None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v)
            for v in column.tolist()]


def seq_texts(column: pd.Series) -> list:
    """``[_seq_text(v) for v in column.tolist()]``; a float column of whole numbers (and NaN) is spelled by
    numpy's integer formatting at once (the usual --SEQ: EX's 10,000 records reported at 1,000 subjects)."""
    values = column.to_numpy() if column.dtype.kind == "f" else None
    if values is not None and values.ndim == 1:
        missing = np.isnan(values)
        whole = np.where(missing, 0.0, values)
        if (np.abs(whole) < 2.0 ** 53).all() and (whole == np.floor(whole)).all():
            texts = whole.astype(np.int64).astype(str).astype(object)
            texts[missing] = None
            return texts.tolist()
    return [_seq_text(v) for v in column.tolist()]


def _seq_text(value):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def findings_at(rule, dataset: Dataset, mask_or_index, *, variable=None, values=None, message=None):
    """One Finding per flagged record, with its keys and offending value."""
    found = finding_columns(dataset, mask_or_index, variable=variable, values=values)
    if found is None:
        return []
    return rule.findings(dataset.name, variable, message, *found)


def finding_table_at(rule, dataset: Dataset, mask_or_index, *, variable=None, values=None, message=None):
    """``findings_at`` as a ``FindingTable`` (None when no record is flagged): the gate's largest reports
    (a column rule or value rule flagging thousands of records) go into the report as columns, without an
    object per finding that the report would read back into columns."""
    found = finding_columns(dataset, mask_or_index, variable=variable, values=values)
    if found is None:
        return None
    from .finding_table import FindingTable
    return FindingTable.of_rows(rule.id, rule.severity, dataset.name, message or rule.message, variable, *found)


def finding_columns(dataset: Dataset, mask_or_index, *, variable=None, values=None):
    """(USUBJID, --SEQ, 1-based row, offending value) of each flagged record, as lists; None when none is."""
    frame = dataset.frame
    where = frame.index
    pos = None
    index = None
    if isinstance(mask_or_index, pd.Series) and mask_or_index.dtype == bool:
        if mask_or_index.index is where:   # aligned (the usual case): no reindexing, and most masks are empty
            flags = mask_or_index.to_numpy()
            if not flags.any():
                return None
            if where.is_unique:            # positions are the mask's (get_indexer would find the same)
                pos = np.flatnonzero(flags)
            else:
                index = where[flags]
        elif where.is_unique and mask_or_index.index.equals(where):   # the same labels in the same order
            flags = mask_or_index.to_numpy()
            if not flags.any():
                return None
            pos = np.flatnonzero(flags)
        else:
            index = where[mask_or_index.reindex(where, fill_value=False).to_numpy()]
    else:
        index = pd.Index(mask_or_index)
        if len(index) and where.is_unique:   # labels to positions once (loc/reindex by label would find the same)
            found = where.get_indexer(index)
            if (found >= 0).all():
                pos = found
    if (len(pos) if index is None else len(index)) == 0:
        return None
    if callable(values):                   # built only when there is something to report
        values = values()
    keys = record_keys(dataset, index, pos)
    if pos is not None and values is None and variable is not None and variable in frame:
        vals = [_text(v) for v in frame[variable].iloc[pos].tolist()]
    elif pos is not None and isinstance(values, pd.Series) and values.index is where:
        vals = [_text(v) for v in values.iloc[pos].tolist()]
    else:
        if index is None:
            index = where[pos]
        if values is None and variable is not None and variable in frame:
            values = frame.loc[index, variable]
        vals = [None] * len(index) if values is None else \
            [_text(v) for v in pd.Series(values).reindex(index).tolist()] \
            if isinstance(values, pd.Series) else [_text(v) for v in values]
    return keys["usubjid"], keys["seq"], keys["row"], vals


def _text(v):
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
