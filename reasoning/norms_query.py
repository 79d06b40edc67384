"""The norms that hold in a context: applicability, overrides, conflicts and ranking, one page at a time.

This is what ``GET /v1/norms`` and ``normkg norms`` answer. Every norm's frame is decided against the
context in one vectorised pass; the page is then taken in rank order -- undefeated before defeated,
confident (fewest missing facts) and specific first, then by IRI; or, with a free-text ``q``, by
MiniLM similarity to the norm text -- and overrides are resolved only for the norms it walks past
(see ``overrides``), so the cost of a page does not grow with every norm of the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from normkg.reasoning.applicability import Candidate, Conflict
from normkg.reasoning.context import NormalizedContext
from normkg.reasoning.overrides import Admitted, NormTable
from normkg.reasoning.ranking import in_order

#: bits of the integer rank key: missing facts | (inverted) specificity | position in the index
_POSITION_BITS = 32
_SPECIFICITY_BITS = 12


@dataclass
class NormsAnswer:
    total: int
    items: list[Candidate]
    conflicts: list[Conflict] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)


def _rank(admitted: Admitted, positions: np.ndarray, scores: np.ndarray | None) -> np.ndarray:
    """A sort key per admitted graph norm, smaller first; ties go to the lower position (the IRI order)."""
    specificity = admitted.specificity[positions]
    if scores is not None:
        return -(scores + 0.05 * specificity)
    top = (1 << _SPECIFICITY_BITS) - 1
    return (
        (admitted.missing[positions] << (_SPECIFICITY_BITS + _POSITION_BITS))
        | ((top - np.minimum(specificity, top)) << _POSITION_BITS)
        | positions
    )


def norms_for_context(
    table: NormTable,
    context: NormalizedContext,
    *,
    query_vector: np.ndarray | None = None,
    sources: Sequence[str] = (),
    limit: int = 20,
    offset: int = 0,
    source_priority: Sequence[str] = (),
    include_general: bool = True,
) -> NormsAnswer:
    admitted = Admitted.build(
        table, context, include_general=include_general, sources=sources, source_priority=source_priority
    )
    positions = admitted.positions()
    sims = (table.index.retrieval @ query_vector)[positions] if query_vector is not None else None
    keys = _rank(admitted, positions, sims)
    wanted = offset + limit
    # Walk in rank order, deciding defeat on the way; defeated norms go after every undefeated one, so
    # a page is final once it is filled with undefeated norms or every admitted norm has been seen.
    first = min(len(positions), max(wanted * 2, 64))
    while True:
        ordered = in_order(keys, positions, first)
        standing: list[Candidate] = []
        defeated: list[Candidate] = []
        for p in ordered:
            cand = admitted.candidate(int(p))
            (defeated if cand.defeated else standing).append(cand)
            if len(standing) >= wanted:
                break
        if len(standing) >= wanted or first >= len(positions):
            break
        first = min(len(positions), first * 4)
    items = (standing + defeated)[offset:wanted]
    scores: dict[str, float] = {}
    if query_vector is not None:
        retrieval = table.index.retrieval
        scores = {c.norm: float(retrieval[table.index.position[c.norm]] @ query_vector) for c in items}
    conflicts: dict[tuple[str, str], Conflict] = {}
    for c in items:
        for conflict in admitted.conflicts(c):
            conflicts.setdefault(conflict.sides, conflict)
    return NormsAnswer(admitted.total, items, list(conflicts.values()), scores)
