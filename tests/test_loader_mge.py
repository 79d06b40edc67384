"""The MGE raw-table loader on a real slice (tests/data/moral-graph-elicitation/dft-data).

The slice keeps 2 contexts, all 3 cases, the canonical cards that their edges and edge hypotheses
name, a sample of the votes and impressions on those cards, 8 elicited cards with their
deduplications (and the deduplicated cards and verifications these reach) and a few demographics,
each file a subset of the upstream file with its rows in upstream order. Expected values are read
here from the slice JSON and from the run's Prisma schema (edge.relationship is upgrade / no_upgrade
/ not_sure; edges, votes and impressions point at canonical cards), never from the loader's output.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from normkg.errors import SourceError
from normkg.ingest.base import LoadResult
from normkg.ingest.loaders.mge import (
    DEDUP_OPTIONS,
    RELATIONSHIPS,
    MgeLoader,
    card_node,
    case_node,
    context_node,
    participant_node,
)
from normkg.kg.open import open_store
from normkg.kg.store import GraphStore
from normkg.kg.terms import Row, Term
from normkg.kg.validate import validate_triples
from normkg.ontology.namespace import DCTERMS, NKG, RDF, SKOS, XSD, ontology_graph

SLICE = Path(__file__).parent / "data" / "moral-graph-elicitation"
TABLES = (
    "case", "context", "contextsOnCases", "canonicalValuesCard", "deduplicatedCard", "valuesCard",
    "deduplication", "deduplicationVerification", "graphPositionVerification", "edgeHypothesis", "edge",
    "vote", "impression", "demographic",
)  # fmt: skip
USER_TABLES = (
    "edge",
    "vote",
    "impression",
    "deduplicationVerification",
    "graphPositionVerification",
    "demographic",
)
EXPECTED_RELATIONSHIP = {"upgrade": NKG.Upgrade, "no_upgrade": NKG.NoUpgrade, "not_sure": NKG.NotSure}

EDGE_QUERY = """
SELECT ?vote ?rel ?ctx ?story ?comment ?run ?created ?row ?file ?line WHERE {
  ?vote a nkg:WiserThanVote ; nkg:participant ?user ; nkg:fromCard ?from ; nkg:toCard ?to ;
        nkg:context ?ctx ; nkg:relationship ?rel ; nkg:story ?story ; nkg:runId ?run ;
        nkg:createdAt ?created ; prov:wasDerivedFrom ?row .
  OPTIONAL { ?vote nkg:comment ?comment }
  ?row a nkg:SourceRow ; nkg:sourceFile ?file ; nkg:sourceLine ?line ; nkg:inDataset ?dataset .
}
"""


def table(name: str, folder: Path = SLICE) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        (folder / "dft-data" / f"{name}.json").read_text(encoding="utf-8")
    )
    return rows


@pytest.fixture(scope="module")
def result() -> LoadResult:
    return MgeLoader(SLICE).run()


@pytest.fixture(scope="module")
def store(result: LoadResult) -> GraphStore:
    s = open_store("oxigraph:memory")
    s.replace("moral-graph-elicitation", result.triples)
    return s


def one(rows: list[Row]) -> Row:
    assert len(rows) == 1, rows
    return rows[0]


def objects(store: GraphStore, subject: ox.NamedNode, prop: ox.NamedNode) -> set[Term]:
    return {r["o"] for r in store.select("SELECT ?o WHERE { ?s ?p ?o }", {"s": subject, "p": prop})}


def values(store: GraphStore, subject: ox.NamedNode, prop: ox.NamedNode) -> set[str]:
    return {term.value for term in objects(store, subject, prop)}


def count(store: GraphStore, cls: ox.NamedNode) -> int:
    row = one(store.select("SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?cls }", {"cls": cls}))
    return int(row["n"].value)


def same_instant(term: Term, written: str) -> bool:
    """An xsd:dateTime for the moment written (the store may drop trailing zeros of the fraction)."""
    assert isinstance(term, ox.Literal) and term.datatype == XSD.dateTime, term
    return datetime.fromisoformat(term.value) == datetime.fromisoformat(written)


def copy_slice(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SLICE, tmp_path / "mge"))


def write(folder: Path, name: str, data: object) -> None:
    (folder / "dft-data" / f"{name}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")


def test_every_row_is_read_and_none_rejected(result: LoadResult) -> None:
    # cases.json repeats case.json byte for byte, so it is not read a second time
    assert (SLICE / "dft-data" / "cases.json").read_bytes() == (SLICE / "dft-data" / "case.json").read_bytes()
    assert result.rows_read == sum(len(table(name)) for name in TABLES)
    assert result.issues == []


def test_counts_per_class(store: GraphStore) -> None:
    kinds = {
        NKG.ElicitedCard: "valuesCard",
        NKG.DeduplicatedCard: "deduplicatedCard",
        NKG.CanonicalCard: "canonicalValuesCard",
    }
    for kind, name in kinds.items():
        query = "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a nkg:ValuesCard ; nkg:cardKind ?k }"
        assert int(one(store.select(query, {"k": kind}))["n"].value) == len(table(name)), name
    assert count(store, NKG.ValuesCard) == sum(len(table(name)) for name in kinds.values())
    assert count(store, NKG.WiserThanVote) == len(table("edge"))
    assert count(store, NKG.EdgeHypothesis) == len(table("edgeHypothesis"))
    assert count(store, NKG.CardVote) == len(table("vote"))
    assert count(store, NKG.Impression) == len(table("impression"))
    assert count(store, NKG.DeduplicationVerification) == len(table("deduplicationVerification"))
    assert count(store, NKG.GraphPositionVerification) == len(table("graphPositionVerification"))
    assert count(store, NKG.Context) == len(table("context"))
    assert count(store, NKG.Case) == len(table("case")) == 3
    users = {row["userId"] for name in USER_TABLES for row in table(name)}
    assert count(store, NKG.Participant) == len(users)
    assert all(NKG.Participant in objects(store, participant_node(user), RDF.type) for user in users)


def test_one_edge_its_cards_context_relationship_participant_and_row(store: GraphStore) -> None:
    edges = table("edge")
    position, edge = next(
        (i, e) for i, e in enumerate(edges, start=1) if e["relationship"] == "not_sure" and e["comment"]
    )
    row = one(
        store.select(
            EDGE_QUERY,
            {
                "user": participant_node(edge["userId"]),
                "from": card_node("canonical", edge["fromId"]),
                "to": card_node("canonical", edge["toId"]),
                "dataset": MgeLoader(SLICE).dataset_node,
            },
        )
    )
    assert row["rel"] == NKG.NotSure
    assert row["ctx"] == context_node(edge["contextId"])
    assert row["story"].value == edge["story"].strip()
    assert row["comment"].value == edge["comment"].strip()
    assert row["run"].value == edge["runId"]
    assert same_instant(row["created"], edge["createdAt"])
    assert row["file"].value == "dft-data/edge.json"
    assert int(row["line"].value) == position
    # the cards and the context it names are the ones their own tables declare
    assert NKG.CanonicalCard in objects(store, card_node("canonical", edge["fromId"]), NKG.cardKind)
    assert edge["contextId"] in values(store, context_node(edge["contextId"]), SKOS.prefLabel)


def test_every_edge_keeps_its_relationship(store: GraphStore) -> None:
    for edge in table("edge"):
        rows = store.select(
            "SELECT ?rel WHERE { ?v nkg:participant ?u ; nkg:fromCard ?f ; nkg:toCard ?t ;"
            " nkg:relationship ?rel }",
            {
                "u": participant_node(edge["userId"]),
                "f": card_node("canonical", edge["fromId"]),
                "t": card_node("canonical", edge["toId"]),
            },
        )
        assert one(rows)["rel"] == EXPECTED_RELATIONSHIP[edge["relationship"]]


def test_cards_carry_their_text_and_links(store: GraphStore) -> None:
    for card in table("valuesCard"):
        node = card_node("elicited", card["id"])
        assert values(store, node, DCTERMS.title) == {card["title"]}
        assert values(store, node, NKG.instructionsShort) == {card["instructionsShort"]}
        assert values(store, node, NKG.attentionalPolicy) == set(card["evaluationCriteria"])
        assert values(store, node, NKG.cardQuality) == {card["quality"]}
        canonical = {card_node("canonical", card["canonicalCardId"])} if card["canonicalCardId"] else set()
        assert objects(store, node, NKG.canonicalAs) == canonical
        dedups = {card_node("deduplicated", d["deduplicatedCardId"]) for d in table("deduplication")
                  if d["valuesCardId"] == card["id"]}  # fmt: skip
        assert objects(store, node, NKG.deduplicatedAs) == dedups
    for card in table("deduplicatedCard"):
        node = card_node("deduplicated", card["id"])
        assert values(store, node, NKG.generation) == {str(card["generation"])}
        (created,) = objects(store, node, NKG.createdAt)
        assert same_instant(created, card["createdAt"])


def test_card_tables_have_separate_id_spaces() -> None:
    # ids of valuesCard and canonicalValuesCard overlap in the real data (1..700 and 165..399)
    assert len({card_node("elicited", 200), card_node("deduplicated", 200), card_node("canonical", 200)}) == 3


def test_contexts_belong_to_their_cases(store: GraphStore) -> None:
    for context in table("context"):
        expected = {
            case_node(r["caseId"]) for r in table("contextsOnCases") if r["contextId"] == context["id"]
        }
        assert objects(store, context_node(context["id"]), NKG.inCase) == expected
    for case in table("case"):
        assert values(store, case_node(case["id"]), NKG.question) == {case["question"]}
        assert values(store, case_node(case["id"]), DCTERMS.title) == {case["title"]}


def test_votes_and_impressions(store: GraphStore) -> None:
    for name, cls in (("vote", NKG.CardVote), ("impression", NKG.Impression)):
        for event in table(name):
            row = one(
                store.select(
                    "SELECT ?e ?draw ?t WHERE { ?e a ?cls ; nkg:participant ?u ; nkg:card ?c ;"
                    " nkg:inCase ?case ; nkg:drawId ?draw ; nkg:createdAt ?t ;"
                    " prov:wasDerivedFrom/nkg:sourceId ?id }",
                    {
                        "cls": cls,
                        "u": participant_node(event["userId"]),
                        "c": card_node("canonical", event["valuesCardId"]),
                        "case": case_node(event["caseId"]),
                        "id": ox.Literal(str(event["id"])),
                    },
                )
            )
            assert row["draw"].value == event["drawId"]
            assert same_instant(row["t"], event["createdAt"])


def test_verifications(store: GraphStore) -> None:
    options = {"same": NKG.DedupSame, "different": NKG.DedupDifferent, "unsure": NKG.DedupUnsure}
    for check in table("deduplicationVerification"):
        row = one(
            store.select(
                "SELECT ?o WHERE { ?v a nkg:DeduplicationVerification ; nkg:participant ?u ; nkg:card ?c ;"
                " nkg:deduplicatedCard ?d ; nkg:verificationOption ?o }",
                {
                    "u": participant_node(check["userId"]),
                    "c": card_node("elicited", check["valuesCardId"]),
                    "d": card_node("deduplicated", check["deduplicatedCardId"]),
                },
            )
        )
        assert row["o"] == options[check["option"]]
    for check in table("graphPositionVerification"):
        row = one(
            store.select(
                "SELECT ?s WHERE { ?v a nkg:GraphPositionVerification ; nkg:participant ?u ;"
                " nkg:deduplicatedCard ?d ; nkg:satisfiedWithPosition ?s }",
                {
                    "u": participant_node(check["userId"]),
                    "d": card_node("deduplicated", check["deduplicatedCardId"]),
                },
            )
        )
        assert row["s"] == ox.Literal(check["isSatisfiedWithPosition"])


def test_demographics_become_participant_properties(store: GraphStore) -> None:
    columns = {
        "usPoliticalAffiliation": NKG.politicalAffiliation,
        "sex": NKG.sex,
        "ethnicitySimplified": NKG.ethnicity,
        "countryOfResidence": NKG.countryOfResidence,
        "studentStatus": NKG.studentStatus,
        "employmentStatus": NKG.employmentStatus,
        "language": NKG.primaryLanguage,
    }
    expired = 0
    for demo in table("demographic"):
        user = participant_node(demo["userId"])
        assert values(store, user, NKG.ageYears) == {str(demo["age"])}
        assert values(store, user, NKG.fluentLanguage) == set(demo["fluentLanguages"])
        for column, prop in columns.items():
            # Prolific's DATA_EXPIRED marks a value it no longer holds: no value, not a value
            expected = set() if demo[column] == "DATA_EXPIRED" else {demo[column]}
            expired += demo[column] == "DATA_EXPIRED"
            assert values(store, user, prop) == expected, (demo["userId"], column)
    assert expired > 0  # the slice does exercise the placeholder


def test_closed_lists_match_the_ontology_notations() -> None:
    graph = ontology_graph()
    notation = rdflib.URIRef(SKOS.notation.value)
    for mapping in (RELATIONSHIPS, DEDUP_OPTIONS):
        for value, concept in mapping.items():
            assert str(graph.value(rdflib.URIRef(concept.value), notation)) == value
    assert RELATIONSHIPS == EXPECTED_RELATIONSHIP


def test_malformed_input_is_reported_and_good_rows_kept(tmp_path: Path) -> None:
    folder = copy_slice(tmp_path)
    demographics = table("demographic")
    write(folder, "demographic", {"rows": demographics})  # not an array
    votes: list[Any] = table("vote")
    votes[1] = "not an object"
    write(folder, "vote", votes)
    edges = table("edge")
    edges[2]["relationship"] = "sideways"
    edges[4]["toId"] = 999999  # no such canonical card
    del edges[6]["contextId"]
    edges[7]["createdAt"] = "yesterday"
    write(folder, "edge", edges)
    impressions = table("impression")
    del impressions[0]["valuesCardId"]
    write(folder, "impression", impressions)

    result = MgeLoader(folder).run()
    issues = {(i.file, i.line): i.reason for i in result.issues}
    assert set(issues) == {
        ("dft-data/demographic.json", 1),
        ("dft-data/vote.json", 2),
        ("dft-data/edge.json", 3),
        ("dft-data/edge.json", 5),
        ("dft-data/edge.json", 7),
        ("dft-data/edge.json", 8),
        ("dft-data/impression.json", 1),
    }
    assert "expected a JSON array" in issues[("dft-data/demographic.json", 1)]
    assert "expected a JSON object" in issues[("dft-data/vote.json", 2)]
    assert "'sideways'" in issues[("dft-data/edge.json", 3)]
    assert (
        "999999" in issues[("dft-data/edge.json", 5)]
        and "canonicalValuesCard" in issues[("dft-data/edge.json", 5)]
    )
    assert "missing 'contextId'" in issues[("dft-data/edge.json", 7)]
    assert "'yesterday'" in issues[("dft-data/edge.json", 8)]
    assert "missing 'valuesCardId'" in issues[("dft-data/impression.json", 1)]

    s = open_store("oxigraph:memory")
    s.replace("moral-graph-elicitation", result.triples)
    assert count(s, NKG.WiserThanVote) == len(edges) - 4
    assert count(s, NKG.CardVote) == len(votes) - 1
    assert count(s, NKG.Impression) == len(impressions) - 1
    assert count(s, NKG.ValuesCard) == sum(
        len(table(n)) for n in ("valuesCard", "deduplicatedCard", "canonicalValuesCard")
    )
    # a rejected row leaves nothing behind: no node for the dangling card, no demographic facts
    assert not s.ask("ASK WHERE { ?s ?p ?o }", {"s": card_node("canonical", 999999)})
    assert not s.ask("ASK { ?p nkg:ageYears ?age }")


def test_reference_to_a_rejected_card_is_dangling(tmp_path: Path) -> None:
    folder = copy_slice(tmp_path)
    cards = table("canonicalValuesCard")
    # a card no elicited card of the slice points at, so that only direct references dangle
    position, missing = next(
        (i, c["id"]) for i, c in enumerate(cards, start=1)
        if c["id"] not in {v["canonicalCardId"] for v in table("valuesCard")}
    )  # fmt: skip
    del cards[position - 1]["title"]
    write(folder, "canonicalValuesCard", cards)
    result = MgeLoader(folder).run()
    naming = [i for i in result.issues if i.file != "dft-data/canonicalValuesCard.json"]
    referring = {"edge": ("fromId", "toId"), "edgeHypothesis": ("fromId", "toId"), "vote": ("valuesCardId",),
                 "impression": ("valuesCardId",)}  # fmt: skip
    expected = sum(
        any(r.get(c) == missing for c in cols) for name, cols in referring.items() for r in table(name)
    )
    assert expected > 0
    assert len(naming) == expected
    assert all(str(missing) in i.reason and "canonicalValuesCard.json" in i.reason for i in naming)
    rejected = [(i.file, i.line) for i in result.issues if i not in naming]
    assert rejected == [("dft-data/canonicalValuesCard.json", position)]


def test_duplicate_primary_key_is_rejected(tmp_path: Path) -> None:
    folder = copy_slice(tmp_path)
    votes = table("vote")
    write(folder, "vote", [*votes, votes[0]])
    result = MgeLoader(folder).run()
    assert [(i.file, i.line) for i in result.issues] == [("dft-data/vote.json", len(votes) + 1)]
    assert "record 1" in result.issues[0].reason


def test_old_placeholders_are_left_out(tmp_path: Path) -> None:
    folder = copy_slice(tmp_path)
    edges = table("edge")
    edges[0]["story"] = edges[0]["runId"] = "OLD"  # the schema's default for edges older than stories
    write(folder, "edge", edges)
    s = open_store("oxigraph:memory")
    s.replace("moral-graph-elicitation", MgeLoader(folder).run().triples)
    bindings = {"u": participant_node(edges[0]["userId"]), "f": card_node("canonical", edges[0]["fromId"])}
    vote = one(s.select("SELECT ?v WHERE { ?v nkg:participant ?u ; nkg:fromCard ?f }", bindings))["v"]
    assert isinstance(vote, ox.NamedNode)
    assert objects(s, vote, NKG.story) == set() and objects(s, vote, NKG.runId) == set()
    assert objects(s, vote, NKG.relationship) == {EXPECTED_RELATIONSHIP[edges[0]["relationship"]]}


def test_cases_json_that_differs_from_case_json_is_reported(tmp_path: Path) -> None:
    folder = copy_slice(tmp_path)
    write(folder, "cases", table("case")[:2])
    result = MgeLoader(folder).run()
    assert [(i.file, i.line) for i in result.issues] == [("dft-data/cases.json", 1)]
    # reformatting alone is not a difference
    write(folder, "cases", table("case"))
    assert MgeLoader(folder).run().issues == []


def test_missing_table_is_a_source_error(tmp_path: Path) -> None:
    folder = copy_slice(tmp_path)
    (folder / "dft-data" / "edge.json").unlink()
    with pytest.raises(SourceError, match="edge.json"):
        MgeLoader(folder).run()


def test_two_runs_give_identical_triples(result: LoadResult) -> None:
    assert MgeLoader(SLICE).run().triples == result.triples


def test_dataset_states_no_license_iri(store: GraphStore) -> None:
    row = one(
        store.select(
            "SELECT ?note ?cite WHERE { ?d a nkg:Dataset ; nkg:licenseNote ?note ; nkg:citation ?cite }"
        )
    )
    assert "none stated upstream" in row["note"].value
    assert "arXiv:2404.10636" in row["cite"].value
    assert not store.ask("ASK { ?d a nkg:Dataset ; dcterms:license ?l }")


def test_slice_conforms_to_the_shapes(result: LoadResult) -> None:
    assert validate_triples("moral-graph-elicitation", result.triples).violations == []
