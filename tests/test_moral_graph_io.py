"""Reading elicitation data (MGE export, interview JSONL, MGE's demo graph) and the three export formats.

The MGE slice (tests/data/moral-graph/dft-slice) holds every real vote between six canonical cards;
the expected summaries below are counted by hand from its edge.json.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from normkg.api.cli_moral_graph import moral_graph_app
from normkg.errors import InputError
from normkg.kg.open import open_store
from normkg.kg.validate import validate_triples
from normkg.ontology.namespace import NKG, RDF, mint
from normkg.reasoning.moral_graph import EdgeCounts, rank_values
from normkg.reasoning.moral_graph_io import (
    MGE_CANONICAL,
    load_moral_graph,
    mge_json_dict,
    moral_graph_from_mge_json,
    moral_graph_from_triples,
    moral_graph_triples,
    read_interviews,
    read_mge_export,
    write_moral_graph,
)

DATA = Path(__file__).parent / "data"
SLICE = DATA / "moral-graph" / "dft-slice"
EXAMPLE = DATA / "interviews" / "example.jsonl"


def h(*probabilities: float) -> float:
    return -sum(p * math.log2(p) for p in probabilities)


# ---- the MGE export ------------------------------------------------------------------------------


def test_mge_slice_summaries_by_hand() -> None:
    export = read_mge_export(SLICE)
    assert export.report.rejected == []
    data = export.elicitation
    assert len(data.cards) == 6 and len(data.judgments) == 30
    assert all(c.kind == "canonical" and c.source == MGE_CANONICAL for c in data.cards)
    graph = data.build()
    pairs = {(e.source_id, e.wiser_id): e for e in graph.all_edges}
    # 282->331, 14 votes: upgrades by 326 344 670 368 416 422 470 712 742 (9), not sure by 661 381 686
    # 671 (4), no_upgrade by 728 (1); likelihood 9/14; entropy over (9, 1, 4, 14)/28
    e = pairs[(282, 331)]
    assert e.counts == EdgeCounts(9, 1, 0, 4, 14)
    assert e.wiser_likelihood == pytest.approx(9 / 14)
    assert e.entropy == pytest.approx(h(9 / 28, 1 / 28, 4 / 28, 14 / 28))  # 1.599: kept
    # 282->295: upgrades by 253 and 223, not sure by 229: (2, 0, 0, 1, 3), entropy 1.459: kept
    assert pairs[(282, 295)].counts == EdgeCounts(2, 0, 0, 1, 3)
    # 219->288: 3 upgrades, 1 no_upgrade, 2 not sure: (3, 1, 0, 2, 6), likelihood 0.5 but
    # entropy over (3, 1, 2, 6)/12 = 1.7296 > 1.69: dropped
    assert pairs[(219, 288)].counts == EdgeCounts(3, 1, 0, 2, 6)
    assert pairs[(219, 288)].entropy == pytest.approx(h(3 / 12, 1 / 12, 2 / 12, 6 / 12))
    assert pairs[(288, 219)].counts == EdgeCounts(0, 0, 3, 0, 6)
    # 283->288: one upgrade of five votes; 219->283 and 295->331: only "not sure"
    assert [(e.source_id, e.wiser_id) for e in graph.edges] == [(282, 295), (282, 331)]
    assert graph.contexts == ["When seeking clarity"]
    assert set(graph.case_contexts) == {"abortion", "parenting", "weapons"}
    # both sinks are led to from 282 only; 295's edge has the larger likelihood (2/3 > 9/14)
    assert [r.card.id for r in rank_values(graph, case="weapons")] == [295, 331, 282]
    assert graph.demographics["198"]["usPoliticalAffiliation"] == "Democrat"


def test_mge_bad_rows_are_rejected_and_good_rows_kept(tmp_path: Path) -> None:
    folder = tmp_path / "dft-data"
    shutil.copytree(SLICE, folder)
    edges = json.loads((folder / "edge.json").read_text())
    good = dict(edges[0])
    edges += [
        {**good, "userId": 9001, "toId": 999},  # 31: unknown card
        {**good, "userId": 9002, "relationship": "maybe"},  # 32
        {**good, "userId": "9003"},  # 33: id as text
        {**good},  # 34: same user, same pair as record 1
        {**good, "userId": 9005, "contextId": "When bored"},  # 35: unknown context
        {**good, "userId": 9006, "toId": good["fromId"]},  # 36
        [1, 2],  # 37
    ]
    (folder / "edge.json").write_text(json.dumps(edges))
    report = read_mge_export(folder).report
    found = {(r.line, r.field) for r in report.rejected}
    assert found == {
        (31, "toId"),
        (32, "relationship"),
        (33, "userId"),
        (34, "userId"),
        (35, "contextId"),
        (36, "toId"),
        (37, "(record)"),
    }
    reasons = {r.line: str(r) for r in report.rejected}
    assert reasons[31].startswith("edge.json:31: toId: no canonicalValuesCard with id 999")
    assert "already voted" in reasons[34] and "record 1" in reasons[34]
    assert len(read_mge_export(folder).elicitation.judgments) == 30  # the good rows are all kept


def test_mge_export_folder_needs_its_tables(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="has no canonicalValuesCard.json"):
        read_mge_export(tmp_path)
    with pytest.raises(InputError, match="is not a folder"):
        read_mge_export(tmp_path / "missing")


def test_mge_demo_graph_is_summarised_with_threshold_zero() -> None:
    graph, report = load_moral_graph(DATA / "moral-graph" / "mge-app-graph.json")
    assert report.rejected == []
    # 4 upgrades, one vote each: counts (1, 0, 0, 0, 1), likelihood 1, entropy over (1, 1)/2 = 1 bit
    assert len(graph.edges) == 4
    assert all(e.counts == EdgeCounts(1, 0, 0, 0, 1) and e.entropy == pytest.approx(1.0) for e in graph.edges)
    assert set(graph.case_contexts) == {"1", "4"}


# ---- interview files -----------------------------------------------------------------------------


def test_example_interview_file() -> None:
    data = read_interviews(EXAMPLE, "example")
    assert data.report.rejected == [] and data.report.records_read == 13
    assert {c.id for c in data.cards} == {"rules", "curiosity", "connection", "self-direction"}
    assert len(data.judgments) == 13
    assert {c.id: c.cases for c in data.contexts} == {
        "When a child refuses to do homework": ("homework",),
        "When a teenager breaks curfew": ("curfew",),
    }
    graph = data.build()
    # the same votes as test_moral_graph.example_votes: three kept edges, wisest is self-direction
    assert {(e.source_id, e.wiser_id) for e in graph.edges} == {
        ("rules", "curiosity"),
        ("curiosity", "self-direction"),
        ("rules", "connection"),
    }
    assert rank_values(graph)[0].card.title == "Supporting Self-Direction"
    assert graph.demographics["p06"] == {"usPoliticalAffiliation": "Independent"}


BAD_LINES = [
    # 1: good, defines a and b
    {
        "participant": "p1",
        "context": "ctx",
        "from": {"id": "a", "title": "A", "policies": ["X"]},
        "to": {"id": "b", "title": "B"},
        "judgment": "wiser",
        "demographics": {"party": "Dem"},
    },
    "{not json",  # 2
    {"context": "ctx", "from": "a", "to": "b", "judgment": "wiser"},  # 3: no participant
    {"participant": "p2", "context": "ctx", "from": "a", "to": "b", "judgment": "better"},  # 4
    {"participant": "p2", "context": "ctx", "from": "a", "to": "b", "judgement": "wiser"},  # 5: typo
    # 6: card zzz is never defined
    {"participant": "p2", "context": "ctx", "from": "a", "to": "zzz", "judgment": "wiser"},
    # 7: card a written differently
    {
        "participant": "p2",
        "context": "ctx",
        "from": {"id": "a", "title": "Another A"},
        "to": "b",
        "judgment": "wiser",
    },
    {"participant": "p2", "context": "ctx", "from": "a", "to": "a", "judgment": "wiser"},  # 8
    {"participant": "p1", "context": "ctx", "from": "a", "to": "b", "judgment": "unsure"},  # 9: p1 again
    # 10: p1 said Dem on line 1
    {
        "participant": "p1",
        "context": "ctx",
        "from": "b",
        "to": "a",
        "judgment": "unsure",
        "demographics": {"party": "Rep"},
    },
    {"participant": "p3", "from": "a", "to": "b", "judgment": "wiser"},  # 11: no context, no case
    # 12: good, uses the case as its context
    {"participant": "p3", "case": "homework", "from": "b", "to": "a", "judgment": "not_wiser"},
    {"participant": "p4", "context": "ctx", "from": "a", "to": "b", "judgment": "no_upgrade"},  # 13: good
]


def test_bad_interview_records_are_rejected_with_reasons(tmp_path: Path) -> None:
    path = tmp_path / "interviews.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in BAD_LINES) + "\n")
    data = read_interviews(path, "t")
    found = {(r.line, r.field) for r in data.report.rejected}
    assert found == {
        (2, "(record)"),
        (3, "participant"),
        (4, "judgment"),
        (5, "judgment"),
        (6, "to"),
        (7, "from.title"),
        (8, "to"),
        (9, "participant"),
        (10, "demographics.party"),
        (11, "context"),
    }
    reasons = {r.line: r.reason for r in data.report.rejected}
    assert "never written out" in reasons[6]
    assert reasons[5] == "Field required; also judgement: Extra inputs are not permitted"
    assert "line 1" in reasons[7] and "line 1" in reasons[9] and "'Dem'" in reasons[10]
    assert all(r.file == "interviews.jsonl" for r in data.report.rejected)
    kept = [(j.participant, j.from_id, j.to_id, j.context, j.relationship) for j in data.judgments]
    assert kept == [
        ("p1", "a", "b", "ctx", "upgrade"),
        ("p3", "b", "a", "homework", "no_upgrade"),
        ("p4", "a", "b", "ctx", "no_upgrade"),
    ]
    assert data.report.accepted == 3


# ---- export formats ------------------------------------------------------------------------------


def test_mge_json_round_trips_through_the_store() -> None:
    graph = read_mge_export(SLICE).elicitation.build()
    exported = mge_json_dict(graph)
    assert set(exported["edges"][0]) == {"sourceValueId", "wiserValueId", "contexts", "counts", "summary"}
    assert set(exported["edges"][0]["counts"]) == {
        "markedWiser",
        "markedNotWiser",
        "markedLessWise",
        "markedUnsure",
        "impressions",
    }
    from_json = moral_graph_from_mge_json(json.loads(json.dumps(exported)))
    triples = moral_graph_triples(from_json, "mg-test")
    store = open_store("oxigraph:memory")
    store.replace("mg-test", triples)
    back = moral_graph_from_triples(list(store.triples("mg-test")))
    assert mge_json_dict(back) == exported
    store.close()


def test_rdf_uses_the_ontology_and_the_loader_iris() -> None:
    graph = read_mge_export(SLICE).elicitation.build()
    triples = set(moral_graph_triples(graph, "slice"))
    edge = mint("wiser-than", "slice", 282, 331)
    assert (edge, RDF.type, NKG.WiserThan) in triples
    assert (edge, NKG.fromCard, mint("card", "mge-canonical", 282)) in triples
    assert (edge, NKG.context, mint("context", "mge", "When seeking clarity")) in triples
    assert (edge, NKG.inMoralGraph, mint("moral-graph", "slice")) in triples
    assert validate_triples("moral-graph-slice", list(triples)).violations == []


def test_policy_order_survives_rdf() -> None:
    graph = read_interviews(EXAMPLE, "example").build()
    back = moral_graph_from_triples(moral_graph_triples(graph, "example"))
    assert [c.policies for c in back.values] == [c.policies for c in graph.values]
    assert back.values[0].source is None  # minted under the graph: mint("card", "example", id)


@pytest.mark.parametrize("fmt,suffix", [("mge-json", ".json"), ("graphml", ".graphml"), ("ttl", ".ttl")])
def test_each_format_reads_back_the_same_graph(tmp_path: Path, fmt: str, suffix: str) -> None:
    graph = read_interviews(EXAMPLE, "example").build()
    path = tmp_path / f"graph{suffix}"
    write_moral_graph(graph, path, fmt, "example")
    back, _ = load_moral_graph(path)
    assert mge_json_dict(back) == mge_json_dict(graph)


# ---- the CLI -------------------------------------------------------------------------------------


def test_cli_build_rank_and_bad_input(tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "160"})
    out = tmp_path / "slice.ttl"
    result = runner.invoke(moral_graph_app, ["build", "--input", str(SLICE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "edges kept" in result.output and out.stat().st_size > 0
    result = runner.invoke(moral_graph_app, ["rank", "--input", str(EXAMPLE), "--top", "1"])
    assert result.exit_code == 0 and "Supporting Self-Direction" in result.output
    # merging every card into one (threshold near 0) leaves no edge: all votes become self-pairs
    merged = tmp_path / "merged.json"
    args = ["build", "--input", str(EXAMPLE), "--out", str(merged), "--dedup-threshold", "0.01"]
    result = runner.invoke(moral_graph_app, args)
    assert result.exit_code == 0, result.output
    assert "merged 3 cards into 1" in result.output and json.loads(merged.read_text())["edges"] == []
    result = runner.invoke(moral_graph_app, ["rank", "--input", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(moral_graph_app, ["rank", "--input", str(EXAMPLE), "--context", "When bored"])
    assert result.exit_code == 2 and "unknown context" in result.output
