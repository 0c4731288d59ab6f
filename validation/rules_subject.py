"""Subject-level consistency across domains: arms and the SDTMIG 3.3+ ARMNRS convention, treated /
randomized subjects and their reference dates, death across DM/AE/DS, disposition and consent
records, demographics, population flags in SUPPDM, and EPOCH/--DY presence."""
from __future__ import annotations

import re

import pandas as pd

from .context import findings_at, populated, series_of, text, text_len, text_match
from .dates import has_complete_date
from .families import TRIAL_DESIGN, filled
from .registry import RULES, SDTM, register

E, W, N = "error", "warning", "notice"
NOT_ASSIGNED = ("SCRNFAIL", "NOTASSGN")
NOT_TREATED = ("SCRNFAIL", "NOTASSGN", "NOTTRT")
NOT_ASSIGNED_ARM = ("SCREEN FAILURE", "NOT ASSIGNED")
NOT_TREATED_ARM = ("SCREEN FAILURE", "NOT ASSIGNED", "NOT TREATED")


def _rule(rid, severity, message, p21=(), publisher=(), domains=("DM",), kind="dataset", category="Consistency",
          since=None):
    return register(rid, severity, message, scope=SDTM, p21=p21, publisher=publisher, domains=domains, kind=kind,
                    category=category, since=since)


def _col(f, name):
    return text(f[name]) if name in f else pd.Series("", index=f.index)


def assigned(f, ctx=None) -> pd.Series:
    """Randomized / assigned: ARMCD populated, and (before SDTMIG 3.3, which retired the reserved codes
    in favour of a null arm with ARMNRS) not a reserved not-assigned code."""
    code = _col(f, "ARMCD").str.upper()
    version = (ctx.options.get("ig_version") if ctx is not None else None) or "3.4"
    if tuple(int(x) for x in version.split(".")) >= (3, 3):
        return code != ""
    return (code != "") & ~code.isin(NOT_ASSIGNED)


def treated(f) -> pd.Series:
    code = _col(f, "ACTARMCD").str.upper()
    return (code != "") & ~code.isin(NOT_TREATED)


# ---- arms: the SDTMIG 3.3+ convention (null arm + ARMNRS) -------------------------------------------

@_rule("TF-ARM-005", W, "ARM/ACTARM value is not an ARM of TA", p21=("SD2003",), publisher=("CG0118", "CG0514"),
       kind="study", domains=(), category="Cross-reference")
def arm_name_in_ta(ctx):
    dm, ta = ctx.get("DM"), ctx.get("TA")
    if dm is None or ta is None or "ARM" not in ta.frame:
        return []
    known = set(text(ta.frame["ARM"]))
    out = []
    for var in ("ARM", "ACTARM"):
        if var in dm.frame:
            v = text(dm.frame[var])
            out += findings_at(RULES["TF-ARM-005"], dm, (v != "") & ~v.isin(known), variable=var,
                               message=f"{var} is not an ARM of TA")
    return out


@_rule("TF-ARM-006", W, "ARMCD/ARM is populated for a subject not assigned to treatment", p21=("SD1363",),
       publisher=("CG0523", "CG0570"), since="3.3")
def arm_for_unassigned(dataset, ctx):
    f = dataset.frame
    code, name = _col(f, "ARMCD").str.upper(), _col(f, "ARM").str.upper()
    bad = code.isin(NOT_ASSIGNED) | name.isin(NOT_ASSIGNED_ARM)
    return findings_at(RULES["TF-ARM-006"], dataset, bad, variable="ARM", values=_col(f, "ARMCD") + " / " + _col(f, "ARM"),
                       message="ARMCD/ARM hold a not-assigned value; SDTMIG 3.3+ leaves them null and sets ARMNRS")


@_rule("TF-ARM-007", W, "ACTARMCD/ACTARM is populated for a subject who wasn't treated", p21=("SD1364",),
       publisher=("CG0524",), since="3.3")
def actarm_for_untreated(dataset, ctx):
    f = dataset.frame
    code, name = _col(f, "ACTARMCD").str.upper(), _col(f, "ACTARM").str.upper()
    bad = code.isin(NOT_TREATED) | name.isin(NOT_TREATED_ARM)
    return findings_at(RULES["TF-ARM-007"], dataset, bad, variable="ACTARM",
                       values=_col(f, "ACTARMCD") + " / " + _col(f, "ACTARM"))


