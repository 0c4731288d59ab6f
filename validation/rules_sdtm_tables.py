"""SDTM rules that are rows of a table: values missing when a partner is populated, variables
present without their partner, values that must be one-to-one, and forbidden values.

Severity follows Pinnacle 21 (warnings for what a sponsor may justify in the reviewer's guide),
except where SDTMIG states a plain must.
"""
from __future__ import annotations

from .context import str_test
from .families import filled, missing_when, numeric_text, one_to_one, value_rule, variable_needs
from .registry import SDTM

E, W, N = "error", "warning", "notice"

# (id, severity, message, p21, publisher, target, [conditions], domains)
MISSING_WHEN = [
    ("TF-PRS-001", W, "Missing value for --ORRES when --ORRESU is provided", ("SD0027",), (), "--ORRES", ["--ORRESU"]),
    ("TF-PRS-002", W, "Missing value for --STRESC when --STRESU is provided", ("SD0030",), ("CG0426",),
     "--STRESC", ["--STRESU"]),
    ("TF-PRS-003", W, "Missing value for --STRESC when --ORRES is provided", ("SD0036",), ("CG0397",),
     "--STRESC", ["--ORRES"]),
    ("TF-PRS-004", W, "Missing value for --STAT when --REASND is provided", ("SD0023",), ("CG0094",),
     "--STAT", ["--REASND"]),
    ("TF-PRS-005", W, "Missing value for --TPT when --TPTNUM is provided", ("SD0032",), (), "--TPT", ["--TPTNUM"]),
    ("TF-PRS-006", W, "Missing value for --TPTNUM when --TPT is provided", ("SD0033",), (), "--TPTNUM", ["--TPT"]),
    ("TF-PRS-007", W, "Missing value for --TPTREF when --ELTM is provided", ("SD0034",), ("CG0008",),
     "--TPTREF", ["--ELTM"]),
    ("TF-PRS-008", W, "Missing value for --DOSU when --DOSE, --DOSTXT or --DOSTOT is provided", ("SD0035",),
     ("CG0114",), "--DOSU", ["--DOSE", "--DOSTXT", "--DOSTOT"]),
    ("TF-PRS-009", W, "Missing value for --TRTV when --VAMT is not null", ("SD0043",), ("CG0423",), "--TRTV", ["--VAMT"]),
    ("TF-PRS-010", W, "Missing value for --VAMTU when --VAMT is populated", ("SD0044",), (), "--VAMTU", ["--VAMT"]),
    ("TF-PRS-011", W, "Missing value for --VAMT when --VAMTU is populated", ("SD2286",), (), "--VAMT", ["--VAMTU"]),
    ("TF-PRS-012", W, "Missing value for --STRESC when --RESCAT is populated", ("SD0045",), ("CG0427",),
     "--STRESC", ["--RESCAT"]),
    ("TF-PRS-013", W, "Missing value for --STTPT when --STRTPT is populated", ("SD0049",), ("FDAB044", "CG0061"),
     "--STTPT", ["--STRTPT"]),
    ("TF-PRS-014", W, "Missing value for --ENTPT when --ENRTPT is populated", ("SD0050",), ("FDAB044", "CG0046"),
     "--ENTPT", ["--ENRTPT"]),
    ("TF-PRS-015", W, "Missing value for --STRTPT when --STTPT is populated", ("SD1292",), ("CG0059",),
     "--STRTPT", ["--STTPT"]),
    ("TF-PRS-016", W, "Missing value for --ENRTPT when --ENTPT is populated", ("SD1291",), ("CG0045",),
     "--ENRTPT", ["--ENTPT"]),
    ("TF-PRS-017", W, "Missing value for --TOXGR when --TOX is populated", ("SD1036",), ("CG0428",), "--TOXGR", ["--TOX"]),
    ("TF-PRS-018", W, "Missing value for --TOX when --TOXGR is populated", ("SD1037",), (), "--TOX", ["--TOXGR"],
     ("LB",)),
    ("TF-PRS-019", W, "Missing --CAT value when --SCAT value is populated", ("SD1098",), ("CG0429",), "--CAT", ["--SCAT"]),
    ("TF-PRS-020", W, "Missing value for --DECOD when --PTCD is populated", ("SD1289",), ("CG0050",),
     "--DECOD", ["--PTCD"]),
    ("TF-PRS-021", W, "Missing value for --ENINT when --STINT is provided", ("SD1350",), (), "--ENINT", ["--STINT"]),
    ("TF-PRS-022", W, "Missing value for --STINT when --ENINT is provided", ("SD1351",), (), "--STINT", ["--ENINT"]),
    ("TF-PRS-023", W, "--STREFC is null when --ORREF is populated", ("SD1369",), ("CG0549",), "--STREFC", ["--ORREF"]),
    ("TF-PRS-024", W, "--BDSYCD is null when --BODSYS is populated", ("SD1461",), ("CG0082",), "--BDSYCD", ["--BODSYS"]),
    ("TF-PRS-025", W, "--BODSYS is not populated when --BDSYCD is populated", ("SD1241",), (), "--BODSYS", ["--BDSYCD"]),
    ("TF-PRS-026", E, "Missing RDOMAIN value when IDVAR is populated", ("SD1065",), ("CG0164",), "RDOMAIN", ["IDVAR"],
     ("RELREC", "SUPP*", "CO")),
    ("TF-PRS-027", E, "Missing RDOMAIN value when IDVARVAL is populated", ("SD1465",), ("CG0166",), "RDOMAIN",
     ["IDVARVAL"], ("RELREC", "SUPP*", "CO")),
    ("TF-PRS-028", E, "Missing IDVAR value when RDOMAIN value is provided", ("SD1072",), ("CG0163", "CG0203"),
     "IDVAR", ["RDOMAIN"], ("RELREC",)),
    ("TF-PRS-029", W, "Missing value for RFXENDTC when RFXSTDTC is provided", ("SD1209",), ("FDAB043",),
     "RFXENDTC", ["RFXSTDTC"], ("DM",)),
    ("TF-PRS-030", W, "Missing value for RFXSTDTC when RFXENDTC is provided", ("SD1342",), ("FDAB038",),
     "RFXSTDTC", ["RFXENDTC"], ("DM",)),
    ("TF-PRS-031", W, "Missing value for --DTC when --ENDTC is provided", ("SD0024",), ("FDAB043",), "--DTC", ["--ENDTC"],
     ("LB", "PC", "EG", "VS", "QS", "FT", "RS", "TR", "TU", "IS", "MI", "MB", "MS", "SC", "PE", "DA", "CV", "RE")),
    ("TF-PRS-033", W, "Missing value for AGEU when AGE or AGETXT is populated", ("SD2022",), ("CG0432",),
     "AGEU", ["AGE", "AGETXT"], ("DM",)),
    ("TF-PRS-034", W, "Missing value for SEUPDES when ETCD='UNPLAN'", ("SD0092", "SD1266"), ("CG0211", "CG0210"),
     "SEUPDES", ["ETCD"], ("SE",)),
    ("TF-PRS-035", W, "Missing EPOCH value when DSCAT is 'DISPOSITION EVENT'", ("SD1313",), (), "EPOCH", ["DSCAT"],
     ("DS",)),
    ("TF-PRS-036", W, "Missing value for DSCAT", ("SD1035",), ("FDAB014",), "DSCAT", ["DSDECOD"], ("DS",)),
    ("TF-PRS-037", W, "Missing RACE value for subject", ("SD1476",), ("CG0646", "CG0647", "CG0648"), "RACE", ["USUBJID"],
     ("DM",)),
    ("TF-PRS-038", W, "Missing value for RFICDTC", ("SD1210",), ("FDAB038",), "RFICDTC", ["USUBJID"], ("DM",)),
    ("TF-PRS-039", W, "Missing value for --STRESC when --DRVFL='Y'", ("SD0016",), ("CG0397",), "--STRESC", ["--DRVFL"]),
    ("TF-PRS-040", W, "--STREFC is null when --DRVFL='Y'", ("SD1454",), ("CG0549",), "--STREFC", ["--DRVFL"]),
]
# rows whose condition is a value, not just "populated": filter applied in _conditional below
_CONDITION_VALUE = {"TF-PRS-034": ("ETCD", "UNPLAN"), "TF-PRS-035": ("DSCAT", "DISPOSITION EVENT"),
                    "TF-PRS-039": ("--DRVFL", "Y"), "TF-PRS-040": ("--DRVFL", "Y")}

