"""Moral graphs from Moral Graph Elicitation (MGE) votes: summarise, keep, rank.

MGE (Klingefjord, Lowe, Edelman 2024, arXiv:2404.10636) asks participants whether moving from one
values card to another is *wiser* in a context. The graph is not the votes themselves: MGE folds them
into one summary per ordered pair of cards, keeps only the pairs with enough agreement, and ranks the
values by PageRank over what is left. This module re-implements that method in Python, as plain
functions over typed inputs, so that the same code serves the MGE export, new interview files and the
store, and so that ranking a context or a demographic slice is just "select votes, summarise again".

What we followed (read, not copied; TypeScript re-implemented):

* ``meaningalignment/values-tools`` ``src/services/moral-graph.ts`` at commit
  78d75e0e66eb1ac39e5efeca50affec9f32d6de6 (file last changed in e3fc01ce12d13d62dab9a992a243c618f0bd986a):
  ``summarizeGraph``, ``calculateEntropy``, ``calculatePageRank`` and the edge filter. The same code,
  written against the DFT database, is ``meaningalignment/dft`` ``app/values-tools/generate-moral-graph.ts``
  at a777ec404f3d4ea18a469a80740040a0b93ba57a (weighted PageRank added in
  24b74ffb9dcf80c6471bbf3a84c43478668e5d29).
* ``meaningalignment/mge`` at 2e94ff9b07f1264a4a85e8fae8a672369ea2133b: ``app/routes/api.data.graph.ts``
  (per-question and per-context graphs: filter the votes, then summarise),
  ``app/routes/api.data.graph.$deliberationId.$questionId[.]json.ts`` (``usPoliticalAffiliation`` as the
  demographic carried on votes) and ``app/routes/dashboard.$deliberationId.merge.tsx`` (merging duplicate
  cards rewires every vote's ``fromId``/``toId`` to the surviving card).
* ``meaningalignment/dft`` ``app/routes/api.data.edges.ts`` at a777ec40: a case's graph is built from the
  votes whose context belongs to the case (``ContextsOnCases``); a participant subset the same way.

The method, per ordered pair (a, b) of cards:

* every vote a→b adds its context to (a, b), one impression, and one ``markedWiser`` (relationship
  ``upgrade``), ``markedNotWiser`` (``no_upgrade``) or ``markedUnsure`` (``not_sure``);
* every vote a→b also counts on the reverse pair (b, a): its context, one impression, and one
  ``markedLessWise`` when it was an ``upgrade`` (so ``impressions`` of (a, b) = votes a→b + votes b→a);
* ``wiserLikelihood = (markedWiser - markedLessWise) / (markedWiser + markedNotWiser + markedUnsure +
  markedLessWise)``;
* ``entropy`` is the Shannon entropy (bits) of the *five* counts taken as a distribution, impressions
  included. That looks like an accident upstream, but it is what MGE computes and what its 1.69 cut-off
  was tuned on (checked against ``data/moral-graph-all-participants.json`` of the dft repository: an edge
  with counts 3/0/0/1/4 has entropy 1.4056, the five-count value), so we keep it;
* an edge is kept when ``markedWiser > 0``, ``wiserLikelihood >= 0.33``, ``entropy <= 1.69`` and
  ``markedWiser >= threshold`` (2 by default; MGE's app passes 0 for its small demo graph).

Where we differ, on purpose:

* PageRank is networkx's (``alpha`` 0.85, weight ``wiserLikelihood``). MGE runs 100 rounds of
  ``r = (1-d)/N + d * P^T r`` and lets the rank of values nobody moved on from (the wisest!) leak away;
  networkx gives that "dangling" rank back uniformly. Because the teleport is uniform too, networkx's
  vector is MGE's times one constant, so the order is identical; :attr:`RankedValue.mge_page_rank`
  rescales it to MGE's numbers (``r = x * (1-d) / ((1-d) + d * dangling mass of x)``).
* A pair whose votes are all reverse ``no_upgrade``/``not_sure`` has no counted answer at all; MGE
  divides 0 by 0 (NaN), we report 0.0. Such a pair has ``markedWiser == 0`` and is never kept either way.
* A vote whose two cards were merged into one (by a deduplication map) is dropped: a card cannot be
  wiser than itself, and MGE's merge would have produced such self-pairs silently.
* ``contexts`` of an edge is a set upstream (``Array.from(new Set(...))``, insertion order); we sort it,
  and sort edges and values, so that exports are stable and round-trip exactly.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import combinations
from typing import Literal

import networkx as nx

from normkg.errors import InputError

CardId = int | str
Relationship = Literal["upgrade", "no_upgrade", "not_sure"]
CardKind = Literal["elicited", "canonical", "deduplicated"]

RELATIONSHIPS: tuple[Relationship, ...] = ("upgrade", "no_upgrade", "not_sure")
CARD_KINDS: tuple[CardKind, ...] = ("elicited", "canonical", "deduplicated")

#: MGE's edge filter (values-tools moral-graph.ts: "Eliminate edges with low wiserLikelihood, low
#: signal, or no consensus").
MIN_WISER_LIKELIHOOD = 0.33
MAX_ENTROPY = 1.69
DEFAULT_MIN_MARKED_WISER = 2
#: MGE's PageRank damping factor.
PAGERANK_DAMPING = 0.85

MGE_CITATION = (
    "Klingefjord, Lowe, Edelman (2024). What are human values, and how do we align AI to them? "
    "arXiv:2404.10636"
)


def card_sort_key(card_id: CardId) -> tuple[int, int, str]:
    """Integer ids in numeric order before string ids, so MGE's int ids sort as numbers."""
    if isinstance(card_id, int):
        return (0, card_id, "")
    return (1, 0, card_id)


