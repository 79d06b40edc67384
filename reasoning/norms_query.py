"""The norms that hold in a context: applicability over the frame table, overrides, conflicts, ranking.

This is what ``GET /v1/norms`` and ``normkg norms`` answer. Framed norms are decided over the frame
table (few frames, many norms); general norms (no frame) hold everywhere and come after the
specific ones. A free-text ``q`` ranks by MiniLM similarity to the norm text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from normkg.reasoning.applicability import (
    Candidate,
    Conflict,
    FrameMatch,
    FrameTable,
    Status,
    rank_key,
    resolve,
)
from normkg.reasoning.context import NormalizedContext
from normkg.reasoning.norm_index import IndexedNorm, NormIndex


@dataclass
class NormsAnswer:
    total: int
    items: list[Candidate]
    conflicts: list[Conflict] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)


def candidates_for(
    index: NormIndex, frames: FrameTable, context: NormalizedContext, *, include_general: bool = True
) -> list[Candidate]:
    """Every indexed norm that is not excluded by the context, with its frame match."""
    matches = {frame: frames.match(frame, context) for frame in frames.frames}
    out: list[Candidate] = []
    for norm in index.norms:
        match = matches.get(norm.frame) if norm.frame else frames.match(None, context)
        if match is None:  # a frame the table does not know: treat as general
            match = frames.match(None, context)
        if match.status is Status.EXCLUDED or (match.status is Status.GENERAL and not include_general):
            continue
        out.append(candidate(norm, match))
    return out


def candidate(norm: IndexedNorm, match: FrameMatch) -> Candidate:
    return Candidate(norm.norm, norm.text, norm.polarity, norm.behavior, norm.source, norm.frame, match)


def norms_for_context(
    index: NormIndex,
    frames: FrameTable,
    context: NormalizedContext,
    *,
    query_vector: np.ndarray | None = None,
    sources: Sequence[str] = (),
    limit: int = 20,
    offset: int = 0,
    source_priority: Sequence[str] = (),
    include_general: bool = True,
) -> NormsAnswer:
    cands = candidates_for(index, frames, context, include_general=include_general)
    if sources:
        wanted = set(sources)
        cands = [c for c in cands if c.source in wanted]
    conflicts = resolve(cands, frames, source_priority)
    scores: dict[str, float] = {}
    if query_vector is not None and cands:
        positions = np.array([index.position[c.norm] for c in cands])
        sims = index.retrieval[positions] @ query_vector
        scores = {c.norm: float(s) for c, s in zip(cands, sims, strict=True)}
        cands.sort(key=lambda c: (int(c.defeated), -scores[c.norm] - 0.05 * c.match.specificity, c.norm))
    else:
        cands.sort(key=rank_key)
    return NormsAnswer(len(cands), cands[offset : offset + limit], conflicts, scores)
