"""Accuracy and cost of the norm judge: cross-validation next to the two baselines, plus inference timing.

Run: ``.venv/bin/python bench/bench_checker_accuracy.py [--folds 5] [--seed 13] [--from-manifest]``.
Writes bench/results/checker_accuracy.json. Cross-validation trains a head per fold (about 6 minutes
on 2 cores for 5 folds; with a LoRA adapter per fold, as for judge-2, about 40).
``--from-manifest`` reports the cross-validation that ``normkg train`` ran for the shipped model
(same code, seed and folds) instead of running it again. Timing uses the shipped model.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from collections.abc import Sequence

import numpy as np

from normkg.reasoning.end_to_end import GraphPair
from normkg.reasoning.judge import LABELS, MANIFEST_FILE, MODEL_DIR, NormJudge, Verdict, retrieval_vectors
from normkg.reasoning.norm_index import NormIndex
from normkg.reasoning.training import CHALLENGE_DIR, CHALLENGE_SETS, cross_validate, read_challenge
from normkg.settings import CHECKOUT_ROOT

RESULTS = CHECKOUT_ROOT / "bench" / "results" / "checker_accuracy.json"
MANIFEST = (MODEL_DIR / MANIFEST_FILE).relative_to(CHECKOUT_ROOT)

RESPONSE = (
    "I can't help you copy answers during the exam.",
    "Cheating could get you expelled and it is unfair to the other students.",
    "Instead, make a study plan for the next two weeks.",
    "Ask your teacher which chapters matter most.",
    "Good luck, I'm sure you'll do well!",
)
NORMS = (
    "It's wrong to cheat on exams.",
    "You should be honest with your teachers.",
    "It's good to study hard.",
    "You should help your friends.",
    "It's rude to interrupt people.",
    "It's wrong to steal.",
    "You should keep your promises.",
    "It's good to thank people who help you.",
    "You shouldn't lie to your parents.",
    "It's okay to ask for help.",
)


def timing(candidates_per_sentence: int = 10, repeats: int = 30) -> dict[str, float]:
    """Seconds for the judge's share of checking a response: embed its sentences, judge k candidates each.

    Retrieval itself (a matrix product against cached norm vectors) is the lead's and not timed here.
    """
    judge = NormJudge.load()
    norm_vectors = judge.embed_norms(NORMS)
    pairs = [(n % len(NORMS), s) for s in range(len(RESPONSE)) for n in range(candidates_per_sentence)]
    judge.judge(norm_vectors, judge.embed_sentences(RESPONSE), pairs)  # warm-up
    single: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        judge.judge(norm_vectors, judge.embed_sentences(RESPONSE), pairs)
        single.append(time.perf_counter() - started)
    head_only: list[float] = []
    sentence_vectors = judge.embed_sentences(RESPONSE)
    for _ in range(repeats):
        started = time.perf_counter()
        judge.judge(norm_vectors, sentence_vectors, pairs)
        head_only.append(time.perf_counter() - started)
    batch = 50
    sentences = [f"{s} ({i})" for i in range(batch) for s in RESPONSE]
    batch_pairs = [(n % len(NORMS), s) for s in range(len(sentences)) for n in range(candidates_per_sentence)]
    started = time.perf_counter()
    judge.judge(norm_vectors, judge.embed_sentences(sentences), batch_pairs)
    batched = time.perf_counter() - started
    return {
        "candidates_per_sentence": candidates_per_sentence,
        "response_p50_ms": round(1000 * statistics.median(single), 2),
        "response_p90_ms": round(1000 * float(np.percentile(single, 90)), 2),
        "head_only_per_response_ms": round(1000 * statistics.median(head_only), 3),
        "head_only_per_sentence_ms": round(1000 * statistics.median(head_only) / len(RESPONSE), 3),
        "batched_responses_per_s": round(batch / batched, 1),
        "batched_sentence_ms": round(1000 * batched / len(sentences), 2),
        "norm_ingest_ms_per_norm": round(1000 * _ingest_cost(judge), 2),
    }


def _ingest_cost(judge: NormJudge) -> float:
    norms = [f"{n} ({i})" for i in range(20) for n in NORMS]
    started = time.perf_counter()
    judge.embed_norms(norms)
    return (time.perf_counter() - started) / len(norms)


def retrieval(limit: int = 4000) -> dict[str, object]:
    """Does the tuned encoder still find the right norm? Recall@k of each Social-Chem rule for its own
    action ("helping your friends ..."), among ``limit`` rules, with the judge's encoder and with plain
    MiniLM (the baseline). Social-Chem is not used to tune the adapter, so this is unseen data."""
    from normkg.reasoning.encoder import get_encoder
    from normkg.reasoning.training import data_files, read_social_chem
    from normkg.settings import get_settings

    items = read_social_chem(data_files(get_settings().resolve_data_dir())[1:])
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.rot, item.action)
    rules = sorted(seen)[:limit]
    actions = [seen[r] for r in rules]
    judge = NormJudge.load()
    result: dict[str, object] = {"rules": len(rules)}
    for name, encode in (
        ("judge_encoder", judge.embed_sentences),
        ("plain_minilm", get_encoder().encode),
    ):
        sims = encode(actions) @ encode(rules).T
        rank = (sims > np.diag(sims)[:, None]).sum(axis=1)
        result[name] = {f"recall@{k}": round(float((rank < k).mean()), 4) for k in (1, 5, 10)}
    return result


def against_the_graph(judge: NormJudge | None = None) -> dict[str, object]:
    """Each challenge sentence checked against the whole graph (no context, no request norms): the
    share of sentences with at least one *violates* finding, by the sentence's gold label.

    Why: the cross-validation scores a sentence against its own norm; a real check retrieves the
    closest of ~12,700 graph norms, and a loosely related one judged violated is a false alarm. The
    gold labels are about the item's own norm (which the graph mostly lacks), so a compliant sentence
    may rightly violate another norm; the baseline is the same share for the items labelled unrelated
    to their norm. Needs the store that ``bench_serving.py`` builds; skipped without it.

    ``judge``: another frozen-encoder model to check with (default: the shipped one). Its norm vectors
    are the shipped model's (they depend on the encoder only, not on the head), so the cached index
    is reused instead of embedding every norm again."""
    from normkg.kg.oxigraph_store import OxigraphStore
    from normkg.reasoning.end_to_end import evaluate, read_graph_pairs
    from normkg.reasoning.service import NormService
    from normkg.settings import Settings

    store_dir, cache_dir = CHECKOUT_ROOT / "var" / "bench-store", CHECKOUT_ROOT / "var" / "bench-cache"
    if not store_dir.is_dir():
        return {"skipped": f"{store_dir} is missing: run bench/run.py serving first"}
    store = OxigraphStore(store_dir)
    service = NormService(store, Settings(store=store.url, cache_dir=cache_dir))
    checker = service.state().checker
    if judge is not None:
        if judge.adapter is not None or checker.judge.adapter is not None:
            raise ValueError("another judge can share the index only when neither has an adapter")
        checker = copy.copy(checker)
        checker.judge = judge
    result: dict[str, object] = {"norms": len(service.state().index)}
    challenge = {name: read_challenge(CHALLENGE_DIR / f"{name}.jsonl") for name in CHALLENGE_SETS}
    pairs = read_graph_pairs()
    texts = sorted({i.text for items in challenge.values() for i in items} | {p.text for p in pairs})
    n = len(texts)
    answers = dict(zip(texts, checker.check_many(texts, [None] * n, [[]] * n, [True] * n), strict=True))
    for name, items in challenge.items():
        flagged: dict[str, list[bool]] = {}
        for item in items:
            hit = any(f.label == "violates" for f in answers[item.text].findings)
            flagged.setdefault(item.label.value, []).append(hit)
        result[name] = {label: round(statistics.fmean(hits), 3) for label, hits in sorted(flagged.items())}
    result["labelled_pairs"] = evaluate(pairs, answers)
    result["relevance_auc"] = relevance_auc(pairs, checker.judge, service.state().index)
    store.close()
    return result


def relevance_auc(pairs: Sequence[GraphPair], judge: NormJudge, index: NormIndex) -> dict[str, float]:
    """How well related (violates or follows) and unrelated candidates are told apart (ROC AUC) by the
    cosine similarity retrieval ranks with, and by the judge's own probability of *unrelated*."""
    from sklearn.metrics import roc_auc_score

    texts = sorted({p.text for p in pairs})
    row = {t: i for i, t in enumerate(texts)}
    reading = judge.read(texts)
    norms = index.judge[[index.position[p.norm_id] for p in pairs]]
    rows = [row[p.text] for p in pairs]
    similarity = (reading.vectors[rows] * retrieval_vectors(norms)).sum(axis=1)
    unrelated = judge.judge_reading(norms, reading, rows)[:, LABELS.index(Verdict.UNRELATED)]
    related = [p.label is not Verdict.UNRELATED for p in pairs]
    return {
        "similarity": round(float(roc_auc_score(related, similarity)), 3),
        "judge_not_unrelated": round(float(roc_auc_score(related, -unrelated)), 3),
    }


