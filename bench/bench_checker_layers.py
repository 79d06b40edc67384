"""Does the encoder's middle layers' signal help the judge? (Tried for #5; not shipped.)

Run: ``.venv/bin/python bench/bench_checker_layers.py [--seeds 13 14 15] [--layers 3 4]``
(about 5 minutes per seed on 2 cores, plus 3-5 minutes once to encode every training text with all
layers). Writes bench/results/checker_layers.json.

Two measurements, each next to its baseline in the same run:

* **Probe.** A logistic regression over (norm, action) features of the Moral Stories pairs, 5-fold
  by norm, from the final layer ("layer 6"; the brief's "about 0.69") and from each layer's
  mean-pooled vector.
* **Head.** The shipped recipe's head, cross-validated on the shipped recipe's folds, with its
  features as shipped, with the sentence's mean-pooled vectors of ``--layers`` appended (the sentence
  is encoded anyway, so they would cost nothing at check time), and with two scalars appended
  instead: how bad the sentence's act is by a probe over layers 1-6 (``valence_scores``), alone and
  times the sentence's similarity to the norm.

Why: all-MiniLM-L6-v2's final layer is trained for topical similarity, and a probe on the action alone
already gets most of what it gets on the pair; middle layers may keep more of an act's valence.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from collect_variants import ACCURACIES as SIX  # noqa: E402
from common import write  # noqa: E402

from normkg.reasoning import training  # noqa: E402
from normkg.reasoning.judge import pair_features, retrieval_vectors, reverse_negations, softmax  # noqa: E402

LAYERS = 7  # the embedding output and MiniLM-L6's six layers
# Sentences whose stance label says whether their act is good or bad: Moral Stories actions, their
# paraphrases, templates and advice retellings (not Social-Chem: its flipped rules would invert it).
VALENCE_SOURCES = ("ms", "ms-para", "ms-tmpl", "ms-advice")
Variant = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # training rows -> (features, challenge's)


def encode_layers(texts: Iterable[str]) -> dict[str, np.ndarray]:
    """Unit mean-pooled vectors of every layer, (LAYERS, 384) per text, in the canonical order."""
    import torch

    from normkg.reasoning.encoder import get_encoder

    encoder = get_encoder()
    order = sorted(set(texts), key=lambda t: (len(t), t))
    out: dict[str, np.ndarray] = {}
    with torch.inference_mode():
        for start in range(0, len(order), 64):
            batch = order[start : start + 64]
            tokens = encoder.tokenizer(
                batch, padding=True, truncation=True, max_length=encoder.max_tokens, return_tensors="pt"
            )
            states = encoder.model(**tokens, output_hidden_states=True).hidden_states
            mask = tokens["attention_mask"].unsqueeze(-1).float()
            pooled = [torch.nn.functional.normalize((h * mask).sum(1) / mask.sum(1), dim=1) for h in states]
            out.update(zip(batch, torch.stack(pooled, 1).numpy().astype(np.float32), strict=True))
    return out


def probe(data_dir: Path) -> dict[str, float]:
    """Logistic-regression accuracy on held-out Moral Stories norms, per layer set."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    rows = [json.loads(line) for line in (data_dir / "moral-stories" / "dev.jsonl").open(encoding="utf-8")]
    norms = [r["norm"] for r in rows]
    actions = [r.get("moral_action") or r["immoral_action"] for r in rows]
    labels = np.array([int(r["label"]) for r in rows])
    ids: dict[str, int] = {}
    groups = np.array([ids.setdefault(n.strip().lower(), len(ids)) for n in norms])
    vectors = encode_layers(norms + actions)
    norm_layers = np.stack([vectors[t] for t in norms])
    action_layers = np.stack([vectors[t] for t in actions])

    def accuracy(layers: Sequence[int], action_only: bool = False) -> float:
        u = np.hstack([norm_layers[:, i] for i in layers])
        v = np.hstack([action_layers[:, i] for i in layers])
        x = v if action_only else np.hstack([u, v, u * v, np.abs(u - v)])
        folds = GroupKFold(5).split(x, labels, groups)
        scores = [
            LogisticRegression(max_iter=3000).fit(x[a], labels[a]).score(x[b], labels[b]) for a, b in folds
        ]
        return round(float(np.mean(scores)), 4)

    out = {"final layer, action only": accuracy([6], action_only=True)}
    out |= {f"layer {i}": accuracy([i]) for i in range(1, LAYERS)}
    out["layers 1-6 concatenated"] = accuracy(range(1, LAYERS))
    return out


