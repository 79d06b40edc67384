"""Neo4jStore's RDF <-> property-graph mapping, checked without a server.

The store's behaviour against a real Neo4j is the contract suite (tests/test_store_contract.py,
run when NEO4J_URI is set). What can be checked here, and is where a mapping goes wrong, is the
pure part: n10s names, the literal encoding (every literal must read back exactly), the facts kept
per source, how query rows become RDF terms, and that every .cypher declares IRI columns that
its .rq counterpart really returns.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

from normkg.errors import ConfigError, QueryError, StoreError
from normkg.kg.neo4j_store import (
    Neo4jStore,
    Prefixes,
    _Batch,
    cypher_param,
    decode_facts,
    from_view,
    iri_columns,
    node_view,
    row_term,
    split_iri,
    to_view,
    view_values,
)
from normkg.kg.open import open_store
from normkg.kg.queries import named_query, query_names
from normkg.ontology.namespace import NKG, PREFIXES, RDF, RDFS, SKOS, XSD
from normkg.settings import Settings

EX = "http://example.org/"


def ex(name: str) -> ox.NamedNode:
    return ox.NamedNode(EX + name)


@pytest.fixture
def prefixes() -> Prefixes:
    table = Prefixes(PREFIXES)
    return Prefixes({**table.by_prefix, **table.allocate([EX])})


def test_namespaces_split_where_n10s_splits_them() -> None:
    assert split_iri("http://x.org/vocab#Local") == ("http://x.org/vocab#", "Local")
    assert split_iri("http://x.org/a/b") == ("http://x.org/a/", "b")
    assert split_iri("urn:isbn:123") == ("urn:isbn:", "123")
    assert split_iri("http://x.org/a#b#c") == ("http://x.org/a#", "b#c")  # the first '#', as RDF4J


def test_names_use_the_ontology_prefixes_and_ns_n_for_the_rest() -> None:
    table = Prefixes(PREFIXES)
    assert table.shorten(NKG.Norm.value) == "nkg__Norm"
    assert table.shorten(SKOS.prefLabel.value) == "skos__prefLabel"
    assert table.expand("nkg__Norm") == NKG.Norm.value
    new = table.allocate(["http://b.example/", "http://a.example/", PREFIXES["nkg"]])
    assert new == {"ns0": "http://a.example/", "ns1": "http://b.example/"}
    grown = Prefixes({**table.by_prefix, **new, "ns2": "http://c.example/"})
    assert grown.allocate(["http://d.example/"]) == {"ns3": "http://d.example/"}
    with pytest.raises(StoreError):
        table.shorten("http://unknown.example/x")
    with pytest.raises(StoreError):
        table.expand("nope__x")


LITERALS = [
    ox.Literal("plain"),
    ox.Literal(""),
    ox.Literal("user@example"),
    ox.Literal("user@example", language="en"),
    ox.Literal("1^^xsd__integer"),
    ox.Literal("a@en^^xsd__date"),
    ox.Literal("x^^ns7__unknown"),
    ox.Literal("bonjour", language="fr"),
    ox.Literal("hello", language="en-GB"),
    ox.Literal('say "hi"\nand \\ leave\t'),
    ox.Literal("規範 🏠 مرحبا e\u0301"),
    ox.Literal(42),
    ox.Literal(-7),
    ox.Literal(str(2**70), datatype=XSD.integer),
    ox.Literal("042", datatype=XSD.integer),
    ox.Literal(1.5),
    ox.Literal("1.50", datatype=XSD.double),
    ox.Literal(True),
    ox.Literal("0", datatype=XSD.boolean),
    ox.Literal("0.25", datatype=XSD.decimal),
    ox.Literal("2024-02-29", datatype=XSD.date),
    ox.Literal("10", datatype=ox.NamedNode(EX + "EUR")),
    ox.Literal("x", datatype=XSD.string),
]


@pytest.mark.parametrize("literal", LITERALS, ids=str)
def test_every_literal_reads_back_exactly(literal: ox.Literal, prefixes: Prefixes) -> None:
    assert from_view(to_view(literal, prefixes), prefixes) == literal
    assert from_view(to_view(literal, prefixes, native=False), prefixes) == literal


def test_property_values_take_the_n10s_forms(prefixes: Prefixes) -> None:
    assert to_view(ox.Literal("plain"), prefixes) == "plain"
    assert to_view(ox.Literal(42), prefixes) == 42
    assert to_view(ox.Literal(1.5), prefixes) == 1.5
    assert to_view(ox.Literal(True), prefixes) is True
    assert to_view(ox.Literal("bonjour", language="fr"), prefixes) == "bonjour@fr"  # keepLangTag
    assert to_view(ox.Literal("10", datatype=ox.NamedNode(EX + "EUR")), prefixes) == "10^^ns0__EUR"
    assert to_view(ox.Literal("2024-02-29", datatype=XSD.date), prefixes) == "2024-02-29^^xsd__date"
    # values that would be misread are marked as plain strings; lossy numbers stay strings
    assert to_view(ox.Literal("user@example"), prefixes) == "user@example^^xsd__string"
    assert to_view(ox.Literal("042", datatype=XSD.integer), prefixes) == "042^^xsd__integer"
    assert to_view(ox.Literal(str(2**70), datatype=XSD.integer), prefixes) == f"{2**70}^^xsd__integer"


def test_an_array_never_mixes_types(prefixes: Prefixes) -> None:
    mixed = [ox.Literal(3), ox.Literal("three"), ox.Literal(True)]
    values = view_values(mixed, prefixes)
    assert {type(v) for v in values} == {str}
    assert {from_view(v, prefixes) for v in values} == set(mixed)
    assert view_values([ox.Literal(2), ox.Literal(1), ox.Literal(2)], prefixes) == [1, 2]


def test_a_source_keeps_its_literal_and_type_facts_and_its_relationships(prefixes: Prefixes) -> None:
    blank = ox.BlankNode("b0")
    triples = [
        (ex("a"), RDF.type, NKG.Norm),
        (ex("a"), NKG.text, ox.Literal("hi", language="en")),
        (ex("a"), RDFS.label, ox.Literal("x@y")),
        (ex("a"), NKG.about, ex("b")),
        (ex("a"), ex("part"), blank),
        (blank, RDF.type, blank),  # a type that cannot be a label stays a relationship
        (ex("c"), NKG.hasFrame, ex("a")),
    ]
    batch = _Batch.of(triples)
    assert set(batch.facts) == {EX + "a", "_:b0", EX + "c"}  # every subject is held
    assert batch.facts[EX + "c"] == set()
    assert batch.rels == {
        (EX + "a", NKG.about.value, EX + "b"),
        (EX + "a", EX + "part", "_:b0"),
        ("_:b0", RDF.type.value, "_:b0"),
        (EX + "c", NKG.hasFrame.value, EX + "a"),
    }
    assert EX in batch.namespaces and PREFIXES["nkg"] in batch.namespaces
    facts = decode_facts(EX + "a", batch.facts[EX + "a"])
    assert set(facts) == set(triples[:3])
    labels, props = node_view(facts, prefixes)
    assert labels == ["nkg__Norm"]
    assert props == {"nkg__text": ["hi@en"], "rdfs__label": ["x@y^^xsd__string"]}


def test_query_rows_become_the_terms_sparql_returns(prefixes: Prefixes) -> None:
    assert row_term("nkg__Norm", iri=True, prefixes=prefixes) == NKG.Norm
    assert row_term(EX + "a", iri=True, prefixes=prefixes) == ex("a")
    assert row_term("_:b1", iri=True, prefixes=prefixes) == ox.BlankNode("b1")
    assert row_term(3, iri=False, prefixes=prefixes) == ox.Literal(3)
    assert row_term("hi@en", iri=False, prefixes=prefixes) == ox.Literal("hi", language="en")
    assert row_term("2024-02-29^^xsd__date", iri=False, prefixes=prefixes) == ox.Literal(
        "2024-02-29", datatype=XSD.date
    )
    assert row_term(None, iri=False, prefixes=prefixes) is None
    with pytest.raises(QueryError):
        row_term(["a", "b"], iri=False, prefixes=prefixes)
    assert cypher_param(ex("a"), prefixes) == EX + "a"
    assert cypher_param(ox.Literal("x' DETACH DELETE n //"), prefixes) == "x' DETACH DELETE n //"


@pytest.mark.parametrize("name", query_names("cypher"))
def test_each_cypher_query_declares_iri_columns_its_sparql_twin_returns(name: str) -> None:
    cypher = named_query(name, "cypher")
    sparql = named_query(name, "rq")
    for column in iri_columns(cypher):
        assert re.search(rf"\?{column}\b", sparql), (
            f"{name}.cypher: @iri {column} is not a variable of {name}.rq"
        )
        assert re.search(rf"\bAS {column}\b|\bRETURN {column}\b|, {column}\b", cypher), f"{name}: {column}"


def test_store_urls_keep_credentials_out_and_name_the_database() -> None:
    with pytest.raises(ConfigError):
        open_store("neo4j://user:secret@localhost:7687", Settings.model_validate({}))
    store = open_store("bolt://127.0.0.1:1/normkg", Settings.model_validate({"store_timeout_s": 1}))
    try:
        assert isinstance(store, Neo4jStore)
        assert store.url == "bolt://127.0.0.1:1/normkg"
        assert not store.capabilities.sparql and store.capabilities.cypher
        with pytest.raises(QueryError):
            store.select("SELECT * WHERE { ?s ?p ?o }")
        with pytest.raises(StoreError, match="cannot reach Neo4j"):
            store.sources()
    finally:
        store.close()
