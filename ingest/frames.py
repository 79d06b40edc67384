"""Frames: the cultural frame a norm holds in, minted from its constraints.

A frame's IRI is a hash of its sorted constraints, so two norms with the same constraints share one
frame node and the specificity order (a frame with a superset of another's constraints is more
specific) can be computed once over frames rather than over norms.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyoxigraph as ox

from normkg.ingest.base import RowTriples
from normkg.ontology.namespace import NKG, mint

#: the Frame properties that state constraints, in a fixed order
FRAME_PROPERTIES: tuple[ox.NamedNode, ...] = (
    NKG.country,
    NKG.region,
    NKG.setting,
    NKG.actorRole,
    NKG.otherRole,
    NKG.actorAttribute,
    NKG.otherAttribute,
    NKG.environment,
    NKG.actorAlsoDoing,
)


def frame_node(constraints: Iterable[tuple[ox.NamedNode, ox.NamedNode]]) -> ox.NamedNode | None:
    """The frame IRI for a set of (property, value) constraints; None for no constraint (general)."""
    pairs = sorted({(p.value, o.value) for p, o in constraints})
    if not pairs:
        return None
    digest = hashlib.sha1("\n".join(f"{p} {o}" for p, o in pairs).encode("utf-8")).hexdigest()[:24]
    return mint("frame", digest)


def add_frame(out: RowTriples, constraints: list[tuple[ox.NamedNode, ox.NamedNode]]) -> ox.NamedNode | None:
    """Assert the frame of ``constraints`` on this row and return it (None when there are none)."""
    for prop, _ in constraints:
        if prop not in FRAME_PROPERTIES:
            raise ValueError(f"{prop} is not a frame property")
    node = frame_node(constraints)
    if node is None:
        return None
    out.entity(node, NKG.Frame)
    unique = {(p.value, o.value): (p, o) for p, o in constraints}
    for prop, value in unique.values():
        out.add(node, prop, value)
    out.add(node, NKG.constraintCount, ox.Literal(len(unique)))
    return node