def valence_scores(
    data: training.TrainingData, train_rows: np.ndarray, vectors: dict[str, np.ndarray], judged: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """How bad each pair's judged act is (a logistic probe over layers 1-6), for pairs and challenge items.

    The probe learns from the fold's training pairs only; those it learns from are scored out of fold
    (5 inner folds by norm), so the head does not learn to trust scores the probe has memorised.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    x = np.stack([vectors[t][1:].reshape(-1) for t in data.sentence_list])[data.judged_index]
    head_labels = data.head_labels()
    bad = (head_labels == 0).astype(int)
    rows = np.flatnonzero(train_rows & np.isin(data.sources, VALENCE_SOURCES) & (head_labels != 2))
    scores = np.zeros(len(head_labels), np.float32)
    for fit_rows, score_rows in GroupKFold(5).split(rows, bad[rows], data.groups[rows]):
        inner = LogisticRegression(C=0.5, max_iter=3000).fit(x[rows[fit_rows]], bad[rows[fit_rows]])
        scores[rows[score_rows]] = inner.decision_function(x[rows[score_rows]])
    probe = LogisticRegression(C=0.5, max_iter=3000).fit(x[rows], bad[rows])
    rest = np.setdiff1d(np.arange(len(head_labels)), rows)
    scores[rest] = probe.decision_function(x[rest])
    challenge = probe.decision_function(np.stack([vectors[t][1:].reshape(-1) for t in judged]))
    return scores, challenge.astype(np.float32)


def head_runs(
    seed: int, extra_layers: Sequence[int], vectors: dict[str, np.ndarray]
) -> dict[str, dict[str, float]]:
    """Cross-validated accuracies of the shipped recipe's head with each variant's features."""
    hp = training.HyperParameters()
    data_dir, cache_dir = training._resolve(None, None)
    data = training.build_training_data(data_dir, seed, hp, cache_dir)
    judged = [data.judged[p.text] for p in data.challenge]
    missing = (set(data.sentence_list) | set(judged)) - vectors.keys()
    vectors.update(encode_layers(missing))
    folds = training.assign_folds(data, 5, seed)
    weights, head_labels, labels = data.weights(hp.ms_weight), data.head_labels(), data.labels
    challenge_labels = data.challenge_labels()
    ms, eval3 = data.sources == "ms", np.isin(data.sources, training.EVAL3_SOURCES)
    base = data.features()
    base_challenge = pair_features(data.challenge_norm_vectors, data.challenge_judged_vectors)

    def stack(texts: Sequence[str], layers: Sequence[int]) -> np.ndarray:
        return np.stack([np.concatenate([vectors[t][i] for i in layers]) for t in texts])

    def appended(layers: Sequence[int]) -> Variant:
        columns, challenge_columns = (
            stack(data.sentence_list, layers)[data.judged_index],
            stack(judged, layers),
        )
        return lambda _: (np.hstack([base, columns]), np.hstack([base_challenge, challenge_columns]))

    def valence(train_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        score, challenge_score = valence_scores(data, train_rows, vectors, judged)
        norms = retrieval_vectors(data.pair_norm_vectors(np.arange(len(labels))))
        relevance = (data.sentence_vectors[data.judged_index] * norms).sum(1)
        challenge_relevance = (
            data.challenge_judged_vectors * retrieval_vectors(data.challenge_norm_vectors)
        ).sum(1)
        return (
            np.hstack([base, np.stack([score, score * relevance], 1)]),
            np.hstack(
                [base_challenge, np.stack([challenge_score, challenge_score * challenge_relevance], 1)]
            ),
        )

    variants: dict[str, Variant] = {
        "shipped features": lambda _: (base, base_challenge),
        f"+ sentence layers {list(extra_layers)}": appended(extra_layers),
        "+ valence probe (layers 1-6), cross-fitted": valence,
    }
    out: dict[str, dict[str, float]] = {}
    for name, variant in variants.items():
        oof = np.zeros((len(labels), 3), np.float32)
        challenge_logits = []
        for fold in range(5):
            train_rows, test_rows = folds != fold, np.flatnonzero(folds == fold)
            features, challenge_features = variant(train_rows)
            head = training.fit_head(
                features[train_rows], head_labels[train_rows], weights[train_rows], seed + fold, hp
            )
            oof[test_rows] = reverse_negations(
                head.logits(features[test_rows]), data.reversed[test_rows], data.pair_norm_vectors(test_rows)
            )
            challenge_logits.append(
                reverse_negations(
                    head.logits(challenge_features), data.challenge_reversed, data.challenge_norm_vectors
                )
            )
        figures: dict[str, list[float]] = {}

        def add(key: str, value: float, figures: dict[str, list[float]] = figures) -> None:
            figures.setdefault(key, []).append(value)

        for fold in range(5):
            test = folds == fold
            temperature = training.fit_temperature(oof[~test], labels[~test])
            probs = softmax(oof[test] / temperature)
            add("ms_binary_accuracy", training.binary_accuracy(probs[ms[test]], labels[test][ms[test]]))
            add("eval3_accuracy", float((probs[eval3[test]].argmax(1) == labels[test][eval3[test]]).mean()))
            training._add_challenge(
                add,
                "",
                softmax(challenge_logits[fold] / temperature),
                challenge_labels,
                data,
            )
        means = {k: round(statistics.fmean(v), 4) for k, v in figures.items()}
        means["mean_of_six"] = round(statistics.fmean(means[k] for k in SIX), 4)
        out[name] = means
        print(seed, name, json.dumps(means), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[13, 14, 15])
    parser.add_argument("--layers", type=int, nargs="+", default=[3, 4])
    args = parser.parse_args()
    started = time.perf_counter()
    data_dir, _ = training._resolve(None, None)
    figures: dict[str, object] = {"probe": probe(data_dir)}
    print("probe", json.dumps(figures["probe"]), flush=True)
    vectors: dict[str, np.ndarray] = {}
    runs = {seed: head_runs(seed, args.layers, vectors) for seed in args.seeds}
    figures["head_by_seed"] = runs
    variants = next(iter(runs.values())).keys()
    figures["head_mean_over_seeds"] = {
        v: {k: round(statistics.fmean(r[v][k] for r in runs.values()), 4) for k in (*SIX, "mean_of_six")}
        for v in variants
    }
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures["head_mean_over_seeds"], indent=2))
    write("checker_layers", figures)


if __name__ == "__main__":
    main()
