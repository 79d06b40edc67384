"""The fast applicability path against the rule it implements, over random frames, norms and contexts.

``FrameTable.statuses`` decides every frame at once with numpy, and ``Admitted``/``norms_for_context``
resolve overrides and conflicts lazily, only for the norms a page shows. Both must give exactly what
the plain rule gives: :func:`match_constraints` per frame, and the reference resolution below, which
compares every pair of admitted norms about the same behaviour (the definition in ``overrides``).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyoxigraph as ox
from hypothesis import given, settings
from hypothesis import strategies as st

from normkg.ontology.namespace import NKG
from normkg.reasoning.applicability import Candidate, Constraint, FrameTable, Status, match_constraints
from normkg.reasoning.context import Fact, NormalizedContext
from normkg.reasoning.norm_index import IndexedNorm, NormIndex
from normkg.reasoning.norms_query import norms_for_context
from normkg.reasoning.overrides import Admitted, NormTable

SLOTS = {
    "country": NKG.country,
    "setting": NKG.setting,
    "actor role": NKG.actorRole,
    "other role": NKG.otherRole,
}
VALUES = {slot: [f"urn:{slot.replace(' ', '-')}:{i}" for i in range(3)] for slot in SLOTS}
ALL = [Constraint(SLOTS[slot].value, v, v.rsplit(":", 1)[-1], slot) for slot in SLOTS for v in VALUES[slot]]


@st.composite
def worlds(draw: st.DrawFn) -> tuple[FrameTable, NormIndex, NormalizedContext, list[str]]:
    frames = {
        f"urn:frame:{i}": frozenset(draw(st.lists(st.sampled_from(ALL), min_size=1, max_size=4)))
        for i in range(draw(st.integers(0, 8)))
    }
    frame_ids = [None, *frames]
    norms = [
        IndexedNorm(
            norm=f"urn:norm:{i:03d}",
            text=f"norm {i}",
            frame=draw(st.sampled_from(frame_ids)),
            polarity=draw(st.sampled_from([None, -2, -1, 0, 1, 2])),
            behavior=draw(st.sampled_from([None, "urn:b:0", "urn:b:1", "urn:b:2"])),
            source=draw(st.sampled_from(["alpha", "beta", "gamma"])),
        )
        for i in range(draw(st.integers(0, 25)))
    ]
    facts, known = [], set()
    for slot, prop in SLOTS.items():
        if draw(st.booleans()):
            known.add(slot)
            for value in draw(st.lists(st.sampled_from(VALUES[slot]), max_size=2, unique=True)):
                facts.append(Fact(prop, ox.NamedNode(value), value, slot))
    context = NormalizedContext(facts=facts, known_slots=known)
    priority = draw(
        st.permutations(["alpha", "beta", "gamma"]).map(lambda p: list(p[: draw(st.integers(0, 3))]))
    )
    empty = np.zeros((len(norms), 2), dtype=np.float32)
    return FrameTable(frames), NormIndex(norms, empty, empty, "test"), context, priority


def rank_key(c: Candidate) -> tuple[int, float, int, str]:
    """The documented order of an answer: undefeated, confident, specific first; then by IRI."""
    return (int(c.defeated), -c.match.confidence, -c.match.specificity, c.norm)


def _sign(p: int | None) -> int:
    return 0 if p is None else (p > 0) - (p < 0)


def reference(frames: FrameTable, index: NormIndex, context: NormalizedContext, priority: list[str]):
    """Every admitted norm with what defeats it, and every conflict: all pairs, no shortcuts."""
    admitted = {}
    for n in index.norms:
        match = frames.match(n.frame, context)
        if match.status is not Status.EXCLUDED:
            admitted[n.norm] = (n, match)
    defeated: dict[str, list[str]] = defaultdict(list)
    groups: dict[str, list[IndexedNorm]] = defaultdict(list)
    for n, _ in admitted.values():
        if n.behavior and n.polarity is not None:
            groups[n.behavior].append(n)
    for group in groups.values():
        for a in group:
            for b in group:
                if _sign(a.polarity) != _sign(b.polarity) and frames.key(b.frame) < frames.key(a.frame):
                    defeated[b.norm].append(a.norm)
    conflicts = {}
    rank = {s: i for i, s in enumerate(priority)}
    for group in groups.values():
        alive = [n for n in group if not defeated[n.norm]]
        for i, a in enumerate(alive):
            for b in alive[i + 1 :]:
                if _sign(a.polarity) * _sign(b.polarity) >= 0:
                    continue
                policy = None
                ra, rb = rank.get(a.source or ""), rank.get(b.source or "")
                if ra is not None and rb is not None and ra != rb:
                    winner, loser = (a, b) if ra < rb else (b, a)
                    defeated[loser.norm].append(winner.norm)
                    policy = f"source priority: {winner.source} over {loser.source}"
                conflicts[frozenset((a.norm, b.norm))] = policy
    return admitted, defeated, conflicts


@given(worlds())
@settings(max_examples=300, deadline=None)
def test_vectorised_statuses_equal_the_rule_frame_by_frame(world) -> None:
    frames, _, context, _ = world
    statuses = frames.statuses(context)
    for i, frame in enumerate(frames.order):
        match = match_constraints(frame, frames.frames[frame], context)
        assert statuses.excluded[i] == (match.status is Status.EXCLUDED)
        assert statuses.missing[i] == len(match.missing)
        assert statuses.sizes[i] == len(frames.frames[frame])


@given(worlds())
@settings(max_examples=300, deadline=None)
def test_lazy_resolution_equals_resolving_every_pair(world) -> None:
    frames, index, context, priority = world
    table = NormTable(index, frames)
    admitted, defeated, conflicts = reference(frames, index, context, priority)
    lazy = Admitted.build(table, context, source_priority=priority)
    assert lazy.total == len(admitted)
    seen_conflicts = {}
    for position in lazy.positions():
        cand = lazy.candidate(int(position))
        assert cand.norm in admitted
        assert sorted(cand.defeated_by) == sorted(defeated[cand.norm])
        assert cand.match == admitted[cand.norm][1]
        for conflict in lazy.conflicts(cand):
            seen_conflicts[frozenset(conflict.sides)] = conflict.resolved_by_policy
    assert seen_conflicts == conflicts


@given(worlds(), st.integers(1, 7), st.integers(0, 10))
@settings(max_examples=200, deadline=None)
def test_a_page_is_the_slice_of_the_full_ranking(world, limit: int, offset: int) -> None:
    frames, index, context, priority = world
    table = NormTable(index, frames)
    everything = norms_for_context(table, context, limit=1000, source_priority=priority)
    page = norms_for_context(table, context, limit=limit, offset=offset, source_priority=priority)
    assert everything.total == page.total
    assert [c.norm for c in everything.items] == [c.norm for c in sorted(everything.items, key=rank_key)], (
        "the full answer is in rank order: undefeated, confident and specific first"
    )
    assert [c.norm for c in page.items] == [c.norm for c in everything.items[offset : offset + limit]]
