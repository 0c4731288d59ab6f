"""Extract the project's standard metadata and CT subset from the shared CDISC reference folder.

Run by hand; its output under specs/standards/ and specs/ct/ is committed:

    python scripts/build_standards.py /work/shared/standards [--out <repo root>]

Only facts are copied (names, labels, types, roles, core, codelist ids, value domains); the
"CDISC Notes" prose is never read into the output. CT rows are copied byte-for-byte from the NCI
EVS text file so the subset keeps the exact layout (and blank term C-codes stay blank).
"""
from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

SDTM_CT = "ct/sdtm_ct_2022-09-30.tsv"
ADAM_CT = "ct/adam_ct_2026-03-27.tsv"

# Domains the product builds: every codelist their SDTMIG 3.4 variables reference goes in the subset.
PRODUCT_DOMAINS = (
    "DM AE EX DS TU TR RS PC PP LB IS MI TS TA TE TI TV SE SV CM MH SUPPQUAL RELREC".split()
)
# Codelists TS values (TSVAL) and common CAR-T oncology findings use, looked up by hand in the
# shared CT by their submission value (code checked against the codelist row).
EXTRA_CODELISTS = {
    "C66737": "TPHASE",     # Trial Phase Response (TS TPHASE)
    "C66739": "TTYPE",      # Trial Type Response (TS TTYPE)
    "C99076": "INTMODEL",   # Intervention Model Response (TS INTMODEL)
    "C66785": "TCNTRL",     # Control Type (TS TCNTRL)
    "C66735": "TBLIND",     # Trial Blinding Schema Response (TS TBLIND)
    "C99078": "INTTYPE",    # Intervention Type Response (TS INTTYPE)
    "C66732": "SEXPOP",     # Sex of Participants Response (TS SEXPOP)
    "C99077": "STYPE",      # Study Type Response (TS STYPE)
    "C66736": "TINDTP",     # Trial Intent Type Response (TS TINDTP)
    "C160924": "SDTMIGRS",  # SDTMIG Version Response (TS SDTIGVER)
    "C66742": "NY",         # TS ADAPT, HLTSUBJI, RANDOM, ...
    "C66781": "AGEU",
    "C101815": "ECOG TESTCD",  # RS clinical classification: ECOG performance status
    "C101816": "ECOG TEST",
}

SDTM_DATASET_COLUMNS = ["dataset", "class", "label", "structure"]
SDTM_VARIABLE_COLUMNS = ["dataset", "order", "variable", "label", "type", "role", "core",
                         "codelist", "codelist_code", "value_domain"]
ADAM_STRUCTURE_COLUMNS = ["structure", "description", "class", "subclass"]
ADAM_VARIABLE_COLUMNS = ["structure", "variable_set", "order", "variable", "label", "type", "core",
                         "codelist", "codelist_code", "value_list"]

ADAM_STRUCTURE_NAMES = {
    "Subject-Level Analysis Dataset": "ADSL",
    "Basic Data Structure": "BDS",
    "Occurrence Data Structure": "OCCDS",
}
SUPP_GENERIC = "SUPP--"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _split_codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(";") if c.strip()]


def read_ct_lines(path: Path) -> tuple[bytes, dict[str, list[bytes]], dict[str, dict[str, str]]]:
    """Header line, raw lines per codelist code (codelist row first) and codelist-row facts."""
    raw = path.read_bytes().splitlines(keepends=True)
    header, body = raw[0], raw[1:]
    lines: dict[str, list[bytes]] = {}
    facts: dict[str, dict[str, str]] = {}
    for line in body:
        cols = line.decode("utf-8").rstrip("\r\n").split("\t")
        code, parent = cols[0], cols[1]
        if parent == "":
            lines.setdefault(code, []).insert(0, line)
            facts[code] = {"extensible": cols[2], "name": cols[3], "short_name": cols[4]}
        else:
            lines.setdefault(parent, []).append(line)
    return header, lines, facts


