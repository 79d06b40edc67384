"""What the backends share: the catalogue and its reads, the unchanged-source rule, export by source.

The embedded and the remote SPARQL store keep the same catalogue (one entry per source, pointing at
its live version graph), so they read it with one query and one function and answer the catalogue's
questions (sources, counts, named queries, export) in one base class; every backend exports by
streaming its sources' triples through pyoxigraph's serialisers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyoxigraph as ox

from normkg.errors import QueryError, StoreError
from normkg.kg.queries import named_query
from normkg.kg.store import ExportFormat, GraphInfo, GraphStore, ReplaceResult
from normkg.kg.terms import Bindings, Row
from normkg.ontology.namespace import NKG, PREFIXES, RDF, source_graph

FORMATS = {
    ExportFormat.TURTLE: ox.RdfFormat.TURTLE,
    ExportFormat.NQUADS: ox.RdfFormat.N_QUADS,
    ExportFormat.NTRIPLES: ox.RdfFormat.N_TRIPLES,
    ExportFormat.JSONLD: ox.RdfFormat.JSON_LD,
}

CATALOG_QUERY = """
SELECT ?g ?name ?version ?key ?triples ?rows ?rejected WHERE {
  GRAPH ?catalog {
    ?g a nkg:SourceGraph ; nkg:sourceName ?name ; nkg:currentVersion ?version ; nkg:tripleCount ?triples .
    OPTIONAL { ?g nkg:contentKey ?key }
    OPTIONAL { ?g nkg:rowsRead ?rows }
    OPTIONAL { ?g nkg:rowsRejected ?rejected }
  }
}
"""


def catalog_entry(row: Mapping[str, Any]) -> tuple[str, GraphInfo, ox.NamedNode]:
    """One catalogue row as (source name, its counts, its live version graph)."""
    name = row["name"].value
    version = row["version"]
    if not isinstance(version, ox.NamedNode):
        raise StoreError(f"the catalog entry of {name} points at {version}, not a graph name")

    def number(key: str) -> int:
        value = row.get(key)
        return int(value.value) if value is not None else 0

    key = row.get("key")
    info = GraphInfo(
        source=name,
        triples=number("triples"),
        content_key=key.value if key is not None else "",
        rows_read=number("rows"),
        rows_rejected=number("rejected"),
    )
    return name, info, version


def catalog_facts(source: str, version: ox.NamedNode, info: GraphInfo) -> str:
    """The triples of one catalogue entry as SPARQL data (terms escaped by pyoxigraph's serialiser)."""
    g = source_graph(source)
    facts = [
        (RDF.type, NKG.SourceGraph),
        (NKG.sourceName, ox.Literal(source)),
        (NKG.currentVersion, version),
        (NKG.tripleCount, ox.Literal(info.triples)),
        (NKG.contentKey, ox.Literal(info.content_key)),
        (NKG.rowsRead, ox.Literal(info.rows_read)),
        (NKG.rowsRejected, ox.Literal(info.rows_rejected)),
    ]
    return " ".join(f"{g} {p} {o} ." for p, o in facts)


def export_sources(
    store: GraphStore, out: BinaryIO, fmt: ExportFormat, sources: list[str] | None = None
) -> int:
    """Write the live sources (all, or the named ones) to ``out``; quads carry their source's graph name."""
    known = store.sources()
    names = sources if sources is not None else sorted(known)
    counter = [0]

    def quads() -> Iterator[ox.Quad]:
        for name in names:
            if name not in known:
                continue
            logical = source_graph(name)
            for s, p, o in store.triples(name):
                counter[0] += 1
                yield ox.Quad(s, p, o, logical)

    try:
        if fmt is ExportFormat.NQUADS:
            ox.serialize(quads(), out, ox.RdfFormat.N_QUADS)
        else:
            ox.serialize((q.triple for q in quads()), out, FORMATS[fmt], prefixes=PREFIXES)
    except (OSError, ValueError) as exc:
        raise StoreError(f"export failed: {exc}") from exc
    return counter[0]


def unchanged(
    source: str, live: GraphInfo | None, content_key: str, skip_if_unchanged: bool
) -> ReplaceResult | None:
    """The answer of a replace that need not write: the live source already has this content key."""
    if skip_if_unchanged and live is not None and content_key and live.content_key == content_key:
        return ReplaceResult(source, live.triples, unchanged=True)
    return None


def expect_boolean(result: object) -> bool:
    if not isinstance(result, ox.QueryBoolean):
        raise QueryError("expected an ASK query")
    return bool(result)


@dataclass(frozen=True)
class CatalogEntry:
    info: GraphInfo
    version: ox.NamedNode


class CatalogStore:
    """The reads of a store that keeps a catalogue of versioned source graphs and speaks SPARQL.

    Subclasses provide ``_catalog`` and ``select``; the rest follows from them.
    """

    def _catalog(self) -> dict[str, CatalogEntry]:
        raise NotImplementedError

    def select(self, query: str, bindings: Bindings | None = None, *, limit: int | None = None) -> list[Row]:
        raise NotImplementedError

    def sources(self) -> dict[str, GraphInfo]:
        return {name: entry.info for name, entry in sorted(self._catalog().items())}

    def query(self, name: str, params: Bindings | None = None) -> list[Row]:
        return self.select(named_query(name), params)

    def count(self, source: str | None = None) -> int:
        catalog = self._catalog()
        if source is not None:
            entry = catalog.get(source)
            return entry.info.triples if entry else 0
        return sum(entry.info.triples for entry in catalog.values())

    def export(self, out: BinaryIO, fmt: ExportFormat, sources: list[str] | None = None) -> int:
        return export_sources(self, out, fmt, sources)  # type: ignore[arg-type]
