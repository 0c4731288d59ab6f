"""define.xml origin and derivation text of every ADaM variable (and SDTM PP), as data.

Define-XML 2.1 / ADaMIG terms: a variable copied unchanged from SDTM or from ADSL is "Predecessor" with
the source named ("DM.AGE", "ADSL.TRT01A", "SUPPDM.QVAL where QNAM = 'PART'"); a computed one is "Derived"
with a method text a reviewer can follow (MethodDef, Type "Imputation" for dates that impute, else
"Computation"); a constant the recipe or spec sets (PARAMCD, SRCDOM...) is "Assigned".

Where a rule depends on the study's ADaM spec (TEAE window start, date imputation, analyte, BLQ rules),
the text is a template filled from the spec (``origin_context``); spec-defined variables (``merged_vars``,
``populations``, ``category_flags``) get their rule generated from their spec item. Lookup order for
(dataset, variable): spec-generated rule, ``RULES[(dataset, variable)]``, the variables a recipe copies
(``COPIED``: its SDTM parent's or ADSL's), ``RULES[("*", variable)]``. Texts describe the recipe code in
adam/recipes/; change both together (tests/test_adam_metadata.py checks every Predecessor against the
data and every Derived variable for a method).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from trialforge.specs.standards import load_standard

from .adsl_vars import declared
from .config import HOURS_PER_UNIT, AdamConfig
from .recipes import adae, adcm, adex, adlb, adrs, adsl, adtte, pk

PREDECESSOR, DERIVED, ASSIGNED = "Predecessor", "Derived", "Assigned"


@dataclass(frozen=True)
class Rule:
    """One variable's origin. ``text``: the source for a Predecessor, the method for a Derived variable, a
    comment for an Assigned one; ``{name}`` placeholders are filled from ``origin_context``."""

    origin: str
    text: str | None = None
    method_type: str = "Computation"     # or "Imputation", or a "{placeholder}"


@dataclass(frozen=True)
class Choice:
    """A rule picked by a context value, for the few variables whose origin type depends on the spec."""

    key: str
    options: Mapping[object, Rule]


def P(source: str) -> Rule:
    return Rule(PREDECESSOR, source)


def D(method: str, method_type: str = "Computation") -> Rule:
    return Rule(DERIVED, method, method_type)


def A(comment: str | None = None) -> Rule:
    return Rule(ASSIGNED, comment)


def _copies(source: str, names: Iterable[str]) -> dict[str, Rule]:
    return {n: P(f"{source}.{n}") for n in names}


# Variables each recipe copies unchanged from its SDTM parent or from ADSL (the recipes' own lists).
COPIED: dict[str, dict[str, Rule]] = {
    "ADSL": _copies("DM", adsl.DM_VARS),
    "ADAE": {**_copies("AE", adae.AE_VARS + ["STUDYID", "USUBJID"]), **_copies("ADSL", adae.ADSL_VARS)},
    "ADLB": {**_copies("LB", ["STUDYID", "USUBJID", "LBSEQ"]), **_copies("ADSL", adlb.ADSL_VARS)},
    "ADRS": _copies("ADSL", ["STUDYID", "USUBJID"] + adrs.ADSL_VARS),
    "ADTTE": _copies("ADSL", ["STUDYID", "USUBJID"] + [v for v in adrs.ADSL_VARS if v != "TRTSDT"]),
    "ADPC": {**_copies("PC", ["STUDYID", "USUBJID"]), **_copies("ADSL", pk.ADSL_VARS)},
    "ADPP": _copies("ADSL", ["STUDYID", "USUBJID"] + [v for v in pk.ADSL_VARS if v != "TRTSDTM"]),
    "ADEX": {**_copies("EX", ["STUDYID", "USUBJID"]), **_copies("ADSL", adex.ADSL_VARS)},
    "ADCM": {**_copies("CM", adcm.CM_VARS + ["STUDYID", "USUBJID"]), **_copies("ADSL", adcm.ADSL_VARS)},
}

_DY = "{date} - ADSL.{ref} + 1 when {date} >= {ref}, else {date} - {ref} (no day 0)"
_DTF = ("Imputation level of {date}: 'D' = day imputed, 'M' = month and day imputed, 'Y' = year imputed, "
        "blank = not imputed")


def _dy(date: str, ref: str) -> Rule:
    return D(_DY.format(date=date, ref=ref))


RULES: dict[tuple[str, str], Rule | Choice] = {
    # ---------------------------------------------------------------- ADSL
    ("ADSL", "AGEGR1"): D("{agegr1}"),
    ("ADSL", "AGEGR1N"): D("{agegr1n}"),
    ("ADSL", "TRT01P"): Choice("trt_groups", {True: D("{trt01p}"), False: P("DM.{trt_planned}")}),
    ("ADSL", "TRT01PN"): D("{trt01pn}"),
    ("ADSL", "TRT01A"): D("{trt01a}"),
    ("ADSL", "TRT01AN"): D("{trt01an}"),
    ("ADSL", "RFICDT"): D("Date part of DM.RFICDTC (a partial date is not imputed: missing)"),
    ("ADSL", "LDSTDT"): D("Date part of the earliest EX.EXSTDTC of the lymphodepletion doses given "
                          "(EXTRT in {ld_trts}; {dose_rule})"),
    ("ADSL", "TRTSDT"): D("Date part of the earliest EX.EXSTDTC of the {product} records given (EXTRT in "
                          "{extrt}; {dose_rule})"),
    ("ADSL", "TRTSDTM"): D("EX.EXSTDTC of the first {product} record given (as TRTSDT) as a datetime; a missing "
                           "time part is imputed as 00:00:00 (TRTSTMF)", "Imputation"),
    ("ADSL", "TRTSTMF"): D("Time imputation level of TRTSDTM: 'H' = hour (and minutes, seconds) imputed, 'M' = "
                           "minutes and seconds, 'S' = seconds, blank = not imputed"),
    ("ADSL", "TRTEDT"): D("Date part of the latest EX.EXENDTC (EX.EXSTDTC when EXENDTC is blank) of the "
                          "{product} records given ({dose_rule}; {blank_end})"),
    ("ADSL", "TRTEDTM"): D("Latest EX.EXENDTC (EX.EXSTDTC when blank) of the {product} records given, as a "
                           "datetime; a missing time part is imputed as 23:59:59", "Imputation"),
    ("ADSL", "EOSSTT"): D("From the last DS record (by DSSTDTC) where {eos_filter}: 'COMPLETED' if DSDECOD = "
                          "'COMPLETED', 'DISCONTINUED' for any other DSDECOD, 'ONGOING' when there is no such record"),
    ("ADSL", "DCSREAS"): D("DS.DSDECOD of the record EOSSTT comes from when EOSSTT = 'DISCONTINUED', else "
                           "blank{dcs_sf}"),
    ("ADSL", "DTHDT"): D("{dthdt}", "Imputation"),
    ("ADSL", "DTHDTF"): D(_DTF.format(date="DTHDT")),
    ("ADSL", "DTHFL"): D("'Y' if DM.DTHFL = 'Y' or DTHDT is not missing, else blank"),
    ("ADSL", "DTHCAUS"): D("{dthcaus}"),
    ("ADSL", "LSTALVDT"): D("{lstalvdt}"),
    # ---------------------------------------------------------------- ADAE
    ("ADAE", "TRTA"): P("ADSL.TRT01A"),
    ("ADAE", "TRTAN"): P("ADSL.TRT01AN"),
    ("ADAE", "ATOXGR"): P("AE.AETOXGR"),
    ("ADAE", "ATOXGRN"): D("Numeric value of ATOXGR (AE.AETOXGR); missing when blank or not a number"),
    ("ADAE", "ASTDT"): D("{astdt}", "{astdt_type}"),
    ("ADAE", "ASTDTF"): D(_DTF.format(date="ASTDT")),
    ("ADAE", "ASTDY"): _dy("ASTDT", "TRTSDT"),
    ("ADAE", "AENDT"): D("{aendt}", "{aendt_type}"),
    ("ADAE", "AENDTF"): D(_DTF.format(date="AENDT")),
    ("ADAE", "AENDY"): _dy("AENDT", "TRTSDT"),
    ("ADAE", "ADURN"): D("AENDT - ASTDT + 1 (days); missing when either date is missing"),
    ("ADAE", "ADURU"): D("'DAYS' when ADURN is not missing, else blank"),
    ("ADAE", "TRTEMFL"): D("{trtemfl}"),
    ("ADAE", "ASTCTGR"): D("{astctgr}"),
    ("ADAE", "ASTCTGRN"): D("Numeric value of ASTCTGR; missing when blank"),
    ("ADAE", "DLTFL"): D("{dltfl}"),
    ("ADAE", "AOCCFL"): D("'Y' on the first treatment-emergent record (TRTEMFL = 'Y') of each subject, ordered by "
                          "ASTDT then AESEQ (missing ASTDT last); blank otherwise"),
    ("ADAE", "AOCCSFL"): D("'Y' on the first treatment-emergent record (TRTEMFL = 'Y') of each subject and "
                           "AEBODSYS, ordered by ASTDT then AESEQ (missing ASTDT last); blank otherwise"),
    ("ADAE", "AOCCPFL"): D("'Y' on the first treatment-emergent record (TRTEMFL = 'Y') of each subject, AEBODSYS "
                           "and AEDECOD, ordered by ASTDT then AESEQ (missing ASTDT last); blank otherwise"),
    ("ADAE", "AOCCIFL"): D("'Y' on the treatment-emergent record (TRTEMFL = 'Y') with the highest ATOXGRN of each "
                           "subject, AEBODSYS and AEDECOD (ties: earliest ASTDT, then AESEQ); blank otherwise"),
    ("ADAE", "SRCDOM"): A("'AE'"),
    ("ADAE", "SRCVAR"): A("'AEDECOD'"),
    ("ADAE", "SRCSEQ"): P("AE.AESEQ"),
    # ---------------------------------------------------------------- ADLB
    ("ADLB", "PARCAT1"): P("LB.LBCAT"),
    ("ADLB", "PARAMCD"): P("LB.LBTESTCD"),
    ("ADLB", "PARAM"): D("LB.LBTEST followed by ' (' LB.LBSTRESU ')' when LBSTRESU is not blank"),
    ("ADLB", "AVAL"): P("LB.LBSTRESN"),
    ("ADLB", "AVALC"): D("LB.LBSTRESC when LB.LBSTRESN is missing, else blank"),
    ("ADLB", "AVALU"): P("LB.LBSTRESU"),
    ("ADLB", "ADT"): D("Date part of LB.LBDTC (a partial date is not imputed: missing)"),
    ("ADLB", "ADY"): D(_DY.format(date="ADT", ref="{lb_ref}")),
    ("ADLB", "AVISIT"): P("LB.VISIT"),
    ("ADLB", "AVISITN"): P("LB.VISITNUM"),
    ("ADLB", "ABLFL"): D("{lb_ablfl}"),
    ("ADLB", "BASE"): D("AVAL of the baseline record (ABLFL = 'Y') of the same subject and PARAMCD"),
    ("ADLB", "BASEC"): D("AVALC of the baseline record (ABLFL = 'Y') of the same subject and PARAMCD for a "
                         "character parameter (no record of the PARAMCD has AVAL); blank for numeric parameters"),
    ("ADLB", "CHG"): D("AVAL - BASE on records dated after the baseline record (ADT > ADT of ABLFL = 'Y'); "
                       "blank on and before the baseline record"),
    ("ADLB", "PCHG"): D("100 * (AVAL - BASE) / BASE on the records CHG is computed for; missing when BASE is 0"),
    ("ADLB", "ANRLO"): P("LB.LBSTNRLO"),
    ("ADLB", "ANRHI"): P("LB.LBSTNRHI"),
    ("ADLB", "ANRIND"): P("LB.LBNRIND"),
    ("ADLB", "BNRIND"): D("ANRIND of the baseline record (ABLFL = 'Y') of the same subject and PARAMCD"),
    ("ADLB", "SRCDOM"): A("'LB'"),
    ("ADLB", "SRCVAR"): A("'LBSTRESN'"),
    ("ADLB", "SRCSEQ"): P("LB.LBSEQ"),
    # ---------------------------------------------------------------- ADRS
    ("ADRS", "PARAMCD"): A("{adrs_params}"),
    ("ADRS", "PARAM"): A("Text of PARAMCD: {adrs_param_text}"),
    ("ADRS", "PARAMN"): A("Order of PARAMCD: {adrs_paramn}"),
    ("ADRS", "AVALC"): D("{adrs_avalc}"),
    ("ADRS", "AVAL"): D("{adrs_aval}; SUMDIAM: {sumdiam}"),
    ("ADRS", "AVALU"): A("'mm' for SUMDIAM, blank for the response parameters"),
    ("ADRS", "ADT"): D("OVR: {rs_adt}; BOR, CBOR: ADT of the OVR record the response comes from; RSP, CRSP, CB, "
                       "CCB: ADT of the BOR/CBOR record when AVALC = 'Y', else missing; landmark parameters: ADT of "
                       "the assessment used (missing when none); SUMDIAM: date part of TR.TRDTC (a partial date is "
                       "not imputed: missing)", "{rs_adt_type}"),
    ("ADRS", "ADY"): _dy("ADT", "TRTSDT"),
    ("ADRS", "AVISIT"): D("OVR: RS.VISIT; SUMDIAM: TR.VISIT of the target-lesion measurements that date (else "
                          "of the CRF sum record); blank for the subject-level parameters"),
    ("ADRS", "AVISITN"): D("OVR: RS.VISITNUM; missing for the other parameters"),
    ("ADRS", "ABLFL"): D("SUMDIAM: 'Y' on the last record with AVAL not missing and ADT on or before ADSL.TRTSDT; "
                         "blank otherwise and for the response parameters"),
    ("ADRS", "BASE"): D("SUMDIAM: AVAL of the subject's baseline record (ABLFL = 'Y'); missing otherwise"),
    ("ADRS", "CHG"): D("SUMDIAM: AVAL - BASE, blank on the baseline record; missing for other parameters"),
    ("ADRS", "PCHG"): D("SUMDIAM: 100 * (AVAL - BASE) / BASE, blank on the baseline record and when BASE is 0"),
    ("ADRS", "ANL01FL"): D("{adrs_anl01fl}"),
    ("ADRS", "SRCDOM"): D("OVR: 'RS'; BOR, CBOR and RSP, CRSP, CB, CCB when 'Y': SRCDOM of the OVR record the "
                          "response comes from; SUMDIAM: 'TR' when the date has a CRF sum record (TRTESTCD = "
                          "'SUMDIAM'), else blank"),
    ("ADRS", "SRCVAR"): D("OVR: 'RSSTRESC'; BOR, CBOR and RSP, CRSP, CB, CCB when 'Y': SRCVAR of the OVR record "
                          "the response comes from; SUMDIAM: 'TRSTRESN' when the date has a CRF sum record"),
    ("ADRS", "SRCSEQ"): D("OVR: RS.RSSEQ; BOR, CBOR and RSP, CRSP, CB, CCB when 'Y': SRCSEQ of the OVR record the "
                          "response comes from; SUMDIAM: TR.TRSEQ of the CRF sum record of that date"),
    # ---------------------------------------------------------------- ADTTE
    ("ADTTE", "PARAMCD"): A("{tte_params}"),
    ("ADTTE", "PARAM"): A("Text of PARAMCD: {tte_param_text}"),
    ("ADTTE", "PARAMN"): A("Order of PARAMCD: {tte_paramn}"),
    ("ADTTE", "AVAL"): D("ADT - STARTDT + 1 (days), for every PARAMCD ({tte_params})"),
    ("ADTTE", "AVALU"): A("'DAYS'"),
    ("ADTTE", "CNSR"): D("0 when ADT is an event of the parameter's declared event sources, 1 when censored"),
    ("ADTTE", "STARTDT"): D("{tte_startdt}"),
    ("ADTTE", "ADT"): D("{tte_adt}"),
    ("ADTTE", "EVNTDESC"): D("OS: 'DEATH', or for censoring 'LAST KNOWN ALIVE DATE' / 'START OF TREATMENT'; PFS, "
                             "DOR: 'DISEASE PROGRESSION' or 'DEATH', or for censoring the reason: 'LAST ADEQUATE "
                             "ASSESSMENT', 'LAST ADEQUATE ASSESSMENT BEFORE NEW ANTICANCER THERAPY', 'NO ADEQUATE "
                             "POST-BASELINE ASSESSMENT', 'NO BASELINE ASSESSMENT'"),
    ("ADTTE", "CNSDTDSC"): D("The censoring reason (as EVNTDESC) on censored records (CNSR = 1); blank for events"),
    ("ADTTE", "SRCDOM"): D("{tte_src} (domain)"),
    ("ADTTE", "SRCVAR"): D("{tte_src} (date variable)"),
    ("ADTTE", "SRCSEQ"): D("{tte_src} (--SEQ; missing for ADSL)"),
    # ---------------------------------------------------------------- ADPC
    ("ADPC", "PARCAT1"): P("PC.PCSPEC"),
    ("ADPC", "PARAMCD"): D("PC.PCTESTCD; when one analyte has several specimens, followed by the profile's suffix "
                           "(the spec's pk.profiles[].paramcd_suffix, else the profile's number)"),
    ("ADPC", "PARAM"): D("PC.PCTEST (with ', ' PC.PCSPEC when the analyte has several specimens) followed by "
                         "' (' AVALU ')' when AVALU is not blank"),
    ("ADPC", "AVAL"): P("PC.PCSTRESN"),
    ("ADPC", "AVALC"): P("PC.PCSTRESC"),
    ("ADPC", "AVALU"): D("The one non-blank PC.PCSTRESU of the profile (analyte x specimen), also on samples not "
                         "done, which have no unit in PC; a profile with two units keeps each record's PC.PCSTRESU"),
    ("ADPC", "ALLOQ"): P("PC.PCLLOQ"),
    ("ADPC", "BLQFL"): D("'Y' if PC.PCSTRESC is one of {blq_results} or starts with '<', or PCSTRESN < PCLLOQ; "
                         "blank otherwise"),
    ("ADPC", "ANL01FL"): D("'Y' if AVAL is not missing or BLQFL = 'Y', and PC.PCSTAT is not 'NOT DONE'; blank "
                           "otherwise (records excluded from concentration summaries and NCA)"),
    ("ADPC", "ADT"): D("Date part of PC.PCDTC (a partial date is not imputed: missing)"),
    ("ADPC", "ADTM"): D("PC.PCDTC as a datetime; a missing time part is imputed as 00:00:00 (a partial date: "
                        "missing)", "Imputation"),
    ("ADPC", "ADY"): _dy("ADT", "TRTSDT"),
    ("ADPC", "AFRLT"): D("(ADTM - ADSL.TRTSDTM) in {time_unit}s from the start of the {product}; when either datetime "
                         "is missing, ADT - ADSL.TRTSDT"),
    ("ADPC", "NFRLT"): D("PC.PCELTM (ISO 8601 duration from the {reference}) in {time_unit}s"),
    ("ADPC", "ATPT"): P("PC.PCTPT"),
    ("ADPC", "ATPTN"): P("PC.PCTPTNUM"),
    ("ADPC", "SRCDOM"): A("'PC'"),
    ("ADPC", "SRCVAR"): A("'PCSTRESN'"),
    ("ADPC", "SRCSEQ"): P("PC.PCSEQ"),
    # ---------------------------------------------------------------- ADPP
    ("ADPP", "PARCAT1"): D("ADPC.PARCAT1 (PC.PCSPEC, the specimen) of the profile the parameter comes from"),
    ("ADPP", "PARCAT2"): D("ADPC.PARAMCD (PC.PCTESTCD, the analyte) of the profile the parameter comes from"),
    ("ADPP", "PARAMCD"): A("{adpp_params}"),
    ("ADPP", "PARAM"): A("Text of PARAMCD: {adpp_param_text}"),
    ("ADPP", "PARAMN"): A("Order of PARAMCD: {adpp_paramn}"),
    ("ADPP", "AVAL"): D("{nca}"),
    ("ADPP", "AVALU"): D("CMAX, CLST: ADPC.AVALU; TMAX, TLST: '{time_unit}'; AUCs: '{time_unit}*' ADPC.AVALU"),
    ("ADPP", "SRCDOM"): A("'ADPC'"),
    ("ADPP", "SRCVAR"): A("'AVAL'"),
    # ---------------------------------------------------------------- ADEX
    ("ADEX", "PARAMCD"): A("{adex_params}"),
    ("ADEX", "PARAM"): A("Text of PARAMCD: {adex_param_text}"),
    ("ADEX", "PARAMN"): A("Order of PARAMCD as declared in the ADaM spec"),
    ("ADEX", "AVAL"): D("{adex_aval}"),
    ("ADEX", "AVALU"): D("The parameter's unit in the ADaM spec, else EX.EXDOSU of the subject's first record "
                         "('/kg' added for doses per body weight)"),
    ("ADEX", "ASTDT"): D("Date part of the earliest EX.EXSTDTC of the parameter's records"),
    ("ADEX", "AENDT"): D("Date part of the latest EX.EXSTDTC of the parameter's records"),
    ("ADEX", "SRCDOM"): A("'EX'"),
    ("ADEX", "SRCVAR"): A("The EX variable the value comes from"),
    # ---------------------------------------------------------------- SDTM PP
    ("PP", "STUDYID"): P("PC.STUDYID"),
    ("PP", "DOMAIN"): A("'PP'"),
    ("PP", "USUBJID"): P("PC.USUBJID"),
    ("PP", "PPSEQ"): D("Sequence number within USUBJID, in the order CMAX, TMAX, CLST, TLST, AUCINT (by interval)"),
    ("PP", "PPTESTCD"): A("CDISC CT PKPARMCD: CMAX, TMAX, CLST, TLST, AUCINT"),
    ("PP", "PPTEST"): A("CDISC CT PKPARM of PPTESTCD"),
    ("PP", "PPCAT"): D("PC.PCTEST of the profile's analyte (PCTESTCD in {analytes})"),
    ("PP", "PPORRES"): D("PPSTRESC (PPSTRESN as plain decimal text, no E-notation); blank when missing"),
    ("PP", "PPORRESU"): D("{pp_units}; blank when the result is missing"),
    ("PP", "PPSTRESC"): D("PPSTRESN as plain decimal text (no E-notation), the same digits; blank when missing"),
    ("PP", "PPSTRESN"): D("{nca}; AUCINT converted from {time_unit}*unit to {pp_auc_unit}*unit "
                          "(x {pp_auc_factor:g}), rounded to the spec's pk.pp_significant_digits significant digits"),
    ("PP", "PPSTRESU"): D("{pp_units}; blank when the result is missing"),
    ("PP", "PPSTAT"): D("'NOT DONE' when PPSTRESN is missing, else blank"),
    ("PP", "PPREASND"): D("When PPSTAT = 'NOT DONE': 'PROFILE DOES NOT COVER THE INTERVAL' for AUCINT, 'NO "
                          "MEASURABLE CONCENTRATION' for the other parameters"),
    ("PP", "PPSPEC"): D("PC.PCSPEC of the profile (one profile per subject, analyte and specimen)"),
    ("PP", "PPTPTREF"): A("The spec's pk.pp_tptref when PPRFTDTC is populated, else blank"),
    ("PP", "PPRFTDTC"): D("ADSL.TRTSDTM (start of the {product}) as ISO 8601 datetime, else ADSL.TRTSDT"),
    ("PP", "PPSTINT"): D("AUCINT: start of the interval from the spec's pk.intervals as ISO 8601 duration from "
                         "PPRFTDTC (e.g. 'P0D'); blank for other parameters"),
    ("PP", "PPENINT"): D("AUCINT: end of the interval from the spec's pk.intervals as ISO 8601 duration from "
                         "PPRFTDTC (e.g. 'P28D'); blank for other parameters"),
}


# ---------------------------------------------------------------- spec-dependent texts
def readable(expr: str | None) -> str:
    """A spec filter (pandas query) as define.xml text.

    >>> readable("RSCAT == 'ECOG' and RSSTRESN == RSSTRESN")
    "RSCAT = 'ECOG' and RSSTRESN is not missing"
    """
    if not expr:
        return ""
    text = re.sub(r"\b([A-Z][A-Z0-9_]*)\s*==\s*\1\b", r"\1 is not missing", expr)
    text = re.sub(r"\b([A-Z][A-Z0-9_]*)\s*!=\s*\1\b", r"\1 is missing", text)
    return re.sub(r"\s*==\s*", " = ", text)


def source_name(domain: str, variable: str) -> str:
    """'DM.AGE' for a standard variable of the domain, else the SUPP-- qualifier it comes from."""
    domain = domain.upper()
    if load_standard("SDTMIG 3.4").variable(domain, variable) is not None:
        return f"{domain}.{variable}"
    return f"SUPP{domain}.QVAL where QNAM = '{variable}'"


_DAY_WORDS = {"first": "the first day of the month", "mid": "the 15th", "last": "the last day of the month"}
_MONTH_WORDS = {"first": "January 1", "mid": "June 30", "last": "December 31"}


def imputation_text(dtc: str, highest: str, rule: str, *, min_date: str | None = None,
                    max_date: str | None = None) -> tuple[str, str]:
    """(method text, method type) of ``derive_vars_dt`` with these arguments (adam/dates.py rules)."""
    if highest == "n":
        return f"Date part of {dtc} (a partial date is not imputed: missing)", "Computation"
    day = _DAY_WORDS.get(rule, f"day {rule[3:]} (at most the last day of the month)")
    month = _MONTH_WORDS.get(rule, f"month-day {rule}")
    text = f"Date part of {dtc}; a missing day is imputed as {day}"
    if highest in ("M", "Y"):
        text += f", a missing month (and day) as {month}"
    else:
        text += "; a date without month is not imputed (missing)"
    if highest == "Y" and (min_date or max_date):
        text += f"; a missing year takes {min_date or max_date}"
    else:
        text += "; a date without year is missing"
    if min_date:
        text += (f"; an imputed date earlier than {min_date} becomes {min_date} when {min_date} lies in the "
                 "range the partial date allows")
    if max_date:
        text += (f"; an imputed date later than {max_date} becomes {max_date} when {max_date} lies in the "
                 "range the partial date allows")
    return text, "Imputation"


def _merged_var(item: dict) -> Rule:
    """Rule of one ``adsl.merged_vars`` item (see adsl._merged_var)."""
    dom, value = item["domain"].upper(), item["value"]
    date_rules = {"on_or_before": "on or before", "on_or_after": "on or after", "after": "after"}
    if item["mode"] != "exists" and dom == "DM" and not item["filter"] and not item["date"]:
        src = source_name(dom, value)
        if item["type"] == "Num" and src.startswith("SUPP"):
            return D(f"Numeric value of {src}")
        return P(src)
    where = f" where {readable(item['filter'])}" if item["filter"] else ""
    for key, words in date_rules.items():
        if item[key]:
            rest = "all records" if key == "on_or_before" else "no record"
            where += (f"{' and' if where else ' with'} the date part of {dom}.{item['date']} {words} "
                      f"ADSL.{item[key]} ({rest} for subjects without {item[key]})")
    if item["mode"] == "exists":
        return D(f"'Y' if the subject has at least one {dom} record{where}, else 'N'")
    order = f" (ordered by {', '.join(item['order'])})" if item["order"] else ""
    return D(f"{source_name(dom, value)} of the {item['mode']} {dom} record{order}{where}")


def _population(flag: str, expr: str, helpers: Mapping[str, str], subjects: str) -> Rule:
    text = f"'Y' if {readable(expr)}, else 'N'"
    used = [h for h in helpers if re.search(rf"\b{h}\b", expr)]
    if used:
        text += "; where " + "; ".join(f"{h} = {helpers[h]}" for h in used)
    if flag == "ENRLFL":
        text += f" (ADSL holds the DM subjects where {readable(subjects)})"
    return D(text)


def _spec_rules(config: AdamConfig) -> dict[tuple[str, str], Rule]:
    """Rules of the variables the spec itself defines (merged_vars, populations, category_flags)."""
    cfg = config["adsl"]
    rules: dict[tuple[str, str], Rule] = {}
    helpers = {}
    for item in cfg["merged_vars"]:
        rule = _merged_var(item)
        if item["drop"]:
            helpers[item["new_var"]] = rule.text
        rules[("ADSL", item["new_var"])] = rule
    for item in cfg["date_vars"]:
        where = f" where {readable(item['filter'])}" if item["filter"] else ""
        text, kind = imputation_text(f"{item['domain'].upper()}.{item['date']}", item["imputation"]["highest"],
                                     item["imputation"]["rule"])
        rules[("ADSL", item["new_var"])] = D(f"The {item['mode']} date of the {item['domain'].upper()} records{where}: "
                                             + text[0].lower() + text[1:], kind)
    populations = {"ENRLFL": "USUBJID == USUBJID", "SAFFL": "TRTSDT == TRTSDT", **cfg["populations"]}
    for flag, expr in populations.items():
        rules[("ADSL", flag)] = _population(flag, expr, helpers, cfg["subjects"])
    for flag, item in config["adae"]["category_flags"].items():
        rules[("ADAE", flag)] = D(f"'Y' if {readable(item['filter'])}, else blank")
    if config["adcm"] is not None:
        rules.update(_adcm_rules(config["adcm"]))
    return rules


def _adcm_rules(c: dict) -> dict[tuple[str, str], Rule]:
    """ADCM variables whose derivation the adcm section declares (imputation, timing window, groupings)."""
    start, end, window = c["reference_start"], c["reference_end"], c["end_window_days"]
    si, ei = c["start_imputation"], c["end_imputation"]
    ast = imputation_text("CM.CMSTDTC", si["highest"], si["rule"],
                          min_date=f"ADSL.{start}" if si["rule"] == "first" else None)
    aen = imputation_text("CM.CMENDTC", ei["highest"], ei["rule"])
    close = f"ADSL.{end} + {window} days (ADSL.{start} + {window} when {end} is missing)" if window is not None \
        else None
    on = (f"'Y' if the subject has ADSL.{start} and the medication was taken on or after it: AENDT missing or "
          f">= ADSL.{start}" + (f", and ASTDT missing or <= {close}" if close else " (no end to the window)")
          + "; blank otherwise")
    rules = {
        ("ADCM", "TRTA"): P("ADSL.TRT01A"), ("ADCM", "TRTAN"): P("ADSL.TRT01AN"),
        ("ADCM", "ASTDT"): D(*ast), ("ADCM", "ASTDTF"): D(_DTF.format(date="ASTDT")),
        ("ADCM", "AENDT"): D(*aen), ("ADCM", "AENDTF"): D(_DTF.format(date="AENDT")),
        ("ADCM", "ASTDY"): _dy("ASTDT", start), ("ADCM", "AENDY"): _dy("AENDT", start),
        ("ADCM", "PREFL"): D(f"'Y' if the subject has ADSL.{start} and ASTDT is missing or before it; blank "
                             "otherwise"),
        ("ADCM", "ONTRTFL"): D(on),
        ("ADCM", "FUPFL"): D(f"'Y' if ASTDT > {close}; blank otherwise"),
        ("ADCM", "SRCDOM"): A("'CM'"), ("ADCM", "SRCSEQ"): P("CM.CMSEQ"),
    }
    for flag, item in c["category_flags"].items():
        rules[("ADCM", flag)] = D(f"'Y' if {readable(item['filter'])}, else blank")
    return rules


def _params_text(params: Mapping[str, tuple]) -> dict[str, str]:
    return {"codes": ", ".join(params), "text": "; ".join(f"{k} = '{v[0]}'" for k, v in params.items()),
            "n": ", ".join(f"{k} = {v[1]}" for k, v in params.items())}


def origin_context(config: AdamConfig) -> dict[str, object]:
    """The spec-dependent phrases the RULES templates use."""
    s, ae, rs, tte, lb, pkc = (config[k] for k in ("adsl", "adae", "adrs", "adtte", "adlb", "pk"))
    zero = s["zero_dose_counts"]
    dose_rule = "EXOCCUR not 'N'; EXDOSE > 0 or missing" + (
        ", or 0" if zero is True else (f", or 0 for EXTRT in ({', '.join(repr(z) for z in zero)})" if zero else ""))
    ctx: dict[str, object] = {"product": config["study"]["wording"]["product"],
                              "reference": config["study"]["wording"]["reference"].lower(),
                              "extrt": "(" + ", ".join(f"'{t}'" for t in s["product_extrt"]) + ")",
                              "dose_rule": dose_rule,
                              "blank_end": ("a blank EXENDTC ends the record on its EXSTDTC"
                                            if s["blank_end"] == "start"
                                            else "a record with a blank EXENDTC gives no end date"),
                              "trt_planned": s["trt_planned"],
                              "ld_trts": "(" + ", ".join(f"'{t}'" for t in s["lymphodepletion_extrt"]) + ")",
                              "eos_filter": readable(s["eos_filter"]), "time_unit": pkc["time_unit"],
                              "analyte": ", ".join(pkc["analyte"]) or "any", "lb_ref": lb["reference_date"]}
    groups = s["age_groups"]
    ctx["agegr1"] = "; ".join(
        f"'{g['label']}' if " + " and ".join(([f"AGE >= {g['ge']}"] if g["ge"] is not None else [])
                                             + ([f"AGE < {g['lt']}"] if g["lt"] is not None else []))
        for g in groups) + " (first matching group; blank when AGE is missing)" if groups else \
        "Blank: the ADaM spec defines no age groups"
    ctx["agegr1n"] = ("Number of the AGEGR1 group in the spec's order: " +
                      ", ".join(f"'{g['label']}' = {i}" for i, g in enumerate(groups, start=1))) if groups else \
        "Missing: the ADaM spec defines no age groups"
    ctx.update(_treatment_texts(s))
    causes = [f"{c['domain']}.{c['value']} of the first {c['domain']} record"
              + (f" (by {', '.join(c['order'])})" if c["order"] else "")
              + (f" where {readable(c['filter'])}" if c["filter"] else "") for c in s["dthcaus_sources"]]
    ctx["dthcaus"] = ("; when there is none, ".join(causes) + "; blank unless DTHFL = 'Y'") if causes else "Blank"
    sf = s["screen_failure"]
    ctx["eos_sf"] = (f"; subjects where {readable(sf['filter'])}: '{sf['eosstt']}'" if sf else "")
    ctx["dcs_sf"] = (f"; subjects where {readable(sf['filter'])}: '{sf['dcsreas']}'" if sf else "")
    ctx["dthdt"] = imputation_text("DM.DTHDTC", "M", "first")[0]
    sources = [f"{d['domain']}.{d['date']}" + (f" (where {readable(d['filter'])})" if d["filter"] else "")
               for d in s["last_alive_sources"]]
    ctx["lstalvdt"] = ("Latest of ADSL.TRTEDT and the complete dates (date part) of " + ", ".join(sources)
                       if sources else "ADSL.TRTEDT")
    si, ei = ae["start_imputation"], ae["end_imputation"]
    ctx["astdt"], ctx["astdt_type"] = imputation_text(
        "AE.AESTDTC", si["highest"], si["rule"], min_date="ADSL.TRTSDT" if si["rule"] == "first" else None)
    ctx["aendt"], ctx["aendt_type"] = imputation_text(
        "AE.AEENDTC", ei["highest"], ei["rule"], max_date="ADSL.DTHDT" if ei["rule"] == "last" else None)
    te = ae["trtemfl"]
    window = (f" and ASTDT <= ADSL.TRTEDT + {te['end_window_days']} days" if te["end_window_days"] is not None
              else "")
    ctx["trtemfl"] = (f"'Y' if ASTDT >= ADSL.{te['start']}{window}, or if ASTDT is missing and AENDT is missing "
                      f"or >= ADSL.{te['start']}; blank otherwise and for subjects without ADSL.{te['start']} "
                      "(dates compared at day level)")
    grades = [f"SUPPAE.QVAL where QNAM = '{q}' on records with {f} = 'Y'" for f, q in ae["astct_grade"].items()]
    ctx["astctgr"] = ("; ".join(grades) + "; blank otherwise") if grades else "Blank: no ASTCT grade in the spec"
    dlt = ae["dlt"]
    ctx["dltfl"] = (f"'Y' if {readable(dlt['filter'])} and ADSL.{dlt['window_start']} <= ASTDT < "
                    f"ADSL.{dlt['window_start']} + {dlt['window_days']} days, else blank")
    ctx.update(_adrs_texts(config))
    ctx.update(_adtte_texts(config))
    ctx["lb_ablfl"] = (f"'Y' if LB.{lb['baseline_flag']} = 'Y' and AVAL or AVALC is not missing, else blank"
                       if lb["baseline_flag"] else
                       f"'Y' on the last record with AVAL not missing and ADT on or before ADSL.{lb['baseline_date']} "
                       "per subject and PARAMCD, else blank")
    ctx.update(_pk_texts(config))
    ctx.update(_adex_texts(config))
    return ctx


def _treatment_texts(s: dict) -> dict[str, object]:
    groups = "; ".join(f"'{t['label']}' = {', '.join(t['armcd'])}" for t in s["treatments"])
    numbers = ", ".join(f"'{t['label']}' = {t['n']:g}" for t in s["treatments"])
    order = ", ".join(s["trt_order"]) or "none"
    untreated = {"": "blank", "planned": "TRT01P"}.get(s["untreated_trt01a"], f"'{s['untreated_trt01a']}'")
    rest = (f"other values numbered after the groups in the spec's trt_order ({order}), then alphabetically"
            if s["treatments"] else f"ranked in the spec's trt_order ({order}), then alphabetically")
    if s["treatments"]:
        return {"trt_groups": True,
                "trt01p": (f"Treatment group of DM.ARMCD as grouped in the ADaM spec: {groups}; an ARMCD no group "
                           f"lists: DM.{s['trt_planned']}"),
                "trt01a": (f"Treatment group of DM.ACTARMCD (same grouping as TRT01P; else DM.{s['trt_actual']}); "
                           f"{untreated} for subjects without TRTSDT (never given the product)"),
                "trt01pn": f"Number of the TRT01P group in the ADaM spec: {numbers}; {rest}",
                "trt01an": "Number of the TRT01A value (as TRT01PN); missing when TRT01A is blank"}
    return {"trt_groups": False,
            "trt01a": f"DM.{s['trt_actual']}; {untreated} for subjects without TRTSDT (never given the product)",
            "trt01pn": f"Rank of TRT01P: {rest}",
            "trt01an": f"Rank of TRT01A: {rest}"}


def _new_therapy(config: AdamConfig) -> str:
    nt = config["new_therapy"]
    if not nt["domain"]:
        return ""
    where = f" where {readable(nt['filter'])}" if nt["filter"] else ""
    return (f"the first new anticancer therapy ({nt['domain']}{where}; date part of {nt['domain']}.{nt['date']}, "
            "a missing day imputed as the 1st)")


def _codes(codes) -> str:
    return ", ".join(codes) if codes else "none"


def _adrs_texts(config: AdamConfig) -> dict[str, object]:
    r = config["adrs"]
    ref = r["reference_date"]
    rs_adt, rs_type = imputation_text("RS.RSDTC", r["date_imputation"]["highest"], r["date_imputation"]["rule"])
    nt = _new_therapy(config)
    anl = [f"ADT on or after ADSL.{ref}"]
    if r["exclude_after_pd"]:
        anl.append("not after the subject's first progression")
    if r["exclude_after_new_therapy"] and nt:
        anl.append(f"before {nt}")
    uses = adrs.criterion_uses(config)
    table = adrs.param_table(config)
    avalc, aval = [], []
    for use in uses:
        c, sfx = use["crit"], use["suffix"]
        coding = ", ".join(f"{x.code} {x.n:g}" for x in c.responses + (c.missing,) if x.n is not None)
        aval.append(f"OVR{sfx}, BOR{sfx}" + (f", CBOR{sfx}" if use["has_confirmation"] else "")
                    + f": AVALC coded {coding} (others missing)")
    for lm in r["landmarks"]:
        at = f"AVISIT = '{lm['visit']}'" if lm["visit"] is not None else (
            f"ADY closest to {lm['day']} (window {lm['window'] or [0, 0]} days)")
        text_lm = (f"{lm['paramcd']}: 'Y' if the OVR assessment (ANL01FL = 'Y') at {at} is one of "
                   f"{lm['responders']}" + (" and confirmed" if lm["confirmed"] else "")
                   + (" with no progression before it" if lm["no_prior_progression"] else "") + ", else 'N'")
        avalc.append(text_lm)
    return {
        "rs_adt": rs_adt, "rs_adt_type": rs_type,
        "adrs_params": ", ".join(table), "adrs_param_text": "; ".join(f"{k} = '{v[0]}'" for k, v in table.items()),
        "adrs_paramn": ", ".join(f"{k} = {v[1]:g}" for k, v in table.items()),
        "adrs_anl01fl": ("OVR: 'Y' for assessments with " + ", ".join(anl) + ", else blank; subject-level "
                         "response and landmark parameters: 'Y'; SUMDIAM: blank"),
        "adrs_avalc": "; ".join(_adrs_avalc_texts(config, uses) + avalc + ["SUMDIAM: blank"]),
        "adrs_aval": "; ".join(aval + ["response flags (RSP, CB, landmarks): 1 = 'Y', 0 = 'N'"]),
        "sumdiam": _sumdiam_text(uses[0]["crit"].target_sum if uses else None),
    }


def _sumdiam_text(rule) -> str:
    """The SUMDIAM method under the primary criterion's ``target_sum`` (its TR/TU codes)."""
    if rule is None:
        return "not derived (the response criterion does not sum target-lesion diameters)"
    return (f"sum of TR.TRSTRESN of the {'/'.join(rule.lesion_tests)} measurements that date of the subject's "
            f"target lesions (TU.TUSTRESC = '{rule.target_status}', TR.TRLNKID = TU.TULNKID), only when every "
            f"target lesion has a measurement; else TR.TRSTRESN of the CRF sum (TRTESTCD = '{rule.sum_test}') "
            "of that date")


