"""How much the checker's accuracies move with the seed alone, per training recipe.

Run: ``.venv/bin/python bench/bench_checker_seeds.py [--neutral-near K ...] [--seeds SEED ...]``
(default: the shipped recipe; seeds 13 14 15 16). Each (recipe, seed) is a full
``normkg train --folds 5`` into a scratch folder (about 5-6 minutes on 2 cores): its cross-validated
accuracies, and, when the store that ``bench_serving.py`` builds is there, the trained model's
findings against the whole graph's labelled candidates (``tests/data/checker/graph_pairs.jsonl``).
Writes bench/results/checker_seeds.json.

Why: the seed draws the augmentation (templates, neutral sentences, unrelated pairs), the folds and
the head's initialisation. Two variants whose difference is inside this spread are not told apart by
one run each, so ``checker_variants.json`` should be read against it. ``--neutral-near 8 0`` compares
judge-5 with judge-4 seed by seed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_checker_accuracy import against_the_graph  # noqa: E402
from collect_variants import ACCURACIES  # noqa: E402
from common import write  # noqa: E402

from normkg.reasoning.judge import NormJudge  # noqa: E402
from normkg.reasoning.training import HyperParameters, train  # noqa: E402

KEYS = (*ACCURACIES, "zero_shot.ms_binary_accuracy")
GRAPH_SETS = ("challenge", "challenge_fresh")


def spread(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean, lowest and highest of each figure over the runs."""
    keys = [k for k in runs[0] if k != "seed"]
    return {
        k: {
            "mean": round(statistics.fmean(r[k] for r in runs), 4),
            "min": min(r[k] for r in runs),
            "max": max(r[k] for r in runs),
        }
        for k in keys
    }


def graph_figures(judge: NormJudge) -> dict[str, float]:
    """Accuracy and *violates* precision / recall / flags on each set's labelled graph candidates."""
    report = against_the_graph(judge).get("labelled_pairs")
    if not isinstance(report, dict):
        return {}
    out: dict[str, float] = {}
    for name in GRAPH_SETS:
        scores = report[name]["all"]
        out[f"graph.{name}.accuracy"] = scores["accuracy"]
        for field in ("precision", "recall", "flagged"):
            out[f"graph.{name}.violates_{field}"] = scores["violates"][field]
        out[f"graph.{name}.follows_precision"] = scores["follows"]["precision"]
    return out


def run(seed: int, hp: HyperParameters) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="normkg-seed-") as scratch:
        manifest = train(Path(scratch) / "model", seed=seed, folds=5, hp=hp)
        metrics = manifest["cross_validation"]["metrics"]
        figures: dict[str, float] = {"seed": seed, **{k: metrics[k]["mean"] for k in KEYS}}
        figures["mean_of_six"] = round(statistics.fmean(figures[k] for k in ACCURACIES), 4)
        figures.update(graph_figures(NormJudge.load(Path(scratch) / "model")))
    return figures


def main(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", nargs="+", type=int, default=[13, 14, 15, 16])
    parser.add_argument("--neutral-near", nargs="+", type=int, default=[HyperParameters().neutral_near])
    args = parser.parse_args(argv)
    started = time.perf_counter()
    variants: dict[str, object] = {}
    for k in args.neutral_near:
        hp = replace(HyperParameters(), neutral_near=k)
        runs: list[dict[str, float]] = []
        for seed in args.seeds:
            runs.append(run(seed, hp))
            print(json.dumps({"neutral_near": k, **runs[-1]}), flush=True)
        summary = spread(runs)
        print(f"neutral_near={k}: {'figure':44} {'mean':>7} {'min':>7} {'max':>7}")
        for name, v in summary.items():
            print(f"{'':15} {name:44} {v['mean']:>7.3f} {v['min']:>7.3f} {v['max']:>7.3f}")
        variants[f"neutral_near={k}"] = {"runs": runs, "spread": summary}
    result = {
        "folds": 5,
        "shipped_neutral_near": HyperParameters().neutral_near,
        "variants": variants,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(f"wrote {write('checker_seeds', result)}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