# ---- inputs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValuesCard:
    """A value as MGE writes it: a title, a description and the attentional policies that make it up.

    ``source`` is the namespace its IRI is minted in (``mint("card", source, id)``, as the MGE loader
    does): "mge" for MGE's elicited cards, "mge-canonical" for its canonical ones (the cards votes are
    cast on), "mge-dedup" for its deduplicated ones; ``None`` means the card belongs to the graph alone
    and is minted under the graph's id (interview files).
    """

    id: CardId
    title: str
    description: str = ""
    policies: tuple[str, ...] = ()
    instructions_short: str | None = None
    kind: CardKind = "elicited"
    source: str | None = None


@dataclass(frozen=True)
class Judgment:
    """One participant's vote on "is moving from ``from_id`` to ``to_id`` wiser, in ``context``?"."""

    participant: str
    from_id: CardId
    to_id: CardId
    context: str
    relationship: Relationship


@dataclass(frozen=True)
class Context:
    """A choice context ("When seeking clarity") and the cases (questions) it was asked under."""

    id: str
    cases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Demographic:
    """What one participant reported about themselves, as flat text fields (e.g. usPoliticalAffiliation)."""

    participant: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DemographicSlice:
    """The participants whose ``field`` equals ``value``."""

    field: str
    value: str


# ---- summaries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeCounts:
    marked_wiser: int = 0
    marked_not_wiser: int = 0
    marked_less_wise: int = 0
    marked_unsure: int = 0
    impressions: int = 0

    @property
    def answered(self) -> int:
        """The denominator of wiserLikelihood: every counted answer, impressions excluded."""
        return self.marked_wiser + self.marked_not_wiser + self.marked_unsure + self.marked_less_wise

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (
            self.marked_wiser,
            self.marked_not_wiser,
            self.marked_less_wise,
            self.marked_unsure,
            self.impressions,
        )


@dataclass(frozen=True)
class EdgeSummary:
    """MGE's summary of one ordered pair: ``wiser_id`` is the card judged wiser than ``source_id``."""

    source_id: CardId
    wiser_id: CardId
    contexts: tuple[str, ...]
    counts: EdgeCounts
    wiser_likelihood: float
    entropy: float


def wiser_likelihood(counts: EdgeCounts) -> float:
    """(wiser - less wise) / answered; 0.0 when nothing was answered (MGE: NaN, never kept)."""
    total = counts.answered
    if total == 0:
        return 0.0
    return (counts.marked_wiser - counts.marked_less_wise) / total


def entropy(counts: EdgeCounts) -> float:
    """Shannon entropy in bits of the five counts, impressions included, exactly as MGE computes it."""
    values = counts.as_tuple()
    total = sum(values)
    if total == 0:
        return 0.0
    result = 0.0
    for value in values:
        if value > 0:
            p = value / total
            result -= p * math.log2(p)
    return result


def keeps_edge(edge: EdgeSummary, min_marked_wiser: int = DEFAULT_MIN_MARKED_WISER) -> bool:
    """MGE's rule: some wiser votes, enough of them, a likelihood of at least 0.33, entropy at most 1.69."""
    if edge.counts.marked_wiser == 0:
        return False
    if edge.wiser_likelihood < MIN_WISER_LIKELIHOOD:
        return False
    if edge.entropy > MAX_ENTROPY:
        return False
    return edge.counts.marked_wiser >= min_marked_wiser