def _adrs_avalc_texts(config: AdamConfig, uses: list[dict]) -> list[str]:
    r = config["adrs"]
    ref = r["reference_date"]
    pop = f" (subjects with {readable(r['population'])})" if r["population"] else ""
    out = []
    for use in uses:
        c, sfx, w = use["crit"], use["suffix"], use["window"]
        missing = c.ne_code if r["missing_as_ne"] else c.missing.code
        out.append(f"OVR{sfx}: RS.RSSTRESC as the {c.name} code, records where {readable(use['ovr_filter'])}")
        out.append(f"BOR{sfx}: best of the subject's OVR{sfx} records with ANL01FL = 'Y' in the {c.name} order "
                   f"{_codes(c.codes)}, where {_codes(c.codes_where('stable'))} count only from {w} days after "
                   f"ADSL.{ref} (earlier: {c.ne_code}); the earliest date on ties; '{missing}' when there is none{pop}")
        if use["has_confirmation"]:
            conf = c.confirmation
            gap = use["ref_confirm"] if use["ref_confirm"] is not None else conf.interval_days
            ne = use["max_nr_ne"] if use["max_nr_ne"] is not None else conf.max_ne
            stable = (1 if use["accept_sd"] else 0) if use["accept_sd"] is not None else conf.max_stable
            rules = "; ".join(f"{code} only when confirmed by {_codes(rule.confirmed_by)} at least {gap} days later "
                              f"with only {_codes(rule.between)} between"
                              + (f" and no {code} after {_codes(rule.not_after)}" if rule.not_after else "")
                              for code, rule in conf.rules.items())
            out.append(f"CBOR{sfx}: as BOR{sfx}, but {rules} (at most {ne} not evaluable and {stable} stable "
                       f"between); an unconfirmed response counts as {conf.unconfirmed_as or c.ne_code}")
        resp, ben = _codes(c.codes_where("response")), _codes(c.codes_where("benefit"))
        out.append(f"RSP{sfx}: 'Y' if BOR{sfx} is {resp}, else 'N'; CB{sfx}: 'Y' if BOR{sfx} is {ben}, else 'N'"
                   + (f"; CRSP{sfx}, CCB{sfx}: the same from CBOR{sfx}" if use["has_confirmation"] else ""))
    return out


