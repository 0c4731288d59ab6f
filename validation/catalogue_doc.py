"""The catalogue as documentation: Pinnacle 21 coverage counts and the rule table of
docs/validation.md, generated from the registry (``python -m trialforge.validation.catalogue_doc``)."""
from __future__ import annotations

import csv
from pathlib import Path

from .registry import catalogue

P21_DIR = Path(__file__).resolve().parent / "data"


def p21_ids(which: str) -> list[str]:
    """Pinnacle 21 Community rule ids of the SDTM or ADaM catalogue (validation/data/p21_*_ids.txt)."""
    return (P21_DIR / f"p21_{which}_ids.txt").read_text(encoding="utf-8").split()


def coverage() -> dict:
    rows = catalogue()
    covered = {p for r in rows for p in r["p21"]}
    sdtm, adam = p21_ids("sdtm"), p21_ids("adam")
    return {"rules": len(rows), "sdtm": len(covered & set(sdtm)), "sdtm_total": len(sdtm),
            "adam": len(covered & set(adam)), "adam_total": len(adam),
            "distinct": len(covered & (set(sdtm) | set(adam)))}


def coverage_sentence() -> str:
    c = coverage()
    return (f"The rule catalogue holds {c['rules']} rules; they implement {c['sdtm']} of the {c['sdtm_total']} "
            f"Pinnacle 21 SDTM rule ids and {c['adam']} of the {c['adam_total']} ADaM ids ({c['distinct']} distinct)")


def markdown_table() -> str:
    lines = ["| Rule | Severity | Scope | Pinnacle 21 | CDISC / FDA | Message |", "|---|---|---|---|---|---|"]
    for r in catalogue():
        p21 = ", ".join(r["p21"][:6]) + (f" … ({len(r['p21'])} ids)" if len(r["p21"]) > 6 else "")
        since = f" (SDTMIG {r['since']}+)" if r["since"] else ""
        lines.append(f"| {r['rule_id']} | {r['severity']} | {r['scope']} | {p21} | {', '.join(r['publisher'])} | "
                     f"{r['message'].replace('|', '/')}{since} |")
    return "\n".join(lines)


CATALOGUE_HEADING = "## The catalogue"


def write_docs(root: Path) -> None:
    """Rewrite the counts sentence in README.md and docs/validation.md and the docs' catalogue table."""
    import re
    sentence = re.compile(r"The rule catalogue holds \d+ rules; they implement \d+ of the \d+ Pinnacle 21 SDTM rule ids "
                          r"and \d+ of the \d+ ADaM ids \(\d+ distinct\)")
    for name in ("README.md", "docs/validation.md"):
        path = root / name
        text = sentence.sub(coverage_sentence(), path.read_text(encoding="utf-8"))
        if name.startswith("docs"):
            head, _, _ = text.partition(CATALOGUE_HEADING)
            text = (head + CATALOGUE_HEADING + "\n\nGenerated from the registry (`python -m trialforge.validation."
                    "catalogue_doc --write`; `trialforge validate --list-rules` prints it as JSON lines).\n\n"
                    + markdown_table() + "\n")
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    import sys
    if "--write" in sys.argv:
        write_docs(Path(__file__).resolve().parents[1])
    else:
        print(coverage_sentence())
        print()
        print(markdown_table())
