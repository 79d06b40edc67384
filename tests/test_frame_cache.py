"""The frame cache: what the service reads at start instead of every frame constraint from the store."""

from __future__ import annotations

import csv
import json
import logging
import os
import random
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from normkg.ingest.loaders.norm_pack import NormPackLoader
from normkg.ingest.loaders.normbank import NormBankLoader
from normkg.ingest.pipeline import ingest_source, load_ontology
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.kg.terms import Bindings, Row
from normkg.reasoning.applicability import Constraint, FrameTable, constraint
from normkg.reasoning.cache_files import KEEP, save_arrays, touch
from normkg.reasoning.context import Context, normalize
from normkg.reasoning.frame_cache import FrameRows, cached_frame_rows, frames_path, read_frame_rows
from normkg.reasoning.vocabulary import Vocabulary

DATA = Path(__file__).parent / "data"


@pytest.fixture
def store(tmp_path: Path) -> OxigraphStore:
    opened = OxigraphStore(tmp_path / "store")
    load_ontology(opened)
    ingest_source(opened, NormPackLoader(DATA / "packs" / "example.yaml"))
    return opened


def written(cache: Path) -> list[Path]:
    return sorted(cache.glob("frames-*.npz"))


class CountingStore(OxigraphStore):
    """The real embedded store, counting how often the frames are read from it."""

    frame_reads = 0

    def query(self, name: str, params: Bindings | None = None) -> list[Row]:
        self.frame_reads += name == "frames"
        return super().query(name, params)


def test_the_cached_rows_are_the_stores_rows_and_build_the_same_table(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "store")
    ingest_source(store, NormPackLoader(DATA / "packs" / "example.yaml"))
    cache = tmp_path / "cache"
    fresh = read_frame_rows(store)
    assert len(fresh), "the example pack has framed norms"
    assert cached_frame_rows(store, cache).rows() == fresh.rows()  # read from the store, and written
    [path] = written(cache)
    reads = store.frame_reads
    assert cached_frame_rows(store, cache).rows() == fresh.rows()  # read from the file, not the store
    assert store.frame_reads == reads
    vocabulary = Vocabulary.from_store(store)
    from_file = FrameTable.from_rows(cached_frame_rows(store, cache), vocabulary)
    from_store = FrameTable.from_store(store, vocabulary)
    assert from_file.frames == from_store.frames
    assert written(cache) == [path]


SECOND_PACK = """name: second-pack
title: A second pack
license: CC0-1.0
citation: test
norms:
  - id: quiet-library
    text: It is rude to talk loudly in a library.
    judgment: bad
    behavior: talking loudly
    frame:
      country: FR
      setting: library
"""


