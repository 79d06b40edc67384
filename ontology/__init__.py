"""The cultural-frame ontology (Turtle), its SHACL shapes, its JSON-LD context, and the namespace module."""

from normkg.ontology.namespace import (
    DCAT,
    DCTERMS,
    INSTANCES,
    NKG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SH,
    SKOS,
    XSD,
    mint,
    source_graph,
)

__all__ = [
    "DCAT",
    "DCTERMS",
    "INSTANCES",
    "NKG",
    "OWL",
    "PROV",
    "RDF",
    "RDFS",
    "SH",
    "SKOS",
    "XSD",
    "mint",
    "source_graph",
]
