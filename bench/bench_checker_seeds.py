"""How much the checker's cross-validated accuracies move with the seed alone.

Run: ``.venv/bin/python bench/bench_checker_seeds.py [SEED ...]`` (default 13 14 15 16; about 4 minutes
per seed on 2 cores). Writes bench/results/checker_seeds.json.

Why: the seed draws the augmentation (templates, neutral sentences, unrelated pairs), the folds and
the head's initialisation. Two variants whose difference is inside this spread are not told apart by
one run each, so ``checker_variants.json`` should be read against it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from collect_variants import ACCURACIES  # noqa: E402
from common import write  # noqa: E402

from normkg.reasoning.training import cross_validate  # noqa: E402

KEYS = (*ACCURACIES, "zero_shot.ms_binary_accuracy")


def spread(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean, lowest and highest of each metric over the runs."""
    return {
        k: {
            "mean": round(statistics.fmean(r[k] for r in runs), 4),
            "min": min(r[k] for r in runs),
            "max": max(r[k] for r in runs),
        }
        for k in KEYS
    }


def main(argv: list[str]) -> dict[str, object]:
    seeds = [int(a) for a in argv] or [13, 14, 15, 16]
    started = time.perf_counter()
    runs: list[dict[str, float]] = []
    for seed in seeds:
        metrics = cross_validate(k=5, seed=seed)["metrics"]
        assert isinstance(metrics, dict)
        runs.append({"seed": seed, **{k: metrics[k]["mean"] for k in KEYS}})
        print(json.dumps(runs[-1]), flush=True)
    summary = spread(runs)
    print(f"{'metric':34} {'mean':>7} {'min':>7} {'max':>7}")
    for k, v in summary.items():
        print(f"{k:34} {v['mean']:>7.3f} {v['min']:>7.3f} {v['max']:>7.3f}")
    result = {"folds": 5, "runs": runs, "spread": summary, "seconds": round(time.perf_counter() - started, 1)}
    print(f"wrote {write('checker_seeds', result)}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
