"""CDISC CORE interoperability: a report whose fields follow CORE's JSON report (Conformance_Details,
Dataset_Details, Issue_Summary, Issue_Details, Rules_Report), and a comparison of a CORE report with
trialforge's findings on the same package, so a user migrating from CORE sees the difference at once.

Rules are matched through the ids both tools carry: CORE's rules name their SDTMIG conformance rule
(CGxxxx) and FDA business rule (FDABxxx); trialforge rules carry the same ids as ``publisher``. A
finding matches when a rule shares such an id and dataset, USUBJID and --SEQ (or row) agree.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from ..errors import TrialforgeError
from .findings import ValidationReport
from .registry import RULES

EXECUTABILITY = "fully executable"


def _standard_parts(standard: str) -> tuple[str, str]:
    m = re.match(r"\s*([A-Za-z]+)\s*([0-9.]+)?", standard.split(";")[0] if standard else "")
    return (m.group(1).upper(), f"V{m.group(2)}") if m and m.group(2) else (standard.upper(), "")


def core_dict(report: ValidationReport, *, package: str = "", ct_version: str = "", sources=None) -> dict:
    """trialforge's findings in CORE's JSON report layout (no clock time: reruns are byte-identical)."""
    from .. import __version__
    standard, version = _standard_parts(report.standard)
    sources = sources or {}
    by_rule = Counter((f.dataset, f.rule_id) for f in report.findings)
    details = []
    for f in report.sorted():
        details.append({"core_id": f.rule_id, "message": f.message, "executability": EXECUTABILITY,
                        "dataset": sources.get(f.dataset, f.dataset), "USUBJID": f.usubjid or "",
                        "row": f.row if f.row is not None else "", "SEQ": f.seq or "",
                        "variables": [f.variable] if f.variable else [],
                        "values": [f.value] if f.variable else []})
    rules = []
    for rid in report.rule_ids or sorted({f.rule_id for f in report.findings}):
        rule = RULES.get(rid)
        pub = list(rule.publisher) if rule else []
        rules.append({"core_id": rid, "version": "1",
                      "cdisc_rule_id": ", ".join(p for p in pub if p.startswith("CG")),
                      "fda_rule_id": ", ".join(p for p in pub if p.startswith("FDAB")),
                      "p21_rule_id": ", ".join(rule.p21) if rule else "",
                      "message": rule.message if rule else "", "status": "SUCCESS"})
    return {
        "Conformance_Details": {"CORE_Engine_Version": f"trialforge {__version__}", "Report_Generation": None,
                                "Total_Runtime": None, "Standard": standard, "Version": version,
                                "CT_Version": ct_version, "Define_XML_Version": None, "Package": package},
        "Dataset_Details": [{"filename": sources.get(name, f"{name.lower()}.xpt"), "label": None, "path": package,
                             "modification_date": None, "size_kb": None, "length": n}
                            for name, n in sorted(report.datasets.items())],
        "Issue_Summary": [{"dataset": sources.get(ds, ds), "core_id": rid, "message": RULES[rid].message
                           if rid in RULES else "", "issues": n} for (ds, rid), n in sorted(by_rule.items())],
        "Issue_Details": details,
        "Rules_Report": rules,
    }


def write_core_json(report: ValidationReport, path: Path, **kw) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(core_dict(report, **kw), indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    return path


# ---- comparing with a CORE report --------------------------------------------------------------------

def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "_", name.strip().lower())


def _section(doc: dict, name: str):
    for k, v in doc.items():
        if _key(k) == _key(name):
            return v
    return None


def read_core_report(path) -> dict:
    """A CORE JSON report (any recent layout: Issue_Details / issue_Details / "Issue Details")."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrialforgeError(f"cannot read CORE report: {exc}", file=path) from None
    if not isinstance(doc, dict) or _section(doc, "Issue_Details") is None:
        raise TrialforgeError("not a CDISC CORE JSON report (no Issue_Details)", file=path)
    return doc


def _ids(text) -> set[str]:
    return {t for t in re.split(r"[,\s]+", str(text or "")) if t}


def _dataset_name(value) -> str:
    return Path(str(value or "")).stem.upper()


def _record(dataset, usubjid, seq, row) -> tuple:
    return (_dataset_name(dataset), str(usubjid or ""), str(seq or "").removesuffix(".0"), str(row or ""))


def compare(report: ValidationReport, core: dict) -> dict:
    """Findings one tool has and the other lacks, grouped by rule and dataset."""
    core_rule_ids = {}
    for rule in _section(core, "Rules_Report") or []:
        core_rule_ids[str(rule.get("core_id"))] = _ids(rule.get("cdisc_rule_id")) | _ids(rule.get("fda_rule_id"))
    tf_ids = {rid: set(r.publisher) for rid, r in RULES.items()}
    tf_by_id: dict[str, set] = {}
    for f in report.findings:
        for pid in tf_ids.get(f.rule_id, ()):
            tf_by_id.setdefault(pid, set()).add(_record(f.dataset, f.usubjid, f.seq, f.row))
    core_by_id: dict[str, set] = {}
    only_core = Counter()
    for issue in _section(core, "Issue_Details") or []:
        cid = str(issue.get("core_id"))
        rec = _record(issue.get("dataset"), issue.get("USUBJID"), issue.get("SEQ"), issue.get("row"))
        pids = core_rule_ids.get(cid, set()) | {cid}       # a rule may carry the CORE id itself
        for pid in pids:
            core_by_id.setdefault(pid, set()).add(rec)
        if not any(_matches(rec, tf_by_id.get(pid, ())) for pid in pids):
            only_core[(cid, rec[0])] += 1
    only_tf = Counter()
    for f in report.findings:
        rec = _record(f.dataset, f.usubjid, f.seq, f.row)
        if not any(_matches(rec, core_by_id.get(pid, ())) for pid in tf_ids.get(f.rule_id, ())):
            only_tf[(f.rule_id, rec[0])] += 1
    return {"only_in_core": [{"core_id": c, "dataset": d, "issues": n} for (c, d), n in sorted(only_core.items())],
            "only_in_trialforge": [{"rule_id": r, "dataset": d, "findings": n,
                                    "cdisc_fda_ids": sorted(tf_ids.get(r, ()))}
                                   for (r, d), n in sorted(only_tf.items())]}


def _matches(rec, candidates) -> bool:
    """Same dataset and subject, and the same --SEQ (or row when either has no --SEQ); a dataset-level
    issue (no subject) matches any dataset-level finding of the dataset."""
    ds, subj, seq, row = rec
    for c in candidates:
        if c[0] != ds or c[1] != subj:
            continue
        if not subj or (seq and c[2] and seq == c[2]) or ((not seq or not c[2]) and row and row == c[3]):
            return True
    return False


def comparison_lines(diff: dict, max_lines: int = 30) -> list[str]:
    lines = [f"compare with CORE: {sum(x['issues'] for x in diff['only_in_core'])} CORE issues without a "
             f"trialforge finding, {sum(x['findings'] for x in diff['only_in_trialforge'])} trialforge findings "
             f"without a CORE issue"]
    for x in diff["only_in_core"][:max_lines]:
        lines.append(f"  only CORE        {x['core_id']:14} {x['dataset']:8} x{x['issues']}")
    for x in diff["only_in_trialforge"][:max_lines]:
        lines.append(f"  only trialforge  {x['rule_id']:14} {x['dataset']:8} x{x['findings']}")
    return lines