@_rule("TF-ARM-008", W, "ARMNRS is not populated, when ACTARMCD or ACTARM is null", p21=("SD1358",),
       publisher=("CG0513", "CG0515"), since="3.3")
def armnrs_when_no_actarm(dataset, ctx):
    f = dataset.frame
    if "ACTARMCD" not in f and "ACTARM" not in f:
        return []
    bad = (~filled(f, "ACTARMCD") | ~filled(f, "ACTARM")) & ~filled(f, "ARMNRS")
    return findings_at(RULES["TF-ARM-008"], dataset, bad, variable="ARMNRS")


@_rule("TF-ARM-009", W, "ARMNRS is not populated when ARMCD/ARM are not provided", p21=("SD1359",),
       publisher=("CG0517", "CG0519"), since="3.3")
def armnrs_when_no_arm(dataset, ctx):
    f = dataset.frame
    if "ARMCD" not in f and "ARM" not in f:
        return []
    bad = (~filled(f, "ARMCD") | ~filled(f, "ARM")) & ~filled(f, "ARMNRS")
    return findings_at(RULES["TF-ARM-009"], dataset, bad, variable="ARMNRS")


@_rule("TF-ARM-010", W, "ARMNRS is populated, but ARMCD and ACTARMCD are populated", p21=("SD1360",),
       publisher=("CG0520",), since="3.3")
def armnrs_with_arms(dataset, ctx):
    f = dataset.frame
    bad = filled(f, "ARMNRS") & filled(f, "ARMCD") & filled(f, "ACTARMCD")
    return findings_at(RULES["TF-ARM-010"], dataset, bad, variable="ARMNRS")


@_rule("TF-ARM-011", W, "RFENDTC is populated when ARMNRS is not null", p21=("SD1366",), publisher=("CG0530",),
       since="3.3")
def rfendtc_with_armnrs(dataset, ctx):
    f = dataset.frame
    return findings_at(RULES["TF-ARM-011"], dataset, filled(f, "ARMNRS") & filled(f, "RFENDTC"), variable="RFENDTC")


@_rule("TF-ARM-012", N, "ACTARMCD does not equal ARMCD", p21=("SD2236",), publisher=("FDAB025", "CG0127"))
def actarmcd_is_armcd(dataset, ctx):
    f = dataset.frame
    a, b = _col(f, "ARMCD"), _col(f, "ACTARMCD")
    if "ARMCD" not in f or "ACTARMCD" not in f:
        return []
    return findings_at(RULES["TF-ARM-012"], dataset, (a != "") & (b != "") & (a != b), variable="ACTARMCD",
                       values=lambda: a + " -> " + b)


@_rule("TF-ARM-013", N, "ACTARM does not equal ARM", p21=("SD2237",), publisher=("FDAB025", "CG0119", "CG0122"))
def actarm_is_arm(dataset, ctx):
    f = dataset.frame
    if "ARM" not in f or "ACTARM" not in f:
        return []
    a, b = _col(f, "ARM"), _col(f, "ACTARM")
    return findings_at(RULES["TF-ARM-013"], dataset, (a != "") & (b != "") & (a != b), variable="ACTARM",
                       values=lambda: a + " -> " + b)


@_rule("TF-ARM-014", W, "Unexpected value for ARMCD variable (a reserved not-assigned code in TA)", p21=("SD1053",),
       publisher=("CG0244",), domains=("TA", "TV"))
def reserved_arm_in_ta(dataset, ctx):
    code = _col(dataset.frame, "ARMCD").str.upper()
    return findings_at(RULES["TF-ARM-014"], dataset, code.isin(NOT_TREATED + ("UNPLAN",)), variable="ARMCD")


@_rule("TF-ARM-015", W, "ARMCD value of TA is not present in DM", p21=("SD1354",), kind="study", domains=(),
       category="Cross-reference")
def ta_arm_used(ctx):
    dm, ta = ctx.get("DM"), ctx.get("TA")
    if dm is None or ta is None or "ARMCD" not in ta.frame or "ARMCD" not in dm.frame:
        return []
    used = set(text(dm.frame["ARMCD"]))
    code = text(ta.frame["ARMCD"])
    first = ~ta.frame.duplicated(["ARMCD"])
    return findings_at(RULES["TF-ARM-015"], ta, (code != "") & ~code.isin(used) & first, variable="ARMCD")


# ---- reference dates by status ---------------------------------------------------------------------------

