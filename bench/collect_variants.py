"""Collect the cross-validation of several ``normkg train`` runs into one comparison table.

Run: ``.venv/bin/python bench/collect_variants.py NAME=MODEL_DIR ...`` (split at the last "=";
each MODEL_DIR holds the ``manifest.json`` of one ``normkg train --folds 5`` run). Prints the table
and merges the variants into bench/results/checker_variants.json (a variant with the same name is
replaced). Every run uses seed 13 and the same folds, so the rows are comparable; the selection rule
for the shipped model is the mean of the six accuracies below (``mean_of_six``) among variants at
least as good as the frozen-encoder model on held-out Moral Stories norms.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from normkg.settings import CHECKOUT_ROOT

RESULTS = CHECKOUT_ROOT / "bench" / "results" / "checker_variants.json"
ACCURACIES = (
    "ms_binary_accuracy",
    "eval3_accuracy",
    "challenge_accuracy",
    "challenge_binary_accuracy",
    "challenge_fresh_accuracy",
    "challenge_fresh_binary_accuracy",
)
OTHER = ("ece_all", "ece_eval3", "probe_near_false_violation_rate", "all3_accuracy")
BASELINES = tuple(f"{b}.{k}" for b in ("zero_shot", "lexicon") for k in ACCURACIES)


def variant(name: str, folder: Path) -> dict[str, object]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    cv = manifest["cross_validation"]
    metrics = {k: cv["metrics"][k] for k in ACCURACIES + OTHER + BASELINES if k in cv["metrics"]}
    hp = manifest["hyperparameters"]
    found = [metrics[k]["mean"] for k in ACCURACIES if k in metrics]
    return {
        "variant": name,
        "created": manifest["created"],
        "negation": manifest.get("negation", "none"),
        "adapter_epochs": hp["adapter"]["epochs"],
        "stance_triples": hp["adapter"]["stance_triples"],
        "aboutness_weight": hp["adapter"]["aboutness_weight"],
        "advice": hp.get("advice", False),
        "seconds": manifest["seconds"],
        "metrics": metrics,
        "mean_of_six": round(statistics.fmean(found), 4) if len(found) == len(ACCURACIES) else None,
    }


def main(argv: list[str]) -> None:
    rows = [variant(name, Path(folder)) for name, folder in (a.rsplit("=", 1) for a in argv)]
    old = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.is_file() else {"variants": []}
    names = {r["variant"] for r in rows}
    merged = [v for v in old["variants"] if v["variant"] not in names] + rows
    heads = " ".join(f"{k.replace('_accuracy', '')[:14]:>14}" for k in ACCURACIES)
    print(f"{'variant':44} {heads}  mean6")
    for v in merged:
        metrics = v["metrics"]
        assert isinstance(metrics, dict)
        cells = [f"{metrics[k]['mean']:>14.3f}" if k in metrics else f"{'-':>14}" for k in ACCURACIES]
        print(f"{str(v['variant'])[:44]:44} " + " ".join(cells) + f"  {v.get('mean_of_six') or '-'}")
    note = (__doc__ or "").split("\n\n")[1].replace("\n", " ")
    RESULTS.write_text(json.dumps({"note": note, "variants": merged}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