def summarize_pairs(judgments: Iterable[Judgment]) -> list[EdgeSummary]:
    """Every ordered pair that any vote touches, counted both ways, in MGE's order of first appearance."""
    counts: dict[tuple[CardId, CardId], list[int]] = {}
    contexts: dict[tuple[CardId, CardId], dict[str, None]] = {}
    votes = list(judgments)

    def slot(a: CardId, b: CardId) -> list[int]:
        key = (a, b)
        if key not in counts:
            counts[key] = [0, 0, 0, 0, 0]  # wiser, not wiser, less wise, unsure, impressions
            contexts[key] = {}
        return counts[key]

    for vote in votes:
        c = slot(vote.from_id, vote.to_id)
        contexts[(vote.from_id, vote.to_id)][vote.context] = None
        c[4] += 1
        if vote.relationship == "upgrade":
            c[0] += 1
        elif vote.relationship == "no_upgrade":
            c[1] += 1
        else:
            c[3] += 1
    for vote in votes:
        c = slot(vote.to_id, vote.from_id)
        contexts[(vote.to_id, vote.from_id)][vote.context] = None
        c[4] += 1
        if vote.relationship == "upgrade":
            c[2] += 1

    edges = []
    for (a, b), raw in counts.items():
        tally = EdgeCounts(*raw)
        edges.append(
            EdgeSummary(
                source_id=a,
                wiser_id=b,
                contexts=tuple(sorted(contexts[(a, b)])),
                counts=tally,
                wiser_likelihood=wiser_likelihood(tally),
                entropy=entropy(tally),
            )
        )
    return edges


def _edge_key(edge: EdgeSummary) -> tuple[tuple[int, int, str], tuple[int, int, str]]:
    return (card_sort_key(edge.source_id), card_sort_key(edge.wiser_id))


# ---- the graph ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MoralGraph:
    """A summarised moral graph, plus what is needed to summarise a subset again.

    ``edges`` are the kept edges, ``all_edges`` every summarised pair. ``judgments`` are the votes it was
    built from (after deduplication); a graph read from a summary export has none, and can then only
    be narrowed by the contexts listed on its edges.
    """

    cards: Mapping[CardId, ValuesCard]
    edges: tuple[EdgeSummary, ...]
    all_edges: tuple[EdgeSummary, ...] = ()
    judgments: tuple[Judgment, ...] = ()
    case_contexts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    demographics: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    min_marked_wiser: int = DEFAULT_MIN_MARKED_WISER
    namespace: str | None = None
    source_file: str = ""
    license_note: str = "not stated"
    citation: str = MGE_CITATION

    @property
    def values(self) -> list[ValuesCard]:
        """The cards that some kept edge touches (MGE drops the others), in id order."""
        ids = {e.source_id for e in self.edges} | {e.wiser_id for e in self.edges}
        return [self.cards[i] for i in sorted(ids, key=card_sort_key) if i in self.cards]

    @property
    def contexts(self) -> list[str]:
        """The contexts the kept edges were judged in."""
        return sorted({c for e in self.edges for c in e.contexts})

    @cached_property
    def digraph(self) -> nx.DiGraph:
        """Kept edges as a networkx DiGraph (source → wiser), node and edge data from the summaries."""
        g = nx.DiGraph()
        for card in self.values:
            g.add_node(card.id, title=card.title)
        for e in self.edges:
            g.add_edge(
                e.source_id,
                e.wiser_id,
                wiser_likelihood=e.wiser_likelihood,
                entropy=e.entropy,
                marked_wiser=e.counts.marked_wiser,
                contexts=e.contexts,
            )
        return g


