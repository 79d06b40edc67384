"""Which norms apply in a context, and which defeat or conflict with which (NormBank's non-monotonic reading).

* A norm **applies** when every constraint of its frame holds in the context; it applies
  **conditionally** when no constraint is contradicted but some concern a slot the context says nothing
  about (those missing facts are named, and confidence drops by half for each); it is **excluded** when
  the context says something else about a constrained slot. A norm without a frame is **general**.
* Among applicable norms about the same behaviour, one whose frame is strictly more specific (a strict
  superset of constraints) defeats a more general one with a different judgment; the defeated norm is
  kept as a *defeated alternative*. Opposite judgments whose frames are incomparable (or equal) are a
  **conflict**, reported with both sides; an optional source-priority policy may break the tie, and the
  conflict is still reported as resolved by that policy.

The specificity order is a networkx DAG over frames (edge: general -> more specific), built once per
frame table; a frame's constraints are a set, so "more specific" is set inclusion.
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import networkx as nx

from normkg.kg.store import GraphStore
from normkg.ontology.namespace import NKG
from normkg.reasoning.context import NormalizedContext
from normkg.reasoning.vocabulary import Vocabulary

GENERAL = "general"


class Status(StrEnum):
    APPLIES = "applies"
    CONDITIONAL = "conditional"
    GENERAL = "general"
    EXCLUDED = "excluded"


_SLOT_OF_PROPERTY = {
    NKG.country.value: "country",
    NKG.region.value: "region",
    NKG.setting.value: "setting",
    NKG.actorRole.value: "actor role",
    NKG.otherRole.value: "other role",
    NKG.actorAlsoDoing.value: "actor also doing",
}


@dataclass(frozen=True)
class Constraint:
    property: str
    value: str
    label: str
    slot: str

    @builtins.property
    def property_name(self) -> str:
        return NKG.local_name(self.property)


@dataclass(frozen=True)
class FrameMatch:
    frame: str | None
    status: Status
    met: tuple[Constraint, ...] = ()
    missing: tuple[Constraint, ...] = ()
    contradicted: tuple[Constraint, ...] = ()

    @property
    def confidence(self) -> float:
        if self.status in (Status.APPLIES, Status.GENERAL):
            return 1.0
        if self.status is Status.CONDITIONAL:
            return 0.5 ** len(self.missing)
        return 0.0

    @property
    def specificity(self) -> int:
        return len(self.met) + len(self.missing) + len(self.contradicted)


class FrameTable:
    """All frames of the store with their constraints, and their specificity DAG."""

    def __init__(self, frames: dict[str, frozenset[Constraint]]) -> None:
        self.frames: dict[str, frozenset[Constraint]] = {}
        self._keys: dict[str, frozenset[tuple[str, str]]] = {}
        self.dag = nx.DiGraph()
        self.dag.add_node(GENERAL)
        for frame, constraints in frames.items():
            self.add_frame(frame, constraints)

    def add_frame(self, frame: str, constraints: frozenset[Constraint]) -> None:
        """Add a frame and its specificity edges (general -> more specific)."""
        key = frozenset((c.property, c.value) for c in constraints)
        self.frames[frame] = constraints
        self._keys[frame] = key
        self.dag.add_edge(GENERAL, frame)
        for other, other_key in self._keys.items():
            if other == frame:
                continue
            if other_key < key:
                self.dag.add_edge(other, frame)
            elif key < other_key:
                self.dag.add_edge(frame, other)

    def copy(self) -> FrameTable:
        """A copy a request may extend with its own frames without touching the shared table."""
        table = FrameTable.__new__(FrameTable)
        table.frames = dict(self.frames)
        table._keys = dict(self._keys)
        table.dag = self.dag.copy()
        return table

    @classmethod
    def from_store(cls, store: GraphStore, vocabulary: Vocabulary) -> FrameTable:
        labels = vocabulary.labels()
        frames: dict[str, set[Constraint]] = defaultdict(set)
        for row in store.query("frames"):
            prop, value = row["property"].value, row["value"].value
            frames[row["frame"].value].add(constraint(prop, value, labels))
        return cls({frame: frozenset(cons) for frame, cons in frames.items()})

    def more_specific(self, a: str | None, b: str | None) -> bool:
        """Is frame ``a`` strictly more specific than frame ``b``? (None: no frame, the most general.)"""
        a_key, b_key = a or GENERAL, b or GENERAL
        if a_key == b_key or a_key not in self.dag or b_key not in self.dag:
            return False
        return bool(nx.has_path(self.dag, b_key, a_key))

    def match(self, frame: str | None, context: NormalizedContext) -> FrameMatch:
        if frame is None:
            return FrameMatch(None, Status.GENERAL)
        return match_constraints(frame, self.frames.get(frame, frozenset()), context)


def constraint(prop: str, value: str, labels: dict[str, tuple[str, str | None]]) -> Constraint:
    """A frame constraint with its label and the context slot it speaks about."""
    label, group_label = labels.get(value, (value.rsplit("/", 1)[-1], None))
    if prop == NKG.actorAttribute.value:
        slot = f"actor attribute: {(group_label or '').lower()}"
    elif prop == NKG.otherAttribute.value:
        slot = f"other attribute: {(group_label or '').lower()}"
    elif prop == NKG.environment.value:
        slot = f"environment: {(group_label or '').lower()}"
    else:
        slot = _SLOT_OF_PROPERTY.get(prop, prop)
    return Constraint(prop, value, label, slot)


def match_constraints(
    frame: str, constraints: Iterable[Constraint], context: NormalizedContext
) -> FrameMatch:
    values = context.values()
    met: list[Constraint] = []
    missing: list[Constraint] = []
    contradicted: list[Constraint] = []
    for c in sorted(constraints, key=lambda c: (c.slot, c.label)):
        if c.value in values:
            met.append(c)
        elif c.slot in context.known_slots and c.slot != "other role":
            # The context says something else about this slot. (Other people present are not
            # assumed to be listed exhaustively, so an unlisted other role is only missing.)
            contradicted.append(c)
        else:
            missing.append(c)
    if contradicted:
        status = Status.EXCLUDED
    elif missing:
        status = Status.CONDITIONAL
    else:
        status = Status.APPLIES
    return FrameMatch(frame, status, tuple(met), tuple(missing), tuple(contradicted))


# ---- overrides and conflicts ---------------------------------------------------------------------


@dataclass
class Candidate:
    """A norm considered for a context (from the graph or from the request)."""

    norm: str
    text: str
    polarity: int | None
    behavior: str | None
    source: str | None
    frame: str | None
    match: FrameMatch
    defeated_by: list[str] = field(default_factory=list)

    @property
    def defeated(self) -> bool:
        return bool(self.defeated_by)


@dataclass(frozen=True)
class Conflict:
    behavior: str
    sides: tuple[str, str]
    resolved_by_policy: str | None = None


def _sign(polarity: int | None) -> int:
    return 0 if polarity is None else (polarity > 0) - (polarity < 0)


def resolve(
    candidates: Sequence[Candidate], frames: FrameTable, source_priority: Sequence[str] = ()
) -> list[Conflict]:
    """Mark defeated candidates (in place) and return the conflicts among the applicable ones."""
    by_behavior: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        if c.behavior and c.polarity is not None and c.match.status is not Status.EXCLUDED:
            by_behavior[c.behavior].append(c)
    conflicts: list[Conflict] = []
    rank = {name: i for i, name in enumerate(source_priority)}
    for behavior, group in sorted(by_behavior.items()):
        for a in group:
            for b in group:
                if (
                    a is not b
                    and _sign(a.polarity) != _sign(b.polarity)
                    and frames.more_specific(a.frame, b.frame)
                ):
                    b.defeated_by.append(a.norm)
        alive = [c for c in group if not c.defeated]
        for i, a in enumerate(alive):
            for b in alive[i + 1 :]:
                if _sign(a.polarity) * _sign(b.polarity) >= 0:
                    continue
                policy = None
                ra, rb = rank.get(a.source or ""), rank.get(b.source or "")
                if ra is not None and rb is not None and ra != rb:
                    loser = b if ra < rb else a
                    winner = a if loser is b else b
                    loser.defeated_by.append(winner.norm)
                    policy = f"source priority: {winner.source} over {loser.source}"
                conflicts.append(Conflict(behavior, (a.norm, b.norm), policy))
    return conflicts


def rank_key(c: Candidate) -> tuple[int, float, int, str]:
    """Order: not defeated, confident, specific first; then by IRI for a stable order."""
    return (int(c.defeated), -c.match.confidence, -c.match.specificity, c.norm)