_SOURCE_TEXT = {
    "death": "death (ADSL.DTHDT on or after STARTDT; traced to the DS death record)",
    "progression": "the first OVR assessment after STARTDT with a progression response ({progression})",
    "first_response": "the first OVR assessment (ANL01FL = 'Y') after STARTDT with a response ({responders})",
    "new_therapy": "{new_therapy}",
    "last_adequate_assessment": ("the last adequate assessment ({adequate}) after STARTDT and before the event, or "
                                 "STARTDT when there is none"),
    "last_alive": "the last known alive date (as ADSL.LSTALVDT: TRTEDT and {alive})",
    "start": "STARTDT",
}


def tte_start_text(p: dict, config: AdamConfig) -> str:
    """STARTDT of a declared parameter in words."""
    if p["start"] != "first_response":
        return f"ADSL.{p['start'] or config['adtte']['start_date']}"
    c = adrs.use_for(config, p["criterion"], key="adtte")["crit"]
    return (f"ADT of the first {'confirmed ' if p['confirmed'] and c.confirmation else ''}response "
            f"({_codes(c.select(p['responders'] or 'response'))}, {c.name}; OVR records with ANL01FL = 'Y')")


def tte_parameter_text(p: dict, config: AdamConfig) -> str:
    """define.xml text of one declared ADTTE parameter, written from the same declaration the code runs."""
    from .recipes.adtte import needs_rs
    use = adrs.use_for(config, p["criterion"], key="adtte") if needs_rs(p) else None
    c = use["crit"] if use else None
    alive = ", ".join(f"{d['domain']}.{d['date']}" for d in config["adsl"]["last_alive_sources"]) or "no other source"
    ctx = {"progression": _codes(c.codes_where("progression")) if c else "",
           "responders": _codes(c.select(p["responders"] or "response")) if c else "",
           "adequate": _codes(c.adequate) if c else "", "alive": alive,
           "new_therapy": _new_therapy(config) or "new anticancer therapy (not collected)"}

    def name(n: str) -> str:
        if n in _SOURCE_TEXT:
            return _SOURCE_TEXT[n].format(**ctx)
        spec = config["adtte"]["sources"][n]
        where = f" where {readable(spec['filter'])}" if spec["filter"] else ""
        return f"{n} ({spec['domain']}.{spec['date']}{where})"

    parts = [f"{p['paramcd']}: from {tte_start_text(p, config)}"]
    if p["events"]:
        parts.append("event = the earliest of " + "; ".join(name(e) for e in p["events"]))
    if p["censor_at"]:
        parts.append("follow-up ends at the first of " + "; ".join(name(e) for e in p["censor_at"])
                     + " (later assessments and events ignored)")
        own = [n for n in p["censor_at"] if config["adtte"]["sources"].get(n, {}).get("censor_date") == "event_date"]
        if own:
            parts.append("when follow-up ends at " + " or ".join(own) + ", censored at that date (not at the last "
                         "adequate assessment before it)")
    if p["max_gap_days"] is not None:
        parts.append(f"an event more than {p['max_gap_days']:g} days after the last adequate assessment (or "
                     "STARTDT) is not counted")
    if p["censor_no_baseline"]:
        parts.append(f"no baseline assessment ({config['adtte']['baseline_source']['domain']}): censored at STARTDT")
    if p["censors"]:
        parts.append("no counted event: censored at the latest of " + "; ".join(name(e) for e in p["censors"]))
    return ", ".join(parts)


