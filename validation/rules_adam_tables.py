"""ADaM rules that are rows of a table: paired character/numeric variables one-to-one, variables
present without their partner, values populated without their partner, label words for timing
variables, value sets, calculations and date order. ADaMIG templated names are regular expressions
((\\d\\d) for xx/zz, (\\d) for y/w)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .context import distinct_rows, findings_at, group_codes, series_of, text, text_is, texts_at
from .families import close, filled, matches, missing_when, number, one_to_one, partner, value_rule, variable_needs
from .registry import ADAM, RULES, register

E, W, N = "error", "warning", "notice"
ADAM_ANY = ("AD*",)
P = ("PARAMCD",)

# (id, severity, message, p21, publisher, key, val, within, domains)
PAIRS = [
    ("TF-ADP-001", E, "Inconsistent value for *GRyN", ("AD0037B",), (), r"([A-Z]+)GR(\d)", r"\1GR\2N"),
    ("TF-ADP-002", E, "Inconsistent value for *GRy", ("AD0038B",), (), r"([A-Z]+)GR(\d)N", r"\1GR\2"),
    ("TF-ADP-003", E, "Inconsistent value for TRTxxPN", ("AD0076B",), (), r"TRT(\d\d)P", r"TRT\1PN"),
    ("TF-ADP-004", E, "Inconsistent value for TRTxxP", ("AD0077B",), (), r"TRT(\d\d)PN", r"TRT\1P"),
    ("TF-ADP-005", E, "Inconsistent value for TRTPN", ("AD0092B",), (), "TRTP", "TRTPN"),
    ("TF-ADP-006", E, "Inconsistent value for TRTP", ("AD0093B",), (), "TRTPN", "TRTP"),
    ("TF-ADP-007", E, "Inconsistent value for TRTAN", ("AD0095B",), (), "TRTA", "TRTAN"),
    ("TF-ADP-008", E, "Inconsistent value for TRTA", ("AD0096B",), (), "TRTAN", "TRTA"),
    ("TF-ADP-009", E, "Inconsistent value for APERIODC", ("AD0105B",), (), "APERIOD", "APERIODC"),
    ("TF-ADP-010", E, "Inconsistent value for APERIOD", ("AD0106B",), (), "APERIODC", "APERIOD"),
    ("TF-ADP-011", E, "Inconsistent value for AVISITN", ("AD0109B",), (), "AVISIT", "AVISITN", P),
    ("TF-ADP-012", E, "Inconsistent value for AVISIT", ("AD0110B",), (), "AVISITN", "AVISIT", P),
    ("TF-ADP-013", E, "Inconsistent value for ATPT", ("AD0117B",), (), "ATPTN", "ATPT", P),
    ("TF-ADP-014", E, "Inconsistent value for ATPTN", ("AD0118B",), (), "ATPT", "ATPTN", P),
    ("TF-ADP-015", E, "Inconsistent value for PARAMTYP", ("AD0123",), (), "PARAMCD", "PARAMTYP"),
    ("TF-ADP-016", E, "Inconsistent value for PARCATy within a unique PARAMCD", ("AD0124",), (), "PARAMCD",
     r"PARCAT\d"),
    ("TF-ADP-017", E, "Inconsistent value for PARCATy", ("AD0125B",), (), r"PARCAT(\d)N", r"PARCAT\1"),
    ("TF-ADP-018", E, "Inconsistent value for PARCATyN", ("AD0126B",), (), r"PARCAT(\d)", r"PARCAT\1N"),
    ("TF-ADP-019", E, "Inconsistent value for BASE", ("AD0129",), (), "BASEC", "BASE", P),
    ("TF-ADP-020", E, "Inconsistent value for BASEC", ("AD0130",), (), "BASE", "BASEC", P),
    ("TF-ADP-021", E, "Inconsistent value for SHIFTy", ("AD0135B",), (), r"SHIFT(\d)N", r"SHIFT\1"),
    ("TF-ADP-022", E, "Inconsistent value for SHIFTyN", ("AD0136B",), (), r"SHIFT(\d)", r"SHIFT\1N"),
    ("TF-ADP-023", E, "Inconsistent value for PARAM", ("AD0146B",), (), "PARAMN", "PARAM"),
    ("TF-ADP-024", E, "Inconsistent value for PARAMN", ("AD0147B",), (), "PARAM", "PARAMN"),
    ("TF-ADP-025", E, "Inconsistent value for AVALC", ("AD0149B",), (), "AVAL", "AVALC", P),
    ("TF-ADP-026", E, "Inconsistent value for AVAL", ("AD0150",), (), "AVALC", "AVAL", P),
    ("TF-ADP-027", E, "Inconsistent value for CRITy within a unique PARAMCD", ("AD0151",), (), "PARAMCD", r"CRIT\d"),
    ("TF-ADP-028", E, "Inconsistent value for AVALCATy (within AVAL and PARAMCD)", ("AD0221",), (), "AVAL",
     r"AVALCAT\d", P),
    ("TF-ADP-029", E, "Inconsistent value for TRTSEQP", ("AD0227B",), (), "TRTSEQPN", "TRTSEQP"),
    ("TF-ADP-030", E, "Inconsistent value for TRTSEQPN", ("AD0228B",), (), "TRTSEQP", "TRTSEQPN"),
    ("TF-ADP-031", E, "Inconsistent value for TRTSEQA", ("AD0229B",), (), "TRTSEQAN", "TRTSEQA"),
    ("TF-ADP-032", E, "Inconsistent value for TRTSEQAN", ("AD0230B",), (), "TRTSEQA", "TRTSEQAN"),
    ("TF-ADP-033", E, "Inconsistent value for TRxxPGy within a unique TRTxxP", ("AD0231",), (), r"TRT(\d\d)P",
     r"TR\1PG\d"),
    ("TF-ADP-034", E, "Inconsistent value for TRxxPGy", ("AD0232B",), (), r"TR(\d\d)PG(\d)N", r"TR\1PG\2"),
    ("TF-ADP-035", E, "Inconsistent value for TRxxPGyN", ("AD0233",), (), r"TR(\d\d)PG(\d)", r"TR\1PG\2N"),
    ("TF-ADP-036", E, "Inconsistent value for TRxxAGy within a unique TRTxxA", ("AD0234",), (), r"TRT(\d\d)A",
     r"TR\1AG\d"),
    ("TF-ADP-037", E, "Inconsistent value for TRxxAGy", ("AD0235B",), (), r"TR(\d\d)AG(\d)N", r"TR\1AG\2"),
    ("TF-ADP-038", E, "Inconsistent value for TRxxAGyN", ("AD0236B",), (), r"TR(\d\d)AG(\d)", r"TR\1AG\2N"),
    ("TF-ADP-039", E, "Inconsistent value for TRTPGy", ("AD0237B",), (), r"TRTPG(\d)N", r"TRTPG\1"),
    ("TF-ADP-040", E, "Inconsistent value for TRTPGyN", ("AD0238B",), (), r"TRTPG(\d)", r"TRTPG\1N"),
    ("TF-ADP-041", E, "Inconsistent value for TRTAGy", ("AD0240B",), (), r"TRTAG(\d)N", r"TRTAG\1"),
    ("TF-ADP-042", E, "Inconsistent value for TRTAGyN", ("AD0241B",), (), r"TRTAG(\d)", r"TRTAG\1N"),
    ("TF-ADP-043", E, "Inconsistent value for TRTxxAN", ("AD0242B",), (), r"TRT(\d\d)A", r"TRT\1AN"),
    ("TF-ADP-044", E, "Inconsistent value for TRTxxA", ("AD0243B",), (), r"TRT(\d\d)AN", r"TRT\1A"),
    ("TF-ADP-045", E, "Inconsistent value for AESEV", ("AD0280B",), (), "AESEVN", "AESEV"),
    ("TF-ADP-046", E, "Inconsistent value for AESEVN", ("AD0281B",), (), "AESEV", "AESEVN"),
    ("TF-ADP-047", E, "Inconsistent value for ASEV", ("AD0283B",), (), "ASEVN", "ASEV"),
    ("TF-ADP-048", E, "Inconsistent value for ASEVN", ("AD0284B",), (), "ASEV", "ASEVN"),
    ("TF-ADP-049", E, "Inconsistent value for AEREL", ("AD0287B",), (), "AERELN", "AEREL"),
    ("TF-ADP-050", E, "Inconsistent value for AERELN", ("AD0288B",), (), "AEREL", "AERELN"),
    ("TF-ADP-051", E, "Inconsistent value for AREL", ("AD0289B",), (), "ARELN", "AREL"),
    ("TF-ADP-052", E, "Inconsistent value for ARELN", ("AD0290B",), (), "AREL", "ARELN"),
    ("TF-ADP-053", E, "Inconsistent value for AETOXGR", ("AD0293B",), (), "AETOXGRN", "AETOXGR"),
    ("TF-ADP-054", E, "Inconsistent value for AETOXGRN", ("AD0294B",), (), "AETOXGR", "AETOXGRN"),
    ("TF-ADP-055", E, "Inconsistent value for ATOXGR", ("AD0295B",), (), "ATOXGRN", "ATOXGR"),
    ("TF-ADP-056", E, "Inconsistent value for ATOXGRN", ("AD0296B",), (), "ATOXGR", "ATOXGRN"),
    ("TF-ADP-057", E, "Inconsistent value for SMQzzSC", ("AD0310B",), (), r"SMQ(\d\d)SCN", r"SMQ\1SC"),
    ("TF-ADP-058", E, "Inconsistent value for SMQzzSCN", ("AD0311B",), (), r"SMQ(\d\d)SC", r"SMQ\1SCN"),
    ("TF-ADP-059", E, "Inconsistent value for TRTPGy within a given TRTP", ("AD0322",), (), "TRTP", r"TRTPG\d"),
    ("TF-ADP-060", E, "Inconsistent value for APHASEN", ("AD0323",), (), "APHASE", "APHASEN"),
    ("TF-ADP-061", E, "Inconsistent value for APHASE", ("AD0324",), (), "APHASEN", "APHASE"),
    ("TF-ADP-062", E, "Inconsistent value for ASPER", ("AD0325",), (), "ASPERC", "ASPER"),
    ("TF-ADP-063", E, "Inconsistent value for ASPERC", ("AD0326",), (), "ASPER", "ASPERC"),
    ("TF-ADP-064", E, "Inconsistent value for AVALCAT*", ("AD0327",), (), r"AVALCA(\d)N", r"AVALCAT\1", P),
    ("TF-ADP-065", E, "Inconsistent value for AVALCAyN", ("AD0328",), (), r"AVALCAT(\d)", r"AVALCA\1N", P),
    ("TF-ADP-066", E, "Inconsistent value for BASECAT*", ("AD0329",), (), r"BASECA(\d)N", r"BASECAT\1", P),
    ("TF-ADP-067", E, "Inconsistent value for BASECAyN", ("AD0330",), (), r"BASECAT(\d)", r"BASECA\1N", P),
    ("TF-ADP-068", E, "Inconsistent value for CHGCAT*", ("AD0331",), (), r"CHGCAT(\d)N", r"CHGCAT\1", P),
    ("TF-ADP-069", E, "Inconsistent value for CHGCAT*N", ("AD0332",), (), r"CHGCAT(\d)", r"CHGCAT\1N", P),
    ("TF-ADP-070", E, "Inconsistent value for PCHGCAT*", ("AD0333",), (), r"PCHGCA(\d)N", r"PCHGCAT\1", P),
    ("TF-ADP-071", E, "Inconsistent value for PCHGCAyN", ("AD0334",), (), r"PCHGCAT(\d)", r"PCHGCA\1N", P),
    ("TF-ADP-072", E, "Inconsistent value for MCRITyML", ("AD0340",), (), r"MCRIT(\d)MN", r"MCRIT\1ML", P),
    ("TF-ADP-073", E, "Inconsistent value for MCRITyMN", ("AD0341",), (), r"MCRIT(\d)ML", r"MCRIT\1MN", P),
    ("TF-ADP-074", E, "Inconsistent value for ANRLO", ("AD0342",), (), "ANRLOC", "ANRLO", P),
    ("TF-ADP-075", E, "Inconsistent value for ANRLOC", ("AD0343",), (), "ANRLO", "ANRLOC", P),
    ("TF-ADP-076", E, "Inconsistent value for ANRHI", ("AD0344",), (), "ANRHIC", "ANRHI", P),
    ("TF-ADP-077", E, "Inconsistent value for ANRHIC", ("AD0345",), (), "ANRHI", "ANRHIC", P),
    ("TF-ADP-078", E, "Inconsistent value for AyLO", ("AD0347",), (), r"A(\d)LOC", r"A\1LO", P),
    ("TF-ADP-079", E, "Inconsistent value for AyLOC", ("AD0348",), (), r"A(\d)LO", r"A\1LOC", P),
    ("TF-ADP-080", E, "Inconsistent value for AyHI", ("AD0350",), (), r"A(\d)HIC", r"A\1HI", P),
    ("TF-ADP-081", E, "Inconsistent value for AyHIC", ("AD0351",), (), r"A(\d)HI", r"A\1HIC", P),
    ("TF-ADP-082", E, "Inconsistent value for REGION*", ("AD0355",), (), r"REGION(\d)N", r"REGION\1"),
    ("TF-ADP-083", E, "Inconsistent value for REGION*N", ("AD0356",), (), r"REGION(\d)", r"REGION\1N"),
    ("TF-ADP-084", E, "Inconsistent value for DTHCAUS", ("AD0359",), (), "DTHCAUSN", "DTHCAUS"),
    ("TF-ADP-085", E, "Inconsistent value for DTHCAUSN", ("AD0360",), (), "DTHCAUS", "DTHCAUSN"),
    ("TF-ADP-086", E, "Inconsistent value for BTOXGR/ATOXGR family within a unique PARAMCD", ("AD0381",), (),
     r"([AB]TOXGR[LH]?)", r"\1N", P),
    ("TF-ADP-087", E, "Inconsistent value for BTOXGRN within a unique PARAMCD", ("AD0382",), (), "BTOXGR", "BTOXGRN", P),
    ("TF-ADP-088", E, "Inconsistent value for BTOXGRLN within a unique PARAMCD", ("AD0384",), (), "BTOXGRL", "BTOXGRLN",
     P),
    ("TF-ADP-089", E, "Inconsistent value for BTOXGRHN within a unique PARAMCD", ("AD0388",), (), "BTOXGRH", "BTOXGRHN",
     P),
    ("TF-ADP-090", E, "Inconsistent value for ATOXGRLN within a unique PARAMCD", ("AD0396",), (), "ATOXGRL", "ATOXGRLN",
     P),
    ("TF-ADP-091", E, "Inconsistent value for ATOXGRHN within a unique PARAMCD", ("AD0400",), (), "ATOXGRH", "ATOXGRHN",
     P),
    ("TF-ADP-092", W, "Inconsistent value for ATOXDSCL within a subject and parameter", ("AD0403",), (), "ATOXGRL",
     "ATOXDSCL", ("USUBJID", "PARAMCD")),
    ("TF-ADP-093", W, "Inconsistent value for ATOXDSCH within a subject and parameter", ("AD0405",), (), "ATOXGRH",
     "ATOXDSCH", ("USUBJID", "PARAMCD")),
    ("TF-ADP-094", E, "Inconsistent value for STRATAR", ("AD0468",), (), "STRATARN", "STRATAR"),
    ("TF-ADP-095", E, "Inconsistent value for STRATARN", ("AD0469",), (), "STRATAR", "STRATARN"),
    ("TF-ADP-096", E, "Inconsistent value for STRATwR", ("AD0472",), (), r"STRAT(\d)RN", r"STRAT\1R"),
    ("TF-ADP-097", E, "Inconsistent value for STRATwRN", ("AD0473",), (), r"STRAT(\d)R", r"STRAT\1RN"),
    ("TF-ADP-098", E, "Inconsistent value for STRATAV", ("AD0476",), (), "STRATAVN", "STRATAV"),
    ("TF-ADP-099", E, "Inconsistent value for STRATAVN", ("AD0477",), (), "STRATAV", "STRATAVN"),
    ("TF-ADP-100", E, "Inconsistent value for STRATwV", ("AD0480",), (), r"STRAT(\d)VN", r"STRAT\1V"),
    ("TF-ADP-101", E, "Inconsistent value for STRATwVN", ("AD0481",), (), r"STRAT(\d)V", r"STRAT\1VN"),
    ("TF-ADP-102", E, "Inconsistent value for BCHGCATy within a unique PARAMCD", ("AD0584",), (), r"BCHGCA(\d)N",
     r"BCHGCAT\1", P),
    ("TF-ADP-103", E, "Inconsistent value for BCHGCAyN within a unique PARAMCD", ("AD0585",), (), r"BCHGCAT(\d)",
     r"BCHGCA\1N", P),
    ("TF-ADP-104", E, "Inconsistent value for PBCHGCAy within a unique PARAMCD", ("AD0588",), (), r"PBCHGC(\d)N",
     r"PBCHGCA\1", P),
    ("TF-ADP-105", E, "Inconsistent value for PBCHGCyN within a unique PARAMCD", ("AD0589",), (), r"PBCHGCA(\d)",
     r"PBCHGC\1N", P),
    ("TF-ADP-106", E, "Inconsistent value for TRCMPGy", ("AD0616",), (), r"TRCMPG(\d)N", r"TRCMPG\1"),
    ("TF-ADP-107", E, "Inconsistent value for TRCMPGyN", ("AD0617",), (), r"TRCMPG(\d)", r"TRCMPG\1N"),
    ("TF-ADP-108", E, "Inconsistent value for DEVTYGy", ("AD0677",), (), r"DEVTYG(\d)N", r"DEVTYG\1"),
    ("TF-ADP-109", E, "Inconsistent value for DEVTYGyN", ("AD0678",), (), r"DEVTYG(\d)", r"DEVTYG\1N"),
    ("TF-ADP-110", E, "Inconsistent value for MODELGy", ("AD0681",), (), r"MODELG(\d)N", r"MODELG\1"),
    ("TF-ADP-111", E, "Inconsistent value for MODELGyN", ("AD0682",), (), r"MODELG(\d)", r"MODELG\1N"),
    ("TF-ADP-112", E, "Inconsistent value for BASE (device baseline)", ("AD0693",), (), "BASEC", "BASE",
     ("SPDEVID", "PARAMCD")),
    ("TF-ADP-113", E, "Inconsistent value for BASEC (device baseline)", ("AD0694",), (), "BASE", "BASEC",
     ("SPDEVID", "PARAMCD")),
    ("TF-ADP-114", E, "Inconsistent value for PROJIDN", ("AD0797",), (), "PROJID", "PROJIDN"),
    ("TF-ADP-115", E, "Inconsistent value for PROJID", ("AD0798",), (), "PROJIDN", "PROJID"),
    ("TF-ADP-116", E, "Inconsistent value for STUDYIDN", ("AD0802",), (), "STUDYID", "STUDYIDN"),
    ("TF-ADP-117", E, "Inconsistent value for SUBJTYPC", ("AD0807",), (), "SUBJTYP", "SUBJTYPC"),
    ("TF-ADP-118", E, "Inconsistent value for SUBJTYP", ("AD0808",), (), "SUBJTYPC", "SUBJTYP"),
    ("TF-ADP-119", E, "Inconsistent value for USUBJIDN", ("AD0812",), (), "USUBJID", "USUBJIDN"),
    ("TF-ADP-120", E, "Inconsistent value for SUBJIDN", ("AD0817",), (), "SUBJID", "SUBJIDN"),
    ("TF-ADP-121", E, "Inconsistent value for SITEIDN", ("AD0822",), (), "SITEID", "SITEIDN"),
    ("TF-ADP-122", E, "Inconsistent value for FLGREASC", ("AD0827",), (), "FLGREAS", "FLGREASC"),
    ("TF-ADP-123", E, "Inconsistent value for FLGREAS", ("AD0828",), (), "FLGREASC", "FLGREAS"),
    ("TF-ADP-124", E, "Inconsistent value for DVIDN", ("AD0832",), (), "DVID", "DVIDN"),
    ("TF-ADP-125", E, "Inconsistent value for DVID", ("AD0833",), (), "DVIDN", "DVID"),
    ("TF-ADP-126", E, "Inconsistent value for BLQFN", ("AD0837",), (), "BLQFL", "BLQFN"),
    ("TF-ADP-127", E, "Inconsistent value for BLQFL", ("AD0838",), (), "BLQFN", "BLQFL"),
    ("TF-ADP-128", E, "Inconsistent value for ALQFN", ("AD0842",), (), "ALQFL", "ALQFN"),
    ("TF-ADP-129", E, "Inconsistent value for ALQFL", ("AD0843",), (), "ALQFN", "ALQFL"),
    ("TF-ADP-130", E, "Inconsistent value for FORMN", ("AD0847",), (), "FORM", "FORMN"),
    ("TF-ADP-131", E, "Inconsistent value for FORM", ("AD0848",), (), "FORMN", "FORM"),
    ("TF-ADP-132", E, "Inconsistent value for ROUTEN", ("AD0852",), (), "ROUTE", "ROUTEN"),
    ("TF-ADP-133", E, "Inconsistent value for ROUTE", ("AD0853",), (), "ROUTEN", "ROUTE"),
    ("TF-ADP-134", E, "Inconsistent value for COHORTC", ("AD0862",), (), "COHORT", "COHORTC"),
    ("TF-ADP-135", E, "Inconsistent value for COHORT", ("AD0863", "AD0892"), (), "COHORTC", "COHORT"),
    ("TF-ADP-136", E, "Inconsistent value for RACEN", ("AD0867",), (), "RACE", "RACEN"),
    ("TF-ADP-137", E, "Inconsistent value for SEXN", ("AD0872",), (), "SEX", "SEXN"),
    ("TF-ADP-138", E, "Inconsistent value for COUNTRYN", ("AD0877",), (), "COUNTRY", "COUNTRYN"),
    ("TF-ADP-139", E, "Inconsistent value for COUNTRY (within COUNTRYN)", ("AD0878",), (), "COUNTRYN", "COUNTRY"),
    ("TF-ADP-140", E, "Inconsistent value for COUNTRYL", ("AD0882",), (), "COUNTRY", "COUNTRYL"),
    ("TF-ADP-141", E, "Inconsistent value for COUNTRY (within COUNTRYL)", ("AD0883",), (), "COUNTRYL", "COUNTRY"),
    ("TF-ADP-142", E, "Inconsistent value for COHORTN", ("AD0891",), (), "COHORT", "COHORTN"),
    ("TF-ADP-143", E, "Inconsistent value for ACYCLEC", ("AD0893",), (), "ACYCLE", "ACYCLEC"),
    ("TF-ADP-144", E, "Inconsistent value for ACYCLE", ("AD0894",), (), "ACYCLEC", "ACYCLE"),
]

# (id, severity, message, p21, publisher, present, [needed alternatives], domains)
PRESENCE = [
    ("TF-ADV-001", E, "Secondary variable *FN is present, but its primary variable *FL is not present", ("AD0007",), (),
     r"([A-Z0-9]+)FN", [r"\1FL"]),
    ("TF-ADV-002", E, "TRTxxAN is present, but TRTxxA is not present", ("AD0064",), (), r"TRT(\d\d)AN", [r"TRT\1A"]),
    ("TF-ADV-003", E, "TRxxPGyN is present, but TRxxPGy is not present", ("AD0066",), (), r"TR(\d\d)PG(\d)N",
     [r"TR\1PG\2"]),
    ("TF-ADV-004", E, "TRxxAGyN is present, but TRxxAGy is not present", ("AD0070",), (), r"TR(\d\d)AG(\d)N",
     [r"TR\1AG\2"]),
    ("TF-ADV-005", E, "TRTxxPN is present, but TRTxxP is not present", ("AD0075",), (), r"TRT(\d\d)PN", [r"TRT\1P"]),
    ("TF-ADV-006", E, "TRTxxA is present, but TRTxxP is not present", ("AD0080",), (), r"TRT(\d\d)A", [r"TRT\1P"]),
    ("TF-ADV-007", E, "TRTPGyN is present, but TRTPGy is not present", ("AD0097",), (), r"TRTPG(\d)N", [r"TRTPG\1"]),
    ("TF-ADV-008", E, "ARELTM is present, but ARELTMU is not present", ("AD0111",), (), "ARELTM", ["ARELTMU"]),
    ("TF-ADV-009", E, "ARELTMU is present, but ARELTM is not present", ("AD0113",), (), "ARELTMU", ["ARELTM"]),
    ("TF-ADV-010", E, "BASE or BASEC is present, but ABLFL is not present", ("AD0127A",), (), "BASEC?", ["ABLFL"]),
    ("TF-ADV-011", E, "CRITyFL is present, but CRITy is not present", ("AD0156",), (), r"CRIT(\d)FL", [r"CRIT\1"]),
    ("TF-ADV-012", E, "CRITy is present, but CRITyFL is not present", ("AD0157",), (), r"CRIT(\d)", [r"CRIT\1FL"]),
    ("TF-ADV-013", E, "AWU is present, but both AWLO and AWHI are not present", ("AD0160",), (), "AWU", ["AWLO", "AWHI"]),
    ("TF-ADV-014", E, "BTOXGR is present, but ATOXGR is not present", ("AD0163",), (), "BTOXGR", ["ATOXGR"]),
    ("TF-ADV-015", E, "BTOXGR is present, but ABLFL is not present", ("AD0164",), (), "BTOXGR", ["ABLFL"]),
    ("TF-ADV-016", E, "BNRIND is present, but ANRIND is not present", ("AD0166",), (), "BNRIND", ["ANRIND"]),
    ("TF-ADV-017", E, "BNRIND is present, but ABLFL is not present", ("AD0167",), (), "BNRIND", ["ABLFL"]),
    ("TF-ADV-018", E, "TRTAGyN is present, but TRTAGy is not present", ("AD0201",), (), r"TRTAG(\d)N", [r"TRTAG\1"]),
    ("TF-ADV-019", E, "CNSR is present, but STARTDT is not present", ("AD0245",), (), "CNSR", ["STARTDT", "STARTDTM"]),
    ("TF-ADV-020", E, "CNSR is present, but both ADT and ADTM are not present", ("AD0246",), (), "CNSR", ["ADT", "ADTM"]),
    ("TF-ADV-021", E, "EVNTDESC and/or CNSDTDSC is present, but CNSR is not present", ("AD0250",), (), "EVNTDESC",
     ["CNSR"]),
    ("TF-ADV-022", E, "CNSDTDSC is present, but CNSR is not present", ("AD0251",), (), "CNSDTDSC", ["CNSR"]),
    ("TF-ADV-023", E, "MCRITy variable is not present when MCRITyML is present", ("AD0337",), (), r"MCRIT(\d)ML",
     [r"MCRIT\1"]),
    ("TF-ADV-024", E, "MCRITyML is not present when MCRITy is present", ("AD0338",), (), r"MCRIT(\d)", [r"MCRIT\1ML"]),
    ("TF-ADV-025", E, "AyLO variable is not present when R2AyLO is present", ("AD0346", "AD0133A"), (), r"R2A(\d)LO",
     [r"A\1LO"]),
    ("TF-ADV-026", E, "AyHI variable is not present when R2AyHI is present", ("AD0349", "AD0134A"), (), r"R2A(\d)HI",
     [r"A\1HI"]),
    ("TF-ADV-027", E, "None of AyLO, AyHI, AyLOC, or AyHIC variables is present when AyIND is present", ("AD0352",), (),
     r"A(\d)IND", [r"A\1LO", r"A\1HI", r"A\1LOC", r"A\1HIC"]),
    ("TF-ADV-028", E, "DOSEU variable is not present when DOSEON or DOSCUMA is present", ("AD0364",), (),
     "(DOSEON|DOSCUMA)", ["DOSEU"]),
    ("TF-ADV-029", E, "Missing RANDDT variable when RANDFL variable is present", ("AD0366",), (), "RANDFL", ["RANDDT"],
     ("ADSL",)),
    ("TF-ADV-030", E, "ASPER is present and APERIOD is not present", ("AD0499",), (), "ASPER", ["APERIOD"]),
    ("TF-ADV-031", E, "AVALCAyN is present and AVALCATy is not present", ("AD0543",), (), r"AVALCA(\d)N",
     [r"AVALCAT\1"]),
    ("TF-ADV-032", E, "BASECAyN is present and BASECATy is not present", ("AD0544",), (), r"BASECA(\d)N",
     [r"BASECAT\1"]),
    ("TF-ADV-033", E, "CHGCATyN is present and CHGCATy is not present", ("AD0545",), (), r"CHGCAT(\d)N", [r"CHGCAT\1"]),
    ("TF-ADV-034", E, "PCHGCAyN is present and PCHGCATy is not present", ("AD0546",), (), r"PCHGCA(\d)N",
     [r"PCHGCAT\1"]),
    ("TF-ADV-035", E, "MCRITyMN is present and MCRITyML is not present", ("AD0552",), (), r"MCRIT(\d)MN",
     [r"MCRIT\1ML"]),
    ("TF-ADV-036", E, "BCHGCAyN is present and BCHGCATy is not present", ("AD0565",), (), r"BCHGCA(\d)N",
     [r"BCHGCAT\1"]),
    ("TF-ADV-037", E, "PBCHGCyN is present and PBCHGCAy is not present", ("AD0566",), (), r"PBCHGC(\d)N",
     [r"PBCHGCA\1"]),
    ("TF-ADV-038", E, "ONTRxxFL is present but ONTRTFL is not present", ("AD0651",), (), r"ONTR(\d\d)FL", ["ONTRTFL"]),
    ("TF-ADV-039", E, "ONTRTwFL is present but ONTRTFL is not present", ("AD0652",), (), r"ONTRT(\d)FL", ["ONTRTFL"]),
    ("TF-ADV-040", E, "ADOSEDUR is present and NDOSEDUR or DOSEDURU is not present", ("AD0661",), (), "ADOSEDUR",
     ["NDOSEDUR"]),
    ("TF-ADV-041", E, "COUNTRYL is present and COUNTRY is not present", ("AD0884",), (), "COUNTRYL", ["COUNTRY"]),
    ("TF-ADV-042", E, "TRTxxP is present, but TRxxSDT is not present for periods greater than 01", ("AD0078",), (),
     r"TRT(0[2-9]|[1-9]\d)P", [r"TR\1SDT", r"TR\1SDTM"], ("ADSL",)),
    ("TF-ADV-043", E, "TRTxxP is present, but TRxxEDT is not present for periods greater than 01", ("AD0079",), (),
     r"TRT(0[2-9]|[1-9]\d)P", [r"TR\1EDT", r"TR\1EDTM"], ("ADSL",)),
    ("TF-ADV-044", E, "TRxxPGy and TRTxxA are present, but TRxxAGy is not present", ("AD0239A",), (), r"TR(\d\d)PG(\d)",
     [r"TR\1AG\2", r"TRT\1A_ABSENT"]),
    ("TF-ADV-045", E, "Secondary variable is present, but its primary variable is not present", ("AD1012A",), (),
     r"(AVISIT|ATPT|PARAM|APERIOD|APHASE|AVALCAT\d|BASECAT\d|RACE|SEX|COUNTRY|AGEGR\d|TRTP|TRTA)N", [r"\1"]),
]

# (id, severity, message, p21, publisher, target, [conditions], domains)
POPULATED = [
    ("TF-ADQ-001", E, "Secondary variable *FN is populated, but its primary variable *FL is not populated", ("AD0012",),
     (), r"\1FL", [r"([A-Z0-9]+)FN"]),
    ("TF-ADQ-002", E, "Only one of ARELTM, ARELTMU is populated (ARELTMU missing)", ("AD0112",), (), "ARELTMU",
     ["ARELTM"]),
    ("TF-ADQ-003", E, "CRITyFL is populated, but CRITy is not populated", ("AD0137",), (), r"CRIT\1", [r"CRIT(\d)FL"]),
    ("TF-ADQ-004", E, "MCRITy is not populated when MCRITyML is populated", ("AD0339",), (), r"MCRIT\1",
     [r"MCRIT(\d)ML"]),
    ("TF-ADQ-005", E, "*DTF is populated, but *DT or *DTM is not populated", ("AD0369",), (), r"\1DT", [r"([A-Z0-9]+)DTF"]),
    ("TF-ADQ-006", E, "*TMF is populated, but *TM or *DTM is not populated", ("AD0370",), (), r"\1DTM",
     [r"([A-Z0-9]+)TMF"]),
    ("TF-ADQ-007", E, "Missing value for RANDDT when RANDFL is Y", ("AD0366A",), (), "RANDDT", ["RANDFL_Y"]),
    ("TF-ADQ-008", E, "MCRITyML is populated, but MCRITyMN is not populated", ("AD0450",), (), r"MCRIT\1MN",
     [r"MCRIT(\d)ML"]),
    ("TF-ADQ-009", E, "MCRITyMN is populated, but MCRITyML is not populated", ("AD0451",), (), r"MCRIT\1ML",
     [r"MCRIT(\d)MN"]),
    ("TF-ADQ-010", E, "Primary variable BCHGCATy is populated, but its secondary variable BCHGCAyN is not populated",
     ("AD0482",), (), r"BCHGCA\1N", [r"BCHGCAT(\d)"]),
    ("TF-ADQ-011", E, "Secondary variable BCHGCAyN is populated, but its primary variable BCHGCATy is not populated",
     ("AD0483",), (), r"BCHGCAT\1", [r"BCHGCA(\d)N"]),
    ("TF-ADQ-012", E, "Primary variable PBCHGCAy is populated, but its secondary variable PBCHGCyN is not populated",
     ("AD0484",), (), r"PBCHGC\1N", [r"PBCHGCA(\d)"]),
    ("TF-ADQ-013", E, "Secondary variable PBCHGCyN is populated, but its primary variable PBCHGCAy is not populated",
     ("AD0485",), (), r"PBCHGCA\1", [r"PBCHGC(\d)N"]),
    ("TF-ADQ-014", E, "ASPER is populated and APERIOD is not populated", ("AD0501",), (), "APERIOD", ["ASPER"]),
    ("TF-ADQ-015", E, "COUNTRY is populated and COUNTRYL is not populated", ("AD0880",), (), "COUNTRYL", ["COUNTRY"]),
    ("TF-ADQ-016", E, "COUNTRYL is populated and COUNTRY is not populated", ("AD0881",), (), "COUNTRY", ["COUNTRYL"]),
    ("TF-ADQ-017", E, "TMPCTDF is populated and ARRLT or NRRLT are not populated", ("AD0662",), (), "ARRLT", ["TMPCTDF"]),
    ("TF-ADQ-018", E, "DOSPCTDF is populated and TRTA is not populated", ("AD0667",), (), "TRTA", ["DOSPCTDF"]),
    ("TF-ADQ-019", E, "Primary variable * is populated, but its secondary variable is not populated", ("AD0376",), (),
     r"\1N", [r"(RACE|SEX|AGEGR\d|REGION\d|COUNTRY|APHASE|ATPT|AVALCAT\d|PARCAT\d|ASEV|AREL|ATOXGR|TRTSEQP|TRTSEQA)"]),
    ("TF-ADQ-020", E, "Secondary variable is populated, but its primary variable * is not populated", ("AD1011",), (),
     r"\1", [r"(RACE|SEX|AGEGR\d|REGION\d|COUNTRY|APHASE|AVISIT|ATPT|PARAM|APERIOD|AVALCAT\d|ASEV|AREL|ATOXGR)N"]),
    ("TF-ADQ-021", E, "AVAL is not populated or ATOXGRL is not populated, and ATOXDSCL is populated", ("AD0401",), (),
     "ATOXGRL", ["ATOXDSCL"]),
    ("TF-ADQ-022", E, "AVAL is not populated or ATOXGRH is not populated, and ATOXDSCH is populated", ("AD0402",), (),
     "ATOXGRH", ["ATOXDSCH"]),
    ("TF-ADQ-023", E, "R2AyLO is populated, but AVAL and/or AyLO are not populated", ("AD0133B",), (), r"A\1LO",
     [r"R2A(\d)LO"]),
    ("TF-ADQ-024", E, "R2AyHI is populated, but AVAL and/or AyHI are not populated", ("AD0134B",), (), r"A\1HI",
     [r"R2A(\d)HI"]),
]

_Y_CONDITION = {"TF-ADQ-007": ("RANDFL", "Y")}


def _flag_values(allowed):
    return lambda v, s: ~v.isin(allowed)


# (id, severity, message, p21, publisher, variable, bad(values, series), domains)
VALUES = [
    ("TF-ADX-001", E, "ABLFN value is not 1 or null", ("AD0211",), (), "ABLFN", _flag_values(["1"])),
    ("TF-ADX-002", E, "ANLzzFN value is not 1 or null", ("AD0212",), (), r"ANL\d\dFN", _flag_values(["1"])),
    ("TF-ADX-003", E, "Variable flag value is not Y or null (AOCC*FL)", ("AD0272",), (), r"AOCC[A-Z0-9]*FL",
     _flag_values(["Y"])),
    ("TF-ADX-004", E, "AESEVN/ASEVN value != 1, 2, 3, or null", ("AD0279",), (), "(AESEVN|ASEVN)",
     _flag_values(["1", "2", "3"])),
    ("TF-ADX-005", E, "SMQzzSC value != BROAD, NARROW or null", ("AD0312",), (), r"SMQ\d\dSC",
     _flag_values(["BROAD", "NARROW"])),
    ("TF-ADX-006", E, "SMQzzSCN value != 1, 2 or null", ("AD0313",), (), r"SMQ\d\dSCN", _flag_values(["1", "2"])),
    ("TF-ADX-007", E, "NCAXFN value is not 1 or null", ("AD0658",), (), "NCAXFN", _flag_values(["1"])),
    ("TF-ADX-008", E, "PKSUMXFN value is not 1 or null", ("AD0659",), (), "PKSUMXFN", _flag_values(["1"])),
    ("TF-ADX-009", E, "METABFL value is not Y or null", ("AD0660",), (), "METABFL", _flag_values(["Y"])),
]

# (id, message, p21, suffix of the variable, words its label must hold)
LABELS = [
    ("TF-ADL-001", "*DT must contain 'Date' in the label", ("AD0503",), "DT", "DATE"),
    ("TF-ADL-002", "*TM must contain 'Time' in the label", ("AD0504",), "TM", "TIME"),
    ("TF-ADL-003", "*DTM must contain 'Datetime' in the label", ("AD0505",), "DTM", "DATETIME"),
    ("TF-ADL-004", "*DTF must contain 'Date Imputation Flag' in the label", ("AD0507",), "DTF", "DATE IMPUTATION FLAG"),
    ("TF-ADL-005", "*TMF must contain 'Time Imputation Flag' in the label", ("AD0508",), "TMF", "TIME IMPUTATION FLAG"),
    ("TF-ADL-006", "*SDT must contain 'Start Date' in the label", ("AD0509",), "SDT", "START DATE"),
    ("TF-ADL-007", "*STM must contain 'Start Time' in the label", ("AD0510",), "STM", "START TIME"),
    ("TF-ADL-008", "*SDTM must contain 'Start Datetime' in the label", ("AD0511",), "SDTM", "START DATETIME"),
    ("TF-ADL-009", "*SDTF must contain 'Start Date Imputation Flag' in the label", ("AD0513",), "SDTF",
     "START DATE IMPUTATION FLAG"),
    ("TF-ADL-010", "*STMF must contain 'Start Time Imputation Flag' in the label", ("AD0514",), "STMF",
     "START TIME IMPUTATION FLAG"),
    ("TF-ADL-011", "*EDT must contain 'End Date' in the label", ("AD0515",), "EDT", "END DATE"),
    ("TF-ADL-012", "*ETM must contain 'End Time' in the label", ("AD0516",), "ETM", "END TIME"),
    ("TF-ADL-013", "*EDTM must contain 'End Datetime' in the label", ("AD0517",), "EDTM", "END DATETIME"),
    ("TF-ADL-014", "*EDTF must contain 'End Date Imputation Flag' in the label", ("AD0519",), "EDTF",
     "END DATE IMPUTATION FLAG"),
    ("TF-ADL-015", "*ETMF must contain 'End Time Imputation Flag' in the label", ("AD0520",), "ETMF",
     "END TIME IMPUTATION FLAG"),
]
# a longer suffix owns the name: ASTDTM is a *SDTM? no: *STDTM; the label rule picks the longest suffix that fits
_SUFFIXES = sorted({row[3] for row in LABELS}, key=len, reverse=True)
_NOT_TIMING = {"DTHDT": False}


def _label_rule(row):
    rid, message, p21, suffix, words = row

    @register(rid, W, message, scope=ADAM, p21=p21, category="Metadata")
    def check(dataset, ctx):
        out = []
        for var in dataset.meta.variables:
            name = var.name
            if name not in dataset.frame or not name.endswith(suffix) or len(name) <= len(suffix):
                continue
            if next(s for s in _SUFFIXES if name.endswith(s)) != suffix:
                continue
            if suffix in ("TM", "STM", "ETM") and name.endswith(("RELTM", "ELTM")):
                continue
            std = ctx.standard_variable(dataset.name, name)
            if std is not None and "{" not in (std.label or "{"):
                continue                  # a named ADaMIG variable (TRTSDT) keeps the label the IG gives it
            if words not in " ".join((var.label or "").upper().split()):
                out.append(RULES[rid].finding(dataset.name, variable=name, value=var.label or "",
                                              message=f"label of {name} lacks '{words.title()}'"))
        return out
    return check


for _row in LABELS:
    _label_rule(_row)

one_to_one(PAIRS, scope=ADAM)
variable_needs([r for r in PRESENCE if r[0] != "TF-ADV-044"], scope=ADAM)
missing_when([r for r in POPULATED if r[0] not in _Y_CONDITION], scope=ADAM)
value_rule(VALUES, scope=ADAM, category="Terminology")


@register("TF-ADV-044", E, "TRxxPGy and TRTxxA are present, but TRxxAGy is not present", scope=ADAM, p21=("AD0239A",),
          category="Presence")
def planned_group_needs_actual(dataset, ctx):
    cols = set(dataset.frame.columns)
    out = []
    for col, m in matches(r"TR(\d\d)PG(\d)", dataset):
        xx, y = m.group(1), m.group(2)
        if f"TRT{xx}A" in cols and f"TR{xx}AG{y}" not in cols:
            out.append(RULES["TF-ADV-044"].finding(dataset.name, variable=f"TR{xx}AG{y}", value=col))
    return out


@register("TF-ADV-046", E, "TRTPGy and TRTA are present, but TRTAGy is not present", scope=ADAM, p21=("AD0239",),
          category="Presence")
def record_group_needs_actual(dataset, ctx):
    cols = set(dataset.frame.columns)
    return [RULES["TF-ADV-046"].finding(dataset.name, variable=f"TRTAG{m.group(1)}", value=col)
            for col, m in matches(r"TRTPG(\d)", dataset) if "TRTA" in cols and f"TRTAG{m.group(1)}" not in cols]


@register("TF-ADQ-007", E, "Missing value for RANDDT when RANDFL is Y", scope=ADAM, p21=("AD0366A",),
          domains=("ADSL",), category="Consistency")
def randdt_when_randomized(dataset, ctx):
    f = dataset.frame
    if "RANDFL" not in f:
        return []
    return findings_at(RULES["TF-ADQ-007"], dataset, (text(f["RANDFL"]) == "Y") & ~filled(f, "RANDDT"), variable="RANDDT")


@register("TF-ADQ-025", E, "RANDFL value is not Y when RANDDT is populated", scope=ADAM, p21=("AD0366B",),
          domains=("ADSL",), category="Consistency")
def randfl_when_dated(dataset, ctx):
    f = dataset.frame
    if "RANDDT" not in f:
        return []
    return findings_at(RULES["TF-ADQ-025"], dataset, filled(f, "RANDDT") & (text(f["RANDFL"]) != "Y")
                       if "RANDFL" in f else filled(f, "RANDDT"), variable="RANDFL")


# ---- flags, calculations, baseline, date order ---------------------------------------------------------

def _rule(rid, message, p21=(), severity=E, category="Consistency", domains=()):
    return register(rid, severity, message, scope=ADAM, p21=p21, domains=domains, category=category)


@_rule("TF-ADC-001", "*FL = Y and *FN != 1 (or *FL = N and *FN != 0)", ("AD0010", "AD0011"))
def flag_numeric_agrees(dataset, ctx):
    out = []
    f = dataset.frame
    for col, m in matches(r"([A-Z0-9]+)FL", dataset):
        fn = m.group(1) + "FN"
        if fn not in f:
            continue
        fl, n = text(f[col]), number(f[fn])
        bad = ((fl == "Y") & (n != 1)) | ((fl == "N") & (n != 0))
        out += findings_at(RULES["TF-ADC-001"], dataset, bad, variable=fn, values=lambda: fl + " / " + n.astype(str))
    return out


def _ratio(rid, numerator, denominator, target, message, p21):
    @_rule(rid, message, p21)
    def check(dataset, ctx):
        f = dataset.frame
        out = []
        for col, m in matches(target, dataset):
            den = partner(m, denominator, dataset)
            if numerator not in f or den not in f:
                continue
            want = number(f[numerator]) / number(f[den]).replace(0, np.nan)
            got = number(f[col])
            bad = got.notna() & want.notna() & ~close(got, want, rtol=1e-6)
            out += findings_at(RULES[rid], dataset, bad, variable=col)
        return out
    return check


_ratio("TF-ADC-002", "AVAL", "BASE", "R2BASE", "Calculation issue: R2BASE != AVAL / BASE", ("AD0132",))
_ratio("TF-ADC-003", "AVAL", r"A\1LO", r"R2A(\d)LO", "Calculation issue: R2AyLO != AVAL / AyLO", ("AD0133",))
_ratio("TF-ADC-004", "AVAL", r"A\1HI", r"R2A(\d)HI", "Calculation issue: R2AyHI != AVAL / AyHI", ("AD0134",))


def _zero_denominator(rid, denominator, target, message, p21):
    @_rule(rid, message, p21)
    def check(dataset, ctx):
        f = dataset.frame
        out = []
        for col, m in matches(target, dataset):
            den = partner(m, denominator, dataset)
            if den in f:
                out += findings_at(RULES[rid], dataset, (number(f[den]) == 0) & filled(f, col), variable=col)
        return out
    return check


_zero_denominator("TF-ADC-005", "BASE", "R2BASE", "Calculation issue: BASE = 0, but R2BASE is populated", ("AD0132A",))
_zero_denominator("TF-ADC-006", r"A\1LO", r"R2A(\d)LO", "Calculation issue: AyLO = 0, but R2AyLO is populated",
                  ("AD0133C",))
_zero_denominator("TF-ADC-007", r"A\1HI", r"R2A(\d)HI", "Calculation issue: AyHI = 0, but R2AyHI is populated",
                  ("AD0134C",))
_zero_denominator("TF-ADC-008", "BASE", "PCHG", "Calculation issue: BASE = 0, but PCHG is populated", ("AD0225A",))


@_rule("TF-ADC-009", "Calculation issue: CHG, PCHG or R2BASE is populated, but AVAL and/or BASE are not populated",
       ("AD0132B",))
def change_needs_values(dataset, ctx):
    f = dataset.frame
    out = []
    for col in ("CHG", "PCHG", "R2BASE"):
        if col in f:
            out += findings_at(RULES["TF-ADC-009"], dataset, filled(f, col) & (~filled(f, "AVAL") | ~filled(f, "BASE")),
                               variable=col)
    return out


@_rule("TF-ADC-010", "Calculation issue: BCHG != BASE - AVAL", ("AD0582",))
def baseline_change(dataset, ctx):
    f = dataset.frame
    if not {"BCHG", "BASE", "AVAL"} <= set(f.columns):
        return []
    want, got = number(f["BASE"]) - number(f["AVAL"]), number(f["BCHG"])
    return findings_at(RULES["TF-ADC-010"], dataset, got.notna() & want.notna() & ~close(got, want, 1e-6), variable="BCHG")


@_rule("TF-ADC-011", "Calculation issue: PBCHG != (BASE - AVAL)/AVAL * 100", ("AD0586",))
def baseline_pct_change(dataset, ctx):
    f = dataset.frame
    if not {"PBCHG", "BASE", "AVAL"} <= set(f.columns):
        return []
    aval = number(f["AVAL"]).replace(0, np.nan)
    want, got = (number(f["BASE"]) - aval) / aval * 100, number(f["PBCHG"])
    return findings_at(RULES["TF-ADC-011"], dataset, got.notna() & want.notna() & ~close(got, want, 1e-4),
                       variable="PBCHG")


@_rule("TF-ADC-012", "BASE or BASEC is populated for a unique USUBJID, PARAMCD, but no baseline record exists",
       ("AD0127", "AD0691"))
def base_needs_baseline_record(dataset, ctx):
    f = dataset.frame
    if "ABLFL" not in f or "PARAMCD" not in f or "USUBJID" not in f:
        return []
    keys = [k for k in ("SPDEVID", "USUBJID", "PARAMCD", "BASETYPE") if k in f]
    # the key groups holding a baseline record, on dense group numbers (no sort-based isin of every record)
    group, uniques = pd.factorize(group_codes(f, keys))
    has_base = (np.bincount(group[text_is(f["ABLFL"], "Y")], minlength=len(uniques)) > 0)[group]
    populated = filled(f, "BASE") | filled(f, "BASEC")
    return findings_at(RULES["TF-ADC-012"], dataset, populated & ~has_base, variable="BASE")


@_rule("TF-ADC-013", "Multiple baseline records exist for a unique SPDEVID, USUBJID, PARAMCD, BASETYPE", ("AD0696",))
def one_device_baseline(dataset, ctx):
    f = dataset.frame
    if not {"SPDEVID", "ABLFL", "PARAMCD", "USUBJID"} <= set(f.columns):
        return []
    keys = [k for k in ("SPDEVID", "USUBJID", "PARAMCD", "BASETYPE") if k in f]
    on = text(f["ABLFL"]) == "Y"
    dup = f[on].duplicated(keys).reindex(f.index, fill_value=False)
    return findings_at(RULES["TF-ADC-013"], dataset, dup, variable="ABLFL")


def _baseline_equal(rid, base, value, message, p21):
    @_rule(rid, message, p21)
    def check(dataset, ctx):
        f = dataset.frame
        if not {"ABLFL", base, value} <= set(f.columns):
            return []
        # judged once per distinct (ABLFL, base, value) combination; the text built only when reporting
        combo, first = distinct_rows(f, ["ABLFL", base, value])
        flag, b, v = texts_at(f["ABLFL"], first) == "Y", texts_at(f[base], first), texts_at(f[value], first)
        bad = ((flag & (b != v)).to_numpy())[combo]
        return findings_at(RULES[rid], dataset, series_of(bad, f.index), variable=base,
                           values=lambda: series_of((b + " vs " + v).to_numpy()[combo], f.index))
    return check


_baseline_equal("TF-ADC-014", "BTOXGR", "ATOXGR", "ABLFL = Y, but BTOXGR != ATOXGR", ("AD0165",))
_baseline_equal("TF-ADC-015", "BNRIND", "ANRIND", "ABLFL = Y, but BNRIND != ANRIND", ("AD0168",))


@_rule("TF-ADC-016", "B*IND != AyIND when ABLFL = Y", ("AD0353",))
def baseline_range_indicator(dataset, ctx):
    f = dataset.frame
    out = []
    if "ABLFL" not in f:
        return out
    for col, m in matches(r"B(\d)IND", dataset):
        a = f"A{m.group(1)}IND"
        if a in f:
            bad = (text(f["ABLFL"]) == "Y") & (text(f[col]) != text(f[a]))
            out += findings_at(RULES["TF-ADC-016"], dataset, bad, variable=col)
    return out


@_rule("TF-ADC-017", "TREMxxFL/TRTEMwFL = Y and TRTEMFL != Y", ("AD0647", "AD0648"))
def period_emergent_implies_emergent(dataset, ctx):
    f = dataset.frame
    out = []
    for col, _ in matches(r"(TREM\d\dFL|TRTEM\dFL)", dataset):
        bad = (text(f[col]) == "Y") & ((text(f["TRTEMFL"]) != "Y") if "TRTEMFL" in f else True)
        out += findings_at(RULES["TF-ADC-017"], dataset, bad, variable=col)
    return out


@_rule("TF-ADC-018", "ONTRxxFL/ONTRTwFL = Y and ONTRTFL != Y", ("AD0649", "AD0650"))
def period_on_treatment(dataset, ctx):
    f = dataset.frame
    out = []
    for col, _ in matches(r"(ONTR\d\dFL|ONTRT\dFL)", dataset):
        bad = (text(f[col]) == "Y") & ((text(f["ONTRTFL"]) != "Y") if "ONTRTFL" in f else True)
        out += findings_at(RULES["TF-ADC-018"], dataset, bad, variable=col)
    return out


@_rule("TF-ADC-019", "TRTEDT != Maximum TRxxEDT on this record", ("AD0084",), domains=("ADSL",))
def trtedt_is_last_period_end(dataset, ctx):
    f = dataset.frame
    ends = [c for c, _ in matches(r"TR\d\dEDT", dataset)]
    if "TRTEDT" not in f or not ends:
        return []
    last = pd.concat([number(f[c]) for c in ends], axis=1).max(axis=1)
    got = number(f["TRTEDT"])
    return findings_at(RULES["TF-ADC-019"], dataset, last.notna() & ~close(got, last), variable="TRTEDT")


def _order(rid, start, end, message, p21, severity=W):
    @_rule(rid, message, p21, severity=severity, category="Limit")
    def check(dataset, ctx):
        f = dataset.frame
        out = []
        for col, m in matches(start, dataset):
            other = partner(m, end, dataset)
            if other in f:
                a, b = number(f[col]), number(f[other])
                out += findings_at(RULES[rid], dataset, a > b, variable=col,
                                   values=lambda: a.astype(str) + " > " + b.astype(str), message=f"{col} is after {other}")
        return out
    return check


_order("TF-ADO-001", r"([A-Z0-9]*)SDY", r"\1EDY", "*SDY is greater than *EDY", ("AD0098",))
_order("TF-ADO-002", r"([A-Z0-9]*)STDY", r"\1ENDY", "*STDY is greater than *ENDY", ("AD0099",))
_order("TF-ADO-003", "ASTDTM", "AENDTM", "Value of ASTDTM is greater than value of AENDTM", ("AD0362",))
_order("TF-ADO-004", r"([A-Z0-9]*)STM", r"\1ETM", "*STM is greater than *ETM", ("AD0793",))
_order("TF-ADO-005", r"([A-Z0-9]*)SDTM", r"\1EDTM", "*SDTM is greater than *EDTM", ("AD0794",))
_order("TF-ADO-006", "DEVIPDT", "DEVXPDT", "Value of DEVIPDT is greater than value of DEVXPDT", ("AD0687",))
_order("TF-ADO-007", "STARTDT", "ADT", "ADT is before STARTDT in a time-to-event record (negative time)", ())


@_rule("TF-ADO-008", "*DT and its corresponding *DTM variable have different date values", ("AD0045",))
def date_matches_datetime(dataset, ctx):
    f = dataset.frame
    out = []
    for col, m in matches(r"([A-Z0-9]+)DT", dataset):
        dtm = m.group(1) + "DTM"
        if dtm in f and pd.api.types.is_numeric_dtype(f[col]) and pd.api.types.is_numeric_dtype(f[dtm]):
            d, dt = number(f[col]), np.floor(number(f[dtm]) / 86400)
            out += findings_at(RULES["TF-ADO-008"], dataset, d.notna() & dt.notna() & (d != dt), variable=col)
    return out


@_rule("TF-ADO-009", "*TM and its corresponding *DTM variable have different time values", ("AD0044",))
def time_matches_datetime(dataset, ctx):
    f = dataset.frame
    out = []
    for col, m in matches(r"([A-Z0-9]+)TM", dataset):
        if col.endswith(("DTM", "RELTM", "ELTM")):
            continue
        dtm = m.group(1) + "DTM"
        if dtm in f and pd.api.types.is_numeric_dtype(f[col]) and pd.api.types.is_numeric_dtype(f[dtm]):
            t, dt = number(f[col]), number(f[dtm]) % 86400
            out += findings_at(RULES["TF-ADO-009"], dataset, t.notna() & dt.notna() & ~close(t, dt, 1e-9), variable=col)
    return out


# ---- ADSL and dataset structure -----------------------------------------------------------------------

@_rule("TF-ADS-001", "*FL subject-population flag variable is not present", ("AD0048",), domains=("ADSL",),
       category="Presence")
def population_flag_present(dataset, ctx):
    if any(c.endswith("FL") for c in dataset.frame.columns):
        return []
    return [RULES["TF-ADS-001"].finding(dataset.name, message="ADSL has no *FL population flag")]


@_rule("TF-ADS-002", "Non-standard dataset label (ADSL: 'Subject-Level Analysis Dataset')", ("AD0320", "AD0320B"),
       severity=W, category="Metadata")
def adsl_label(dataset, ctx):
    want = {"ADSL": "SUBJECT-LEVEL ANALYSIS DATASET", "ADDL": "DEVICE-LEVEL ANALYSIS DATASET"}.get(dataset.name.upper())
    label = " ".join((dataset.meta.label or "").upper().split())
    if want is None or label == want:
        return []
    return [RULES["TF-ADS-002"].finding(dataset.name, value=dataset.meta.label or "")]


@_rule("TF-ADS-003", "None of the subject-level or record-level treatment variables defined in the ADaMIG are present",
       ("AD0090",), category="Presence")
def bds_has_treatment(dataset, ctx):
    f = dataset.frame
    if "PARAMCD" not in f or dataset.name.upper() == "ADSL":
        return []
    rx = r"(ARM|ACTARM|TRT\d\d[PA]|TRTSEQ[PA]|TR\d\d[PA]G\d|TSEQ[PA]G\d|TRT[PA]|TRT[PA]G\d)"
    if any(True for _ in matches(rx, dataset)):
        return []
    return [RULES["TF-ADS-003"].finding(dataset.name, message=f"{dataset.name} has no treatment variable")]


@_rule("TF-ADS-004", "Illegal variable name: zz/xx is not in [01-99] (ANLzzFL/FN, AOCCzzFL, SMQzz, CQzzNAM, TRTxx)",
       ("AD0273", "AD0299", "AD0303", "AD1018", "AD1019"), category="Format")
def numbered_names(dataset, ctx):
    rx = r"(ANL00F[LN]|AOCC00FL|SMQ00(NAM|CD|SC|SCN)|CQ00NAM|TR(T)?00[A-Z]+)"
    return [RULES["TF-ADS-004"].finding(dataset.name, variable=c, value=c) for c, _ in matches(rx, dataset)]


@_rule("TF-ADS-005", "Illegal variable name: basic format is violated", ("AD0013",), category="Format")
def adam_names(dataset, ctx):
    return [RULES["TF-ADS-005"].finding(dataset.name, variable=c, value=c) for c in dataset.frame.columns
            if not _ADAM_NAME.fullmatch(str(c))]


_ADAM_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,7}")


@_rule("TF-ADS-006", "Variable present in dataset is prohibited for use in ADaM (AVAL/AVALC/PARAMCD in OCCDS)",
       ("AD0252",), category="Presence")
def occds_without_parameters(dataset, ctx):
    std = ctx.standard_dataset(dataset.name)
    if std is None or getattr(std, "structure", "") != "OCCDS":
        return []
    return [RULES["TF-ADS-006"].finding(dataset.name, variable=c, value=c)
            for c in ("AVAL", "AVALC", "PARAMCD", "PARAM") if c in dataset.frame]


@_rule("TF-ADS-007", "Only some of these variables are present and populated: SMQzzNAM, SMQzzCD, SMQzzSC", ("AD0304",))
def smq_triplet(dataset, ctx):
    f = dataset.frame
    out = []
    for col, m in matches(r"SMQ(\d\d)NAM", dataset):
        zz = m.group(1)
        parts = [f"SMQ{zz}NAM", f"SMQ{zz}CD", f"SMQ{zz}SC"]
        fills = pd.concat([filled(f, p) for p in parts], axis=1)
        bad = fills.any(axis=1) & ~fills.all(axis=1)
        out += findings_at(RULES["TF-ADS-007"], dataset, bad, variable=col)
    return out


@_rule("TF-ADS-008", "ASPER is present but neither TRTxxP nor APERIOD identifies the period", ("AD0570",),
       category="Presence")
def period_variables_need_treatment(dataset, ctx):
    cols = set(dataset.frame.columns)
    if "APERIOD" not in cols or any(True for _ in matches(r"TRT\d\dP", dataset)):
        return []
    adsl = ctx.get("ADSL")
    if adsl is not None and any(True for _ in matches(r"TRT\d\dP", adsl)):
        return []
    return [RULES["TF-ADS-008"].finding(dataset.name, variable="APERIOD", value="APERIOD",
                                         message="APERIOD is present but no TRTxxP exists")]


@register("TF-ADS-009", E, "There is no TRTxxP / TRxxSDT / TRxxEDT in ADSL for every APERIOD value",
          scope=ADAM, p21=("AD0102", "AD0103", "AD0104"), kind="study", category="Cross-reference")
def periods_in_adsl(ctx):
    adsl = ctx.get("ADSL")
    if adsl is None:
        return []
    cols = set(adsl.frame.columns)
    out = []
    for ds in ctx.datasets.values():
        if "APERIOD" not in ds.frame or ds.name.upper() == "ADSL":
            continue
        for period in sorted({int(p) for p in number(ds.frame["APERIOD"]).dropna().unique()}):
            for pat in ("TRT{:02d}P", "TR{:02d}SDT", "TR{:02d}EDT"):
                name = pat.format(period)
                if name not in cols:
                    out.append(RULES["TF-ADS-009"].finding(ds.name, variable=name, value=str(period),
                                                            message=f"APERIOD {period} has no ADSL.{name}"))
    return out
