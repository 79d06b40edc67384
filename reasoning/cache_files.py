"""Files of derived state (norm index, frame rows) in the cache folder: naming, writing, pruning.

Why one place: both caches are keyed by a digest of the store's content, so every change of a source
leaves a new file behind. Without pruning, a service that ingests daily fills its disk (the norm index
of the real graph is 95 MB per version); with it, the newest few versions stay, so a rollback or a
second store sharing the folder still starts warm.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from normkg.kg.store import GraphStore

log = logging.getLogger(__name__)
T = TypeVar("T")

#: versions of each cache kind kept in the folder (the most recently written or read)
KEEP = 3
TMP_SUFFIX = ".tmp.npz"
#: a temporary file this old is left from a crash, not a write under way
STALE_TMP_S = 3600.0


def content_digest(store: GraphStore, *parts: str) -> str:
    """A digest of ``parts`` and every source's content key and size: a cache key for derived state."""
    keyed = list(parts)
    for name, info in sorted(store.sources().items()):
        keyed.append(f"{name}:{info.content_key}:{info.triples}")
    return hashlib.sha256("\n".join(keyed).encode()).hexdigest()[:20]


def save_arrays(path: Path, **arrays: Any) -> Path:
    """Write ``arrays`` to the .npz file ``path`` atomically (a reader never sees half a file), then
    prune older files of the same kind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # one temporary name per process: two writers of the same key never write into one file
    tmp = path.with_name(f"{path.stem}.{os.getpid()}{TMP_SUFFIX}")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    prune(path)
    return path


def read_arrays(path: Path, parse: Callable[[Mapping[str, np.ndarray]], T]) -> T | None:
    """``parse`` of the arrays in ``path``, or None when the file is missing or cannot be read (cut
    short, pruned by another process meanwhile, an older layout): it is then built again, never
    trusted. A file read is marked used, so pruning keeps it."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            value = parse(data)
    except (OSError, ValueError, KeyError, IndexError, TypeError, zipfile.BadZipFile) as exc:
        log.warning("cache file %s cannot be read (%s): it is built again", path, exc)
        return None
    touch(path)
    return value


def read_consistently(
    store: GraphStore, key: Callable[[], str], read: Callable[[], T]
) -> tuple[T, str | None]:
    """``read()`` and the cache key to file its result under, or None for the key: when the store
    changed during the read (the result may then belong to either version, and filed under one key
    it would be served for the other), or when the store is in memory (what is derived from it dies
    with it; a file would only push real caches out of the folder)."""
    before = key()
    value = read()
    if not store.capabilities.persistent:
        return value, None
    return value, before if key() == before else None


def touch(path: Path) -> None:
    """Mark ``path`` as used now, so that pruning keeps it (it deletes the least recently used)."""
    with contextlib.suppress(OSError):  # removed meanwhile, or a read-only cache folder
        os.utime(path)


def prune(newest: Path, keep: int = KEEP) -> list[Path]:
    """Delete all but the ``keep`` most recently used files of ``newest``'s kind (the name up to its
    last '-'), and temporary files of that kind left by a crash an hour ago or more; ``newest`` itself
    is always kept. Returns the deleted files."""
    kind = newest.name.rsplit("-", 1)[0]
    aged: list[tuple[float, Path]] = []
    stale: list[Path] = []
    for other in newest.parent.glob(f"{kind}-*.npz"):
        if other == newest:
            continue
        try:
            used = other.stat().st_mtime
        except OSError:  # removed meanwhile by another process
            continue
        if other.name.endswith(TMP_SUFFIX):
            if used < time.time() - STALE_TMP_S:  # younger ones may be another process's write under way
                stale.append(other)
        else:
            aged.append((used, other))
    aged.sort(reverse=True)
    deleted: list[Path] = []
    for old in [*stale, *(p for _, p in aged[max(keep - 1, 0) :])]:
        try:
            old.unlink()
            deleted.append(old)
        except OSError as exc:  # another process may have removed it, or hold it on Windows
            log.warning("cannot remove the old cache file %s: %s", old, exc)
    return deleted
