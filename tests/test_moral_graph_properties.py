"""Property-based tests of the moral-graph counts: whatever the votes, MGE's bookkeeping must add up.

Each vote a→b is one impression on (a, b) and one on (b, a); an ``upgrade`` is one ``markedWiser`` on
(a, b) and one ``markedLessWise`` on (b, a). These invariants are what every figure of a moral graph
(likelihood, entropy, the kept edges, the ranking) is computed from, so they are checked over random
vote sets, with merges and reorderings, rather than on one hand-made example.
"""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from normkg.reasoning.moral_graph import (
    RELATIONSHIPS,
    Judgment,
    ValuesCard,
    build_moral_graph,
    keeps_edge,
    rank_values,
    summarize_pairs,
)

CARDS = [ValuesCard(id=i, title=f"Value {i}") for i in range(6)]

votes = st.lists(
    st.builds(
        Judgment,
        participant=st.sampled_from(["p1", "p2", "p3", "p4"]),
        from_id=st.integers(0, 5),
        to_id=st.integers(0, 5),
        context=st.sampled_from(["When seeking clarity", "When helping a friend", "When in doubt"]),
        relationship=st.sampled_from(RELATIONSHIPS),
    ).filter(lambda j: j.from_id != j.to_id),
    max_size=60,
)


@given(votes)
@settings(max_examples=150, deadline=None)
def test_every_vote_is_counted_once_each_way(judgments: list[Judgment]) -> None:
    edges = {(e.source_id, e.wiser_id): e for e in summarize_pairs(judgments)}
    per_pair = Counter((j.from_id, j.to_id) for j in judgments)
    upgrades = Counter((j.from_id, j.to_id) for j in judgments if j.relationship == "upgrade")
    assert sum(e.counts.impressions for e in edges.values()) == 2 * len(judgments)
    assert sum(e.counts.marked_wiser for e in edges.values()) == sum(upgrades.values())
    assert sum(e.counts.marked_less_wise for e in edges.values()) == sum(upgrades.values())
    for (a, b), edge in edges.items():
        assert (b, a) in edges, "every touched pair is summarised both ways"
        assert edge.counts.impressions == per_pair[(a, b)] + per_pair[(b, a)]
        assert edge.counts.marked_wiser == upgrades[(a, b)]
        assert edge.counts.marked_less_wise == upgrades[(b, a)] == edges[(b, a)].counts.marked_wiser
        answered = edge.counts.marked_not_wiser + edge.counts.marked_unsure + edge.counts.marked_wiser
        assert answered == per_pair[(a, b)]
        assert -1.0 <= edge.wiser_likelihood <= 1.0
        assert 0.0 <= edge.entropy <= math.log2(5) + 1e-12
        contexts = {j.context for j in judgments if {j.from_id, j.to_id} == {a, b}}
        assert set(edge.contexts) == contexts


@given(votes, st.randoms(use_true_random=False))
@settings(max_examples=100, deadline=None)
def test_summaries_do_not_depend_on_vote_order(judgments: list[Judgment], rng) -> None:
    shuffled = list(judgments)
    rng.shuffle(shuffled)
    first = build_moral_graph(CARDS, judgments, min_marked_wiser=1)
    second = build_moral_graph(CARDS, shuffled, min_marked_wiser=1)
    assert first.all_edges == second.all_edges
    assert first.edges == second.edges


@given(votes, st.integers(0, 3))
@settings(max_examples=150, deadline=None)
def test_kept_edges_are_exactly_those_passing_the_rule(judgments: list[Judgment], threshold: int) -> None:
    graph = build_moral_graph(CARDS, judgments, min_marked_wiser=threshold)
    assert set(graph.edges) <= set(graph.all_edges)
    assert [e for e in graph.all_edges if keeps_edge(e, threshold)] == list(graph.edges)
    ranked = rank_values(graph)
    if graph.edges:
        assert math.isclose(sum(r.score for r in ranked), 1.0, rel_tol=1e-9)
        # every kept edge points at a ranked value, and supports only the card it makes wiser
        for r in ranked:
            assert all(e.wiser_id == r.card.id for e in r.supporting_edges)
    else:
        assert ranked == []


@given(votes, st.integers(0, 5), st.integers(0, 5))
@settings(max_examples=150, deadline=None)
def test_merging_cards_moves_their_votes_and_drops_self_pairs(
    judgments: list[Judgment], merged: int, into: int
) -> None:
    if merged == into:
        return
    graph = build_moral_graph(CARDS, judgments, card_map={merged: into}, min_marked_wiser=1)
    assert merged not in graph.cards
    remap = {merged: into}
    survivors = [j for j in judgments if remap.get(j.from_id, j.from_id) != remap.get(j.to_id, j.to_id)]
    assert len(graph.judgments) == len(survivors)
    assert sum(e.counts.impressions for e in graph.all_edges) == 2 * len(survivors)
    assert all(merged not in (e.source_id, e.wiser_id) for e in graph.all_edges)
