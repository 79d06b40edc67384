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

The specificity order is a networkx DAG over frames (edge: general -> more specific); a frame's
constraints are a set, so "more specific" is set inclusion. It is built over the frames that compete
(the norms about one behaviour, see ``overrides``), never over every pair of frames in the store.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import networkx as nx
import numpy as np

from normkg.kg.store import GraphStore
from normkg.ontology.namespace import NKG
from normkg.reasoning.context import NormalizedContext
from normkg.reasoning.frame_cache import FrameRows, read_frame_rows
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


@dataclass(frozen=True)
class FrameStatuses:
    """Every frame of a table matched against one context, as arrays indexed like ``FrameTable.order``."""

    excluded: np.ndarray  # bool: some constraint is contradicted
    missing: np.ndarray  # int: constraints on slots the context says nothing about
    sizes: np.ndarray  # int: constraints of the frame (its specificity)


EMPTY_KEY: frozenset[tuple[str, str]] = frozenset()


class FrameTable:
    """All frames of the store with their constraints, matched against a context in one vectorised pass.

    Why arrays: a graph may hold hundreds of thousands of framed norms (NormBank-sized packs), and a
    request must decide all of them in milliseconds; the constraints are kept as parallel integer
    arrays (owner frame, value, slot) so that matching is a few numpy operations, not a Python loop.
    The specificity order between frames is built with networkx only over the frames that compete
    (one behaviour's norms), see :meth:`specificity_dag`; comparing every pair of frames of the store
    would be quadratic.
    """

    def __init__(self, frames: Mapping[str, frozenset[Constraint]]) -> None:
        order = list(frames)
        ids: dict[Constraint, int] = {}
        owner: list[int] = []
        members: list[int] = []
        for i, frame in enumerate(order):
            for c in frames[frame]:
                owner.append(i)
                members.append(ids.setdefault(c, len(ids)))
        self._lay_out(
            dict(frames), order, list(ids), np.array(owner, dtype=np.int64), np.array(members, dtype=np.int64)
        )

    def _lay_out(
        self,
        frames: dict[str, frozenset[Constraint]],
        order: list[str],
        constraints: list[Constraint],
        owner: np.ndarray,
        members: np.ndarray,
    ) -> None:
        """The parallel arrays: row r says frame ``order[owner[r]]`` has ``constraints[members[r]]``."""
        self.frames = frames
        self.order = order
        self.position: dict[str, int] = {f: i for i, f in enumerate(order)}
        self._keys: dict[str, frozenset[tuple[str, str]]] = {}  # filled as frames are asked for
        values: dict[str, int] = {}
        slots: dict[str, int] = {}
        value_of = np.array([values.setdefault(c.value, len(values)) for c in constraints], dtype=np.int64)
        slot_of = np.array([slots.setdefault(c.slot, len(slots)) for c in constraints], dtype=np.int64)
        self._value_id, self._slot_id = values, slots
        self._owner = owner
        self._values = value_of[members] if len(members) else np.zeros(0, dtype=np.int64)
        self._slots = slot_of[members] if len(members) else np.zeros(0, dtype=np.int64)
        self.sizes = np.bincount(owner, minlength=len(order)).astype(np.int64)

    def __len__(self) -> int:
        return len(self.order)

    @classmethod
    def from_store(cls, store: GraphStore, vocabulary: Vocabulary) -> FrameTable:
        return cls.from_rows(read_frame_rows(store), vocabulary)

    @classmethod
    def from_rows(cls, rows: FrameRows, vocabulary: Vocabulary) -> FrameTable:
        """The table of (frame, property, value) rows, as the store's ``frames`` query or the frame
        cache (``frame_cache.py``) gives them; frames in IRI order, repeated rows counted once.

        Why with numpy: at a million norms there are two million rows; grouping them as integer codes
        keeps the service's start to seconds. Each distinct constraint is built once."""
        if not len(rows):
            return cls({})
        strings = rows.strings
        codes = np.unique(rows.codes, axis=0)
        pairs, member = np.unique(codes[:, 1:], axis=0, return_inverse=True)
        labels = vocabulary.labels()
        constraints = [constraint(strings[p], strings[v], labels) for p, v in pairs.tolist()]
        frame_codes, frame_of_row = np.unique(codes[:, 0], return_inverse=True)
        names = [strings[c] for c in frame_codes.tolist()]
        by_name = sorted(range(len(names)), key=names.__getitem__)
        rank = np.empty(len(names), dtype=np.int64)
        rank[by_name] = np.arange(len(names))
        owner = rank[frame_of_row.reshape(-1)]
        member = member.reshape(-1)
        sort = np.argsort(owner, kind="stable")
        owner, member = owner[sort], member[sort]
        order = [names[i] for i in by_name]
        bounds = np.searchsorted(owner, np.arange(len(order) + 1)).tolist()
        member_list = member.tolist()
        frames = {
            frame: frozenset(constraints[m] for m in member_list[bounds[i] : bounds[i + 1]])
            for i, frame in enumerate(order)
        }
        table = cls.__new__(cls)
        table._lay_out(frames, order, constraints, owner, member)
        return table

    def key(self, frame: str | None) -> frozenset[tuple[str, str]]:
        """The frame's constraints as (property, value) pairs; empty for no frame or an unknown one."""
        if not frame:
            return EMPTY_KEY
        key = self._keys.get(frame)
        if key is None:
            constraints = self.frames.get(frame)
            if constraints is None:
                return EMPTY_KEY
            key = self._keys[frame] = frozenset((c.property, c.value) for c in constraints)
        return key

    def statuses(self, context: NormalizedContext) -> FrameStatuses:
        """Every frame against ``context`` at once (the same rule as :func:`match_constraints`)."""
        known = [self._slot_id[s] for s in context.known_slots if s != "other role" and s in self._slot_id]
        given = [self._value_id[v] for v in context.values() if v in self._value_id]
        met = np.isin(self._values, np.array(given, dtype=np.int64))
        contradicted = ~met & np.isin(self._slots, np.array(known, dtype=np.int64))
        missing = ~met & ~contradicted
        n = len(self.order)
        return FrameStatuses(
            excluded=np.bincount(self._owner, weights=contradicted, minlength=n) > 0,
            missing=np.bincount(self._owner, weights=missing, minlength=n).astype(np.int64),
            sizes=self.sizes,
        )

    def match(self, frame: str | None, context: NormalizedContext) -> FrameMatch:
        if frame is None or frame not in self.frames:
            return FrameMatch(None, Status.GENERAL)
        return match_constraints(frame, self.frames[frame], context)


