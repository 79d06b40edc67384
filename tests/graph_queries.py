"""Small query helpers the loader tests share: one row, a distinct count, the objects of a property.

Imported by the test modules (``from graph_queries import ...``); the tests' own folder is on the
import path, as for ``conftest_stores``.
"""

from __future__ import annotations

import pyoxigraph as ox

from normkg.kg.open import open_store
from normkg.kg.store import GraphStore
from normkg.kg.terms import Row, Term, Triple


def memory_store(source: str, triples: list[Triple]) -> GraphStore:
    """An in-memory store holding ``triples`` as the source ``source``."""
    store = open_store("oxigraph:memory")
    store.replace(source, triples)
    return store


def one(rows: list[Row]) -> Row:
    assert len(rows) == 1, rows
    return rows[0]


def count(store: GraphStore, pattern: str) -> int:
    """Distinct ?x matching ``pattern``."""
    return int(one(store.select(f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {pattern} }}"))["n"].value)


def values(store: GraphStore, subject: Term, prop: ox.NamedNode) -> set[Term]:
    return {r["o"] for r in store.select("SELECT ?o WHERE { ?s ?p ?o }", {"s": subject, "p": prop})}
