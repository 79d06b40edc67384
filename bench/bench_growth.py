"""Growth: the cost of ingest and of context queries at 1x, 10x and 100x the real norm count.

The corpus is synthetic but built from the real NormBank vocabulary: every norm is a CSV norm-pack
row about a real NormBank behaviour, framed by a real NormBank setting (and, at random, one of that
setting's roles, a country, an actor attribute and an environment condition), with a judgment from
the usual five grades. Generation is deterministic (one seed). Each size is ingested through the
normal pipeline (``ingest_source`` with the norm-pack loader) into a fresh on-disk store, then asked
200 ``GET /v1/norms``-equivalent questions: normalise the context, decide applicability, overrides
and conflicts (``norms_for_context``), read the page's provenance from the store (no cache).

Printed per size: rows, triples, ingest seconds and triples/s, the time the service takes to load its
state (vocabulary, frames, norms), and query p50/p95. Growth ratios compare with 1x: ingest time per
norm (target <= 1.1x linear from 1x to 10x) and query p50 (target: sub-linear).

Run: .venv/bin/python bench/bench_growth.py [FACTOR ...]   (default 1 10 100)
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import summary_ms, timed, write  # noqa: E402

from normkg.ingest.loaders.norm_pack import NormPackLoader  # noqa: E402
from normkg.ingest.loaders.normbank import NormBankLoader  # noqa: E402
from normkg.ingest.pipeline import ingest_source, load_ontology  # noqa: E402
from normkg.kg.oxigraph_store import OxigraphStore  # noqa: E402
from normkg.kg.store import GraphStore  # noqa: E402
from normkg.reasoning.applicability import FrameTable  # noqa: E402
from normkg.reasoning.context import Context, normalize  # noqa: E402
from normkg.reasoning.explain import norm_refs  # noqa: E402
from normkg.reasoning.frame_cache import cached_frame_rows  # noqa: E402
from normkg.reasoning.norm_index import NormIndex  # noqa: E402
from normkg.reasoning.norms_query import norms_for_context  # noqa: E402
from normkg.reasoning.overrides import NormTable  # noqa: E402
from normkg.reasoning.vocabulary import Term, Vocabulary, VocabularyKind  # noqa: E402
from normkg.settings import get_settings  # noqa: E402

SEED = 20261124
COUNTRIES = ["JP", "US", "GB", "IN", "CN", "MX", "ET", "IR", "DE", "BR", "KR", "NG", "EG", "ID", "FR", "ES"]
GRADES = ["very bad", "bad", "ok", "good", "very good"]
WORDS = {"very bad": "very rude", "bad": "rude", "ok": "fine", "good": "polite", "very good": "admirable"}


class NormBankWords:
    """The real NormBank vocabulary and behaviours the synthetic norms are written with."""

    def __init__(self, data_dir: Path) -> None:
        store = OxigraphStore(None)
        load_ontology(store)
        ingest_source(store, NormBankLoader(data_dir / "normbank"))
        vocabulary = Vocabulary.from_store(store)
        self.settings = vocabulary.terms(VocabularyKind.SETTING)
        self.roles: dict[str, list[Term]] = {}
        for role in vocabulary.terms(VocabularyKind.ROLE):
            if role.group:
                self.roles.setdefault(role.group, []).append(role)
        self.attributes = [t for t in vocabulary.terms(VocabularyKind.ATTRIBUTE) if t.group_label]
        self.conditions = [t for t in vocabulary.terms(VocabularyKind.CONDITION) if t.group_label]
        rows = store.select("SELECT DISTINCT ?text WHERE { ?b a nkg:Behavior ; nkg:text ?text }")
        self.behaviors = sorted({r["text"].value for r in rows})


def write_pack(path: Path, n: int, words: NormBankWords, seed: int = SEED) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(
            [
                "name",
                "id",
                "text",
                "judgment",
                "behavior",
                "country",
                "setting",
                "role",
                "attributes",
                "environment",
            ]
        )
        for i in range(n):
            setting = rng.choice(words.settings)
            roles = words.roles.get(setting.iri) or []
            role = rng.choice(roles).label if roles and rng.random() < 0.7 else ""
            country = rng.choice(COUNTRIES) if rng.random() < 0.5 else ""
            attribute = rng.choice(words.attributes) if rng.random() < 0.3 else None
            condition = rng.choice(words.conditions) if rng.random() < 0.2 else None
            behavior = rng.choice(words.behaviors)
            grade = rng.choice(GRADES)
            where = f" at a {setting.label}" + (f" as a {role}" if role else "")
            w.writerow(
                [
                    "growth",
                    f"n{i}",
                    f"It is {WORDS[grade]} to {behavior}{where}.",
                    grade,
                    behavior,
                    country,
                    setting.label,
                    role,
                    f"{attribute.group_label}={attribute.label}" if attribute else "",
                    f"{condition.group_label}={condition.label}" if condition else "",
                ]
            )


def contexts(words: NormBankWords, n: int = 200, seed: int = SEED) -> list[Context]:
    rng = random.Random(seed + 1)
    out = []
    for _ in range(n):
        setting = rng.choice(words.settings)
        roles = words.roles.get(setting.iri) or []
        attribute = rng.choice(words.attributes) if rng.random() < 0.3 else None
        out.append(
            Context(
                country=rng.choice(COUNTRIES) if rng.random() < 0.7 else None,
                setting=setting.label if rng.random() < 0.9 else None,
                role=rng.choice(roles).label if roles and rng.random() < 0.6 else None,
                attributes={attribute.group_label: attribute.label}
                if attribute and attribute.group_label
                else {},
            )
        )
    return out


def load_state(store: GraphStore) -> tuple[Vocabulary, NormTable]:
    """What the service loads at start with nothing cached (minus the norm vectors, which queries
    without q do not read): vocabulary, frames and norms, all read from the store."""
    vocabulary = Vocabulary.from_store(store)
    frames = FrameTable.from_store(store, vocabulary)
    norms = NormIndex.read_norms(store)
    none = np.zeros((len(norms), 0), dtype=np.float32)
    return vocabulary, NormTable(NormIndex(norms, none, none, "growth"), frames)


def load_cached_state(store: GraphStore, cache: Path, key: str) -> tuple[Vocabulary, NormTable]:
    """What ``normkg serve`` loads after ``normkg ingest``: the vocabulary from the store, the frames
    from the frame cache and the norms from the norm index file (here without vectors)."""
    vocabulary = Vocabulary.from_store(store)
    frames = FrameTable.from_rows(cached_frame_rows(store, cache), vocabulary)
    index = NormIndex.load(cache, key)
    assert index is not None
    return vocabulary, NormTable(index, frames)


def measure(n: int, words: NormBankWords, tmp: Path, repeats: int = 1) -> dict[str, Any]:
    pack = tmp / f"growth-{n}.csv"
    write_pack(pack, n, words)
    times = []
    for attempt in range(repeats):  # the small size is repeated: a few seconds are noisy here
        store = OxigraphStore(tmp / f"store-{n}-{attempt}")
        load_ontology(store)
        seconds, report = timed(lambda store=store: ingest_source(store, NormPackLoader(pack)))
        times.append(seconds)
        if attempt < repeats - 1:
            store.close()
    ingest_s = sorted(times)[len(times) // 2]
    load_s, (vocabulary, table) = timed(lambda: load_state(store))
    # what ingest leaves for the service: the frame cache and the norm index file
    cache, key = tmp / f"cache-{n}", f"growth-{n}"
    cached_frame_rows(store, cache)
    NormIndex(table.index.norms, table.index.retrieval, table.index.judge, key).save(cache)
    cached_s, (_, cached_table) = timed(lambda: load_cached_state(store, cache, key))
    assert cached_table.frames.frames == table.frames.frames and len(cached_table.index) == len(table.index)
    samples = []
    answered = 0
    for ctx in contexts(words):

        def ask(ctx: Context = ctx) -> int:
            normalized = normalize(ctx, vocabulary)
            answer = norms_for_context(table, normalized, limit=20)
            norm_refs(store, [c.norm for c in answer.items])
            return answer.total

        seconds, total = timed(ask)
        samples.append(seconds)
        answered += total
    store.close()
    return {
        "norms": n,
        "rows_read": report.rows_read,
        "rows_rejected": report.rows_rejected,
        "triples": report.triples,
        "ingest_s": round(ingest_s, 2),
        "ingest_runs_s": [round(t, 2) for t in times],
        "triples_per_s": round(report.triples / ingest_s),
        "state_load_s": round(load_s, 2),
        "state_load_cached_s": round(cached_s, 2),
        "frames": len(table.frames),
        "mean_admitted_per_context": round(answered / 200),
        "query": summary_ms(samples),
    }


def real_norm_count() -> int:
    """Norms in the real graph: the serving benchmark's store (ingested from shared/data if missing)."""
    from bench_serving import STORE

    if not STORE.is_dir():
        from bench_serving import service

        service().store.close()
    store = OxigraphStore(STORE)
    try:
        rows = store.select(
            "SELECT (COUNT(DISTINCT ?n) AS ?count) WHERE { ?n a ?c . ?c rdfs:subClassOf* nkg:Norm }"
        )
        return int(rows[0]["count"].value)
    finally:
        store.close()