def specificity_dag(keys: Mapping[str, frozenset[tuple[str, str]]]) -> nx.DiGraph:
    """The specificity order of some frames: an edge a -> b when b's constraints strictly include a's.

    ``keys`` maps each frame (or :data:`GENERAL`, the empty frame) to its constraints. Inclusion is
    decided for all pairs at once as a matrix product over the frames' constraint indicators, so a
    behaviour with hundreds of framed norms costs a millisecond, not a Python double loop.
    """
    nodes = list(keys)
    dag = nx.DiGraph()
    dag.add_nodes_from(nodes)
    if len(nodes) < 2:
        return dag
    universe: dict[tuple[str, str], int] = {}
    rows, cols = [], []
    for i, node in enumerate(nodes):
        for pair in keys[node]:
            rows.append(i)
            cols.append(universe.setdefault(pair, len(universe)))
    indicator = np.zeros((len(nodes), max(1, len(universe))), dtype=np.float32)
    indicator[rows, cols] = 1.0
    sizes = indicator.sum(axis=1)
    shared = indicator @ indicator.T  # shared[i, j]: constraints frames i and j have in common
    included = (shared == sizes[:, None]) & (sizes[:, None] < sizes[None, :])  # i strictly within j
    dag.add_edges_from((nodes[i], nodes[j]) for i, j in zip(*np.nonzero(included), strict=True))
    return dag


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
