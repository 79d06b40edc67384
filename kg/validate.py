"""SHACL validation of stored sources with pySHACL, one source at a time, on in-memory rdflib graphs.

Why per source and in memory: pySHACL is fast on an rdflib in-memory graph and very slow on an
Oxigraph-backed one when there are violations; one source at a time also bounds memory, and a
report per source says where a problem came from. A failing shape produces a report, not an error.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import pyshacl
import rdflib

from normkg.kg.store import GraphStore
from normkg.kg.terms import Triple, to_rdflib_graph
from normkg.ontology.namespace import SHAPES_FILE, ontology_graph, ontology_text

_SH = rdflib.Namespace(str(rdflib.SH))


@dataclass(frozen=True)
class Violation:
    focus: str
    path: str
    message: str
    severity: str
    shape: str

    def __str__(self) -> str:
        return f"{self.focus} {self.path}: {self.message}"


@dataclass
class ValidationReport:
    source: str
    triples: int
    seconds: float
    violations: list[Violation] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not self.violations


@cache
def shapes_graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=ontology_text(SHAPES_FILE), format="turtle")
    return graph


def _violations(results: rdflib.Graph) -> list[Violation]:
    found: list[Violation] = []

    def value(result: rdflib.term.Node, p: rdflib.URIRef) -> str:
        v = results.value(result, p)
        return "" if v is None else str(v)

    for result in results.subjects(rdflib.RDF.type, _SH.ValidationResult):
        found.append(
            Violation(
                focus=value(result, _SH.focusNode),
                path=value(result, _SH.resultPath),
                message=value(result, _SH.resultMessage),
                severity=value(result, _SH.resultSeverity).rsplit("#", 1)[-1],
                shape=value(result, _SH.sourceShape),
            )
        )
    return sorted(found, key=lambda v: (v.focus, v.path, v.message))


def validate_triples(source: str, triples: Iterable[Triple]) -> ValidationReport:
    """Validate one source's triples against the shapes (with the ontology for class hierarchy)."""
    start = time.perf_counter()
    data = to_rdflib_graph(triples)
    checked = len(data)
    # The ontology's own individuals (judgment grades, foundations) and class hierarchy are part of
    # what the shapes check against, so they go into the data graph (pySHACL mixes ont_graph only
    # when it runs inference, which we do not need).
    data += ontology_graph()
    conforms, results, _ = pyshacl.validate(
        data,
        shacl_graph=shapes_graph(),
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
    )
    violations = [] if conforms else _violations(results)
    return ValidationReport(source, checked, time.perf_counter() - start, violations)


def validate_store(store: GraphStore, sources: list[str] | None = None) -> list[ValidationReport]:
    names = sources or [name for name in store.sources() if not name.startswith("_")]
    return [validate_triples(name, store.triples(name)) for name in names]