def _adtte_texts(config: AdamConfig) -> dict[str, object]:
    params = config["adtte"]["parameters"]
    names = {p["paramcd"]: p["param"] or f"{p['paramcd']} (days)" for p in params}
    return {
        "tte_params": ", ".join(names), "tte_param_text": "; ".join(f"{k} = '{v}'" for k, v in names.items()),
        "tte_paramn": ", ".join(f"{k} = {i}" for i, k in enumerate(names, start=1)),
        "tte_startdt": "; ".join(f"{p['paramcd']}: {tte_start_text(p, config)}" for p in params),
        "tte_adt": ". ".join(tte_parameter_text(p, config) for p in params) + ". ADT is never earlier than STARTDT",
        "tte_src": ("The record ADT comes from: RS / RSDTC / RSSEQ for an assessment, DS / DSSTDTC / DSSEQ "
                    "for a death recorded in DS (else ADSL / DTHDT), the source domain / date variable / --SEQ "
                    "of other sources (last-alive sources, new therapy, study sources), ADSL / the start date "
                    "variable for censoring at an ADSL start date"),
    }


def _pk_texts(config: AdamConfig) -> dict[str, object]:
    k = config["pk"]
    tu = k["time_unit"]
    between = {"missing": "dropped", "zero": "set to 0"}[k["blq_between"]]
    after = {"exclude": "dropped", "zero": "set to 0"}[k["blq_after"]]
    pop = f"subjects with {readable(k['population'])}, " if k["population"] else ""
    time = "AFRLT" if k["time"] == "actual" else "NFRLT"
    method = ("the linear-up/log-down trapezoidal rule, C(end) interpolated (linear when rising, log-linear when "
              "falling)" if k["auc_method"] != "linear" else "the linear trapezoidal rule, C(end) interpolated "
              "linearly")
    tol = (f"; when the last sample is at most {k['interval_tolerance']:g} {tu}s before the end, AUC runs to the "
           "last sample" if k["interval_tolerance"] else "")
    intervals = ", ".join(f"{i['start']:g}-{i['end']:g}" for i in k["intervals"])
    nca = (f"Non-compartmental analysis per subject, analyte (PARCAT2) and specimen (PARCAT1) of the ADPC records "
           f"({pop}ANL01FL = 'Y', {time} >= 0), time = {time} ({tu}s): BLQ samples before the first measurable "
           f"concentration set to 0, between measurable concentrations {between}, after the last one {after}"
           + ("; a point (0, 0) added at the dose when there is no sample at time 0" if k["zero_at_dose"] else "")
           + "; CMAX = highest concentration, TMAX = its first time; CLST, TLST = last concentration > 0 and its "
           f"time; AUC over [start, end] ({intervals} {tu}s) by {method}, missing when the profile does not reach "
           f"the end (no extrapolation){tol}")
    for item in k["persistence"]:
        nca += (f"; {item['paramcd']}: first time after TMAX with a concentration at or below the last pre-dose "
                "result (BLQ or no pre-dose result: the first BLQ sample)" if item["rule"] == "baseline" else
                f"; {item['paramcd']}: first time after TMAX with a BLQ sample")
    params = pk.adpp_parameters(config, "unit")
    return {
        "nca": nca, "blq_results": "(" + ", ".join(f"'{r}'" for r in k["blq_results"]) + ")",
        "pp_auc_unit": k["pp_auc_time_unit"],
        "pp_auc_factor": HOURS_PER_UNIT[tu] / HOURS_PER_UNIT[k["pp_auc_time_unit"]],
        "pp_units": (f"CMAX, CLST: PC.PCSTRESU; TMAX, TLST: '{tu}'; AUCINT: '{k['pp_auc_time_unit']}*' "
                     "PC.PCSTRESU"),
        "adpp_params": ", ".join(p[0] for p in params),
        "adpp_param_text": "; ".join(f"{p[0]} = '{p[1]}'" for p in params),
        "adpp_paramn": ", ".join(f"{p[0]} = {i}" for i, p in enumerate(params, start=1)),
        "analytes": ", ".join(k["analyte"]) or "every PCTESTCD",
    }


