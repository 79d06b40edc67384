"""What the RDF backends share: the catalogue query and row reading, and export by source.

The embedded and the remote SPARQL store keep the same catalogue (one entry per source, pointing at
its live version graph), so they read it with one query and one function; every backend exports by
streaming its sources' triples through pyoxigraph's serialisers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import pyoxigraph as ox

from normkg.errors import StoreError
from normkg.kg.store import ExportFormat, GraphInfo, GraphStore
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
