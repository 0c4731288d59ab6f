"""Cross-dataset integrity: subjects in DM, SUPP-- and RELREC pointing at real parent records."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .context import distinct_rows, findings_at, profile, series_of, text, text_len, text_match, texts_at, unknown_subjects
from .registry import RULES, SDTM, register
from .rules_structure import _duplicated

REFERENCING = ("SUPP*", "RELREC", "CO")


def key_text(series: pd.Series) -> pd.Series:
    """Values as IDVARVAL spells them: numbers without a trailing .0, text trimmed."""
    if series.dtype == np.float64 and _plain_floats(series):
        # the column profile spells finite float64 values the same way (str(int(x)) when whole, else str(x),
        # missing ""): ``text`` hands out that Series, built once per column and shared by every rule
        return text(series)
    if pd.api.types.is_numeric_dtype(series):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        num = np.asarray(uniques, dtype=float)
        if np.isfinite(num).all():         # per distinct value in plain Python (pandas' str of a float is str())
            whole = (num == np.floor(num)).tolist()
            ints = num.astype(np.int64).tolist()
            shown = [str(i) if w else str(x) for x, i, w in zip(num.tolist(), ints, whole)]
            values = np.array(shown + [""], dtype=object)
        else:                              # infinities: pandas' own conversion (and its error)
            num = pd.Series(num, dtype=float)
            whole = num == np.floor(num)
            shown = num.astype(str)
            shown[whole] = num[whole].astype("int64").astype(str)
            values = np.append(shown.to_numpy(dtype=object), "")
        return pd.Series(values[np.where(codes < 0, len(values) - 1, codes)], index=series.index, dtype=object)
    return text(series)


def key_text_distinct(series: pd.Series):
    """(codes, texts) with ``key_text(series)`` equal to ``texts[codes]`` (the column's profile) when key_text
    is the profile's text (a text column, or float64 of plain numbers); None otherwise."""
    if (series.dtype == np.float64 and _plain_floats(series)) or not pd.api.types.is_numeric_dtype(series):
        prof = profile(series)
        return prof.codes, prof.texts
    return None


def _plain_floats(series: pd.Series) -> bool:
    """Every value of a float64 column is missing or finite below 2**63 in magnitude (where the int64
    spelling below is exact; infinities and larger values keep that path, and its error or overflow)."""
    with np.errstate(invalid="ignore"):
        return not (np.abs(series.to_numpy()) >= 2.0 ** 63).any()


# ---- subjects --------------------------------------------------------------------------------------

@register("TF-REF-001", "error", "Subject is not present in DM domain", p21=("SD0064",), publisher=("CG0029",),
          scope=SDTM, kind="study", category="Cross-reference")
def subjects_in_dm(ctx):
    dm = ctx.get("DM")
    if dm is None or "USUBJID" not in dm.frame:
        return []
    known = set(text(dm.frame["USUBJID"]))
    out = []
    for ds in ctx.datasets.values():
        if ds.name == "DM" or "USUBJID" not in ds.frame:
            continue
        out += findings_at(RULES["TF-REF-001"], ds, unknown_subjects(ds.frame["USUBJID"], known), variable="USUBJID")
    return out



@register("TF-DM-001", "error", "Duplicate USUBJID in DM", p21=("SD0083",), publisher=("CG0151",), scope=SDTM,
          domains=("DM",), category="Consistency")
def dm_one_record_per_subject(dataset, ctx):
    if "USUBJID" not in dataset.frame:
        return []
    dup = dataset.frame.duplicated(["USUBJID"], keep="first")
    return findings_at(RULES["TF-DM-001"], dataset, dup, variable="USUBJID")


@register("TF-DM-002", "error", "Missing DM dataset", p21=("SD1020",), publisher=("CG0368",), scope=SDTM,
          kind="study", category="Presence")
def dm_present(ctx):
    if ctx.get("DM") is not None or not any("USUBJID" in d.frame for d in ctx.datasets.values()):
        return []
    return [RULES["TF-DM-002"].finding("DM", message="subject-level datasets are present but DM is missing")]


# ---- SUPP--, RELREC, CO: RDOMAIN / IDVAR / IDVARVAL ------------------------------------------------

def _referencing(ctx):
    for ds in ctx.datasets.values():
        name = ds.name.upper()
        if (name.startswith("SUPP") or name in ("RELREC", "CO")) and "RDOMAIN" in ds.frame:
            yield ds


@register("TF-REF-002", "error", "Invalid RDOMAIN", p21=("SD0072",), publisher=("CG0334", "CG0369"), scope=SDTM,
          kind="study", category="Cross-reference")
def rdomain_valid(ctx):
    out = []
    for ds in _referencing(ctx):
        rd = text(ds.frame["RDOMAIN"])
        name = ds.name.upper()
        if name.startswith("SUPP") and name != "SUPPQUAL":
            bad = (rd != "") & (rd != name[4:])
            message = f"RDOMAIN is not {name[4:]}, the domain {name} supplements"
        else:
            bad = (rd != "") & ~rd.isin(set(ctx.datasets))
            message = "RDOMAIN names a dataset that is not in the package"
        out += findings_at(RULES["TF-REF-002"], ds, bad, variable="RDOMAIN", message=message)
    return out


@register("TF-REF-003", "error", "Invalid IDVAR (not a variable of the referenced domain)", p21=("SD0075",),
          publisher=("CG0370",), scope=SDTM, kind="study", category="Cross-reference")
def idvar_valid(ctx):
    out = []
    for ds in _referencing(ctx):
        if "IDVAR" not in ds.frame:
            continue
        f = ds.frame
        # judged once per distinct (RDOMAIN, IDVAR) pair (pandas' groupby listed every record of every pair)
        combo, first = distinct_rows(f, ["RDOMAIN", "IDVAR"])
        wrong = np.fromiter((_unknown_idvar(ctx, rdomain, idvar) for rdomain, idvar in
                             zip(texts_at(f["RDOMAIN"], first).tolist(), texts_at(f["IDVAR"], first).tolist())),
                            dtype=bool, count=len(first))
        out += findings_at(RULES["TF-REF-003"], ds, series_of(wrong[combo], f.index), variable="IDVAR")
    return out


def _unknown_idvar(ctx, rdomain: str, idvar: str) -> bool:
    """TF-REF-003's verdict on one (trimmed RDOMAIN, trimmed IDVAR): a named IDVAR the parent domain lacks."""
    if idvar == "":
        return False
    parent = ctx.get(rdomain)
    return parent is not None and idvar not in parent.frame.columns


@register("TF-REF-004", "error", "Invalid referenced record (parent record not found)", p21=("SD0077",),
          publisher=("CG0371",), scope=SDTM, kind="study", category="Cross-reference")
def parent_record_exists(ctx):
    """SUPP--/CO/RELREC rows must point at a real record: USUBJID + IDVAR=IDVARVAL in RDOMAIN,
    or just the subject when IDVAR is blank (subject-level qualifiers such as SUPPDM).

    Judged once per distinct (RDOMAIN, USUBJID, IDVAR, IDVARVAL) against each parent's distinct
    (USUBJID, IDVAR value) pairs (the parent's records repeat them: LB's 137,000 records, not its pairs)."""
    out = []
    parents: dict = {}
    for ds in _referencing(ctx):
        f = ds.frame
        cols = [c for c in ("RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL") if c in f]
        combo, first = distinct_rows(f, cols)
        rd, subj, idvar, idval = (texts_at(f[c], first).tolist() if c in f else [""] * len(first)
                                  for c in ("RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL"))
        wrong = np.zeros(len(first), dtype=bool)
        for i, (r, s, var, val) in enumerate(zip(rd, subj, idvar, idval)):
            if r == "" or s == "":                 # RELREC dataset-level rows have no subject
                continue
            keys = parents.get((r, var))
            if keys is None:
                keys = parents[(r, var)] = _parent_keys(ctx, r, var)
            if keys is False:                      # no such parent, or TF-REF-003 reports the IDVAR itself
                continue
            wrong[i] = (s if var == "" else s + "\x1f" + val) not in keys
        if not wrong.any():
            continue

        def values(f=f):
            rd_, idvar_, idval_ = (text(f[c]) if c in f else pd.Series("", index=f.index)
                                   for c in ("RDOMAIN", "IDVAR", "IDVARVAL"))
            return rd_ + "." + idvar_ + "=" + idval_
        out += findings_at(RULES["TF-REF-004"], ds, series_of(wrong[combo], f.index), variable="IDVARVAL",
                           values=values, message="no parent record matches RDOMAIN/USUBJID/IDVAR/IDVARVAL")
    return out


def _parent_keys(ctx, rdomain: str, var: str):
    """The parent's subjects (``var`` blank) or its "USUBJID\x1fvalue" keys (values as ``key_text`` spells
    them); False when the parent or the variable is absent (nothing judged)."""
    parent = ctx.get(rdomain)
    if parent is None or "USUBJID" not in parent.frame:
        return False
    pf = parent.frame
    if var == "":
        prof = profile(pf["USUBJID"])
        return set(prof.texts[prof.present].tolist())
    if var not in pf.columns:
        return False
    key = key_text(pf[var])
    _, first = distinct_rows(pf, ["USUBJID", var])
    subjects = texts_at(pf["USUBJID"], first).tolist()
    return {s + "\x1f" + k for s, k in zip(subjects, key.to_numpy()[first].tolist())}


# ---- SUPP-- --------------------------------------------------------------------------------------

@register("TF-SUPP-001", "error", "Invalid value for QNAM variable", p21=("SD1022",), publisher=("CG0417",),
          scope=SDTM, domains=("SUPP*",), category="Format")
def qnam_valid(dataset, ctx):
    if "QNAM" not in dataset.frame:
        return []
    q = text(dataset.frame["QNAM"])
    bad = (q != "") & ~text_match(q, r"[A-Z_][A-Z0-9_]{0,7}", full=True)
    return findings_at(RULES["TF-SUPP-001"], dataset, bad, variable="QNAM",
                       message="QNAM must be at most 8 upper-case letters, digits or _, not starting with a digit")


@register("TF-SUPP-002", "warning", "Inconsistent value for QLABEL within QNAM", p21=("SD0046", "SD1130"),
          publisher=("FDAB009",), scope=SDTM, domains=("SUPP*",), category="Consistency")
def qlabel_consistent(dataset, ctx):
    return _one_to_one(dataset, "QNAM", "QLABEL", RULES["TF-SUPP-002"])


@register("TF-SUPP-003", "error", "Invalid value for QLABEL (longer than 40 characters)", p21=("SD1049",),
          publisher=("CG0416",), scope=SDTM, domains=("SUPP*",), category="Limit")
def qlabel_length(dataset, ctx):
    if "QLABEL" not in dataset.frame:
        return []
    return findings_at(RULES["TF-SUPP-003"], dataset, text_len(text(dataset.frame["QLABEL"])) > 40, variable="QLABEL")


@register("TF-SUPP-004", "error", "SUPPQUAL duplicate records", p21=("SD0086",), publisher=("CG0411",), scope=SDTM,
          domains=("SUPP*",), category="Consistency")
def supp_duplicates(dataset, ctx):
    keys = [k for k in ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM") if k in dataset.frame]
    if "QNAM" not in keys:
        return []
    dup = _duplicated(dataset.frame, keys)
    return findings_at(RULES["TF-SUPP-004"], dataset, dup, variable="QNAM",
                       message="more than one SUPP record for the same parent record and QNAM")


@register("TF-SUPP-005", "warning", "QNAM is a standard variable of the parent domain (belongs in the parent)",
          publisher=("CG0217",), scope=SDTM, domains=("SUPP*",), category="Consistency")
def qnam_not_standard(dataset, ctx):
    if "QNAM" not in dataset.frame or dataset.name.upper() == "SUPPQUAL":
        return []
    parent = dataset.name.upper()[4:]
    std = ctx.standard_dataset(parent)
    if std is None:
        return []
    names = {v.name for v in std.variables}
    q = text(dataset.frame["QNAM"])
    return findings_at(RULES["TF-SUPP-005"], dataset, q.isin(names), variable="QNAM")


def _one_to_one(dataset, key, val, rule):
    """Records whose ``val`` differs from the most common ``val`` of their ``key``."""
    f = dataset.frame
    if key not in f or val not in f:
        return []
    kp, vp = profile(f[key]), profile(f[val])
    key_values = kp.values.to_numpy()
    group_of = pd.factorize(key_values)[0]                  # distinct raw value -> distinct trimmed text
    value_of, texts = pd.factorize(vp.values.to_numpy())
    rank = np.empty(len(texts), dtype=np.int64)             # text order breaks ties, as sorting the text did
    rank[np.argsort(np.asarray(texts, dtype=object), kind="stable")] = np.arange(len(texts))
    sel = (key_values != "")[kp.codes]
    group = group_of[kp.codes][sel].astype(np.int64)
    value = rank[value_of[vp.codes]][sel]
    width = max(len(texts), 1)
    pairs, counts = np.unique(group * width + value, return_counts=True)
    pair_group, pair_value = pairs // width, pairs % width
    many = np.bincount(pair_group) > 1
    if not many.any():
        return []
    order = np.lexsort((pair_value, -counts, pair_group))   # most frequent, then the lowest text
    first = order[np.r_[True, pair_group[order][1:] != pair_group[order][:-1]]]
    usual = np.empty(len(many), dtype=np.int64)
    usual[pair_group[first]] = pair_value[first]
    bad = pd.Series(False, index=f.index)
    bad.iloc[np.flatnonzero(sel)[many[group] & (value != usual[group])]] = True
    return findings_at(rule, dataset, bad, variable=val,
                       message=f"{val} differs within {key} (most records use the other value)")


# ---- RELREC --------------------------------------------------------------------------------------

@register("TF-REL-001", "warning", "RELID links fewer than two records", scope=SDTM, domains=("RELREC",),
          category="Consistency")
def relid_links_two(dataset, ctx):
    f = dataset.frame
    if "RELID" not in f:
        return []
    subj = text(f["USUBJID"]) if "USUBJID" in f else pd.Series("", index=f.index)
    rel = text(f["RELID"])
    size = pd.DataFrame({"s": subj, "r": rel}).groupby(["s", "r"])["r"].transform("size")
    return findings_at(RULES["TF-REL-001"], dataset, (rel != "") & (size < 2), variable="RELID")


@register("TF-REL-002", "warning", "RELTYPE populated on a record-level relationship (USUBJID/IDVARVAL set)",
          p21=("SD1066", "SD1067"), scope=SDTM, domains=("RELREC",), category="Consistency")
def reltype_dataset_level(dataset, ctx):
    f = dataset.frame
    if "RELTYPE" not in f:
        return []
    level = pd.Series(False, index=f.index)
    for col in ("USUBJID", "IDVARVAL"):
        if col in f:
            level |= text(f[col]) != ""
    return findings_at(RULES["TF-REL-002"], dataset, (text(f["RELTYPE"]) != "") & level, variable="RELTYPE")




@register("TF-REL-004", "warning", "Parent --DECOD (or --TERM/--TRT) differs from the --OBJ of the Findings About "
          "record RELREC relates it to", publisher=("CORE-000767",), scope=SDTM, kind="study",
          category="Cross-reference")
def object_matches_parent(ctx):
    """A Findings About record (FAOBJ, or any --OBJ) linked by RELREC to an Events/Interventions record is
    about that record, so its --OBJ names the parent's --DECOD (its --TERM or --TRT when it has no
    --DECOD). Compared without regard to case (FAOBJ is often upper case); reported on the parent record,
    where CORE reports it."""
    relrec = ctx.get("RELREC")
    need = {"RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "RELID"}
    if relrec is None or not need <= set(relrec.frame.columns):
        return []
    links = _resolve_links(ctx, relrec.frame)
    if links.empty:
        return []
    objects = links[links["role"] == "object"]
    parents = links[links["role"] == "parent"]
    pairs = parents.merge(objects, on=["s", "r"], suffixes=("", "_obj"))
    pairs = pairs[(pairs["name"] != "") & (pairs["name"].str.upper() != pairs["name_obj"].str.upper())]
    out = []
    for dataset, group in pairs.groupby("ds", sort=True):
        ds = ctx.get(dataset)
        group = group.drop_duplicates(["pos", "name_obj"]).sort_values(["pos", "name_obj"])
        shown = group["var"] + "=" + group["name"] + ", " + group["var_obj"] + "=" + group["name_obj"]
        for (var, obj), sub in group.groupby(["var", "var_obj"], sort=True):
            out += findings_at(RULES["TF-REL-004"], ds, ds.frame.index[sub["pos"].to_numpy()], variable=var,
                               values=list(shown[sub.index]),
                               message=f"{var} of the parent record differs from {obj} of the Findings About "
                                       f"record related to it in RELREC")
    return out


def _resolve_links(ctx, rel: pd.DataFrame) -> pd.DataFrame:
    """RELREC record-level rows resolved to records: subject (s), RELID (r), dataset (ds), row position
    (pos), role (object: has --OBJ; parent: has --DECOD/--TERM/--TRT), the variable and its value."""
    work = pd.DataFrame({"s": text(rel["USUBJID"]), "r": text(rel["RELID"]), "rd": text(rel["RDOMAIN"]),
                         "iv": text(rel["IDVAR"]), "val": text(rel["IDVARVAL"])})
    work = work[(work["s"] != "") & (work["r"] != "") & (work["iv"] != "")]
    rows = []
    for (rdomain, idvar), group in work.groupby(["rd", "iv"], sort=True):
        parent = ctx.get(rdomain)
        if parent is None or idvar not in parent.frame or "USUBJID" not in parent.frame:
            continue                                   # TF-REF-002/003 report these
        f = parent.frame
        p = rdomain.upper()[:2]
        role, var = _object_or_parent(f, p)
        if role is None:
            continue
        key = pd.Series(np.arange(len(f)), index=(text(f["USUBJID"]) + "\x1f" + key_text(f[idvar])).to_numpy())
        key = key[~key.index.duplicated()]
        pos = key.reindex((group["s"] + "\x1f" + group["val"]).to_numpy())
        found = pos.notna().to_numpy()
        names = text(f[var]).to_numpy()
        take = pos.to_numpy()[found].astype(int)
        rows.append(pd.DataFrame({"s": group["s"].to_numpy()[found], "r": group["r"].to_numpy()[found],
                                  "ds": rdomain.upper(), "pos": take, "role": role, "var": var,
                                  "name": names[take]}))
    if not rows:
        return pd.DataFrame(columns=["s", "r", "ds", "pos", "role", "var", "name"])
    return pd.concat(rows, ignore_index=True)


def _object_or_parent(frame, p):
    """('object', --OBJ) for a Findings About dataset, ('parent', the naming variable) for a dataset whose
    records name a thing (--DECOD when populated anywhere, else --TERM, else --TRT), else (None, None)."""
    if f"{p}OBJ" in frame:
        return "object", f"{p}OBJ"
    for suffix in ("DECOD", "TERM", "TRT"):
        col = f"{p}{suffix}"
        if col in frame and (text(frame[col]) != "").any():
            return "parent", col
    return None, None
