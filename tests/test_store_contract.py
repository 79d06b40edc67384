"""The store contract, written once and run on every backend (RDFLib's parametrised graph tests).

Every case here runs on: the embedded store in memory and on disk, a real Oxigraph *server*
through :class:`SparqlStore`, and Neo4j when ``NEO4J_URI`` is set. A backend is correct when it
passes this file unchanged; whatever reasoning and the API ask of a store is asked here.

Adding a named query (kg/queries/NAME.rq + NAME.cypher): add one entry to ``NAMED_QUERY_CASES``
with the data it runs on, the parameters and the rows expected (worked out by hand from the data,
never copied from a store's output). ``test_every_named_query_has_a_case`` fails until you do.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pytest

from normkg.errors import QueryError
from normkg.kg.open import open_store, store_schemes
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.kg.queries import query_names
from normkg.kg.store import ExportFormat, GraphStore
from normkg.kg.terms import Row, Term, Triple
from normkg.ontology.namespace import DCTERMS, NKG, PROV, RDF, RDFS, SKOS, XSD, source_graph
from normkg.settings import Settings

pytest_plugins = ["conftest_stores"]

EX = "http://example.org/"
STORE_KINDS = ["oxigraph-memory", "oxigraph-disk", "sparql-oxigraph-server", "sparql-virtuoso", "neo4j"]


def ex(name: str) -> ox.NamedNode:
    return ox.NamedNode(EX + name)


def lit(
    value: str | int | float | bool, *, lang: str | None = None, datatype: ox.NamedNode | None = None
) -> ox.Literal:
    if lang is not None:
        return ox.Literal(str(value), language=lang)
    if datatype is not None:
        return ox.Literal(str(value), datatype=datatype)
    return ox.Literal(value)


def typed(node: str, cls: ox.NamedNode) -> Triple:
    return (ex(node), RDF.type, cls)


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    kind = request.param
    opened: GraphStore
    if kind == "oxigraph-memory":
        opened = OxigraphStore(None)
    elif kind == "oxigraph-disk":
        opened = OxigraphStore(tmp_path / "store")
    elif kind in ("sparql-oxigraph-server", "sparql-virtuoso"):
        server = request.getfixturevalue(
            "oxigraph_server" if kind == "sparql-oxigraph-server" else "virtuoso_server"
        )
        server.wipe()
        opened = open_store(server.store_url, Settings.model_validate({}))
    else:
        target = request.getfixturevalue("neo4j_target")
        target.wipe()
        opened = open_store(target.url, target.settings)
    yield opened
    opened.close()


def triple_set(store: GraphStore, source: str) -> set[Triple]:
    return set(store.triples(source))


# ---- empty store ---------------------------------------------------------------------------


def test_empty_store_has_no_sources_no_triples_and_empty_query_results(store: GraphStore) -> None:
    assert store.sources() == {}
    assert store.count() == 0
    assert store.count("nothing") == 0
    assert list(store.triples("nothing")) == []
    for name in query_names("rq"):
        assert store.query(name) == [], name
    out = io.BytesIO()
    assert store.export(out, ExportFormat.NQUADS) == 0
    assert list(ox.parse(out.getvalue(), ox.RdfFormat.N_QUADS)) == []
    store.drop("nothing")  # dropping an unknown source is a no-op, not an error
    assert store.sources() == {}


# ---- writes --------------------------------------------------------------------------------


def test_add_batches_create_the_source_and_accumulate(store: GraphStore) -> None:
    first = [
        typed("a", ex("Thing")),
        (ex("a"), RDFS.label, lit("a", lang="en")),
        (ex("a"), ex("next"), ex("b")),
    ]
    assert store.add("s", first) == 3
    assert store.count("s") == 3
    assert triple_set(store, "s") == set(first)
    second = [(ex("b"), RDFS.label, lit("b")), (ex("b"), ex("size"), lit(2))]
    assert store.add("s", second + first[:1]) >= 2  # the repeated triple is not stored twice
    assert store.count("s") == 5
    assert store.count() == 5
    assert triple_set(store, "s") == set(first) | set(second)
    assert list(store.sources()) == ["s"]


def test_replace_swaps_a_source_and_leaves_others_alone(store: GraphStore) -> None:
    old = [typed(f"old{i}", ex("Old")) for i in range(5)]
    new = [typed(f"new{i}", ex("New")) for i in range(3)] + [(ex("new0"), RDFS.label, lit("new"))]
    other = [typed("x", ex("Other")), (ex("x"), RDFS.comment, lit("kept"))]
    store.replace("a", old, content_key="k1", rows_read=5, rows_rejected=1)
    store.replace("b", other, content_key="kb", rows_read=1)
    result = store.replace("a", new, content_key="k2", rows_read=3, rows_rejected=0)
    assert (result.source, result.triples, result.unchanged) == ("a", 4, False)
    assert triple_set(store, "a") == set(new)
    assert triple_set(store, "b") == set(other)
    infos = store.sources()
    assert list(infos) == ["a", "b"]
    assert (infos["a"].triples, infos["a"].content_key, infos["a"].rows_read, infos["a"].rows_rejected) == (
        4,
        "k2",
        3,
        0,
    )
    assert (infos["b"].triples, infos["b"].content_key, infos["b"].rows_read) == (2, "kb", 1)
    assert store.count() == 6
    classes = {row["class"]: row["n"] for row in store.query("class_counts")}
    assert ex("Old") not in classes
    assert classes[ex("New")] == lit(3)


def test_replace_is_skipped_when_the_content_key_is_unchanged(store: GraphStore) -> None:
    first = [typed("a", ex("One"))]
    second = [typed("b", ex("Two")), typed("c", ex("Two"))]
    store.replace("s", first, content_key="same")
    skipped = store.replace("s", second, content_key="same")
    assert skipped.unchanged and skipped.triples == 1
    assert triple_set(store, "s") == set(first)
    forced = store.replace("s", second, content_key="same", skip_if_unchanged=False)
    assert not forced.unchanged and forced.triples == 2
    assert triple_set(store, "s") == set(second)
    rekeyed = store.replace("s", first, content_key="other")
    assert not rekeyed.unchanged
    assert triple_set(store, "s") == set(first)
    # An empty content key never matches: there is nothing to compare.
    assert not store.replace("s", first).unchanged


class LoaderCrash(Exception):
    pass


def test_a_replace_whose_triples_fail_part_way_leaves_the_old_content_live(store: GraphStore) -> None:
    old = [typed("a", ex("Old")), (ex("a"), RDFS.label, lit("old"))]
    store.replace("s", old, content_key="k1", rows_read=1)

    def failing() -> Iterator[Triple]:
        for i in range(500):
            yield typed(f"n{i}", ex("New"))
        raise LoaderCrash

    with pytest.raises(LoaderCrash):
        store.replace("s", failing(), content_key="k2")
    assert triple_set(store, "s") == set(old)
    assert (store.sources()["s"].content_key, store.count()) == ("k1", 2)
    assert store.query("class_counts") == [{"class": ex("Old"), "n": lit(1)}]
    store.replace("s", [typed("b", ex("New"))], content_key="k3")  # and the store is still writable
    assert store.query("class_counts") == [{"class": ex("New"), "n": lit(1)}]


def test_drop_removes_one_source(store: GraphStore) -> None:
    store.replace("a", [typed("a", ex("A"))])
    store.replace("b", [typed("b", ex("B"))])
    store.drop("a")
    assert list(store.sources()) == ["b"]
    assert store.count() == 1
    assert list(store.triples("a")) == []
    assert store.query("class_counts") == [{"class": ex("B"), "n": lit(1)}]


def test_replace_is_atomic_for_a_concurrent_reader(store: GraphStore) -> None:
    """A reader sees the old graph or the new one, never a mix, while a writer swaps them."""
    old = [typed(f"n{i}", ex("Counted")) for i in range(120)]
    new = [typed(f"n{i}", ex("Counted")) for i in range(200)]
    store.replace("other", [typed("o", ex("Counted"))])
    store.replace("s", old)
    expected = {121, 201}  # the other source's node is always there
    seen: list[int] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        try:
            while not done.is_set():
                rows = store.query("class_counts")
                seen.append(sum(int(row["n"].value) for row in rows if row["class"] == ex("Counted")))
                seen.append(store.count("s") + store.count("other"))
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(8):
            store.replace("s", new if i % 2 == 0 else old)
    finally:
        done.set()
        thread.join(timeout=60)
    assert not failures, failures
    assert seen, "the reader never ran"
    assert set(seen) <= expected, sorted(set(seen) - expected)


# ---- named queries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryCase:
    """One named query, the sources it runs on, its parameters and the rows it must return."""

    name: str
    sources: dict[str, list[Triple]]
    expected: list[Row]
    params: dict[str, Term | list[Term]] = field(default_factory=dict)
    ordered: bool = True
    known_bugs: dict[str, str] = field(default_factory=dict)  # store kind -> the server's bug

    @property
    def id(self) -> str:
        return self.name + ("[" + ",".join(self.params) + "]" if self.params else "")


def _class_data() -> dict[str, list[Triple]]:
    # Source a: p1, p2 are A; p2 is also B.  Source b: p3 is B, p1 is A again (same node, counted once).
    return {
        "a": [
            typed("p1", ex("A")),
            typed("p2", ex("A")),
            typed("p2", ex("B")),
            (ex("p1"), RDFS.label, lit("one")),
        ],
        "b": [typed("p3", ex("B")), typed("p1", ex("A")), (ex("p3"), ex("knows"), ex("p1"))],
    }


# A norm with everything norm_detail joins, spread over two sources the way ingest spreads them:
# the judgment and deontic vocabularies (and the class hierarchy) in "vocab", the rest in "data".
N1, N2, JUDGMENT, DEONTIC = ex("norm/1"), ex("norm/2"), ex("judgment/good"), ex("deontic/ok")
BEHAVIOR, FRAME, ROW, DATASET, DATASET2 = (
    ex("behavior/help"),
    ex("frame/1"),
    ex("row/12"),
    ex("ds/1"),
    ex("ds/2"),
)
LICENSE = ex("license/cc-by-4.0")


def _norm_data() -> dict[str, list[Triple]]:
    vocab: list[Triple] = [
        (JUDGMENT, SKOS.prefLabel, lit("it's good", lang="en")),
        (JUDGMENT, NKG.polarity, lit(1)),
        (DEONTIC, SKOS.prefLabel, lit("permitted", lang="en")),
        (NKG.Principle, RDFS.subClassOf, NKG.Norm),
    ]
    data: list[Triple] = [
        (N1, RDF.type, NKG.Norm),
        (N1, NKG.text, lit("It's good to help", lang="en")),
        (N1, NKG.judgment, JUDGMENT),
        (N1, NKG.judgmentText, lit("it's good", lang="en")),
        (N1, NKG.deonticStatus, DEONTIC),
        (N1, NKG.about, BEHAVIOR),
        (BEHAVIOR, NKG.text, lit("helping", lang="en")),
        (N1, NKG.hasFrame, FRAME),
        (N1, PROV.wasDerivedFrom, ROW),
        (ROW, NKG.inDataset, DATASET),
        (ROW, NKG.sourceFile, lit("train.csv")),
        (ROW, NKG.sourceLine, lit(12)),
        (ROW, NKG.sourceId, lit("r-12")),
        (DATASET, RDF.type, NKG.Dataset),
        (DATASET, NKG.sourceName, lit("demo")),
        (DATASET, DCTERMS.title, lit("Demo norms")),
        (DATASET, NKG.licenseNote, lit("CC BY 4.0")),
        (DATASET, NKG.citation, lit("Doe 2024")),
        (DATASET, DCTERMS.license, LICENSE),
        (DATASET2, RDF.type, NKG.Dataset),
        (DATASET2, NKG.sourceName, lit("other")),
        (DATASET2, DCTERMS.title, lit("Other norms")),
        (DATASET2, NKG.licenseNote, lit("see the paper")),
        (N2, RDF.type, NKG.Principle),
        (N2, NKG.text, lit("Be kind", lang="en")),
        (N2, NKG.text, lit("Sois gentil", lang="fr")),
    ]
    return {"vocab": vocab, "data": data}


# What norm_detail returns about DATASET
DATASET_DETAIL: Row = {
    "dataset": DATASET,
    "source": lit("demo"),
    "title": lit("Demo norms"),
    "license": LICENSE,
    "licenseNote": lit("CC BY 4.0"),
    "citation": lit("Doe 2024"),
}


# A norm derived from two rows, as a Moral Stories story is (its moral and its immoral line): one
# solution per row, each with that row's own file, line and id, never one row's line with the other's id.
# And a norm whose row names no dataset: its file and line are still returned.
N3, ROW_A, ROW_B = ex("norm/3"), ex("row/3"), ex("row/4")
N4, ROW_C = ex("norm/4"), ex("row/5")


def _two_row_data() -> dict[str, list[Triple]]:
    data = _norm_data()
    data["data"] = data["data"] + [
        (N3, RDF.type, NKG.Norm),
        (N3, NKG.text, lit("Tell the truth", lang="en")),
        (N3, PROV.wasDerivedFrom, ROW_A),
        (N3, PROV.wasDerivedFrom, ROW_B),
        *[
            triple
            for row, line in ((ROW_A, 3), (ROW_B, 4))
            for triple in (
                (row, NKG.inDataset, DATASET),
                (row, NKG.sourceFile, lit("dev.jsonl")),
                (row, NKG.sourceLine, lit(line)),
                (row, NKG.sourceId, lit(f"story-{line}")),
            )
        ],
        (N4, RDF.type, NKG.Norm),
        (N4, NKG.text, lit("Be on time", lang="en")),
        (N4, PROV.wasDerivedFrom, ROW_C),
        (ROW_C, NKG.sourceFile, lit("pack.yaml")),
        (ROW_C, NKG.sourceLine, lit(5)),
    ]
    return data


def _two_row_detail(row: Term, line: int) -> Row:
    return {
        "norm": N3,
        "text": lit("Tell the truth", lang="en"),
        **DATASET_DETAIL,
        "row": row,
        "file": lit("dev.jsonl"),
        "line": lit(line),
        "rowId": lit(f"story-{line}"),
    }


N1_DETAIL: Row = {
    "norm": N1,
    "text": lit("It's good to help", lang="en"),
    "judgment": JUDGMENT,
    "judgmentLabel": lit("it's good", lang="en"),
    "polarity": lit(1),
    "judgmentText": lit("it's good", lang="en"),
    "deontic": DEONTIC,
    "deonticLabel": lit("permitted", lang="en"),
    "behavior": BEHAVIOR,
    "behaviorText": lit("helping", lang="en"),
    "frame": FRAME,
    **DATASET_DETAIL,
    "row": ROW,
    "file": lit("train.csv"),
    "line": lit(12),
    "rowId": lit("r-12"),
}


def _frame_data() -> dict[str, list[Triple]]:
    f1, f2 = ex("frame/f1"), ex("frame/f2")
    return {
        "packs": [
            (f1, RDF.type, NKG.Frame),
            (f1, NKG.country, ex("country/FR")),
            (f1, NKG.setting, ex("setting/home")),
            (f1, RDFS.label, lit("not a constraint")),
            (f2, RDF.type, NKG.Frame),
            (f2, NKG.region, ex("region/EU")),
            (ex("norm/x"), NKG.country, ex("country/DE")),  # not a frame: not listed
        ],
        "more": [(f2, NKG.actorRole, ex("role/guest"))],  # a constraint added by another source
    }


def _vocabulary_data() -> dict[str, list[Triple]]:
    s1, r1, a1, k1, c1, e1, sl1 = (
        ex("setting/home"),
        ex("role/guest"),
        ex("attr/young"),
        ex("kind/age"),
        ex("country/FR"),
        ex("env/rain"),
        ex("slot/weather"),
    )
    return {
        "types": [
            (s1, RDF.type, NKG.Setting),
            (r1, RDF.type, NKG.Role),
            (r1, NKG.roleIn, s1),
            (a1, RDF.type, NKG.Attribute),
            (a1, NKG.attributeKind, k1),
            (c1, RDF.type, NKG.Country),
            (e1, RDF.type, NKG.EnvironmentCondition),
            (e1, NKG.slot, sl1),
            (ex("other/x"), RDF.type, NKG.Norm),
        ],
        "labels": [
            (s1, SKOS.prefLabel, lit("home", lang="en")),
            (r1, SKOS.prefLabel, lit("guest", lang="en")),
            (a1, SKOS.prefLabel, lit("young", lang="en")),
            (k1, SKOS.prefLabel, lit("age", lang="en")),
            (c1, SKOS.prefLabel, lit("France", lang="en")),
            (c1, SKOS.prefLabel, lit("Frankreich", lang="de")),
            (e1, SKOS.prefLabel, lit("raining", lang="en")),
            (ex("other/x"), SKOS.prefLabel, lit("not vocabulary", lang="en")),
        ],
    }


NAMED_QUERY_CASES = [
    QueryCase(
        "class_counts",
        _class_data(),
        [{"class": ex("A"), "n": lit(2)}, {"class": ex("B"), "n": lit(2)}],
    ),
    QueryCase(
        "class_counts",
        {"a": [typed("n1", NKG.Norm), typed("n2", NKG.Norm), typed("c", NKG.Country)]},
        [{"class": NKG.Country, "n": lit(1)}, {"class": NKG.Norm, "n": lit(2)}],
    ),
    QueryCase(
        "datasets",
        _norm_data(),
        [
            {
                "dataset": DATASET,
                "source": lit("demo"),
                "title": lit("Demo norms"),
                "licenseNote": lit("CC BY 4.0"),
                "license": LICENSE,
                "citation": lit("Doe 2024"),
            },
            {
                "dataset": DATASET2,
                "source": lit("other"),
                "title": lit("Other norms"),
                "licenseNote": lit("see the paper"),
            },
        ],
        ordered=False,
    ),
    QueryCase(
        "frames",
        _frame_data(),
        [
            {"frame": ex("frame/f1"), "property": NKG.country, "value": ex("country/FR")},
            {"frame": ex("frame/f1"), "property": NKG.setting, "value": ex("setting/home")},
            {"frame": ex("frame/f2"), "property": NKG.region, "value": ex("region/EU")},
            {"frame": ex("frame/f2"), "property": NKG.actorRole, "value": ex("role/guest")},
        ],
        ordered=False,
    ),
    QueryCase("norm_detail", _norm_data(), [N1_DETAIL], params={"norm": [N1]}),
    QueryCase(
        "norm_detail",
        _norm_data(),
        [
            N1_DETAIL,
            {"norm": N2, "text": lit("Be kind", lang="en")},
            {"norm": N2, "text": lit("Sois gentil", lang="fr")},
        ],
        params={"norm": [N2, N1, ex("norm/unknown")]},
        ordered=False,
    ),
    QueryCase(
        "norm_detail",
        _two_row_data(),
        [_two_row_detail(ROW_A, 3), _two_row_detail(ROW_B, 4)],
        params={"norm": [N3]},
        ordered=False,
    ),
    QueryCase(
        "norm_detail",
        _two_row_data(),
        [
            {
                "norm": N4,
                "text": lit("Be on time", lang="en"),
                "row": ROW_C,
                "file": lit("pack.yaml"),
                "line": lit(5),
            }
        ],
        params={"norm": [N4]},
    ),
    QueryCase(
        "norm_index",
        _norm_data(),
        [
            {
                "norm": N1,
                "text": lit("It's good to help", lang="en"),
                "frame": FRAME,
                "polarity": lit(1),
                "behavior": BEHAVIOR,
                "source": lit("demo"),
            },
            {"norm": N2, "text": lit("Be kind", lang="en")},
            {"norm": N2, "text": lit("Sois gentil", lang="fr")},
        ],
        ordered=False,
        known_bugs={
            "sparql-virtuoso": "Virtuoso 7.2 drops the principle: `?norm a ?cls . ?cls rdfs:subClassOf* "
            "nkg:Norm` joined with `?norm nkg:text ?text` misses subclasses (each part alone is right)",
        },
    ),
    QueryCase(
        "vocabulary",
        _vocabulary_data(),
        [
            {"term": ex("setting/home"), "class": NKG.Setting, "label": lit("home", lang="en")},
            {
                "term": ex("role/guest"),
                "class": NKG.Role,
                "label": lit("guest", lang="en"),
                "group": ex("setting/home"),
                "groupLabel": lit("home", lang="en"),
            },
            {
                "term": ex("attr/young"),
                "class": NKG.Attribute,
                "label": lit("young", lang="en"),
                "group": ex("kind/age"),
                "groupLabel": lit("age", lang="en"),
            },
            {"term": ex("country/FR"), "class": NKG.Country, "label": lit("France", lang="en")},
            {"term": ex("country/FR"), "class": NKG.Country, "label": lit("Frankreich", lang="de")},
            {
                "term": ex("env/rain"),
                "class": NKG.EnvironmentCondition,
                "label": lit("raining", lang="en"),
                "group": ex("slot/weather"),
            },
        ],
        ordered=False,
    ),
]


def _canonical_rows(rows: list[Row]) -> list[tuple[tuple[str, str], ...]]:
    return sorted(tuple(sorted((key, str(value)) for key, value in row.items())) for row in rows)


def test_every_named_query_has_a_case_and_both_languages() -> None:
    covered = {case.name for case in NAMED_QUERY_CASES}
    assert set(query_names("rq")) <= covered, "add a QueryCase for each new named query"
    assert set(query_names("rq")) == set(query_names("cypher")), "each NAME.rq needs its NAME.cypher"


@pytest.mark.parametrize("case", NAMED_QUERY_CASES, ids=lambda case: case.id)
def test_named_query_returns_the_same_rows_on_every_backend(
    store: GraphStore, case: QueryCase, request: pytest.FixtureRequest
) -> None:
    bug = case.known_bugs.get(request.node.callspec.params["store"])
    if bug:
        request.applymarker(pytest.mark.xfail(reason=bug, strict=True))
    for source, triples in case.sources.items():
        store.replace(source, triples)
    rows = store.query(case.name, case.params or None)
    if case.ordered:
        assert rows == case.expected
    else:
        assert _canonical_rows(rows) == _canonical_rows(case.expected)


# ---- export --------------------------------------------------------------------------------


def _mixed_literals() -> list[Triple]:
    s = ex("lit")
    return [
        typed("lit", ex("Sample")),
        (s, ex("plain"), lit("plain text")),
        (s, ex("quoted"), lit('say "hi"\nand \\ leave')),
        (s, ex("label"), lit("bonjour", lang="fr")),
        (s, ex("label"), lit("hello", lang="en-GB")),
        (s, ex("count"), lit(42)),
        (s, ex("count"), lit(-7)),
        (s, ex("ratio"), lit("0.25", datatype=XSD.decimal)),
        (s, ex("real"), lit(1.5)),
        (s, ex("flag"), lit(True)),
        (s, ex("day"), lit("2024-02-29", datatype=XSD.date)),
        (s, ex("price"), lit("10", datatype=ex("EUR"))),
        (s, ex("looksTagged"), lit("user@example")),
        (s, ex("looksTyped"), lit("1^^xsd__integer")),
        (s, ex("link"), ex("other")),
        (ex("other"), ex("link"), s),
    ]


def _export(store: GraphStore, fmt: ExportFormat, sources: list[str] | None = None) -> tuple[int, bytes]:
    out = io.BytesIO()
    written = store.export(out, fmt, sources)
    return written, out.getvalue()


def _canonical(quads: list[ox.Quad]) -> set[ox.Quad]:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def test_export_nquads_round_trips_every_source(store: GraphStore) -> None:
    blank = ox.BlankNode("b0")
    a = _mixed_literals() + [(ex("lit"), ex("part"), blank), (blank, RDFS.label, lit("inner"))]
    b = [typed("x", ex("Other")), (ex("x"), RDFS.label, lit("x"))]
    store.replace("a", a)
    store.replace("b", b)
    written, data = _export(store, ExportFormat.NQUADS)
    assert written == len(a) + len(b)
    parsed = list(ox.parse(data, ox.RdfFormat.N_QUADS))
    expected = [ox.Quad(s, p, o, source_graph("a")) for s, p, o in a]
    expected += [ox.Quad(s, p, o, source_graph("b")) for s, p, o in b]
    assert _canonical(parsed) == _canonical(expected)


@pytest.mark.parametrize("fmt", [ExportFormat.TURTLE, ExportFormat.NTRIPLES])
def test_export_triples_round_trips_the_chosen_sources(store: GraphStore, fmt: ExportFormat) -> None:
    a = _mixed_literals()
    store.replace("a", a)
    store.replace("b", [typed("x", ex("Other"))])
    written, data = _export(store, fmt, ["a"])
    assert written == len(a)
    rdf_format = ox.RdfFormat.TURTLE if fmt is ExportFormat.TURTLE else ox.RdfFormat.N_TRIPLES
    parsed = {(t.subject, t.predicate, t.object) for t in ox.parse(data, rdf_format)}
    assert parsed == set(a)


# ---- unicode and size ------------------------------------------------------------------------

UNICODE_TEXTS = [
    "規範と価値観",  # CJK
    "家庭 🏠 family 👨‍👩‍👧 emoji with ZWJ",
    "مرحبا بالعالم",  # RTL Arabic
    "שלום עולם",  # RTL Hebrew
    "e\u0301 a\u0308 n\u0303 combining marks",
    "\u202eRTL override\u202c and tab\tand NUL-free controls \u0007",
]


def test_unicode_literals_and_iris_survive_a_round_trip(store: GraphStore) -> None:
    triples: list[Triple] = [(ex(f"u{i}"), RDFS.label, lit(text)) for i, text in enumerate(UNICODE_TEXTS)]
    triples += [(ex(f"u{i}"), RDFS.label, lit(text, lang="und")) for i, text in enumerate(UNICODE_TEXTS)]
    triples.append((ox.NamedNode(EX + "名前/קובץ"), RDF.type, ox.NamedNode(EX + "種類")))
    store.replace("u", triples)
    assert triple_set(store, "u") == set(triples)
    assert store.query("class_counts") == [{"class": ox.NamedNode(EX + "種類"), "n": lit(1)}]
    if store.capabilities.sparql:
        for i, text in enumerate(UNICODE_TEXTS):
            rows = store.select("SELECT ?s WHERE { ?s ?p ?o }", {"o": lit(text)})
            assert rows == [{"s": ex(f"u{i}")}], text


def test_a_one_megabyte_literal_is_stored_whole(store: GraphStore) -> None:
    big = ("normkg ✓ " * 120_000)[:1_000_000]
    triples = [(ex("big"), RDFS.comment, lit(big)), typed("big", ex("Large"))]
    store.replace("big", triples)
    stored = {o for s, p, o in store.triples("big") if p == RDFS.comment}
    assert stored == {lit(big)}
    assert store.count("big") == 2


# ---- injection -------------------------------------------------------------------------------

PAYLOADS = [
    'x" } ; DROP ALL ; SELECT * WHERE { "',
    "x' }) DETACH DELETE n //",
    "} UNION { ?s ?p ?o }",
    'x" . } } INSERT DATA { GRAPH <urn:g> { <urn:s> <urn:p> 1 } } #',
    "# a comment\n} MATCH (n) DETACH DELETE n",
    "line one\nline two\r\n} ; CLEAR ALL",
    "MATCH (n) DETACH DELETE n",
    "$graphs",
    '\\" } \\u0022 }',
]


def test_injection_payloads_in_bound_parameters_are_plain_values(store: GraphStore) -> None:
    norms = [ex(f"p{i}") for i in range(len(PAYLOADS))]
    data: list[Triple] = [(norm, RDF.type, NKG.Norm) for norm in norms]
    data += [(norm, NKG.text, lit(text)) for norm, text in zip(norms, PAYLOADS, strict=True)]
    store.replace("v", data, content_key="k")
    before = (store.sources(), triple_set(store, "v"))
    for norm, text in zip(norms, PAYLOADS, strict=True):
        # bound as a value, the payload matches nothing (a literal is never a norm) and runs nothing
        assert store.query("norm_detail", {"norm": [lit(text)]}) == [], text
        # and stored as a value, it comes back exactly
        assert store.query("norm_detail", {"norm": [norm]}) == [{"norm": norm, "text": lit(text)}], text
    if store.capabilities.sparql:
        for norm, text in zip(norms, PAYLOADS, strict=True):
            assert store.select("SELECT ?s WHERE { ?s ?p ?o }", {"o": lit(text)}) == [{"s": norm}], text
            assert store.ask("ASK WHERE { ?s ?p ?o }", {"o": lit(text)}), text
            constructed = store.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", {"o": lit(text)})
            assert constructed == [(norm, NKG.text, lit(text))]
        with pytest.raises(QueryError):
            store.select("SELECT ?s WHERE { ?s ?p ?o }", {"o } DROP ALL #": lit("x")})
    else:
        with pytest.raises(QueryError):
            store.select("SELECT ?s WHERE { ?s ?p ?o }")
    assert (store.sources(), triple_set(store, "v")) == before


# ---- store URLs --------------------------------------------------------------------------------


def test_the_store_url_names_a_registered_scheme(store: GraphStore) -> None:
    """``store.url`` is what the CLI prints and a user pastes back into ``--store``."""
    assert store.url.split(":", 1)[0] in store_schemes()


# ---- user queries: row limit and a reader another process can open --------------------------


def test_select_and_construct_stop_at_the_limit(store: GraphStore) -> None:
    store.replace("many", [(ex(f"m{i}"), RDFS.label, lit(f"m {i}")) for i in range(30)])
    if not store.capabilities.sparql:
        with pytest.raises(QueryError):
            store.select("SELECT ?s WHERE { ?s ?p ?o }", limit=5)
        return
    everything = store.select("SELECT ?s WHERE { ?s ?p ?o }")
    assert len(everything) == 30
    first = store.select("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s", limit=5)
    assert first == sorted(everything, key=lambda row: row["s"].value)[:5]
    assert len(store.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", limit=7)) == 7
    assert len(store.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", limit=100)) == 30


def test_the_reader_url_opens_the_same_live_data(store: GraphStore) -> None:
    url = store.reader_url()
    if url is None:  # nothing else can open it: only a store held in this process's memory, or no SPARQL
        assert not store.capabilities.persistent or not store.capabilities.sparql
        return
    store.replace("seen", [typed("before", ex("Thing"))])
    settings = Settings.model_validate({})
    reader = open_store(url, settings)
    try:
        assert triple_set(reader, "seen") == {typed("before", ex("Thing"))}
    finally:
        reader.close()
    store.replace("seen", [typed("after", ex("Thing"))])  # written while nothing reads
    reader = open_store(url, settings)
    try:
        assert reader.ask("ASK WHERE { ?s a ?c }", {"s": ex("after")})
        assert not reader.ask("ASK WHERE { ?s a ?c }", {"s": ex("before")})
    finally:
        reader.close()
