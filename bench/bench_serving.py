"""Serving speed on the full graph: context queries and response checking, each next to a baseline.

* context queries: ``GET /v1/norms``-equivalent answers (``NormService.norms``) for 200 varied contexts,
  next to the same question asked as one SPARQL query of rdflib over an in-memory rdflib graph of the
  norm sources (what a pure-rdflib service would do);
* response checking: single-request latency and batched throughput for 1-, 5- and 20-sentence
  responses, next to the bare cost of embedding the same sentences (the floor);
* memory: peak RSS of this process, which holds what ``normkg serve`` holds (store, index, models).

Run: .venv/bin/python bench/bench_serving.py   (ingests shared/data into var/bench-store first if needed)
"""

from __future__ import annotations

import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

import rdflib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import summary_ms, timed, write  # noqa: E402

from normkg.ingest.loaders.norm_pack import NormPackLoader  # noqa: E402
from normkg.ingest.pipeline import (
    ingest,  # noqa: E402
    ingest_source,  # noqa: E402
)
from normkg.kg.oxigraph_store import OxigraphStore  # noqa: E402
from normkg.kg.terms import to_rdflib_graph  # noqa: E402
from normkg.ontology.namespace import PREFIXES  # noqa: E402
from normkg.reasoning.context import Context  # noqa: E402
from normkg.reasoning.service import NormService  # noqa: E402
from normkg.reasoning.vocabulary import VocabularyKind  # noqa: E402
from normkg.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT / "var" / "bench-store"
CACHE = ROOT / "var" / "bench-cache"
NORM_SOURCES = (
    "social-chem-101",
    "moral-stories",
    "daily-dilemmas",
    "cvc",
    "pack-example-etiquette",
    "_ontology",
)

RDFLIB_QUERY = """
SELECT ?norm ?text ?source WHERE {
  ?norm a ?cls . ?cls rdfs:subClassOf* nkg:Norm .
  ?norm nkg:text ?text .
  OPTIONAL { ?norm prov:wasDerivedFrom/nkg:inDataset/nkg:sourceName ?source }
  FILTER NOT EXISTS {
    ?norm nkg:hasFrame ?frame . ?frame ?p ?v .
    FILTER (?p IN (nkg:country, nkg:setting, nkg:actorRole))
    FILTER (?v NOT IN (%s))
  }
}
ORDER BY ?norm
LIMIT 20
"""

SENTENCES = [
    "Sure, here is what I would suggest for your trip.",
    "You should never lie to your parents about where you are.",
    "Leave a generous tip for the server, they will appreciate it.",
    "I can't help you cheat on your exam, but I can help you study.",
    "Taking credit for a coworker's idea can get you ahead quickly.",
    "Remember to thank your host before you leave.",
    "It's fine to skip the meeting without telling anyone.",
    "Talking loudly on the phone in a quiet train is rude.",
]


def service() -> NormService:
    settings = Settings(store=f"oxigraph:{STORE}", cache_dir=CACHE)
    store = OxigraphStore(STORE)
    if not store.sources():
        ingest(store, settings.resolve_data_dir())
        ingest_source(store, NormPackLoader(ROOT / "tests" / "data" / "packs" / "example.yaml"))
    svc = NormService(store, settings)
    svc.warm_up()
    return svc


def contexts(svc: NormService, n: int = 200, seed: int = 7) -> list[Context]:
    rng = random.Random(seed)
    vocabulary = svc.state().vocabulary
    settings = [t.label for t in vocabulary.terms(VocabularyKind.SETTING)]
    roles = [t.label for t in vocabulary.terms(VocabularyKind.ROLE)]
    countries = ["JP", "US", "GB", "IN", "CN", "MX", "ET", "IR", "DE", "BR"]
    out = []
    for _ in range(n):
        out.append(
            Context(
                country=rng.choice(countries) if rng.random() < 0.8 else None,
                setting=rng.choice(settings) if rng.random() < 0.7 else None,
                role=rng.choice(roles) if rng.random() < 0.5 else None,
            )
        )
    return out


def bench_queries(svc: NormService) -> dict[str, object]:
    ctxs = contexts(svc)
    samples = []
    for ctx in ctxs:
        seconds, _ = timed(lambda ctx=ctx: svc.norms(ctx, limit=20))
        samples.append(seconds)
    with_q = []
    for i, ctx in enumerate(ctxs[:50]):
        seconds, _ = timed(lambda ctx=ctx, i=i: svc.norms(ctx, q=SENTENCES[i % len(SENTENCES)], limit=20))
        with_q.append(seconds)
    cold = []
    for ctx in ctxs[:50]:
        svc.state().refs.clear()  # no provenance cached: every norm of the page is read from the store
        seconds, _ = timed(lambda ctx=ctx: svc.norms(ctx, limit=20))
        cold.append(seconds)
    return {
        "normkg_norms": summary_ms(samples),
        "normkg_norms_with_q": summary_ms(with_q),
        "normkg_norms_provenance_uncached": summary_ms(cold),
    }