def print_labelled(report: object) -> None:
    """The end-to-end table: findings against the hand labels of the checker's own graph candidates."""
    if not isinstance(report, dict):
        return

    def cell(value: object) -> str:
        return f"{value:.2f}" if isinstance(value, float) else "-"

    annotators = report.get("annotators", {})
    print(
        "findings on hand-labelled (sentence, graph norm) candidates; base rate = precision of chance; "
        f"annotators agree on {annotators.get('agree')} of {annotators.get('pairs')} double-labelled pairs"
    )
    head = f"{'set':26} {'pairs':>5} {'acc':>6} {'all-unrel':>9}"
    print(f"{head}   violates P / R (base)   follows P / R (base)")
    for name, parts in report.items():
        if name == "annotators":
            continue
        for part in ("all", "sure"):
            r = parts[part]
            cells = []
            for label in ("violates", "follows"):
                c = r[label]
                cells.append(f"{cell(c['precision'])} / {cell(c['recall'])} ({cell(c['base_rate'])})")
            print(
                f"{name + ' (' + part + ')':26} {r['pairs']:>5} {cell(r['accuracy']):>6} "
                f"{cell(r['all_unrelated_accuracy']):>9}   {cells[0]:>20}   {cells[1]:>20}"
            )


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--from-manifest",
        action="store_true",
        help="report the shipped model's own cross-validation (from `normkg train`) instead of rerunning it",
    )
    args = parser.parse_args(argv or [])
    started = time.perf_counter()
    if args.from_manifest:
        manifest = NormJudge.load().manifest
        report = manifest["cross_validation"]
        assert isinstance(report, dict)
        report = {**report, "from": f"{MANIFEST} (normkg train, {manifest.get('created')})"}
    else:
        report = cross_validate(k=args.folds, seed=args.seed)
    metrics = report["metrics"]
    assert isinstance(metrics, dict)
    print(f"{'metric':32} {'judge':>15} {'zero-shot':>15} {'MFD lexicon':>15}")
    for key in (
        "ms_binary_accuracy",
        "eval3_accuracy",
        "eval3_macro_f1",
        "challenge_accuracy",
        "challenge_binary_accuracy",
        "challenge_fresh_accuracy",
        "challenge_fresh_binary_accuracy",
        "all3_accuracy",
        "ece_all",
        "ece_eval3",
    ):
        cells = [metrics.get(name) for name in (key, f"zero_shot.{key}", f"lexicon.{key}")]
        print(
            f"{key:32} " + " ".join(f"{c['mean']:>8.3f} ±{c['sd']:.3f}" if c else f"{'-':>15}" for c in cells)
        )
    costs = timing()
    print(json.dumps(costs, indent=1))
    found = retrieval()
    print("retrieval of a Social-Chem rule for its own action:", json.dumps(found))
    graph = against_the_graph()
    shares = {k: v for k, v in graph.items() if k not in ("labelled_pairs", "relevance_auc")}
    print(
        "share of challenge sentences with a violation finding against the whole graph:", json.dumps(shares)
    )
    print_labelled(graph.get("labelled_pairs"))
    print("related vs unrelated candidates, ROC AUC:", json.dumps(graph.get("relevance_auc")))
    result = {
        "cross_validation": report,
        "inference": costs,
        "retrieval": found,
        "against_the_graph": graph,
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
