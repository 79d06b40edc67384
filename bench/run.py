"""All benchmarks in one run: ingest, serving (queries, checking, memory), moral graph, growth, accuracy.

Each prints its figures next to its baseline and writes bench/results/<name>.json; this writes them all
together to bench/results/latest.json and ends with one table of the headline figures against the
targets. Run: .venv/bin/python bench/run.py [NAME ...]   (names: ingest serving moral_graph growth
checker_accuracy; default all but checker_accuracy, which is run when named; growth at 1x and 10x,
``--full`` adds 100x). The load test (bench_load.py) starts a server and is run on its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BENCHMARKS = ("bench_ingest", "bench_serving", "bench_moral_graph", "bench_growth")
#: growth factors of a default run; --full adds 100x (about 12 more minutes: 25M triples to ingest)
QUICK_GROWTH = ("1", "10")
#: run only when named: cross-validating the checker takes about 35 minutes more (see bench/README.md)
OPTIONAL = ("bench_checker_accuracy",)


def _get(results: dict[str, Any], path: str) -> Any:
    value: Any = results
    parts = path.split(".")
    while parts:
        if not isinstance(value, dict):
            return None
        # some keys hold dots themselves ("zero_shot.ms_binary_accuracy"): take the longest that matches
        for n in range(len(parts), 0, -1):
            key = ".".join(parts[:n])
            if key in value:
                value, parts = value[key], parts[n:]
                break
        else:
            return None
    return value


#: (label, figure, baseline or context, target) -- paths into latest.json
HEADLINES = (
    (
        "full ingest (s)",
        "bench_ingest.ingest_s",
        "bench_ingest.baseline_pyoxigraph_bulk_load_s",
        "<= 2x bulk load",
    ),
    ("ingest / raw bulk load", "bench_ingest.ingest_over_bulk_load", None, "<= 2.0"),
    (
        "GET /v1/norms p50 (ms)",
        "bench_serving.context_queries.normkg_norms.p50_ms",
        "bench_serving.context_queries.baseline_rdflib_in_memory.p50_ms",
        "<= 5 ms, >= 10x rdflib",
    ),
    ("  speed-up over rdflib", "bench_serving.context_queries.speedup_p50", None, ">= 10"),
    (
        "check 5 sentences p50 (ms)",
        "bench_serving.check.5_sentences.single.p50_ms",
        None,
        "<= 50 ms",
    ),
    (
        "check 5 sentences batched (/s)",
        "bench_serving.check.5_sentences.batched_responses_per_s",
        "bench_serving.check.5_sentences.floor_embedding_only_responses_per_s",
        ">= 50/s",
    ),
    ("serving peak RSS (MiB)", "bench_serving.peak_rss_mib", None, "<= 1024"),
    (
        "moral graph build p50 (ms)",
        "bench_moral_graph.build.p50_ms",
        "bench_moral_graph.baseline_json_parse.p50_ms",
        "-",
    ),
    ("moral graph rank p50 (ms)", "bench_moral_graph.rank_all.p50_ms", None, "-"),
    ("growth: ingest 10x vs linear", "bench_growth.growth.10x.ingest_vs_linear", None, "<= 1.1"),
    ("growth: query p50 at 10x", "bench_growth.growth.10x.query_p50_ratio", None, "< 10 (sub-linear)"),
    (
        "growth: state load at 10x (s)",
        "bench_growth.sizes.10x.state_load_cached_s",
        "bench_growth.sizes.10x.state_load_s",
        "-",
    ),
    ("growth --full: ingest 100x vs linear", "bench_growth_full.growth.100x.ingest_vs_linear", None, "-"),
    (
        "growth --full: query p50 at 100x",
        "bench_growth_full.growth.100x.query_p50_ratio",
        None,
        "< 100 (sub-linear)",
    ),
    (
        "checker accuracy (5-fold, by norm)",
        "bench_checker_accuracy.cross_validation.metrics.ms_binary_accuracy.mean",
        "bench_checker_accuracy.cross_validation.metrics.zero_shot.ms_binary_accuracy.mean",
        "beat both baselines",
    ),
    (
        "checker, fresh LLM-style challenge set, v-f",
        "bench_checker_accuracy.cross_validation.metrics.challenge_fresh_binary_accuracy.mean",
        "bench_checker_accuracy.cross_validation.metrics.zero_shot.challenge_fresh_binary_accuracy.mean",
        "beat both baselines",
    ),
    ("checker ECE", "bench_checker_accuracy.cross_validation.metrics.ece_all.mean", None, "low"),
    (
        "checker vs graph, fresh: violates P",
        "bench_checker_accuracy.against_the_graph.labelled_pairs.challenge_fresh.all.violates.precision",
        "bench_checker_accuracy.against_the_graph.labelled_pairs.challenge_fresh.all.violates.base_rate",
        "well above the base rate",
    ),
    (
        "load: mixed req/s",
        "bench_load.mixed_norms_and_check.requests_per_s",
        "bench_load.baseline_healthz.requests_per_s",
        "-",
    ),
    ("load: mixed p99 (ms)", "bench_load.mixed_norms_and_check.p99_ms", None, "-"),
    ("load: errors", "bench_load.mixed_norms_and_check.errors", None, "0"),
)


def summary(results: dict[str, Any]) -> str:
    lines = [f"{'figure':36} {'value':>12} {'baseline':>12}  target"]
    for label, path, baseline, target in HEADLINES:
        value = _get(results, path)
        if value is None:
            continue
        base = _get(results, baseline) if baseline else None
        base_text = f"{base:>12}" if base is not None else f"{'':>12}"
        lines.append(f"{label:36} {value:>12} {base_text}  {target}")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    full = "--full" in argv
    from_manifest = "--from-manifest" in argv  # checker_accuracy: the shipped model's own CV
    names = [a for a in argv if a not in ("--full", "--from-manifest")]
    chosen = [n if n.startswith("bench_") else f"bench_{n}" for n in names] or list(BENCHMARKS)
    latest = HERE / "results" / "latest.json"
    results: dict[str, Any] = {}
    started = time.perf_counter()
    for name in chosen:
        print(f"\n== {name} ==", flush=True)
        start = time.perf_counter()
        # each benchmark in its own process: its peak RSS and its timings are its own
        extra = [] if name != "bench_growth" or full else list(QUICK_GROWTH)
        if name == "bench_checker_accuracy" and from_manifest:
            extra = ["--from-manifest"]
        subprocess.run([sys.executable, str(HERE / f"{name}.py"), *extra], check=True)
        stem = name.removeprefix("bench_") + ("_full" if full and name == "bench_growth" else "")
        results[f"bench_{stem}"] = json.loads((HERE / "results" / f"{stem}.json").read_text())
        print(f"({time.perf_counter() - start:.1f} s)", flush=True)
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    for name in (
        *BENCHMARKS,
        *OPTIONAL,
        "bench_growth_full",
        "bench_load",
    ):  # the latest figures of those not run now
        result = HERE / "results" / f"{name.removeprefix('bench_')}.json"
        if name not in results and result.is_file():
            results[name] = json.loads(result.read_text())
    latest.parent.mkdir(exist_ok=True)
    latest.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print("\n" + summary(results))
    print(f"\nwrote {latest} ({results['total_seconds']} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
