"""MGE's moral-graph method: counts, summaries, the edge rule, ranking, slices, dedup and drawing.

Expected numbers are worked out by hand in the comments (MGE's formulas, values-tools moral-graph.ts),
never copied from the code's output.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from normkg.errors import InputError
from normkg.reasoning.encoder import Encoder
from normkg.reasoning.moral_graph import (
    Context,
    Demographic,
    DemographicSlice,
    EdgeCounts,
    EdgeSummary,
    Judgment,
    Relationship,
    ValuesCard,
    build_moral_graph,
    entropy,
    keeps_edge,
    rank_by_demographic,
    rank_values,
    summarize_pairs,
    wiser_likelihood,
)
from normkg.reasoning.moral_graph_dedup import (
    card_text,
    embed_cards,
    pairwise_score,
    propose_merges,
)
from normkg.reasoning.moral_graph_plot import layers, plot_moral_graph


def card(card_id: int | str, title: str | None = None) -> ValuesCard:
    return ValuesCard(card_id, title or f"card {card_id}", policies=(f"POLICY of {card_id}",))


def vote(who: str, a: int | str, b: int | str, rel: Relationship = "upgrade", ctx: str = "c1") -> Judgment:
    return Judgment(who, a, b, ctx, rel)


def edges_by_pair(
    edges: list[EdgeSummary] | tuple[EdgeSummary, ...],
) -> dict[tuple[object, object], EdgeSummary]:
    return {(e.source_id, e.wiser_id): e for e in edges}


# ---- counts and summaries ------------------------------------------------------------------------


def test_counts_both_directions_by_hand() -> None:
    votes = [
        vote("u1", 1, 2, "upgrade"),
        vote("u2", 1, 2, "upgrade"),
        vote("u3", 1, 2, "no_upgrade"),
        vote("u4", 1, 2, "not_sure", ctx="c2"),
        vote("u5", 2, 1, "upgrade"),
        vote("u6", 2, 1, "no_upgrade"),
    ]
    pairs = edges_by_pair(summarize_pairs(votes))
    # (1, 2): forward votes u1..u4 -> wiser 2, not wiser 1, unsure 1; the reverse votes u5, u6 add
    # one "less wise" (u5's upgrade 2->1) and two impressions: impressions = 4 + 2 = 6.
    assert pairs[(1, 2)].counts == EdgeCounts(2, 1, 1, 1, 6)
    assert pairs[(1, 2)].contexts == ("c1", "c2")
    # wiserLikelihood = (2 - 1) / (2 + 1 + 1 + 1) = 1/5
    assert pairs[(1, 2)].wiser_likelihood == pytest.approx(0.2)
    # entropy of (2, 1, 1, 1, 6), total 11: -(2/11 log2 2/11 + 3 * 1/11 log2 1/11 + 6/11 log2 6/11)
    h = -(2 / 11 * math.log2(2 / 11) + 3 * (1 / 11) * math.log2(1 / 11) + 6 / 11 * math.log2(6 / 11))
    assert pairs[(1, 2)].entropy == pytest.approx(h)
    # (2, 1): forward u5 upgrade, u6 no_upgrade -> wiser 1, not wiser 1; reverse: u1, u2 upgrades
    # are "less wise" 2; impressions 2 + 4 = 6; likelihood (1 - 2) / (1 + 1 + 0 + 2) = -1/4.
    assert pairs[(2, 1)].counts == EdgeCounts(1, 1, 2, 0, 6)
    assert pairs[(2, 1)].wiser_likelihood == pytest.approx(-0.25)


def test_entropy_counts_impressions_as_mge_does() -> None:
    # MGE's dft export has counts 3/0/0/1/4 with entropy 1.4056390622295665: over (3, 1, 4), total 8,
    # -(3/8 log2 3/8 + 1/8 log2 1/8 + 1/2 log2 1/2) = 0.530639 + 0.375 + 0.5
    assert entropy(EdgeCounts(3, 0, 0, 1, 4)) == pytest.approx(0.5306390622295665 + 0.375 + 0.5)
    assert entropy(EdgeCounts()) == 0.0
    # nothing answered (only reverse no_upgrade/not_sure votes): MGE's 0/0, reported as 0.0
    assert wiser_likelihood(EdgeCounts(0, 0, 0, 0, 3)) == 0.0


def summary(wiser: int, likelihood: float, ent: float) -> EdgeSummary:
    return EdgeSummary(1, 2, ("c",), EdgeCounts(wiser, 0, 0, 0, wiser), likelihood, ent)


def test_edge_rule_at_its_boundaries() -> None:
    assert keeps_edge(summary(2, 0.33, 1.69))  # both limits are inclusive
    assert not keeps_edge(summary(2, 0.3299, 1.0))
    assert not keeps_edge(summary(2, 0.9, 1.6901))
    assert not keeps_edge(summary(1, 1.0, 1.0))  # fewer than 2 wiser votes
    assert keeps_edge(summary(1, 1.0, 1.0), min_marked_wiser=1)
    # no wiser vote at all is never kept, whatever the threshold
    assert not keeps_edge(summary(0, 1.0, 0.0), min_marked_wiser=0)


def test_edge_rule_on_votes_near_the_entropy_limit() -> None:
    cards = [card(1), card(2)]
    # 3 upgrades, 1 not sure, 1 reverse upgrade: counts (3, 0, 1, 1, 5), likelihood (3 - 1) / 5 = 0.4,
    # entropy over (3, 1, 1, 5)/10 = 0.3 log2(10/3) + 2 * 0.1 log2 10 + 0.5 = 1.6855 <= 1.69: kept
    base = [vote("a", 1, 2), vote("b", 1, 2), vote("c", 1, 2), vote("d", 1, 2, "not_sure"), vote("e", 2, 1)]
    graph = build_moral_graph(cards, base)
    assert [(e.source_id, e.wiser_id) for e in graph.edges] == [(1, 2)]
    assert graph.edges[0].entropy == pytest.approx(0.3 * math.log2(10 / 3) + 0.2 * math.log2(10) + 0.5)
    # one more "not sure": counts (3, 0, 1, 2, 6), entropy over (3, 1, 2, 6)/12
    # = 0.25*2 + (1/12) log2 12 + (1/6) log2 6 + 0.5 = 1.7296 > 1.69: dropped
    assert build_moral_graph(cards, [*base, vote("f", 1, 2, "not_sure")]).edges == ()


# ---- the graph -----------------------------------------------------------------------------------


def test_unknown_card_in_votes_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no values card"):
        build_moral_graph([card(1)], [vote("a", 1, 99)])


def test_card_map_merges_duplicates_like_mge() -> None:
    cards = [card(1), card(2), card(3)]
    votes = [vote("a", 1, 2), vote("b", 3, 2), vote("c", 1, 3)]
    graph = build_moral_graph(cards, votes, card_map={3: 1})
    # card 3 merges into 1: b's vote becomes 1->2 (two wiser votes now), c's 1->3 becomes 1->1 and is dropped
    assert set(graph.cards) == {1, 2}
    assert len(graph.judgments) == 2
    assert edges_by_pair(graph.edges)[(1, 2)].counts == EdgeCounts(2, 0, 0, 0, 2)


def example_votes() -> list[Judgment]:
    """The votes of tests/data/interviews/example.jsonl (ids shortened)."""
    h, c = "homework", "curfew"
    return [
        vote("p01", "rules", "cur", "upgrade", h),
        vote("p02", "rules", "cur", "upgrade", h),
        vote("p03", "rules", "cur", "upgrade", h),
        vote("p04", "rules", "cur", "not_sure", h),
        vote("p05", "cur", "rules", "upgrade", h),
        vote("p01", "cur", "self", "upgrade", h),
        vote("p02", "cur", "self", "upgrade", h),
        vote("p03", "cur", "self", "no_upgrade", h),
        vote("p04", "rules", "conn", "upgrade", c),
        vote("p05", "rules", "conn", "upgrade", c),
        vote("p06", "rules", "conn", "upgrade", c),
        vote("p06", "conn", "self", "not_sure", c),
        vote("p01", "rules", "conn", "no_upgrade", c),
    ]


EXAMPLE_CARDS = [card("rules"), card("cur"), card("self"), card("conn")]


def test_kept_edges_of_the_example_by_hand() -> None:
    graph = build_moral_graph(EXAMPLE_CARDS, example_votes(), contexts=[Context("homework", ("hw",))])
    kept = edges_by_pair(graph.edges)
    # rules->cur: (3, 0, 1, 1, 5), likelihood 0.4, entropy 1.6855: kept
    # cur->self: (2, 1, 0, 0, 3), likelihood 2/3, entropy over (2, 1, 3)/6 = 1.4591: kept
    # rules->conn: (3, 1, 0, 0, 4), likelihood 3/4, entropy over (3, 1, 4)/8 = 1.4056: kept
    # cur->rules: likelihood (1 - 3) / 4 < 0; conn->self: no wiser vote
    assert set(kept) == {("rules", "cur"), ("cur", "self"), ("rules", "conn")}
    assert kept[("cur", "self")].wiser_likelihood == pytest.approx(2 / 3)
    assert kept[("rules", "conn")].counts == EdgeCounts(3, 1, 0, 0, 4)
    # four voted pairs (rules-cur, cur-self, rules-conn, conn-self), each counted both ways
    assert len(graph.all_edges) == 8
    assert graph.contexts == ["curfew", "homework"]
    assert [c.id for c in graph.values] == ["conn", "cur", "rules", "self"]


def mge_leaky_page_rank(edges: list[EdgeSummary], d: float = 0.85, rounds: int = 100) -> dict[object, float]:
    """MGE's calculatePageRank, written out plainly as an independent reference."""
    nodes = list(dict.fromkeys(n for e in edges for n in (e.source_id, e.wiser_id)))
    rank = {n: 1 / len(nodes) for n in nodes}
    for _ in range(rounds):
        new = {n: (1 - d) / len(nodes) for n in nodes}
        for e in edges:
            out_weight = sum(f.wiser_likelihood for f in edges if f.source_id == e.source_id)
            new[e.wiser_id] += d * rank[e.source_id] * e.wiser_likelihood / out_weight
        rank = new
    return rank


