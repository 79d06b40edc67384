"""The norms a context admits, and which of them defeat or conflict with which, decided lazily.

Why lazy: a page of ``GET /v1/norms`` shows twenty norms and a check looks at five per sentence, but
the graph may hold a million. Applicability of every norm is one vectorised pass over the frame table
(:meth:`FrameTable.statuses`); overrides and conflicts are then decided only for the norms an answer
actually shows, from the norms about the same behaviour (its *rivals*), over a networkx specificity
DAG of those rivals' frames. The result is the same as resolving every candidate up front:

* a norm is **defeated** by every admitted rival with a different judgment whose frame is strictly
  more specific;
* two admitted, undefeated rivals with opposite judgments are a **conflict** (their frames are then
  equal or incomparable); with a source-priority policy, the lower-ranked side is defeated by the
  other and the conflict is reported as resolved by that policy.

``NormTable`` holds what does not depend on the context (built once per store state);
``Admitted`` is one context's answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import networkx as nx
import numpy as np

from normkg.reasoning.applicability import (
    GENERAL,
    Candidate,
    Conflict,
    FrameMatch,
    FrameTable,
    Status,
    specificity_dag,
)
from normkg.reasoning.context import NormalizedContext
from normkg.reasoning.norm_index import NormIndex


def _sign(polarity: int | None) -> int:
    return 0 if polarity is None else (polarity > 0) - (polarity < 0)


class NormTable:
    """The norm index laid out as arrays against the frame table: frame, source and behaviour per norm."""

    def __init__(self, index: NormIndex, frames: FrameTable) -> None:
        self.index = index
        self.frames = frames
        n = len(index)
        self.frame_pos = np.full(n, -1, dtype=np.int64)
        self.source_names: list[str] = sorted({norm.source or "" for norm in index.norms})
        source_id = {name: i for i, name in enumerate(self.source_names)}
        self.source_pos = np.zeros(n, dtype=np.int64)
        members: dict[str, list[int]] = defaultdict(list)
        for i, norm in enumerate(index.norms):
            if norm.frame is not None and norm.frame in frames.position:
                self.frame_pos[i] = frames.position[norm.frame]
            self.source_pos[i] = source_id[norm.source or ""]
            if norm.behavior and norm.polarity is not None:
                members[norm.behavior].append(i)
        #: behaviour -> positions of the judged norms about it (the only ones that can defeat or conflict)
        self.members = {b: np.array(p, dtype=np.int64) for b, p in members.items()}
        self._dag = lru_cache(maxsize=4096)(self._behavior_dag)

    def frame(self, position: int) -> str | None:
        """The norm's frame as the table knows it (a frame missing from the table counts as none)."""
        frame_pos = int(self.frame_pos[position])
        return self.frames.order[frame_pos] if frame_pos >= 0 else None

    def dag(self, behavior: str) -> nx.DiGraph:
        """The specificity DAG of the frames of every graph norm about ``behavior`` (cached)."""
        return self._dag(behavior)

    def _behavior_dag(self, behavior: str) -> nx.DiGraph:
        frames = {self.frame(int(p)) or GENERAL for p in self.members.get(behavior, ())}
        return specificity_dag({f: self.frames.key(None if f == GENERAL else f) for f in frames})


@dataclass
class _Rival:
    norm: str
    frame: str  # GENERAL for none
    sign: int
    source: str | None