# (id, severity, message, p21, publisher, present, [needed alternatives], domains)
VARIABLE_NEEDS = [
    ("TF-VAR-001", W, "Missing --CAT variable when --SCAT variable is present", ("SD1099",), ("CG0430",), "--SCAT", ["--CAT"]),
    ("TF-VAR-002", W, "Missing --ENTPT variable when --ENRTPT variable is present", ("SD1101",), ("CG0058",),
     "--ENRTPT", ["--ENTPT"]),
    ("TF-VAR-003", W, "Missing --ENRTPT variable when --ENTPT variable is present", ("SD1102",), ("CG0057",),
     "--ENTPT", ["--ENRTPT"]),
    ("TF-VAR-004", W, "Missing --STTPT variable when --STRTPT variable is present", ("SD1103",), ("CG0062",),
     "--STRTPT", ["--STTPT"]),
    ("TF-VAR-005", W, "Missing --STRTPT variable when --STTPT variable is present", ("SD1104",), ("CG0060",),
     "--STTPT", ["--STRTPT"]),
    ("TF-VAR-006", W, "Missing --PRESP variable when --OCCUR variable is present", ("SD1147",), ("CG0088",),
     "--OCCUR", ["--PRESP"], ("AE", "CE", "MH", "CM", "EX", "PR", "SU", "EC", "HO", "DV", "ML", "AG")),
    ("TF-VAR-007", W, "Missing --TPT variable when --TPTNUM variable is present", ("SD1244",), ("CG0091", "CG0661"),
     "--TPTNUM", ["--TPT"]),
    ("TF-VAR-008", W, "Missing --TPTREF variable when --RFTDTC variable is present", ("SD1245",), ("FDAB037", "CG0090"),
     "--RFTDTC", ["--TPTREF"]),
    ("TF-VAR-009", W, "Missing --TPTREF variable when --ELTM variable is present", ("SD1246",), ("CG0092",),
     "--ELTM", ["--TPTREF"]),
    ("TF-VAR-010", W, "Missing --TPTNUM variable when --TPT variable is present", ("SD1250",), ("CG0468",),
     "--TPT", ["--TPTNUM"]),
    ("TF-VAR-011", W, "--TOX variable is present when --TOXGR variable is missing", ("SD1280",), ("CG0084",),
     "--TOX", ["--TOXGR"]),
    ("TF-VAR-012", W, "--LAT variable is present when --LOC variable is missing", ("SD1283",), ("CG0095",),
     "--LAT", ["--LOC"]),
    ("TF-VAR-013", W, "--PORTOT variable is present when --LOC variable is missing", ("SD1284",), ("CG0115",),
     "--PORTOT", ["--LOC"]),
    ("TF-VAR-014", W, "--DIR variable is present when --LOC variable is missing", ("SD1285",), ("CG0116",),
     "--DIR", ["--LOC"]),
    ("TF-VAR-015", W, "--REASND variable is present when --PRESP variable is missing", ("SD1293",), ("CG0053",),
     "--REASND", ["--PRESP"], ("AE", "CE", "MH", "CM", "PR", "SU", "HO")),
    ("TF-VAR-016", W, "--STAT variable is present when --PRESP variable is missing", ("SD1294",), ("CG0056",),
     "--STAT", ["--PRESP"], ("AE", "CE", "MH", "CM", "PR", "SU", "HO")),
    ("TF-VAR-017", W, "MIDS variable is missing, when MIDSDTC variable is present", ("SD1357",), ("CG0503",),
     "MIDSDTC", ["MIDS"]),
    ("TF-VAR-018", W, "Missing --ENINT variable when --STINT variable is present", ("SD1450",), ("FDAB044",),
     "--STINT", ["--ENINT"]),
    ("TF-VAR-019", W, "Missing --STINT variable when --ENINT variable is present", ("SD1451",), ("FDAB044",),
     "--ENINT", ["--STINT"]),
    ("TF-VAR-020", W, "Missing --DTC variable when --DY variable is present", ("SD2270",), ("FDAB038",), "--DY", ["--DTC"]),
    ("TF-VAR-021", W, "Missing --STDTC variable when --STDY variable is present", ("SD2271",), ("FDAB038",),
     "--STDY", ["--STDTC"]),
    ("TF-VAR-022", W, "Missing --ENDTC variable when --ENDY variable is present", ("SD2272",), ("FDAB038",),
     "--ENDY", ["--ENDTC"]),
    ("TF-VAR-023", W, "Neither AGE nor AGETXT variables are present", ("SD1129",), ("FDAB005",), "USUBJID",
     ["AGE", "AGETXT"], ("DM",)),
    ("TF-VAR-024", W, "--TPTREF variable is present when --ELTM, --TPTNUM, and --TPT are missing", ("SD1282",),
     ("CG0093",), "--TPTREF", ["--ELTM", "--TPTNUM", "--TPT"]),
]

