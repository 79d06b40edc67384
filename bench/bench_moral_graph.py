"""Moral graph speed: read, build and rank the full MGE export (dft-data), next to the time it takes
just to parse its JSON files (``json.loads`` of the same tables: the floor for any reader).

Run: .venv/bin/python bench/bench_moral_graph.py
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import summary_ms, timed, write  # noqa: E402

from normkg.reasoning.moral_graph import rank_by_demographic, rank_values  # noqa: E402
from normkg.reasoning.moral_graph_io import mge_json_dict, moral_graph_triples, read_mge_export  # noqa: E402
from normkg.settings import get_settings  # noqa: E402

TABLES = (
    "case.json",
    "context.json",
    "contextsOnCases.json",
    "canonicalValuesCard.json",
    "edge.json",
    "demographic.json",
    "valuesCard.json",
    "deduplicatedCard.json",
    "deduplication.json",
)
ROUNDS = 15
BUILD_TARGET_S = 5.0


def _samples(fn: Callable[[], object], rounds: int = ROUNDS) -> list[float]:
    return [timed(fn)[0] for _ in range(rounds)]


def main() -> dict[str, object]:
    folder = get_settings().resolve_data_dir() / "moral-graph-elicitation" / "dft-data"
    parse = _samples(lambda: [json.loads((folder / name).read_bytes()) for name in TABLES])
    read = _samples(lambda: read_mge_export(folder))
    export = read_mge_export(folder)
    data = export.elicitation
    build = _samples(data.build)
    graph = data.build()
    cases = sorted(graph.case_contexts)
    rank_all = _samples(lambda: rank_values(graph))
    rank_cases = _samples(lambda: [rank_values(graph, case=c, top=3) for c in cases])
    by_party = _samples(lambda: rank_by_demographic(graph, "usPoliticalAffiliation"), 5)
    to_json = _samples(lambda: mge_json_dict(graph), 5)
    to_rdf = _samples(lambda: moral_graph_triples(graph, "mge-dft-data"), 5)

    median = statistics.median
    read_plus_build = median(read) + median(build)
    figures = {
        "input": {
            "records_read": export.report.records_read,
            "records_rejected": len(export.report.rejected),
            "votes": len(data.judgments),
        },
        "graph": {
            "cards": len(graph.cards),
            "values": len(graph.values),
            "pairs_summarised": len(graph.all_edges),
            "edges_kept": len(graph.edges),
            "contexts": len(graph.contexts),
        },
        "top3_per_case": {c: [r.card.title for r in rank_values(graph, case=c, top=3)] for c in cases},
        "baseline_json_parse": summary_ms(parse),
        "read_and_validate": summary_ms(read),
        "build": summary_ms(build),
        "read_plus_build_over_json_parse": round(read_plus_build / median(parse), 2),
        "rank_all": summary_ms(rank_all),
        "rank_three_cases": summary_ms(rank_cases),
        "rank_by_political_affiliation": summary_ms(by_party),
        "export_mge_json": summary_ms(to_json),
        "export_rdf_triples": summary_ms(to_rdf),
        "targets": {"build_s_max": BUILD_TARGET_S},
        "meets_target": read_plus_build < BUILD_TARGET_S,
    }
    rows = [
        ("parse the JSON tables (baseline)", parse),
        ("read + validate (read_mge_export)", read),
        ("build the graph (summarise, keep)", build),
        ("rank all values (PageRank)", rank_all),
        ("rank top-3 of each of 3 cases", rank_cases),
        ("rank per usPoliticalAffiliation", by_party),
        ("export mge-json", to_json),
        ("export RDF triples", to_rdf),
    ]
    print(
        f"MGE export: {len(data.judgments)} votes, {len(graph.cards)} cards -> {len(graph.values)} values, "
        f"{len(graph.edges)} edges kept of {len(graph.all_edges)} pairs, {len(graph.contexts)} contexts"
    )
    print(f"{'step':<36} {'median ms':>10} {'p95 ms':>10}")
    for name, samples in rows:
        s = summary_ms(samples)
        print(f"{name:<36} {s['p50_ms']:>10.2f} {s['p95_ms']:>10.2f}")
    ratio = figures["read_plus_build_over_json_parse"]
    print(
        f"read + build = {read_plus_build * 1000:.1f} ms = {ratio}x the JSON parse "
        f"(target: build < {BUILD_TARGET_S:.0f} s)"
    )
    for case in cases:
        print(f"top 3 {case:<10} {' | '.join(r.card.title for r in rank_values(graph, case=case, top=3))}")
    path = write("moral_graph", figures)
    print(f"wrote {path}")
    return figures


if __name__ == "__main__":
    main()