@dataclass
class Admitted:
    """The norms one context admits (graph norms as a mask, request norms as candidates), resolved lazily."""

    table: NormTable
    context: NormalizedContext
    mask: np.ndarray  # bool per graph norm: not excluded (and passing the source filter)
    missing: np.ndarray  # int per graph norm: constraints the context says nothing about
    specificity: np.ndarray  # int per graph norm: constraints of its frame
    extras: list[Candidate] = field(default_factory=list)
    extra_keys: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    source_priority: Sequence[str] = ()
    _rivals_of: dict[str, list[_Rival]] = field(default_factory=dict)
    _defeaters: dict[str, list[str]] = field(default_factory=dict)
    _outcome: dict[str, tuple[list[str], list[Conflict]]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        table: NormTable,
        context: NormalizedContext,
        *,
        extras: Sequence[Candidate] = (),
        extra_keys: dict[str, frozenset[tuple[str, str]]] | None = None,
        use_graph: bool = True,
        include_general: bool = True,
        sources: Sequence[str] = (),
        source_priority: Sequence[str] = (),
    ) -> Admitted:
        statuses = table.frames.statuses(context)
        n = len(table.index)
        framed = table.frame_pos >= 0
        where = table.frame_pos[framed]
        excluded = np.zeros(n, dtype=bool)
        excluded[framed] = statuses.excluded[where]
        missing = np.zeros(n, dtype=np.int64)
        missing[framed] = statuses.missing[where]
        specificity = np.zeros(n, dtype=np.int64)
        specificity[framed] = statuses.sizes[where]
        mask = ~excluded if use_graph else np.zeros(n, dtype=bool)
        if not include_general:
            mask &= framed
        if sources:
            chosen = set(sources)
            wanted = [i for i, name in enumerate(table.source_names) if name in chosen]
            mask &= np.isin(table.source_pos, np.array(wanted, dtype=np.int64))
        kept = [c for c in extras if c.match.status is not Status.EXCLUDED]
        return cls(
            table, context, mask, missing, specificity, kept, dict(extra_keys or {}), tuple(source_priority)
        )

    @property
    def total(self) -> int:
        return int(self.mask.sum()) + len(self.extras)

    def positions(self) -> np.ndarray:
        return np.flatnonzero(self.mask)

    def candidate(self, position: int) -> Candidate:
        """A graph norm as a candidate, with its frame match and what defeats it."""
        norm = self.table.index.norms[position]
        frame = self.table.frame(position)
        match = self.table.frames.match(frame, self.context) if frame else FrameMatch(None, Status.GENERAL)
        cand = Candidate(norm.norm, norm.text, norm.polarity, norm.behavior, norm.source, frame, match)
        cand.defeated_by = list(self.defeated_by(cand))
        return cand

    # ---- rivals: the admitted, judged norms about the same behaviour ------------------------------
    def _rivals(self, behavior: str | None) -> list[_Rival]:
        if not behavior:
            return []
        if behavior not in self._rivals_of:
            self._rivals_of[behavior] = self._find_rivals(behavior)
        return self._rivals_of[behavior]

    def _find_rivals(self, behavior: str) -> list[_Rival]:
        out: list[_Rival] = []
        norms = self.table.index.norms
        for p in self.table.members.get(behavior, np.zeros(0, dtype=np.int64)):
            if self.mask[p]:
                n = norms[int(p)]
                out.append(_Rival(n.norm, self.table.frame(int(p)) or GENERAL, _sign(n.polarity), n.source))
        for c in self.extras:
            if c.behavior == behavior and c.polarity is not None:
                out.append(_Rival(c.norm, c.frame or GENERAL, _sign(c.polarity), c.source))
        return out

    def _order(self, behavior: str, rivals: list[_Rival]) -> nx.DiGraph:
        dag = self.table.dag(behavior)
        if all(r.frame in dag for r in rivals):
            return dag
        keys = {r.frame: self.extra_keys.get(r.frame) or self.table.frames.key(r.frame) for r in rivals}
        keys = {f: (k if f != GENERAL else frozenset()) for f, k in keys.items()}
        return specificity_dag(keys)

    def _defeaters_of(
        self, norm: str, frame: str, sign: int, behavior: str, rivals: list[_Rival]
    ) -> list[str]:
        if norm not in self._defeaters:
            dag = self._order(behavior, rivals)
            self._defeaters[norm] = [
                r.norm for r in rivals if r.sign != sign and r.frame != frame and dag.has_edge(frame, r.frame)
            ]
        return self._defeaters[norm]

    def _resolve(self, cand: Candidate) -> tuple[list[str], list[Conflict]]:
        """What defeats ``cand`` and which conflicts it is a side of (cached per norm)."""
        if cand.norm in self._outcome:
            return self._outcome[cand.norm]
        if not cand.behavior or cand.polarity is None:
            return [], []
        behavior = cand.behavior
        rivals = self._rivals(behavior)
        frame, sign = cand.frame or GENERAL, _sign(cand.polarity)
        defeated_by = list(self._defeaters_of(cand.norm, frame, sign, behavior, rivals))
        conflicts: list[Conflict] = []
        if not defeated_by:
            rank = {name: i for i, name in enumerate(self.source_priority)}
            for r in rivals:
                if r.norm == cand.norm or r.sign * sign >= 0:
                    continue
                if self._defeaters_of(r.norm, r.frame, r.sign, behavior, rivals):
                    continue
                policy = None
                mine, theirs = rank.get(cand.source or ""), rank.get(r.source or "")
                if mine is not None and theirs is not None and mine != theirs:
                    winner, loser = (cand.source, r.source) if mine < theirs else (r.source, cand.source)
                    policy = f"source priority: {winner} over {loser}"
                    if theirs < mine:
                        defeated_by.append(r.norm)
                sides = (cand.norm, r.norm) if cand.norm < r.norm else (r.norm, cand.norm)
                conflicts.append(Conflict(behavior, sides, policy))
        self._outcome[cand.norm] = (defeated_by, conflicts)
        return defeated_by, conflicts

    def defeated_by(self, cand: Candidate) -> list[str]:
        return self._resolve(cand)[0]

    def conflicts(self, cand: Candidate) -> list[Conflict]:
        return self._resolve(cand)[1]

    def defeats(self, cand: Candidate) -> list[Candidate]:
        """The admitted norms ``cand`` defeats (its defeated alternatives), as candidates."""
        if not cand.behavior or cand.polarity is None:
            return []
        out: list[Candidate] = []
        by_norm = {c.norm: c for c in self.extras}
        for r in self._rivals(cand.behavior):
            if r.norm == cand.norm:
                continue
            other = by_norm.get(r.norm) or self.candidate(self.table.index.position[r.norm])
            if cand.norm in self.defeated_by(other):
                other.defeated_by = list(self.defeated_by(other))
                out.append(other)
        return out