# (id, severity, message, p21, publisher, key, val, within, domains)
ONE_TO_ONE = [
    ("TF-CON-001", W, "Inconsistent value for --PARM within --PARMCD", ("SD1069",), ("FDAB009", "CG0307"),
     "--PARMCD", "--PARM"),
    ("TF-CON-002", W, "Inconsistent value for --PARMCD within --PARM", ("SD1070",), ("FDAB009", "CG0307"),
     "--PARM", "--PARMCD"),
    ("TF-CON-003", W, "Inconsistent value for IETEST within IETESTCD", ("SD1150",), ("FDAB009",), "IETESTCD", "IETEST",
     (), ("IE", "TI")),
    ("TF-CON-004", W, "Inconsistent value for IETESTCD within IETEST", ("SD1151",), ("FDAB009",), "IETEST", "IETESTCD",
     (), ("IE", "TI")),
    ("TF-CON-005", W, "Inconsistent value for --BODSYS within --BDSYCD", ("SD1242",), ("CG0083",), "--BDSYCD", "--BODSYS"),
    ("TF-CON-006", W, "Inconsistent value for --BDSYCD within --BODSYS", ("SD1243",), ("CG0083",), "--BODSYS", "--BDSYCD"),
    ("TF-CON-007", W, "Inconsistent value for --DECOD within --PTCD", ("SD1287",), ("CG0049",), "--PTCD", "--DECOD"),
    ("TF-CON-008", W, "Inconsistent value for --PTCD within --DECOD", ("SD1288",), ("CG0049",), "--DECOD", "--PTCD",
     (), ("AE", "MH", "CE")),
    ("TF-CON-009", W, "Inconsistent value for --DECOD within --TERM", ("SD1440",), ("FDAB003",), "--TERM", "--DECOD",
     (), ("AE", "MH", "CE")),
    ("TF-CON-010", W, "Inconsistent value for --HLT within --TERM", ("SD1441",), ("FDAB003",), "--TERM", "--HLT"),
    ("TF-CON-011", W, "Inconsistent value for --HLGT within --TERM", ("SD1442",), ("FDAB003",), "--TERM", "--HLGT"),
    ("TF-CON-012", W, "Inconsistent value for --BODSYS within --TERM", ("SD1443",), ("FDAB003",), "--TERM", "--BODSYS",
     (), ("AE", "MH", "CE")),
    ("TF-CON-013", W, "Inconsistent value for --SOC within --TERM", ("SD1444",), ("FDAB003",), "--TERM", "--SOC"),
    ("TF-CON-014", W, "Non-unique value for ELEMENT within ETCD", ("SD1027",), ("CG0154",), "ETCD", "ELEMENT", (),
     ("TE", "TA", "SE")),
    ("TF-CON-015", W, "Non-unique value for ETCD within ELEMENT", ("SD1050",), ("FDAB009",), "ELEMENT", "ETCD", (),
     ("TE", "TA", "SE")),
    ("TF-CON-016", W, "Inconsistent value for --ELTM within --TPT, --TPTREF and/or VISITNUM", ("SD1125",),
     ("CG0240", "CG0241"), "--TPT", "--ELTM", ("--TPTREF", "VISITNUM")),
    ("TF-CON-017", W, "Inconsistent value for --TPT within --TPTNUM, --TPTREF, VISITNUM", ("SD1126",),
     ("CG0571", "CG0572", "CG0573"), "--TPTNUM", "--TPT", ("--TPTREF", "VISITNUM")),
    ("TF-CON-018", W, "Inconsistent value for --TPTNUM within --TPT, --TPTREF, VISITNUM", ("SD1127",),
     ("CG0571", "CG0572", "CG0573"), "--TPT", "--TPTNUM", ("--TPTREF", "VISITNUM")),
    ("TF-CON-019", W, "Inconsistent value for TSVALCD within TSVAL", ("SD1278",), ("CG0265",), "TSVAL", "TSVALCD",
     ("TSPARMCD",), ("TS",)),
    ("TF-CON-020", W, "Inconsistent value for Standard Units (--STRESU within --TESTCD)", ("SD0007",), ("FDAB030",),
     "--TESTCD", "--STRESU", ("--CAT", "--SPEC", "--METHOD", "--POS", "--TSTDTL", "--TSTOPO")),
    ("TF-CON-021", N, "Inconsistent value for ACTARM within ACTARMCD", ("SD1133",), ("FDAB009",), "ACTARMCD", "ACTARM",
     (), ("DM",)),
    ("TF-CON-022", N, "Inconsistent value for ACTARMCD within ACTARM", ("SD1134",), ("FDAB009",), "ACTARM", "ACTARMCD",
     (), ("DM",)),
]


