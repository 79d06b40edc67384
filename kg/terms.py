"""RDF term types shared by every store: normkg passes pyoxigraph terms between layers.

Why pyoxigraph terms and not rdflib's: ingest builds about a million triples, and pyoxigraph terms
are Rust objects that the embedded store takes without conversion; rdflib is used at the edges
(pySHACL, JSON-LD) through ``to_rdflib``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeAlias

import pyoxigraph as ox
import rdflib

Subject: TypeAlias = ox.NamedNode | ox.BlankNode
Term: TypeAlias = ox.NamedNode | ox.BlankNode | ox.Literal
Triple: TypeAlias = tuple[Subject, ox.NamedNode, Term]
Row: TypeAlias = dict[str, Term]
#: values bound to a query's variables (a sequence becomes a VALUES block)
Bindings: TypeAlias = Mapping[str, Term | Sequence[Term]]


def literal(value: str | int | float | bool, lang: str | None = None) -> ox.Literal:
    if lang is not None:
        return ox.Literal(str(value), language=lang)
    return ox.Literal(value)


def to_python(term: Term | None) -> str | int | float | bool | None:
    """A term's plain value: IRIs as strings, typed literals as Python numbers and booleans."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        if dt.endswith("#integer") or dt.endswith("#int") or dt.endswith("#long"):
            return int(term.value)
        if dt.endswith("#decimal") or dt.endswith("#double") or dt.endswith("#float"):
            return float(term.value)
        if dt.endswith("#boolean"):
            return term.value in ("true", "1")
        return term.value
    return term.value


def to_rdflib_graph(triples: Iterable[Triple], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Copy triples into an rdflib graph (for pySHACL, which is fast on in-memory rdflib graphs)."""
    out = graph if graph is not None else rdflib.Graph()
    data = ox.serialize((ox.Triple(s, p, o) for s, p, o in triples), format=ox.RdfFormat.N_TRIPLES)
    if data:
        out.parse(data=data.decode("utf-8"), format="nt")
    return out