def test_ranking_order_and_mge_scores() -> None:
    graph = build_moral_graph(EXAMPLE_CARDS, example_votes())
    ranked = rank_values(graph)
    # By hand (MGE's leaky iteration; t = 0.15 / 4 = 0.0375 teleport per node):
    # rules = t = 0.0375 (nobody moves to it)
    # cur  = t + 0.85 * rules * 0.4 / (0.4 + 0.75)  = 0.0375 + 0.011087 = 0.048587
    # conn = t + 0.85 * rules * 0.75 / (0.4 + 0.75) = 0.0375 + 0.020788 = 0.058288
    # self = t + 0.85 * cur = 0.0375 + 0.041299 = 0.078799
    assert [r.card.id for r in ranked] == ["self", "conn", "cur", "rules"]
    by_id = {r.card.id: r for r in ranked}
    assert by_id["self"].mge_page_rank == pytest.approx(0.078799, abs=1e-6)
    assert by_id["conn"].mge_page_rank == pytest.approx(0.058288, abs=1e-6)
    assert by_id["rules"].mge_page_rank == pytest.approx(0.0375, abs=1e-6)
    reference = mge_leaky_page_rank(list(graph.edges))
    for r in ranked:
        assert r.mge_page_rank == pytest.approx(reference[r.card.id], rel=1e-6)
    assert sum(r.score for r in ranked) == pytest.approx(1.0)  # networkx's scale
    assert [(e.source_id, e.wiser_id) for e in by_id["self"].supporting_edges] == [("cur", "self")]
    assert rank_values(graph, top=2) == ranked[:2]