def bench_rdflib_baseline(svc: NormService, figures: dict[str, Any]) -> None:
    """The same question on rdflib in memory (loaded after the serving figures and peak RSS are taken)."""
    ctxs = contexts(svc)
    load_s, graph = timed(lambda: _rdflib_graph(svc))
    base = []
    # rdflib's SPARQL engine takes seconds per query over the norm sources: 10 contexts are enough
    for ctx in ctxs[:10]:
        values = _context_values(svc, ctx)
        query = RDFLIB_QUERY % (", ".join(values) if values else "<urn:none>")
        seconds, _ = timed(lambda query=query: list(graph.query(query, initNs=PREFIXES)))
        base.append(seconds)
    ours, theirs = figures["normkg_norms"], summary_ms(base)
    figures.update(
        {
            "baseline_rdflib_in_memory": theirs,
            "baseline_rdflib_graph_triples": len(graph),
            "baseline_rdflib_load_s": round(load_s, 2),
            "speedup_p50": round(theirs["p50_ms"] / ours["p50_ms"], 1),
        }
    )


def _rdflib_graph(svc: NormService) -> rdflib.Graph:
    graph = rdflib.Graph()
    for name in NORM_SOURCES:
        if name in svc.store.sources():
            to_rdflib_graph(svc.store.triples(name), graph)
    return graph


def _context_values(svc: NormService, ctx: Context) -> list[str]:
    from normkg.reasoning.context import normalize

    return [f"<{f.value.value}>" for f in normalize(ctx, svc.state().vocabulary).facts]


def response(n_sentences: int, rng: random.Random) -> str:
    return " ".join(rng.choice(SENTENCES) for _ in range(n_sentences))


def bench_check(svc: NormService) -> dict[str, object]:
    rng = random.Random(11)
    context = Context(country="JP", setting="restaurant", role="customer")
    out: dict[str, object] = {}
    for n in (1, 5, 20):
        single = []
        for _ in range(40 if n < 20 else 20):
            text = response(n, rng)
            seconds, _ = timed(lambda text=text: svc.check(text, context))
            single.append(seconds)
        batch = [(response(n, rng), context, [], True) for _ in range(64)]
        batch_s, _ = timed(lambda batch=batch: svc.check_batch(batch))
        sentences = [s for text, *_ in batch for s in [text]]
        from normkg.reasoning.sentences import split_many

        flat = [s.text for group in split_many(sentences) for s in group]
        floor_s, _ = timed(lambda flat=flat: svc.judge.embed_sentences(flat))
        out[f"{n}_sentences"] = {
            "single": summary_ms(single),
            "batched_responses_per_s": round(len(batch) / batch_s, 1),
            "floor_embedding_only_responses_per_s": round(len(batch) / floor_s, 1),
        }
    return out


def main() -> dict[str, object]:
    start = time.perf_counter()
    svc = service()
    figures: dict[str, object] = {"norms_indexed": len(svc.state().index)}
    figures["check"] = bench_check(svc)
    figures["context_queries"] = bench_queries(svc)
    # what the serving process holds (store, index, models), before the baseline's rdflib graph
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    bench_rdflib_baseline(svc, figures["context_queries"])
    figures["targets"] = {
        "norms_p50_ms_max": 10,
        "check_single_p50_ms_max": 50,
        "batched_5_sentence_per_s_min": 50,
        "rss_mib_max": 1024,
    }
    q: dict[str, Any] = figures["context_queries"]  # type: ignore[assignment]
    ours, base = q["normkg_norms"], q["baseline_rdflib_in_memory"]
    print(f"norms indexed                         {figures['norms_indexed']}")
    print(f"GET /v1/norms p50/p95/p99 (ms)        {ours['p50_ms']} / {ours['p95_ms']} / {ours['p99_ms']}")
    cold, with_q = q["normkg_norms_provenance_uncached"], q["normkg_norms_with_q"]
    print(f"  provenance not cached / with q      {cold['p50_ms']} / {with_q['p50_ms']} ms p50")
    print(f"  same question, rdflib in memory     {base['p50_ms']} ms p50  baseline ({q['speedup_p50']}x)")
    checks: dict[str, Any] = figures["check"]  # type: ignore[assignment]
    for n in (1, 5, 20):
        c = checks[f"{n}_sentences"]
        print(
            f"check {n:>2} sentences p50/p95 (ms)      {c['single']['p50_ms']} / {c['single']['p95_ms']};  "
            f"batched {c['batched_responses_per_s']}/s "
            f"(embedding floor {c['floor_embedding_only_responses_per_s']}/s)"
        )
    print(f"peak RSS                              {figures['peak_rss_mib']} MiB")
    figures["seconds"] = round(time.perf_counter() - start, 1)
    print(f"wrote {write('serving', figures)}")
    return figures


if __name__ == "__main__":
    main()
