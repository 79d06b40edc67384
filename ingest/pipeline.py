"""Ingest: run loaders over the data folder and swap each source's graph into the store.

Each source is mapped in memory, then handed to ``store.replace``, which loads it into a staging
version and swaps it in atomically; a source whose inputs, loader and ontology are unchanged is
skipped (its content key matches), so re-running ingest is cheap and leaves the store as it was.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from normkg.errors import SourceError
from normkg.ingest.base import Loader, RowIssue
from normkg.ingest.registry import LOADERS, loader_class
from normkg.kg.store import GraphStore
from normkg.kg.terms import Triple
from normkg.ontology.namespace import ontology_text

ONTOLOGY_SOURCE = "_ontology"


@dataclass
class SourceReport:
    """The line of the ingest table for one source."""

    source: str
    rows_read: int = 0
    rows_rejected: int = 0
    triples: int = 0
    seconds: float = 0.0
    unchanged: bool = False
    issues: list[RowIssue] = field(default_factory=list)


Progress = Callable[[str, str], None]


def available_sources(data_dir: Path) -> list[str]:
    """The sources whose folder exists under ``data_dir``, in registry order."""
    return [entry.name for entry in LOADERS if (data_dir / entry.folder).is_dir()]


def load_ontology(store: GraphStore, force: bool = False) -> SourceReport:
    """Keep the ontology itself in the store, so queries can read labels, scales and hierarchies."""
    start = time.perf_counter()
    text = ontology_text()
    triples: list[Triple] = [
        (t.subject, t.predicate, t.object) for t in ox.parse(text.encode("utf-8"), ox.RdfFormat.TURTLE)
    ]
    key = hashlib.sha256(text.encode()).hexdigest()
    result = store.replace(ONTOLOGY_SOURCE, triples, content_key=key, skip_if_unchanged=not force)
    return SourceReport(ONTOLOGY_SOURCE, 0, 0, result.triples, time.perf_counter() - start, result.unchanged)


def ingest_source(
    store: GraphStore, loader: Loader, *, force: bool = False, progress: Progress | None = None
) -> SourceReport:
    start = time.perf_counter()
    if progress:
        progress(loader.name, "reading")
    key = loader.content_key()
    current = store.sources().get(loader.name)
    if not force and current is not None and current.content_key == key:
        return SourceReport(
            loader.name,
            current.rows_read,
            current.rows_rejected,
            current.triples,
            time.perf_counter() - start,
            unchanged=True,
        )
    result = loader.run()
    if progress:
        progress(loader.name, "writing")
    replaced = store.replace(
        loader.name,
        result.triples,
        content_key=key,
        rows_read=result.rows_read,
        rows_rejected=result.rows_rejected,
        skip_if_unchanged=not force,
    )
    return SourceReport(
        loader.name,
        result.rows_read,
        result.rows_rejected,
        replaced.triples,
        time.perf_counter() - start,
        replaced.unchanged,
        result.issues,
    )


def ingest(
    store: GraphStore,
    data_dir: Path,
    sources: Sequence[str] | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> list[SourceReport]:
    """Ingest ``sources`` (default: every source found under ``data_dir``) into ``store``."""
    names = list(sources) if sources else available_sources(data_dir)
    if not names:
        raise SourceError(f"no known source folder under {data_dir}")
    # Resolve every loader and folder before writing anything: a typo must not half-run an ingest.
    loaders = []
    for name in names:
        cls = loader_class(name)
        folder = data_dir / cls.folder_name()
        if not folder.is_dir():
            raise SourceError(f"{name}: no folder {folder}", hint="check NORMKG_DATA_DIR")
        loaders.append(cls(folder))
    reports = [load_ontology(store, force)]
    for loader in loaders:
        reports.append(ingest_source(store, loader, force=force, progress=progress))
    return reports