def test_a_context_is_summarised_again_from_its_own_votes() -> None:
    graph = build_moral_graph(EXAMPLE_CARDS, example_votes(), contexts=[Context("curfew", ("teen",))])
    # in "curfew" only rules->conn has votes: rules (source) and conn (sink) remain
    assert [r.card.id for r in rank_values(graph, "curfew")] == ["conn", "rules"]
    assert [r.card.id for r in rank_values(graph, case="teen")] == ["conn", "rules"]
    homework = [r.card.id for r in rank_values(graph, "homework")]
    assert homework[0] == "self" and "conn" not in homework
    with pytest.raises(InputError, match="unknown context"):
        rank_values(graph, "When nothing")
    with pytest.raises(InputError, match="unknown case"):
        rank_values(graph, case="nope")


def test_an_edge_kept_overall_can_fail_within_a_context() -> None:
    cards = [card(1), card(2)]
    votes = [vote("a", 1, 2, ctx="x"), vote("b", 1, 2, ctx="y")]
    graph = build_moral_graph(cards, votes)
    assert len(graph.edges) == 1  # two wiser votes overall
    assert rank_values(graph, "x") == []  # one wiser vote in context x: below the threshold of 2


def test_ranking_per_demographic_slice() -> None:
    cards = [card("a"), card("b"), card("c")]
    votes = [
        vote("d1", "a", "b"),
        vote("d2", "a", "b"),
        vote("r1", "a", "c"),
        vote("r2", "a", "c"),
        vote("i1", "a", "b"),
        vote("i2", "a", "c"),
    ]
    people = [
        Demographic("d1", {"party": "Dem"}),
        Demographic("d2", {"party": "Dem"}),
        Demographic("r1", {"party": "Rep"}),
        Demographic("r2", {"party": "Rep"}),
        Demographic("i1", {"party": "Ind"}),
    ]
    graph = build_moral_graph(cards, votes, demographics=people)
    # Democrats: a->b twice (kept), Republicans: a->c twice (kept); each group's wisest is its sink
    assert rank_values(graph, slice=DemographicSlice("party", "Dem"))[0].card.id == "b"
    assert rank_values(graph, slice=DemographicSlice("party", "Rep"))[0].card.id == "c"
    comparison = rank_by_demographic(graph, "party", top=1, groups=["Dem", "Rep"])
    assert comparison.participants == {"Dem": 2, "Rep": 2}
    assert comparison.shared == ()  # their top-1 lists differ
    assert comparison.overlap[("Dem", "Rep")] == 0.0
    assert comparison.positions["Dem"] == {"b": 1, "a": 2}
    # all voters: a->b has 3 wiser votes, a->c 3: b and c tie, a is the source
    assert {r.card.id for r in comparison.overall} <= {"b", "c"}
    with pytest.raises(InputError, match="no voter reported"):
        rank_by_demographic(graph, "age")


