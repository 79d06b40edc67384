"""All benchmarks in one run: ingest, serving (queries, checking, memory), moral graph, checker accuracy.

Each prints its table next to its baseline and writes bench/results/<name>.json; this writes them all
together to bench/results/latest.json.  Run: .venv/bin/python bench/run.py [NAME ...]
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BENCHMARKS = ("bench_ingest", "bench_serving", "bench_moral_graph", "bench_checker_accuracy")


def main(names: list[str]) -> None:
    chosen = [n if n.startswith("bench_") else f"bench_{n}" for n in names] or list(BENCHMARKS)
    results: dict[str, object] = {}
    for name in chosen:
        print(f"\n== {name} ==")
        start = time.perf_counter()
        module = importlib.import_module(name)
        results[name] = module.main()
        print(f"({time.perf_counter() - start:.1f} s)")
    latest = HERE / "results" / "latest.json"
    latest.parent.mkdir(exist_ok=True)
    latest.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwrote {latest}")


if __name__ == "__main__":
    main(sys.argv[1:])
