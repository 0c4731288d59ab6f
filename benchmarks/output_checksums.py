"""SHA-256 of every output file of each bundled study's `trialforge run`, against the recorded set.

A speed change must leave every output byte-identical; a deliberate content change rewrites the
record (``--write``) and names each intended difference in its commit message. The record lives in
``tests/data/output_checksums/<study>.json``; ``tests/test_output_checksums.py`` compares it.

    python benchmarks/output_checksums.py             # compare, print differences, exit 1 if any
    python benchmarks/output_checksums.py --write     # record the current outputs
    python benchmarks/output_checksums.py --study cd7-heme
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "tests" / "data" / "output_checksums"
STUDIES = ("cd70-cart", "cd7-heme", "nkg2d-solid")
SKIP = {"manifest.json"}        # holds the command line and input paths, which differ per run folder


def output_checksums(study: str, work: Path) -> dict[str, str]:
    """Run the bundled study into ``work`` and hash every file it wrote (relative path -> sha256)."""
    from trialforge.pipeline import EXAMPLES, run_study

    out = work / study
    run_study(EXAMPLES / study, out_dir=out)
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.name not in SKIP}


def differences(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """One line per file added, removed or changed."""
    lines = [f"missing  {k}" for k in sorted(recorded.keys() - current.keys())]
    lines += [f"new      {k}" for k in sorted(current.keys() - recorded.keys())]
    lines += [f"changed  {k}" for k in sorted(recorded.keys() & current.keys()) if recorded[k] != current[k]]
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="record the current outputs")
    ap.add_argument("--study", action="append", choices=STUDIES, help="default: all three")
    args = ap.parse_args(argv)
    status = 0
    with tempfile.TemporaryDirectory(prefix="tf-checksums-") as tmp:
        for study in args.study or STUDIES:
            current = output_checksums(study, Path(tmp))
            record = RECORD / f"{study}.json"
            if args.write:
                RECORD.mkdir(parents=True, exist_ok=True)
                record.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
                print(f"{study}: recorded {len(current)} files")
                continue
            diff = differences(json.loads(record.read_text(encoding="utf-8")), current)
            print(f"{study}: {len(current)} files, {len(diff)} differ")
            for line in diff:
                print("  " + line)
            status |= bool(diff)
    return status


if __name__ == "__main__":
    sys.exit(main())