def _equals(values):
    return lambda v, s: str_test(v, lambda u: u.str.upper().isin(values))


def _numeric_text_of(v, s):
    return numeric_text(v)


# (id, severity, message, p21, publisher, variable, bad(values, series), domains)
VALUES = [
    ("TF-VAL-101", W, "--TESTCD equals 'OTHER'", ("SD1272",), ("CG0341",), "--TESTCD", _equals({"OTHER"})),
    ("TF-VAL-102", W, "--TRT equals 'OTHER'", ("SD1273",), ("CG0342",), "--TRT", _equals({"OTHER"})),
    ("TF-VAL-103", W, "--TERM equals 'OTHER'", ("SD1274",), ("CG0343",), "--TERM", _equals({"OTHER"})),
    ("TF-VAL-104", W, "--TESTCD equals 'MULTIPLE'", ("SD1275",), ("CG0344",), "--TESTCD", _equals({"MULTIPLE"})),
    ("TF-VAL-105", W, "--TRT equals 'MULTIPLE'", ("SD1276",), ("CG0345",), "--TRT", _equals({"MULTIPLE"})),
    ("TF-VAL-106", W, "--TERM equals 'MULTIPLE'", ("SD1277",), ("CG0346",), "--TERM", _equals({"MULTIPLE"})),
    ("TF-VAL-107", W, "--DOSTXT is numeric value", ("SD1464",), ("CG0112",), "--DOSTXT", _numeric_text_of),
    ("TF-VAL-108", W, "Negative value for --DUR", ("SD0015",), ("FDAB040",), "--DUR", lambda v, s: v.str.startswith("-")),
    ("TF-VAL-109", W, "Negative value for --VAMT", ("SD1452",), ("FDAB040",), "--VAMT",
     lambda v, s: v.str.startswith("-")),
    ("TF-VAL-110", E, "Invalid value (not 2 chars) for DOMAIN variable", ("SD1300",), ("CG0308",), "DOMAIN",
     lambda v, s: v.str.len() != 2),
    ("TF-VAL-111", E, "Invalid value for SETCD exceeding 8 characters", ("SD1259",), ("CG0149",), "SETCD",
     lambda v, s: v.str.len() > 8),
    ("TF-VAL-112", E, "Invalid value for TAETORD (not a positive integer)", ("SD1267",), ("CG0248",), "TAETORD",
     lambda v, s: ~v.str.fullmatch(r"[1-9][0-9]*"), ("TA", "SE")),
    ("TF-VAL-113", W, "Invalid value for AGETXT (not a number or range such as 18-65)", ("SD2019",), ("FDAB005",),
     "AGETXT", lambda v, s: ~v.str.fullmatch(r"[0-9]+(\.[0-9]+)?-[0-9]+(\.[0-9]+)?"), ("DM",)),
    ("TF-VAL-114", E, "Invalid value for RELTYPE variable (not ONE or MANY)", ("SD1026", "SD1128"), ("CG0419",),
     "RELTYPE", lambda v, s: ~v.isin(["ONE", "MANY"]), ("RELREC",)),
    ("TF-VAL-115", W, "Negative value of Study Day variable in EX/EC", ("SD1135",), ("FDAB036",), "--(ST|EN)?DY",
     lambda v, s: v.str.startswith("-"), ("EX", "EC")),
]