# ---- deduplication -------------------------------------------------------------------------------


def test_pairwise_score_by_hand() -> None:
    predicted = {1: "x", 2: "x", 3: "x", 4: "y"}
    truth = {1: "A", 2: "A", 3: "B", 4: "B", 5: "C"}
    score = pairwise_score(predicted, truth)
    # predicted pairs: {1,2},{1,3},{2,3} = 3; true pairs among cards 1-4: {1,2},{3,4} = 2; correct: {1,2}
    assert (score.cards, score.predicted_pairs, score.true_pairs, score.correct_pairs) == (4, 3, 2, 1)
    assert score.precision == pytest.approx(1 / 3)
    assert score.recall == pytest.approx(1 / 2)
    assert score.f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


def test_complete_linkage_does_not_chain() -> None:
    # unit vectors at 0, 40 and 80 degrees: neighbours have cosine 0.766, the ends 0.174
    angles = np.radians([0.0, 40.0, 80.0])
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    cards = [card(1), card(2), card(3)]
    complete = propose_merges(cards, threshold=0.7, method="complete", embeddings=vectors)
    single = propose_merges(cards, threshold=0.7, method="single", embeddings=vectors)
    assert len(complete.groups) == 2  # 1 and 3 are too far apart to share a group
    assert single.groups == ((1, 2, 3),)  # single linkage chains 1-2-3
    assert single.mapping == {1: 2, 3: 2}  # the medoid, 2, is the representative


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    from normkg.reasoning.encoder import get_encoder

    return get_encoder()


def test_dedup_a_handful_of_cards(encoder: Encoder) -> None:
    cards = [
        ValuesCard(
            1,
            "Informed Autonomy",
            policies=(
                "CHOICES the user can make once informed",
                "INFORMATION that helps the user decide for themselves",
            ),
        ),
        ValuesCard(
            2,
            "Informed Autonomy",
            policies=(
                "INFORMATION that helps the user decide for themselves",
                "CHOICES the user can make once they are informed",
            ),
        ),
        ValuesCard(
            3, "Truth Seeking", policies=("EVIDENCE from reliable sources", "FACTS that can be checked")
        ),
        ValuesCard(
            4,
            "Evidence-Based Answers",
            policies=("EVIDENCE from reliable sources", "FACTS that can be checked independently"),
        ),
        ValuesCard(5, "Playful Curiosity", policies=("GAMES that turn homework into exploration",)),
    ]
    assert card_text(cards[2]) == "Truth Seeking\nEVIDENCE from reliable sources\nFACTS that can be checked"
    vectors = embed_cards(cards, encoder)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    proposal = propose_merges(cards, threshold=0.68, embeddings=vectors)
    groups = proposal.group_of()
    assert groups[1] == groups[2]  # the same policies reordered
    assert groups[5] not in {groups[1], groups[3]}  # a different value stays alone
    truth = {1: "autonomy", 2: "autonomy", 3: "truth", 4: "truth", 5: "play"}
    assert pairwise_score(groups, truth).precision == 1.0


# ---- drawing -------------------------------------------------------------------------------------


def test_layers_put_wiser_values_higher() -> None:
    graph = build_moral_graph(EXAMPLE_CARDS, example_votes())
    level = layers(graph.digraph)
    # rules -> cur -> self is the longest chain; conn is one step above rules
    assert level["rules"] < level["cur"] < level["self"]
    assert level["conn"] > level["rules"]


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_writes_the_file(tmp_path: Path, suffix: str) -> None:
    graph = build_moral_graph(EXAMPLE_CARDS, example_votes())
    out = plot_moral_graph(graph, "homework", tmp_path / f"g{suffix}")
    assert out.stat().st_size > 1000
    if suffix == ".svg":
        assert "card self" in out.read_text()  # titles stay text in SVG
    with pytest.raises(InputError, match=r"\.svg or \.png"):
        plot_moral_graph(graph, None, tmp_path / "g.pdf")