def _status_rule(rid, message, p21, publisher, var, who, severity=W):
    @_rule(rid, severity, message, p21=p21, publisher=publisher)
    def check(dataset, ctx):
        f = dataset.frame
        return findings_at(RULES[rid], dataset, who(f, ctx) & ~filled(f, var), variable=var,
                           message=f"{var} is null for a {'treated' if who is _treated else 'randomized'} subject")
    return check


def _exposed(ctx) -> set:
    ex = ctx.get("EX")
    if ex is None or "USUBJID" not in ex.frame:
        return set()
    return set(text(ex.frame["USUBJID"]))


def _treated(f, ctx):
    subj = _col(f, "USUBJID")
    return treated(f) | subj.isin(_exposed(ctx))


def _randomized(f, ctx):
    return assigned(f, ctx)


_status_rule("TF-DM-010", "RFSTDTC is not provided for a randomized subject", ("SD0087",), ("CG0146", "CG0532"),
             "RFSTDTC", _randomized)
_status_rule("TF-DM-011", "RFENDTC is not provided for a randomized subject", ("SD0088",), ("CG0529",), "RFENDTC",
             _randomized)
_status_rule("TF-DM-012", "RFSTDTC is not provided for a treated subject", ("SD1213",), ("FDAB038",), "RFSTDTC",
             _treated)
_status_rule("TF-DM-013", "RFENDTC is not provided for a treated subject", ("SD1376",), ("CG0142",), "RFENDTC",
             _treated)
_status_rule("TF-DM-014", "Missing value for RFXSTDTC when subject is treated", ("SD1343",), ("FDAB038",), "RFXSTDTC",
             _treated)


@_rule("TF-DM-015", W, "No Exposure record found for a treated subject", p21=("SD0070",), publisher=("FDAB023", "CG0109"))
def treated_has_exposure(dataset, ctx):
    if ctx.get("EX") is None:
        return []
    f = dataset.frame
    bad = treated(f) & ~_col(f, "USUBJID").isin(_exposed(ctx))
    return findings_at(RULES["TF-DM-015"], dataset, bad, variable="USUBJID")


@_rule("TF-DM-016", W, "EX record is present when subject is not assigned to an arm", p21=("SD0079",),
       publisher=("FDAB023",))
def exposure_needs_arm(dataset, ctx):
    f = dataset.frame
    if "ARMCD" not in f:
        return []
    bad = ~assigned(f, ctx) & _col(f, "USUBJID").isin(_exposed(ctx))
    return findings_at(RULES["TF-DM-016"], dataset, bad, variable="ARMCD")


@_rule("TF-DM-017", W, "EX record is present when subject is not treated", p21=("SD1340",), publisher=("FDAB023",))
def exposure_needs_treatment(dataset, ctx):
    f = dataset.frame
    if "ACTARMCD" not in f:
        return []
    bad = ~treated(f) & _col(f, "USUBJID").isin(_exposed(ctx))
    return findings_at(RULES["TF-DM-017"], dataset, bad, variable="ACTARMCD")


@_rule("TF-DM-018", W, "RFSTDTC is populated for subject who did not receive treatment", p21=("SD1373",),
       publisher=("CG0534",), since="3.3")
def rfstdtc_untreated(dataset, ctx):
    f = dataset.frame
    if "ACTARMCD" not in f:
        return []
    bad = ~_treated(f, ctx) & filled(f, "RFSTDTC") & ~filled(f, "RFXSTDTC")
    return findings_at(RULES["TF-DM-018"], dataset, bad, variable="RFSTDTC")


# ---- demographics -----------------------------------------------------------------------------------------

@_rule("TF-DM-019", E, "SUBJID is not unique for each subject within study", p21=("SD1001",), publisher=("CG0150",))
def subjid_unique(dataset, ctx):
    f = dataset.frame
    if "SUBJID" not in f or "USUBJID" not in f:
        return []
    keys = [c for c in ("STUDYID", "SITEID", "SUBJID") if c in f and c != "SITEID"]
    pairs = f[keys + ["USUBJID"]].drop_duplicates()
    many = pairs.duplicated(keys, keep=False)
    bad_keys = set(map(tuple, pairs.loc[many, keys].astype(str).to_numpy()))
    mask = pd.Series([tuple(r) in bad_keys for r in f[keys].astype(str).to_numpy()], index=f.index)
    return findings_at(RULES["TF-DM-019"], dataset, mask, variable="SUBJID")


