"""Moral graphs in the knowledge graph: each lives in its own source graph ``moral-graph-<id>``.

Why one source per graph: a graph is replaced whole when its interviews are re-uploaded (atomic
``replace``), listed by the store's catalogue, and dropped without touching norms or other graphs.

Why the id is checked against the registry of dataset sources: the prefix ``moral-graph-`` is shared
with a published dataset (``moral-graph-elicitation``, whose votes are not a summarised graph). A
source name the registry gives a loader is never a user's graph: it is not listed, not read as one,
and an id that would name it is refused, so an upload can never replace a dataset. A source outside
the registry that exists but holds no ``nkg:MoralGraph`` of that id (say, a loader since removed from
the registry) is refused the same way before anything is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from normkg.errors import InputError, NotFoundError
from normkg.ingest.registry import LOADERS
from normkg.kg.store import GraphStore
from normkg.ontology.namespace import NKG, RDF, mint
from normkg.reasoning.moral_graph import MoralGraph
from normkg.reasoning.moral_graph_io import (
    ReadReport,
    RejectedRecord,
    load_moral_graph,
    moral_graph_from_triples,
    moral_graph_triples,
)

PREFIX = "moral-graph-"
#: What an upload is called in errors, rejected records and the stored provenance: never a server path.
BODY = "body"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_UPLOAD_HINT = (
    "send interview JSON lines (content-type application/x-ndjson) or an mge-json graph with "
    "'values' and 'edges' (application/json); nothing stored was changed"
)


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


def is_dataset_source(name: str) -> bool:
    """Whether ``name`` is a source the registry's loaders write (a published dataset)."""
    return any(entry.name == name for entry in LOADERS)


def _holds_moral_graph(store: GraphStore, name: str, graph_id: str) -> bool:
    """Whether the source holds the graph node ``save_moral_graph`` writes; read only on a write, where
    it costs about what the replacement does, so that listing and reading stay catalogue look-ups."""
    marker = (mint("moral-graph", graph_id), RDF.type, NKG.MoralGraph)
    return any(triple == marker for triple in store.triples(name))


def writable_source(store: GraphStore, graph_id: str) -> str:
    """The source a graph of this id is stored in, refusing an id whose source is not a moral graph."""
    name = source_name(graph_id)
    if is_dataset_source(name) or (name in store.sources() and not _holds_moral_graph(store, name, graph_id)):
        raise InputError(
            f"id: {graph_id!r} is taken: source {name!r} is a dataset, not a stored moral graph",
            hint="choose another id; datasets are replaced only by ingesting them again",
        )
    return name


def _replace(store: GraphStore, name: str, graph: MoralGraph, graph_id: str, report: ReadReport) -> Stored:
    result = store.replace(
        name,
        moral_graph_triples(graph, graph_id),
        rows_read=report.records_read,
        rows_rejected=len(report.rejected),
        skip_if_unchanged=False,
    )
    return Stored(graph_id, graph, report, result.triples)


def save_moral_graph(store: GraphStore, graph: MoralGraph, graph_id: str, report: ReadReport) -> Stored:
    return _replace(store, writable_source(store, graph_id), graph, graph_id, report)


def _as_body(text: str, path: Path) -> str:
    """An upload's temporary path (and its file name, used in record locations) said as ``body``."""
    return text.replace(str(path), BODY).replace(path.name, BODY)


def _read_upload(path: Path, graph_id: str) -> tuple[MoralGraph, ReadReport]:
    """Read the uploaded file; errors, rejected records and provenance name the body, not the file."""
    try:
        graph, report = load_moral_graph(path, graph_id=graph_id)
    except InputError as exc:
        hint = _as_body(exc.hint, path) if exc.hint else _UPLOAD_HINT
        raise InputError(_as_body(exc.message, path), hint=hint) from exc
    rejected = [
        RejectedRecord(_as_body(r.file, path), r.line, r.field, _as_body(r.reason, path))
        for r in report.rejected
    ]
    clean = ReadReport(BODY, report.records_read, rejected)
    return dataclasses.replace(graph, source_file=BODY), clean


def _refuse_empty(report: ReadReport) -> InputError:
    """Why an upload with no card and no vote (or edge) is refused rather than stored as an empty graph."""
    shown = "; ".join(str(r) for r in report.rejected[:3])
    more = f" and {len(report.rejected) - 3} more" if len(report.rejected) > 3 else ""
    return InputError(
        f"{BODY}: nothing to store: no card with a vote or edge was read "
        f"({len(report.rejected)} of {report.records_read} records rejected"
        + (f": {shown}{more})" if shown else ")"),
        hint=_UPLOAD_HINT,
    )


def upload_moral_graph(store: GraphStore, body: bytes, suffix: str, graph_id: str | None = None) -> Stored:
    """Build a graph from uploaded interview JSONL or mge-json and store it (id: given or content hash).

    Like a norm pack, a bad upload changes nothing stored: an id that names a dataset, a body that
    cannot be read, or one from which no card with a vote (or, for mge-json, an edge) survives is
    refused before the graph is replaced. Rejected records of an otherwise good upload are reported
    and the good ones kept.
    """
    if not body.strip():
        raise InputError(f"{BODY}: empty upload", hint=_UPLOAD_HINT)
    graph_id = graph_id or "g" + hashlib.sha256(body).hexdigest()[:12]
    name = writable_source(store, graph_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(body)
        graph, report = _read_upload(path, graph_id)
    if not graph.cards or not (graph.judgments or graph.edges):
        raise _refuse_empty(report)
    return _replace(store, name, graph, graph_id, report)


def load_stored(store: GraphStore, graph_id: str) -> MoralGraph:
    name = source_name(graph_id)
    if is_dataset_source(name) or name not in store.sources():
        raise NotFoundError(f"no moral graph {graph_id!r}", hint="POST /v1/moral-graphs to create one")
    return moral_graph_from_triples(store.triples(name), graph_id)


def stored_ids(store: GraphStore) -> list[str]:
    """The ids of stored moral graphs: sources with the prefix, less the datasets that share it."""
    return [
        name[len(PREFIX) :]
        for name in store.sources()
        if name.startswith(PREFIX) and not is_dataset_source(name)
    ]
