"""The store's frame constraints cached on disk, keyed by the store's content.

Why: reading every frame constraint back from the store is most of a service start on a large graph
(the SPARQL read of 218k constraints takes 4.8 s at 127k norms, ten times that at 1.27M), and the
rows only change when a source does. Like the norm index, the file name is a digest of every
source's content key, so a changed store never reads a stale file; ``normkg ingest`` writes it.

The file holds each distinct string once (UTF-8 JSON) and the rows as integer triples, so a million
constraints over a few hundred thousand frames stay tens of megabytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from normkg.kg.queries import named_query
from normkg.kg.store import GraphStore
from normkg.reasoning.cache_files import content_digest, read_arrays, read_consistently, save_arrays

# bump when the rows or the file layout change
FRAMES_VERSION = 1


class FrameRow(NamedTuple):
    frame: str
    property: str
    value: str


@dataclass(frozen=True, eq=False)
class FrameRows:
    """Frame constraint rows as integer triples (frame, property, value) into a table of distinct
    strings: what the cache file holds and ``FrameTable.from_rows`` reads, with no Python object per
    row (a million-norm graph has two million rows)."""

    strings: list[str]
    codes: np.ndarray  # (rows, 3) int64

    @classmethod
    def encode(cls, rows: Iterable[tuple[str, str, str]]) -> FrameRows:
        strings: dict[str, int] = {}
        flat = [strings.setdefault(part, len(strings)) for row in rows for part in row]
        return cls(list(strings), np.array(flat, dtype=np.int64).reshape(-1, 3))

    def __len__(self) -> int:
        return len(self.codes)

    def rows(self) -> list[FrameRow]:
        s = self.strings
        return [FrameRow(s[a], s[b], s[c]) for a, b, c in self.codes.tolist()]


def frames_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"frames-{key}.npz"


def read_frame_rows(store: GraphStore) -> FrameRows:
    rows = store.query("frames")
    return FrameRows.encode((row["frame"].value, row["property"].value, row["value"].value) for row in rows)


def cached_frame_rows(store: GraphStore, cache_dir: Path) -> FrameRows:
    """The store's frame rows: from the cache file for the store's current content, else read from the
    store and written there (a file that cannot be read is rebuilt, never trusted)."""
    cached = read_arrays(frames_path(cache_dir, _key(store)), _rows)
    if cached is not None:
        return cached
    rows, key = read_consistently(store, lambda: _key(store), lambda: read_frame_rows(store))
    if key is not None:
        _save(frames_path(cache_dir, key), rows)
    return rows


def _key(store: GraphStore) -> str:
    """The store's content, the layout version and the query that reads the rows (on every backend)."""
    queries = named_query("frames", "rq") + named_query("frames", "cypher")
    digest = hashlib.sha256(queries.encode()).hexdigest()[:16]
    return content_digest(store, f"frames-v{FRAMES_VERSION}", digest)


def _save(path: Path, rows: FrameRows) -> None:
    table = np.frombuffer(json.dumps(rows.strings).encode("utf-8"), dtype=np.uint8)
    save_arrays(path, codes=rows.codes, strings=table)


def _rows(data: Mapping[str, np.ndarray]) -> FrameRows:
    strings: list[str] = json.loads(data["strings"].tobytes().decode("utf-8"))
    codes = np.asarray(data["codes"], dtype=np.int64)
    if codes.ndim != 2 or codes.shape[1] != 3:
        raise ValueError(f"rows of shape {codes.shape}, expected (n, 3)")
    if len(codes) and (codes.min() < 0 or codes.max() >= len(strings)):
        raise ValueError(f"string codes outside the table of {len(strings)}")
    if len(set(strings)) != len(strings):
        raise ValueError("the string table repeats a string")
    return FrameRows(strings, codes)
