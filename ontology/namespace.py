"""The ontology as Python: every normkg IRI in the code comes from here.

Why loaded, not generated: ``normkg.ttl`` is the single source of truth (LinkML's lesson), and a
generated module could drift from it. Loading it at import costs a few milliseconds, and asking for
a term that the ontology does not declare fails at once (``NKG.Nrom`` raises), so a typo cannot
silently mint a new IRI.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from urllib.parse import quote

import pyoxigraph as ox
import rdflib

ONTOLOGY_FILE = "normkg.ttl"
SHAPES_FILE = "shapes.ttl"
CONTEXT_FILE = "context.jsonld"

_OWL_ONTOLOGY = rdflib.OWL.Ontology
_VANN_URI = rdflib.URIRef("http://purl.org/vocab/vann/preferredNamespaceUri")


def ontology_text(name: str = ONTOLOGY_FILE) -> str:
    return resources.files("normkg.ontology").joinpath(name).read_text(encoding="utf-8")


@cache
def ontology_graph() -> rdflib.Graph:
    """The ontology as an rdflib graph (for pySHACL, serialising and introspection)."""
    graph = rdflib.Graph(bind_namespaces="none")
    graph.parse(data=ontology_text(), format="turtle")
    return graph


class Vocabulary:
    """Terms of one namespace as pyoxigraph NamedNodes; closed vocabularies refuse unknown names."""

    def __init__(self, base: str, terms: frozenset[str] | None = None) -> None:
        self._base = base
        self._terms = terms
        self._cache: dict[str, ox.NamedNode] = {}

    @property
    def base(self) -> str:
        return self._base

    @property
    def terms(self) -> frozenset[str]:
        return self._terms or frozenset()

    def __getattr__(self, name: str) -> ox.NamedNode:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> ox.NamedNode:
        node = self._cache.get(name)
        if node is None:
            if self._terms is not None and name not in self._terms:
                raise AttributeError(f"{name!r} is not declared in the ontology namespace {self._base}")
            node = self._cache[name] = ox.NamedNode(self._base + name)
        return node

    def __contains__(self, iri: object) -> bool:
        value = iri.value if isinstance(iri, ox.NamedNode) else str(iri)
        return value.startswith(self._base) and (
            self._terms is None or value[len(self._base) :] in self._terms
        )

    def local_name(self, iri: ox.NamedNode | str) -> str:
        value = iri.value if isinstance(iri, ox.NamedNode) else iri
        if not value.startswith(self._base):
            raise ValueError(f"{value} is not in {self._base}")
        return value[len(self._base) :]


def _load() -> tuple[Vocabulary, str, dict[str, str]]:
    graph = ontology_graph()
    ontology = next(graph.subjects(rdflib.RDF.type, _OWL_ONTOLOGY))
    base = str(graph.value(ontology, _VANN_URI))
    declared = frozenset(
        str(s)[len(base) :]
        for s in graph.subjects()
        if isinstance(s, rdflib.URIRef) and str(s).startswith(base)
    )
    nkg = Vocabulary(base, declared)
    instance_base = str(graph.value(ontology, rdflib.URIRef(nkg.instanceNamespace.value)))
    prefixes = {prefix: str(ns) for prefix, ns in graph.namespaces() if prefix}
    return nkg, instance_base, prefixes


NKG, INSTANCE_BASE, PREFIXES = _load()
ONTOLOGY_IRI = ox.NamedNode(NKG.base.rstrip("#"))
RDF = Vocabulary(PREFIXES["rdf"])
RDFS = Vocabulary(PREFIXES["rdfs"])
XSD = Vocabulary(PREFIXES["xsd"])
OWL = Vocabulary(PREFIXES["owl"])
SKOS = Vocabulary(PREFIXES["skos"])
PROV = Vocabulary(PREFIXES["prov"])
DCTERMS = Vocabulary(PREFIXES["dcterms"])
DCAT = Vocabulary(PREFIXES["dcat"])
SH = Vocabulary(PREFIXES["sh"])
INSTANCES = Vocabulary(INSTANCE_BASE)

_MAX_READABLE = 64
_SAFE = "-._~"


def _segment(part: str) -> str:
    """A path segment: the part itself when short and plain, else a stable hash of it."""
    slug = quote(part.strip().replace(" ", "_"), safe=_SAFE)
    if 0 < len(slug) <= _MAX_READABLE:
        return slug
    return "h" + hashlib.sha1(part.encode("utf-8")).hexdigest()[:24]


def mint(kind: str, *parts: str | int) -> ox.NamedNode:
    """A deterministic instance IRI: same kind and parts, same IRI (so re-ingest is idempotent)."""
    if not parts:
        raise ValueError("mint() needs at least one part")
    return ox.NamedNode(INSTANCE_BASE + kind + "/" + "/".join(_segment(str(p)) for p in parts))


def source_graph(source: str) -> ox.NamedNode:
    """The logical named graph of a source."""
    return mint("graph", source)


CATALOG_GRAPH = mint("graph", "_catalog")
ONTOLOGY_GRAPH = source_graph("_ontology")