@_rule("TF-DM-020", W, "Neither AGE nor AGETXT values are populated", p21=("SD1121", "SD2023"), publisher=("FDAB005",))
def age_given(dataset, ctx):
    f = dataset.frame
    return findings_at(RULES["TF-DM-020"], dataset, ~filled(f, "AGE") & ~filled(f, "AGETXT"), variable="AGE")


@_rule("TF-DM-021", W, "Both AGE and AGETXT variables values are populated", p21=("SD2020",), publisher=("FDAB005",))
def age_once(dataset, ctx):
    f = dataset.frame
    return findings_at(RULES["TF-DM-021"], dataset, filled(f, "AGE") & filled(f, "AGETXT"), variable="AGETXT")


@_rule("TF-DM-022", W, "Missing values for both AGE and AGETXT when AGEU is provided", p21=("SD2021",),
       publisher=("CG0434",))
def age_with_unit(dataset, ctx):
    f = dataset.frame
    return findings_at(RULES["TF-DM-022"], dataset, filled(f, "AGEU") & ~filled(f, "AGE") & ~filled(f, "AGETXT"),
                       variable="AGE")


# ---- death across domains ---------------------------------------------------------------------------------

def _subjects_where(ctx, name, var, value):
    ds = ctx.get(name)
    if ds is None or var not in ds.frame or "USUBJID" not in ds.frame:
        return None
    return set(text(ds.frame["USUBJID"])[text(ds.frame[var]) == value])


def _death_rule(rid, message, p21, pub, source):
    @_rule(rid, W, message, p21=p21, publisher=pub)
    def check(dataset, ctx):
        f = dataset.frame
        subjects = source(ctx)
        if subjects is None or "DTHFL" not in f and not subjects:
            return []
        bad = _col(f, "USUBJID").isin(subjects) & (_col(f, "DTHFL") != "Y")
        return findings_at(RULES[rid], dataset, bad, variable="DTHFL")
    return check


_death_rule("TF-DTH-001", "DTHFL does not equal 'Y' when AE.AEOUT = 'FATAL'", ("SD1254",), ("CG0134",),
            lambda ctx: _subjects_where(ctx, "AE", "AEOUT", "FATAL"))
_death_rule("TF-DTH-002", "DTHFL does not equal 'Y' when AE.AESDTH = 'Y'", ("SD1255",), ("CG0135",),
            lambda ctx: _subjects_where(ctx, "AE", "AESDTH", "Y"))
_death_rule("TF-DTH-003", "DTHFL does not equal 'Y' when DS.DSDECOD = 'DEATH'", ("SD1256",), ("CG0136",),
            lambda ctx: _subjects_where(ctx, "DS", "DSDECOD", "DEATH"))
_death_rule("TF-DTH-004", "DTHFL does not equal 'Y' when SS.SSSTRESC = 'DEAD'", ("SD1252",), ("CG0132",),
            lambda ctx: _subjects_where(ctx, "SS", "SSSTRESC", "DEAD"))
_death_rule("TF-DTH-005", "DTHFL does not equal 'Y' when DD record is present", ("SD1253",), ("CG0133",),
            lambda ctx: set(text(ctx.get("DD").frame["USUBJID"])) if ctx.get("DD") is not None else None)


@_rule("TF-DTH-006", W, "Missing 'DEATH' record for subject in DS domain", p21=("SD1316",), publisher=("CG0067",))
def death_in_ds(dataset, ctx):
    deaths = _subjects_where(ctx, "DS", "DSDECOD", "DEATH")
    if deaths is None or "DTHFL" not in dataset.frame:
        return []
    f = dataset.frame
    return findings_at(RULES["TF-DTH-006"], dataset, (_col(f, "DTHFL") == "Y") & ~_col(f, "USUBJID").isin(deaths),
                       variable="DTHFL")


# ---- disposition and consent ----------------------------------------------------------------------------

def _ds_subjects(ctx, where=None):
    ds = ctx.get("DS")
    if ds is None or "USUBJID" not in ds.frame:
        return None
    f = ds.frame
    mask = pd.Series(True, index=f.index) if where is None else where(f)
    return set(text(f["USUBJID"])[mask])


def _ds_rule(rid, message, p21, pub, where, severity=W):
    @_rule(rid, severity, message, p21=p21, publisher=pub)
    def check(dataset, ctx):
        subjects = _ds_subjects(ctx, where)
        if subjects is None:
            return []
        subj = _col(dataset.frame, "USUBJID")
        return findings_at(RULES[rid], dataset, ~subj.isin(subjects) & (subj != ""), variable="USUBJID")
    return check