def _adex_texts(config: AdamConfig) -> dict[str, object]:
    x = config["adex"]
    if x is None:
        return {"adex_params": "", "adex_param_text": "", "adex_aval": ""}
    words = {"sum": "sum", "first": "first value", "last": "last value", "max": "highest value",
             "count": "number of records"}
    avals = []
    for p in x["parameters"]:
        where = f" where {readable(p['filter'])}" if p["filter"] else ""
        text = f"{p['paramcd']}: {words[p['stat']]} of EX.{p['value']} of the EX records{where}"
        if p["per_weight"]:
            w = x["weight"]
            text += (f", divided by the body weight ({w['domain']}.{w['value']} of the last record where "
                     f"{readable(w['filter'])} on or before ADSL.{w['on_or_before']})")
        avals.append(text)
    return {"adex_params": ", ".join(p["paramcd"] for p in x["parameters"]),
            "adex_param_text": "; ".join(f"{p['paramcd']} = '{p['param']}'" for p in x["parameters"]),
            "adex_aval": "; ".join(avals)}


def _bds_rule(dataset: str, var: str, item: dict, ctx: dict) -> Rule | None:
    """A declared BDS dataset's variable: ADLB's rule with the domain's prefix, filled for that declaration."""
    import re as _re
    dom = item["domain"].upper()
    lookup = "LBSEQ" if var == f"{dom}SEQ" else var
    if var == "ANRIND" and item["anrind"] == "derive":
        return D("'LOW' if AVAL < ANRLO, 'HIGH' if AVAL > ANRHI, else 'NORMAL' (blank when AVAL or both limits "
                 "are missing)")
    rule = RULES.get(("ADLB", lookup)) or COPIED["ADLB"].get(lookup) or RULES.get(("*", lookup))
    if rule is None or isinstance(rule, Choice):
        return rule
    text = rule.text
    if var == "ABLFL":
        text = (f"'Y' if {dom}.{item['baseline_flag']} = 'Y' and AVAL or AVALC is not missing, else blank"
                if item["baseline_flag"] else
                f"'Y' on the last record with AVAL not missing and ADT on or before ADSL.{item['baseline_date']} "
                "per subject and PARAMCD, else blank")
    if text:
        text = text.replace("{lb_ref}", item["reference_date"])
        text = _re.sub(r"\bLB(?=[A-Z.])", dom, text)
    return Rule(rule.origin, text, rule.method_type)