def test_a_changed_store_gets_new_rows_never_the_stale_file(store: OxigraphStore, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = cached_frame_rows(store, cache)
    pack = tmp_path / "second.yaml"
    pack.write_text(SECOND_PACK, encoding="utf-8")
    ingest_source(store, NormPackLoader(pack))  # a new framed norm
    after = cached_frame_rows(store, cache).rows()
    assert after == read_frame_rows(store).rows()
    assert set(before.rows()) < set(after)
    assert len(written(cache)) == 2


def test_an_unreadable_cache_file_is_rebuilt_not_trusted(
    store: OxigraphStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    rows = cached_frame_rows(store, cache).rows()
    [path] = written(cache)
    path.write_bytes(path.read_bytes()[:100])  # cut short, as by a full disk
    with caplog.at_level(logging.WARNING):
        assert cached_frame_rows(store, cache).rows() == rows
    assert "cannot be read" in caplog.text
    assert frames_path(cache, path.stem.removeprefix("frames-")) == path
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert cached_frame_rows(store, cache).rows() == rows  # and the file was written again, whole
    assert "cannot be read" not in caplog.text
    # a string table that repeats a string would misalign frames and constraints: refused too
    with np.load(path) as data:
        codes = data["codes"]
    strings = [*json.loads(data_strings(path)), "urn:x"]
    strings[-1] = strings[0]
    save_arrays(path, codes=codes, strings=np.frombuffer(json.dumps(strings).encode(), dtype=np.uint8))
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert cached_frame_rows(store, cache).rows() == rows
    assert "repeats a string" in caplog.text


def data_strings(path: Path) -> str:
    with np.load(path) as data:
        return bytes(data["strings"]).decode("utf-8")


def test_old_cache_versions_are_pruned_and_other_kinds_left_alone(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    index = cache / "norm-index-aaaa.npz"
    index.write_bytes(b"another kind of cache")
    partial = cache / "frames-zzzz.123.tmp.npz"
    partial.write_bytes(b"a write under way")
    crashed = cache / "frames-yyyy.456.tmp.npz"
    crashed.write_bytes(b"left by a crash")
    os.utime(crashed, (1_000_000, 1_000_000))
    saved = []
    for version in range(5):
        path = frames_path(cache, f"v{version}")
        save_arrays(path, codes=np.zeros((0, 3), dtype=np.int64))
        os.utime(path, (1_000_000 + version, 1_000_000 + version))  # distinct ages on any filesystem
        saved.append(path)
    assert written(cache) == sorted([*saved[-KEEP:], partial])
    assert index.exists()
    # reading an old version marks it used: the next write prunes another one
    oldest_kept = saved[-KEEP]
    touch(oldest_kept)
    save_arrays(frames_path(cache, "v5"), codes=np.zeros((0, 3), dtype=np.int64))
    assert oldest_kept.exists() and not saved[-KEEP + 1].exists()


def framed_pack(path: Path, n: int, seed: int = 7) -> Path:
    """A CSV norm pack of ``n`` norms with random frames (some repeated, some sharing constraints)."""
    rng = random.Random(seed)
    columns = ["name", "id", "text", "judgment", "behavior", "country", "setting", "role", "attributes"]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for i in range(n):
            setting = rng.choice(["restaurant", "temple", "office", "school", "hospital"])
            writer.writerow(
                [
                    "framed",
                    f"n{i}",
                    f"It is rude to talk loudly at the {setting} ({i}).",
                    rng.choice(["bad", "good"]),
                    "talking loudly",
                    rng.choice(["", "JP", "FR", "US"]),
                    setting,
                    rng.choice(["", "customer", "guest", "worker", "student"]),
                    rng.choice(["", "age bracket=teenager", "age bracket=adult"]),
                ]
            )
    return path


def test_the_table_built_from_rows_is_the_table_built_frame_by_frame(tmp_path: Path) -> None:
    """``from_rows`` groups integer codes with numpy; the constructor takes frames one by one. Over the
    example pack, the NormBank slice's vocabulary and a pack of 400 random frames both give the same
    frames, order, keys and statuses."""
    store = OxigraphStore(tmp_path / "store")
    load_ontology(store)
    ingest_source(store, NormPackLoader(DATA / "packs" / "example.yaml"))
    ingest_source(store, NormBankLoader(DATA / "normbank"))
    ingest_source(store, NormPackLoader(framed_pack(tmp_path / "framed.csv", 400)))
    vocabulary = Vocabulary.from_store(store)
    rows = read_frame_rows(store)
    labels = vocabulary.labels()
    one_by_one: dict[str, set[Constraint]] = defaultdict(set)
    for row in rows.rows():
        one_by_one[row.frame].add(constraint(row.property, row.value, labels))
    slow = FrameTable({frame: frozenset(cons) for frame, cons in sorted(one_by_one.items())})
    fast = FrameTable.from_rows(rows, vocabulary)
    assert len(fast) > 100 and fast.order == slow.order and fast.frames == slow.frames
    assert all(fast.key(f) == slow.key(f) for f in fast.order) and fast.key("urn:no-frame") == frozenset()
    repeated = FrameTable.from_rows(
        FrameRows(rows.strings, np.concatenate([rows.codes[::-1], rows.codes])), vocabulary
    )
    assert repeated.frames == fast.frames and repeated.order == fast.order
    assert (repeated.sizes == slow.sizes).all()
    settings = sorted({c.label for cons in fast.frames.values() for c in cons if c.slot == "setting"})
    roles = sorted({c.label for cons in fast.frames.values() for c in cons if c.slot == "actor role"})
    contexts = [
        Context(),
        Context(country="JP", setting="restaurant", role="customer"),
        *(Context(setting=s) for s in settings[:5]),
        *(Context(setting=s, role=r) for s, r in zip(settings[5:10], roles, strict=False)),
    ]
    for context in contexts:
        normalized = normalize(context, vocabulary)
        for table in (fast, repeated):
            a, b = table.statuses(normalized), slow.statuses(normalized)
            assert (a.excluded == b.excluded).all() and (a.missing == b.missing).all(), context
            assert (a.sizes == b.sizes).all()
    assert any(fast.statuses(normalize(c, vocabulary)).excluded.any() for c in contexts)
    nothing = FrameTable.from_rows(FrameRows([], np.zeros((0, 3), dtype=np.int64)), vocabulary)
    assert len(nothing) == 0 and not nothing.statuses(normalize(Context(), vocabulary)).excluded.any()