_ds_rule("TF-DS-002", "No Disposition record found for subject", ("SD1374",), ("CG0540",), None)
_ds_rule("TF-DS-003", "No DISPOSITION EVENT record found for subject", ("SD2288",), (),
         lambda f: _col(f, "DSCAT") == "DISPOSITION EVENT")
_ds_rule("TF-DS-004", "No Informed Consent Obtained record in DS domain for subject", ("SD1240",), (),
         lambda f: _col(f, "DSDECOD") == "INFORMED CONSENT OBTAINED")


@_rule("TF-DS-005", W, "DSDECOD is not 'COMPLETED' when DSTERM='COMPLETED'", p21=("SD1314",), publisher=("CG0065",),
       domains=("DS",))
def completed_term(dataset, ctx):
    f = dataset.frame
    bad = (_col(f, "DSTERM").str.upper() == "COMPLETED") & (_col(f, "DSDECOD") != "COMPLETED")
    return findings_at(RULES["TF-DS-005"], dataset, bad, variable="DSDECOD")


@_rule("TF-DS-006", W, "Multiple disposition events for the same DSSCAT and EPOCH", p21=("SD1367",),
       publisher=("CG0536", "CG0537"), domains=("DS",))
def one_disposition_per_epoch(dataset, ctx):
    f = dataset.frame
    if not {"USUBJID", "DSCAT", "EPOCH"} <= set(f.columns):
        return []
    sel = _col(f, "DSCAT") == "DISPOSITION EVENT"
    keys = ["USUBJID", "EPOCH"] + (["DSSCAT"] if "DSSCAT" in f else [])
    sub = f.loc[sel, keys].astype(object).where(f.loc[sel, keys].notna(), "")
    dup = sub.duplicated(keep="first").reindex(f.index, fill_value=False)
    return findings_at(RULES["TF-DS-006"], dataset, dup, variable="DSDECOD")


# ---- population flags in SDTM ------------------------------------------------------------------------------

POPULATION_QNAM = re.compile(r"^(ITT|SAFETY|EFFICACY|PPROT|FULLSET|COMPLT[0-9]*|(SAF|ITT|FAS|PPROT|COMPL|RAND|ENRL|EFF)FL)$")


@_rule("TF-SUPP-006", W, "ADSL Population Flags provided in SDTM", p21=("SD1365",), publisher=("CG0138", "CG0528"),
       domains=("SUPPDM", "DM"), since="3.3")
def population_flags_in_sdtm(dataset, ctx):
    f = dataset.frame
    if dataset.name.upper() == "DM":
        cols = [c for c in f.columns if POPULATION_QNAM.match(c)]
        return [RULES["TF-SUPP-006"].finding(dataset.name, variable=c, value=c) for c in cols]
    if "QNAM" not in f:
        return []
    q = _col(f, "QNAM")
    return findings_at(RULES["TF-SUPP-006"], dataset, text_match(q, POPULATION_QNAM.pattern), variable="QNAM")


# ---- EPOCH and study days present where dates are -------------------------------------------------------

OBSERVATION_CLASSES = ("EVENTS", "INTERVENTIONS", "FINDINGS", "FINDINGS ABOUT")


@register("TF-EP-003", W, "Missing EPOCH value when a start or observation date is provided", p21=("SD1339",),
          publisher=("FDAB022",), scope=SDTM, category="Presence")
def epoch_present(dataset, ctx):
    """Subject-level observations on or after consent carry EPOCH (history before the study does not)."""
    name = dataset.name.upper()
    std = ctx.standard_dataset(name)
    if std is None or (std.cls or "").upper() not in OBSERVATION_CLASSES or name in ("MH",) + TRIAL_DESIGN:
        return []
    f = dataset.frame
    date_col = next((c for c in (f"{name[:2]}STDTC", f"{name[:2]}DTC") if c in f), None)
    if date_col is None or "USUBJID" not in f:
        return []
    dated = text_len(text(f[date_col])) >= 10   # EPOCH is assigned from a complete date only
    from .rules_reference_dates import dm_value
    from .dates import after
    consent = dm_value(ctx, dataset, "RFICDTC")
    if consent is not None:
        dated &= ~after(consent, f[date_col])          # not before consent (components trim, as text() does)
    if "EPOCH" not in f:
        n = int(dated.sum())
        if not n:
            return []
        return [RULES["TF-EP-003"].finding(dataset.name, variable="EPOCH", value=f"{n} records",
                                            message=f"EPOCH variable is absent although {n} records have {date_col}")]
    return findings_at(RULES["TF-EP-003"], dataset, dated & ~filled(f, "EPOCH"), variable="EPOCH",
                       values=text(f[date_col]))