def build_moral_graph(
    cards: Iterable[ValuesCard],
    judgments: Iterable[Judgment],
    *,
    contexts: Iterable[Context] = (),
    demographics: Iterable[Demographic] = (),
    card_map: Mapping[CardId, CardId] | None = None,
    min_marked_wiser: int = DEFAULT_MIN_MARKED_WISER,
    namespace: str | None = None,
    source_file: str = "",
    license_note: str = "not stated",
    citation: str = MGE_CITATION,
) -> MoralGraph:
    """Summarise ``judgments`` into MGE's moral graph.

    ``card_map`` (card id → id of the card it was deduplicated into) rewires every vote the way MGE's
    merge does, before counting; merged-away cards leave the graph. A vote naming a card that is not in
    ``cards`` is an :class:`InputError`: readers reject such records first, with file and line.
    """
    mapping = dict(card_map or {})
    card_index: dict[CardId, ValuesCard] = {}
    for card in cards:
        target = mapping.get(card.id, card.id)
        if target == card.id:
            card_index[card.id] = card
    missing_targets = sorted({t for t in mapping.values() if t not in card_index}, key=card_sort_key)
    if missing_targets:
        raise InputError(f"deduplication maps cards onto unknown cards: {missing_targets[:5]}")

    kept_votes: list[Judgment] = []
    unknown: set[CardId] = set()
    for vote in judgments:
        a = mapping.get(vote.from_id, vote.from_id)
        b = mapping.get(vote.to_id, vote.to_id)
        for card_id in (a, b):
            if card_id not in card_index:
                unknown.add(card_id)
        if a == b:
            continue
        kept_votes.append(vote if (a, b) == (vote.from_id, vote.to_id) else replace(vote, from_id=a, to_id=b))
    if unknown:
        shown = sorted(unknown, key=card_sort_key)[:5]
        raise InputError(f"{len(unknown)} card id(s) in votes have no values card: {shown}")

    case_map: dict[str, set[str]] = defaultdict(set)
    for ctx in contexts:
        for case in ctx.cases:
            case_map[case].add(ctx.id)

    all_edges = sorted(summarize_pairs(kept_votes), key=_edge_key)
    kept = tuple(e for e in all_edges if keeps_edge(e, min_marked_wiser))
    return MoralGraph(
        cards=card_index,
        edges=kept,
        all_edges=tuple(all_edges),
        judgments=tuple(kept_votes),
        case_contexts={case: tuple(sorted(ids)) for case, ids in sorted(case_map.items())},
        demographics={d.participant: dict(d.attributes) for d in demographics},
        min_marked_wiser=min_marked_wiser,
        namespace=namespace,
        source_file=source_file,
        license_note=license_note,
        citation=citation,
    )


# ---- selecting a part of the graph -----------------------------------------------------------------


def select_graph(
    graph: MoralGraph,
    context: str | None = None,
    slice: DemographicSlice | None = None,
    *,
    case: str | None = None,
) -> MoralGraph:
    """The graph of one context, case and/or demographic slice, summarised again from its own votes.

    This is what MGE does for a question or a context (filter the votes, then summarise): an edge that
    is kept overall may lose its support within a context, and the other way round. A graph without
    votes (read from a summary export) keeps the edges that list the context, and cannot be sliced.
    """
    if context is None and slice is None and case is None:
        return graph
    allowed: set[str] | None = None
    if case is not None:
        if case not in graph.case_contexts:
            cases = ", ".join(sorted(graph.case_contexts)) or "none"
            raise InputError(f"unknown case {case!r}", hint=f"cases in this graph: {cases}")
        allowed = set(graph.case_contexts[case])
    if context is not None:
        known = {v.context for v in graph.judgments} or {c for e in graph.edges for c in e.contexts}
        if context not in known:
            shown = ", ".join(sorted(known)[:8]) + (" ..." if len(known) > 8 else "")
            raise InputError(
                f"unknown context {context!r}", hint=f"contexts in this graph: {shown or 'none'}"
            )
        allowed = {context} if allowed is None else allowed & {context}

    if not graph.judgments:
        if slice is not None:
            raise InputError(
                "this graph has no individual votes, so it cannot be split by demographics",
                hint="build it from the MGE export folder or an interview file",
            )
        edges = tuple(e for e in graph.edges if allowed is None or allowed.intersection(e.contexts))
        return replace(graph, edges=edges, all_edges=edges)

    participants: set[str] | None = None
    if slice is not None:
        participants = {p for p, attrs in graph.demographics.items() if attrs.get(slice.field) == slice.value}
    votes = [
        v
        for v in graph.judgments
        if (allowed is None or v.context in allowed)
        and (participants is None or v.participant in participants)
    ]
    all_edges = sorted(summarize_pairs(votes), key=_edge_key)
    return replace(
        graph,
        edges=tuple(e for e in all_edges if keeps_edge(e, graph.min_marked_wiser)),
        all_edges=tuple(all_edges),
        judgments=tuple(votes),
    )


# ---- ranking -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedValue:
    """A value's PageRank in a graph, and the kept edges that lead people to it (its support)."""

    card: ValuesCard
    score: float
    mge_page_rank: float
    supporting_edges: tuple[EdgeSummary, ...]