CHARACTER_BASELINE = ("; for a character parameter (no record of the PARAMCD has AVAL) the same rule with "
                      "AVALC not blank in place of AVAL not missing")


# ---------------------------------------------------------------- lookup
class _Context(dict):
    def __missing__(self, key):                 # a template names something the context lacks: a bug here
        raise KeyError(f"origin template placeholder {{{key}}} has no value in origin_context")


def variable_origins(dataset: str, variables: Iterable[str], config: AdamConfig) -> dict[str, Rule | None]:
    """variable → filled Rule (None when no rule knows the variable: it stays Derived without a method)."""
    ctx = _Context(origin_context(config))
    spec = _spec_rules(config)
    bds = {b["dataset"].upper(): b for b in config["bds"]}
    out: dict[str, Rule | None] = {}
    variables = list(variables)
    custom = {c["dataset"].upper() for c in config["custom"]}
    copied = set(declared(config, dataset)[0]) if dataset not in {"ADSL", "PP", *custom} else set()
    for var in variables:
        if dataset in bds:
            rule = P(f"ADSL.{var}") if var in copied else _bds_rule(dataset, var, bds[dataset], ctx)
        else:
            rule = (spec.get((dataset, var)) or RULES.get((dataset, var))
                    or (P(f"ADSL.{var}") if var in copied else None) or COPIED.get(dataset, {}).get(var)
                    or RULES.get(("*", var)))
        if isinstance(rule, Choice):
            rule = rule.options[ctx[rule.key]]
        if rule is not None:
            rule = Rule(rule.origin, rule.text.format_map(ctx) if rule.text else None,
                        rule.method_type.format_map(ctx))
            if var == "ABLFL" and "BASEC" in variables and (dataset == "ADLB" or dataset in bds):
                rule = Rule(rule.origin, rule.text + CHARACTER_BASELINE, rule.method_type)
        out[var] = rule
    return out
