"""The ontology is the single source of truth: it parses, it is complete, and nothing bypasses it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from normkg.kg.validate import validate_triples
from normkg.ontology.namespace import (
    CONTEXT_FILE,
    NKG,
    PROV,
    RDF,
    SHAPES_FILE,
    mint,
    ontology_graph,
    ontology_text,
)

REPO = Path(__file__).resolve().parent.parent


def test_ontology_parses_with_both_parsers() -> None:
    graph = ontology_graph()
    assert (None, rdflib.RDF.type, rdflib.OWL.Ontology) in graph
    quads = list(ox.parse(ontology_text().encode(), ox.RdfFormat.TURTLE))
    assert len(quads) == len(graph)


def test_every_term_is_labelled_and_typed() -> None:
    graph = ontology_graph()
    for name in NKG.terms:
        node = rdflib.URIRef(NKG[name].value)
        assert (node, rdflib.RDF.type, None) in graph, f"{name} has no rdf:type"
        has_label = (node, rdflib.RDFS.label, None) in graph or (
            node,
            rdflib.URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"),
            None,
        ) in graph
        assert has_label, f"{name} has no label"


def test_core_classes_of_the_brief_exist() -> None:
    for name in (
        "Norm",
        "Behavior",
        "Frame",
        "Setting",
        "Role",
        "Attribute",
        "Value",
        "ValuesCard",
        "WiserThan",
        "Context",
        "Dilemma",
        "CulturalPractice",
        "LexiconEntry",
        "Dataset",
        "SourceRow",
    ):
        assert (rdflib.URIRef(NKG[name].value), rdflib.RDF.type, rdflib.OWL.Class) in ontology_graph()


def test_undeclared_term_is_refused() -> None:
    with pytest.raises(AttributeError, match="not declared"):
        _ = NKG.Nrom


def test_mint_is_deterministic_and_distinguishes_parts() -> None:
    assert mint("norm", "a", "b") == mint("norm", "a", "b")
    assert mint("norm", "a/b") != mint("norm", "a", "b")
    long_text = "x" * 500
    assert len(mint("norm", long_text).value) < 120


def test_no_normkg_iri_string_outside_the_ontology_files() -> None:
    """Python, queries and tests get normkg IRIs from the namespace module, never from literals."""
    base = NKG.base.split("//", 1)[1].split("#", 1)[0]  # host/path of the namespace
    pattern = re.compile(re.escape(base))
    offenders = []
    for path in REPO.rglob("*"):
        if any(part in {".venv", ".git", "build", "var", "node_modules"} for part in path.parts):
            continue
        if path.suffix in {".py", ".rq", ".cypher"} and pattern.search(path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_jsonld_context_only_names_declared_terms() -> None:
    context = json.loads(ontology_text(CONTEXT_FILE))["@context"]
    assert context["nkg"] == NKG.base
    for key, value in context.items():
        iri = value["@id"] if isinstance(value, dict) else value
        if isinstance(iri, str) and iri.startswith("nkg:"):
            assert iri[4:] in NKG.terms, f"context term {key} -> {iri} is not in the ontology"


def _norm(node: ox.NamedNode, row: ox.NamedNode, *, text: bool, judgment: ox.NamedNode | None) -> list:
    dataset = mint("dataset", "test")
    triples = [
        (dataset, RDF.type, NKG.Dataset),
        (dataset, NKG.sourceName, ox.Literal("test")),
        (dataset, rdflib_title(), ox.Literal("Test")),
        (dataset, NKG.licenseNote, ox.Literal("none")),
        (dataset, NKG.citation, ox.Literal("none")),
        (row, RDF.type, NKG.SourceRow),
        (row, NKG.inDataset, dataset),
        (row, NKG.sourceFile, ox.Literal("f.csv")),
        (row, NKG.sourceLine, ox.Literal(2)),
        (node, RDF.type, NKG.Norm),
        (node, PROV.wasDerivedFrom, row),
    ]
    if text:
        triples.append((node, NKG.text, ox.Literal("It's rude to interrupt.", language="en")))
    if judgment is not None:
        triples.append((node, NKG.judgment, judgment))
    return triples


def rdflib_title() -> ox.NamedNode:
    from normkg.ontology.namespace import DCTERMS

    return DCTERMS.title


def test_shapes_accept_a_well_formed_norm() -> None:
    report = validate_triples(
        "test", _norm(mint("norm", "ok"), mint("row", "t", 1), text=True, judgment=NKG.Bad)
    )
    assert report.conforms, report.violations


def test_shapes_catch_a_broken_norm() -> None:
    node = mint("norm", "broken")
    triples = _norm(node, mint("row", "t", 1), text=False, judgment=NKG.Norm)  # no text; judgment not a grade
    triples = [t for t in triples if t[1] != PROV.wasDerivedFrom]  # and no provenance
    report = validate_triples("test", triples)
    paths = {(v.focus, v.path) for v in report.violations}
    assert (node.value, NKG.text.value) in paths
    assert (node.value, NKG.judgment.value) in paths
    assert (node.value, PROV.wasDerivedFrom.value) in paths


def test_shapes_file_parses() -> None:
    graph = rdflib.Graph().parse(data=ontology_text(SHAPES_FILE), format="turtle")
    shapes = set(graph.subjects(rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/shacl#NodeShape")))
    assert len(shapes) >= 10