def main(factors: list[int] | None = None) -> dict[str, object]:
    start = time.perf_counter()
    factors = factors or [1, 10, 100]
    words = NormBankWords(get_settings().resolve_data_dir())
    base = real_norm_count()
    sizes: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        for factor in factors:
            figures = measure(base * factor, words, Path(tmp), repeats=3 if factor == factors[0] else 1)
            sizes[f"{factor}x"] = figures
            q = figures["query"]
            print(
                f"{factor:>4}x {figures['norms']:>9} norms  {figures['triples']:>10} triples  "
                f"ingest {figures['ingest_s']:>7} s ({figures['triples_per_s']}/s)  "
                f"state {figures['state_load_s']:>6} s (cached {figures['state_load_cached_s']} s)  "
                f"query p50/p95 {q['p50_ms']} / {q['p95_ms']} ms",
                flush=True,
            )
    one = sizes[f"{factors[0]}x"]
    growth: dict[str, Any] = {}
    for factor in factors[1:]:
        f = sizes[f"{factor}x"]
        scale = f["norms"] / one["norms"]
        growth[f"{factor}x"] = {
            "ingest_vs_linear": round((f["ingest_s"] / one["ingest_s"]) / scale, 2),
            "query_p50_ratio": round(f["query"]["p50_ms"] / one["query"]["p50_ms"], 2),
            "data_ratio": round(scale, 1),
        }
        g = growth[f"{factor}x"]
        print(
            f"{factor:>4}x vs {factors[0]}x: ingest {g['ingest_vs_linear']}x linear; "
            f"query p50 {g['query_p50_ratio']}x for {g['data_ratio']}x the norms"
        )
    figures = {
        "real_norms": base,
        "seed": SEED,
        "behaviors": len(words.behaviors),
        "settings": len(words.settings),
        "sizes": sizes,
        "growth": growth,
        "targets": {"ingest_vs_linear_10x_max": 1.1, "query_p50": "sub-linear"},
        "seconds": round(time.perf_counter() - start, 1),
    }
    # the full series (with 100x) is kept apart from the quick one that bench/run.py runs by default
    print(f"wrote {write('growth_full' if max(factors) >= 100 else 'growth', figures)}")
    return figures


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or None)
