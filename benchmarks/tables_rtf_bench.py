"""Time the RTF of every table and listing of a built tables folder: rtflite's encoding (one
RTFDocument per page, `render.table_to_rtf_rtflite`) against the direct writer (`render.table_to_rtf`),
in one process, and check the two are the same bytes.

The tables are read back from their ``.json`` files (every cell, indent and heading flag), so no
ADaM is needed:

    python benchmarks/tables_bench.py --subjects 1000            # builds /tmp/tf-tables-bench/cd70-1000-tables
    python benchmarks/tables_rtf_bench.py /tmp/tf-tables-bench/cd70-1000-tables --top 5
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def load_result(path: Path):
    from trialforge.tables.result import Row, TableResult
    d = json.loads(path.read_text(encoding="utf-8"))
    return TableResult(
        id=d["id"], kind=d["kind"], title=d["title"], population=d["population"],
        header=[[(h["text"], h["span"]) for h in row] for row in d["header"]], stub_header=d["stub_header"],
        rows=[Row(r["label"], r["cells"], r["indent"], r["header"]) for r in d["rows"]],
        footnotes=d["footnotes"])


def _cold():
    """Empty the measurement caches so each path pays for its own text widths."""
    from trialforge.tables import render, rtf_table
    for f in (render._lines, render._word_in, render._text_in, rtf_table.text, rtf_table.paragraph_format):
        f.cache_clear()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", help="a tables output folder (t_*.json, l_*.json)")
    ap.add_argument("--top", type=int, default=5, help="slowest outputs to list")
    args = ap.parse_args(argv)
    from trialforge.tables import render
    files = sorted(p for p in Path(args.folder).glob("*.json") if p.name[:2] in ("t_", "l_"))
    results = [(p.stem, load_result(p)) for p in files]
    times = {}
    for name, fn in (("rtflite", render.table_to_rtf_rtflite), ("direct", render.table_to_rtf)):
        _cold()
        per = {}
        texts = {}
        for stem, res in results:
            page = {"protocol": "BENCH", "cutoff": "2025-01-01", "program": f"trialforge tables, output {stem}",
                    "source": "ADaM"}
            t = time.process_time()
            texts[stem] = fn(res, page)
            per[stem] = time.process_time() - t
        times[name] = (per, texts)
    (old, old_text), (new, new_text) = times["rtflite"], times["direct"]
    differ = [s for s in old_text if old_text[s] != new_text[s]]
    print(f"{len(results)} tables/listings   rtflite {sum(old.values()):.2f} s   direct {sum(new.values()):.2f} s"
          f"   ratio {sum(new.values()) / max(sum(old.values()), 1e-9):.3f}   differing: {len(differ)}")
    for stem in sorted(old, key=lambda s: -old[s])[:args.top]:
        print(f"    {stem:<20} rtflite {old[stem]:7.2f}   direct {new[stem]:6.3f}")
    for stem in differ:
        print(f"    DIFFERS {stem}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
