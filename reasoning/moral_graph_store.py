"""Moral graphs in the knowledge graph: each lives in its own source graph ``moral-graph-<id>``.

Why one source per graph: a graph is replaced whole when its interviews are re-uploaded (atomic
``replace``), listed by the store's catalogue, and dropped without touching norms or other graphs.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from normkg.errors import InputError, NotFoundError
from normkg.kg.store import GraphStore
from normkg.reasoning.moral_graph import MoralGraph
from normkg.reasoning.moral_graph_io import (
    ReadReport,
    load_moral_graph,
    moral_graph_from_triples,
    moral_graph_triples,
)

PREFIX = "moral-graph-"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Stored:
    graph_id: str
    graph: MoralGraph
    report: ReadReport
    triples: int


def source_name(graph_id: str) -> str:
    if not _ID.match(graph_id):
        raise InputError(f"id: {graph_id!r} must be lower-case letters, digits and dashes (at most 63)")
    return PREFIX + graph_id


def save_moral_graph(store: GraphStore, graph: MoralGraph, graph_id: str, report: ReadReport) -> Stored:
    result = store.replace(
        source_name(graph_id),
        moral_graph_triples(graph, graph_id),
        rows_read=report.records_read,
        rows_rejected=len(report.rejected),
        skip_if_unchanged=False,
    )
    return Stored(graph_id, graph, report, result.triples)


def upload_moral_graph(store: GraphStore, body: bytes, suffix: str, graph_id: str | None = None) -> Stored:
    """Build a graph from uploaded interview JSONL or mge-json and store it (id: given or content hash)."""
    if not body.strip():
        raise InputError("body: empty upload", hint="send interview JSONL or an mge-json graph")
    graph_id = graph_id or "g" + hashlib.sha256(body).hexdigest()[:12]
    source_name(graph_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(body)
        graph, report = load_moral_graph(path, graph_id=graph_id)
    return save_moral_graph(store, graph, graph_id, report)


def load_stored(store: GraphStore, graph_id: str) -> MoralGraph:
    name = source_name(graph_id)
    if name not in store.sources():
        raise NotFoundError(f"no moral graph {graph_id!r}", hint="POST /v1/moral-graphs to create one")
    return moral_graph_from_triples(store.triples(name), graph_id)


def stored_ids(store: GraphStore) -> list[str]:
    return [name[len(PREFIX) :] for name in store.sources() if name.startswith(PREFIX)]