def page_rank(graph: MoralGraph, damping: float = PAGERANK_DAMPING) -> dict[CardId, tuple[float, float]]:
    """Card id → (networkx PageRank, the same rescaled to MGE's leaky iteration), over kept edges."""
    g = graph.digraph
    if g.number_of_nodes() == 0:
        return {}
    scores: dict[CardId, float] = nx.pagerank(
        g, alpha=damping, weight="wiser_likelihood", tol=1e-12, max_iter=1000
    )
    dangling = sum(scores[n] for n in g.nodes if g.out_degree(n) == 0)
    scale = (1 - damping) / ((1 - damping) + damping * dangling)
    return {node: (score, score * scale) for node, score in scores.items()}


def rank_values(
    graph: MoralGraph,
    context: str | None = None,
    slice: DemographicSlice | None = None,
    *,
    case: str | None = None,
    top: int | None = None,
) -> list[RankedValue]:
    """The wisest values of a graph, or of one context, case or demographic slice, best first."""
    part = select_graph(graph, context, slice, case=case)
    ranks = page_rank(part)
    supporting: dict[CardId, list[EdgeSummary]] = defaultdict(list)
    for e in part.edges:
        supporting[e.wiser_id].append(e)
    ranked = [
        RankedValue(
            card=part.cards[card_id],
            score=score,
            mge_page_rank=mge,
            supporting_edges=tuple(sorted(supporting[card_id], key=lambda e: -e.wiser_likelihood)),
        )
        for card_id, (score, mge) in ranks.items()
    ]
    ranked.sort(key=lambda r: (-r.score, card_sort_key(r.card.id)))
    return ranked[:top] if top is not None else ranked


@dataclass(frozen=True)
class DemographicComparison:
    """Rankings of the same graph per group of one demographic field, and where they agree.

    ``rankings`` are each group's top lists; ``positions`` each group's full rank (1 = wisest) of every
    value its own graph keeps, so that a value's standing can be read across groups; ``overall`` is the
    top list of all voters together. ``shared`` are the values in every group's top list; ``overlap`` is
    the Jaccard index of each pair of groups' top lists (1.0: the same values, 0.0: none in common).
    """

    field: str
    rankings: Mapping[str, list[RankedValue]]
    positions: Mapping[str, Mapping[CardId, int]]
    overall: list[RankedValue]
    shared: tuple[CardId, ...]
    overlap: Mapping[tuple[str, str], float]
    participants: Mapping[str, int]


def demographic_values(graph: MoralGraph, field: str) -> list[str]:
    """The values of ``field`` among participants who voted, most common first."""
    voters = {v.participant for v in graph.judgments}
    counts: dict[str, int] = defaultdict(int)
    for participant, attrs in graph.demographics.items():
        if participant in voters and field in attrs:
            counts[attrs[field]] += 1
    return sorted(counts, key=lambda value: (-counts[value], value))


def rank_by_demographic(
    graph: MoralGraph,
    field: str,
    context: str | None = None,
    *,
    case: str | None = None,
    top: int = 5,
    groups: Sequence[str] | None = None,
) -> DemographicComparison:
    """Rank each group of ``field`` on its own votes (MGE: filter the votes by user, then summarise)."""
    if not graph.judgments:
        raise InputError("this graph has no individual votes, so it cannot be split by demographics")
    names = list(groups) if groups is not None else demographic_values(graph, field)
    if not names:
        present = sorted({k for attrs in graph.demographics.values() for k in attrs})
        raise InputError(
            f"no voter reported {field!r}", hint="fields present: " + (", ".join(present) or "none")
        )
    voters = {v.participant for v in graph.judgments}
    full = {name: rank_values(graph, context, DemographicSlice(field, name), case=case) for name in names}
    rankings = {name: ranked[:top] for name, ranked in full.items()}
    positions = {name: {r.card.id: n for n, r in enumerate(ranked, start=1)} for name, ranked in full.items()}
    tops = {name: {r.card.id for r in ranked} for name, ranked in rankings.items()}
    shared = set.intersection(*tops.values()) if tops else set()
    overlap = {}
    for a, b in combinations(names, 2):
        union = tops[a] | tops[b]
        overlap[(a, b)] = len(tops[a] & tops[b]) / len(union) if union else 0.0
    participants = {
        name: sum(1 for p, attrs in graph.demographics.items() if p in voters and attrs.get(field) == name)
        for name in names
    }
    return DemographicComparison(
        field=field,
        rankings=rankings,
        positions=positions,
        overall=rank_values(graph, context, case=case, top=top),
        shared=tuple(sorted(shared, key=card_sort_key)),
        overlap=overlap,
        participants=participants,
    )