def _day_populated(rid, dtc_sfx, dy_sfx):
    def check(dataset, ctx):
        name = dataset.name.upper()
        if name in TRIAL_DESIGN or "USUBJID" not in dataset.frame:
            return []
        p = name[:2]
        f = dataset.frame
        dtc, dy = f"{p}{dtc_sfx}", f"{p}{dy_sfx}"
        if dtc not in f or dy not in f:
            return []
        from .rules_reference_dates import dm_value
        ref = dm_value(ctx, dataset, "RFSTDTC")
        if ref is None:
            return []
        bad = has_complete_date(f[dtc]) & has_complete_date(ref) & ~populated(f[dy]).to_numpy()
        return findings_at(RULES[rid], dataset, series_of(bad, f.index), variable=dy,
                           message=f"{dy} is null although {dtc} and RFSTDTC are complete dates")
    return check


for _rid, _d, _y, _p21, _pub in (("TF-DY-004", "DTC", "DY", "SD1084", ("FDAB016", "CG0006")),
                                 ("TF-DY-005", "STDTC", "STDY", "SD1088", ()),
                                 ("TF-DY-006", "ENDTC", "ENDY", "SD1092", ())):
    register(_rid, W, f"--{_y} variable value is not populated", scope=SDTM, p21=(_p21,), publisher=_pub,
             category="Presence")(_day_populated(_rid, _d, _y))


# ---- dictionary variables --------------------------------------------------------------------------------

@register("TF-DIC-001", W, "Not the same values for --SOC and --BODSYS", p21=("SD1462",), publisher=("CG0039",),
          scope=SDTM, category="Consistency")
def soc_is_bodsys(dataset, ctx):
    """MedDRA-coded domains: --BODSYS is the primary SOC; an absent --SOC cannot show it."""
    p = dataset.name.upper()[:2]
    f = dataset.frame
    body, soc = f"{p}BODSYS", f"{p}SOC"
    from .rules_timing import model_variables
    if body not in f or f"{p}DECOD" not in f or (ctx.standard_variable(dataset.name, soc) is None
                                                 and soc not in model_variables(dataset, ctx)):
        return []
    if soc not in f:
        n = int(filled(f, body).sum())
        return [RULES["TF-DIC-001"].finding(dataset.name, variable=soc, value=f"{n} records",
                                             message=f"{soc} is absent, so {body} on {n} records cannot be "
                                                     f"shown to be the primary SOC")] if n else []
    b, s = text(f[body]), text(f[soc])
    return findings_at(RULES["TF-DIC-001"], dataset, (b != "") & (b != s), variable=soc, values=lambda: b + " vs " + s)


@register("TF-DIC-002", W, "Not the same values for --SOCCD and --BDSYCD", p21=("SD1463",), publisher=("CG0037",),
          scope=SDTM, category="Consistency")
def soccd_is_bdsycd(dataset, ctx):
    p = dataset.name.upper()[:2]
    f = dataset.frame
    if f"{p}SOCCD" not in f or f"{p}BDSYCD" not in f:
        return []
    a, b = text(f[f"{p}BDSYCD"]), text(f[f"{p}SOCCD"])
    return findings_at(RULES["TF-DIC-002"], dataset, (a != "") & (b != "") & (a != b), variable=f"{p}SOCCD")


@register("TF-AE-007", W, "No Treatment Emergent info for Adverse Event", p21=("SD1097", "SD1321"),
          publisher=("FDAB001",), scope=SDTM, domains=("AE",), category="Presence")
def treatment_emergent_info(dataset, ctx):
    if "AETRTEM" in dataset.frame:
        return []
    supp = ctx.get("SUPPAE")
    if supp is not None and "QNAM" in supp.frame and (text(supp.frame["QNAM"]) == "AETRTEM").any():
        return []
    return [RULES["TF-AE-007"].finding(dataset.name, variable="AETRTEM", value="AETRTEM",
                                        message="neither AE nor SUPPAE carries AETRTEM (treatment-emergent flag)")]