missing_when([r for r in MISSING_WHEN if r[0] not in _CONDITION_VALUE], scope=SDTM)
variable_needs(VARIABLE_NEEDS, scope=SDTM)
one_to_one(ONE_TO_ONE, scope=SDTM)
value_rule(VALUES, scope=SDTM, category="Format")


# ---- value-conditioned "missing when" rows: the condition is a specific value ----------------------

def _value_missing_rows():
    from .context import findings_at, text
    from .families import expand, in_scope
    from .registry import RULES, register
    for row in [r for r in MISSING_WHEN if r[0] in _CONDITION_VALUE]:
        rid, sev, msg, p21, pub, target, _conds = row[:7]
        domains = row[7] if len(row) > 7 else ()
        cvar, cval = _CONDITION_VALUE[rid]

        def check(dataset, ctx, rid=rid, target=target, cvar=cvar, cval=cval, domains=domains):
            if not in_scope(dataset, domains):
                return []
            f = dataset.frame
            c, t = expand(cvar, dataset), expand(target, dataset)
            if c not in f:
                return []
            bad = (text(f[c]) == cval) & ~filled(f, t)
            return findings_at(RULES[rid], dataset, bad, variable=t, message=f"{t} is null while {c} = '{cval}'")
        register(rid, sev, msg, scope=SDTM, p21=p21, publisher=pub, category="Consistency")(check)


_value_missing_rows()