def build_sdtm(shared: Path, out: Path, ct_facts: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    datasets = []
    for row in _read_csv(shared / "sdtmig34_Datasets.csv"):
        name = row["Dataset Name"]
        datasets.append({"dataset": SUPP_GENERIC if name == "SUPPQUAL" else name,
                         "class": row["Class"], "label": row["Dataset Label"],
                         "structure": row["Structure"]})
    _write_csv(out / "specs/standards/sdtmig-3.4-datasets.csv", SDTM_DATASET_COLUMNS, datasets)

    variables = []
    for row in _read_csv(shared / "sdtmig34_Variables.csv"):
        codes = _split_codes(row["CDISC CT Codelist Code(s)"])
        # The SDTMIG export leaves submission values empty: take them from the CT codelist rows.
        # A codelist whose row has no submission value in the shared CT stays addressable by code only.
        short = [ct_facts.get(c, {}).get("short_name", "") for c in codes]
        name = row["Dataset Name"]
        variables.append({
            "dataset": SUPP_GENERIC if name == "SUPPQUAL" else name,
            "order": row["Variable Order"], "variable": row["Variable Name"],
            "label": row["Variable Label"], "type": row["Type"], "role": row["Role"],
            "core": row["Core"], "codelist": "; ".join(s for s in short if s),
            "codelist_code": "; ".join(codes), "value_domain": row["Described Value Domain(s)"],
        })
    variables.sort(key=lambda r: ([d["dataset"] for d in datasets].index(r["dataset"]), int(r["order"])))
    _write_csv(out / "specs/standards/sdtmig-3.4-variables.csv", SDTM_VARIABLE_COLUMNS, variables)
    return variables


def build_adam(shared: Path, out: Path) -> None:
    structures = []
    for row in _read_csv(shared / "adamig13_DataStructures.csv"):
        structures.append({"structure": row["Data Structure Name"],
                           "description": row["Data Structure Description"],
                           "class": row["Class"], "subclass": row["Subclass"]})
    _write_csv(out / "specs/standards/adamig-1.3-structures.csv", ADAM_STRUCTURE_COLUMNS, structures)

    rows = _read_csv(shared / "adamig13_Variables.csv")
    by_structure: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        structure = ADAM_STRUCTURE_NAMES[row["Data Structure Name"]]
        by_structure.setdefault(structure, []).append({
            "structure": structure, "variable_set": row["Variable Set"],
            "variable": row["Variable Name"], "label": row["Variable Label"], "type": row["Type"],
            "core": row["Core"], "codelist": row["CDISC CT Codelist Submission Value(s)"],
            "codelist_code": "; ".join(_split_codes(row["CDISC CT Codelist Code(s)"])),
            "value_list": row["Value List Value"],
        })
    variables = []
    for structure, items in by_structure.items():
        # The export lists the BDS identifier variables last; ADaMIG's tables put them first.
        items.sort(key=lambda r: r["variable_set"] != "Identifier")
        for order, item in enumerate(items, start=1):
            variables.append({**item, "order": str(order)})
    _write_csv(out / "specs/standards/adamig-1.3-variables.csv", ADAM_VARIABLE_COLUMNS, variables)


def build_ct(shared: Path, out: Path, header: bytes, lines: dict[str, list[bytes]],
             facts: dict[str, dict[str, str]], sdtm_variables: list[dict[str, str]]) -> list[str]:
    wanted: list[str] = []
    product = {SUPP_GENERIC if d == "SUPPQUAL" else d for d in PRODUCT_DOMAINS}
    for row in sdtm_variables:
        if row["dataset"] in product:
            wanted += _split_codes(row["codelist_code"])
    for code, short in EXTRA_CODELISTS.items():
        if facts[code]["short_name"] != short:
            raise SystemExit(f"{code}: expected {short}, shared CT says {facts[code]['short_name']!r}")
        wanted.append(code)
    missing = sorted(set(wanted) - set(facts))
    if missing:
        raise SystemExit(f"codelists referenced but absent from the shared CT: {missing}")
    # Keep the shared file's codelist order so the subset reads like the original.
    keep = set(wanted)
    subset = [header] + [ln for code in lines if code in keep for ln in lines[code]]
    (out / "specs/ct").mkdir(parents=True, exist_ok=True)
    (out / "specs/ct/sdtm-ct-2022-09-30-subset.tsv").write_bytes(b"".join(subset))
    (out / "specs/ct/adam-ct-2026-03-27.tsv").write_bytes((shared / ADAM_CT).read_bytes())
    return sorted(keep)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared", type=Path, help="folder holding sdtmig34_*.csv, adamig13_*.csv, ct/")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1],
                        help="repository root to write specs/standards and specs/ct into")
    args = parser.parse_args(argv)
    header, lines, facts = read_ct_lines(args.shared / SDTM_CT)
    variables = build_sdtm(args.shared, args.out, facts)
    build_adam(args.shared, args.out)
    codes = build_ct(args.shared, args.out, header, lines, facts, variables)
    print(f"wrote {len(variables)} SDTMIG variables, {len(codes)} codelists in the CT subset")


if __name__ == "__main__":
    main()
