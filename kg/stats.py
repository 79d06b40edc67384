"""Counts per source and per class: what ``normkg stats`` and ``GET /v1/sources`` report."""

from __future__ import annotations

from typing import Any

from normkg.kg.store import GraphStore
from normkg.ontology.namespace import NKG


def graph_stats(store: GraphStore) -> dict[str, Any]:
    """``{"triples", "sources": {name: {"rows", "rejected", "triples"}}, "classes": {name: n}}``."""
    sources = {
        name: {"rows": info.rows_read, "rejected": info.rows_rejected, "triples": info.triples}
        for name, info in store.sources().items()
        if not name.startswith("_")
    }
    classes: dict[str, int] = {}
    for row in store.query("class_counts"):
        cls = row["class"]
        if cls in NKG:
            classes[NKG.local_name(cls.value)] = int(row["n"].value)
    return {"triples": store.count(), "sources": sources, "classes": dict(sorted(classes.items()))}
