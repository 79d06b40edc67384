"""The norm index file: what the service reads at start instead of every norm from the store."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from normkg.ingest.loaders.norm_pack import NormPackLoader
from normkg.ingest.pipeline import ingest_source, load_ontology
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.reasoning.judge import NormJudge
from normkg.reasoning.norm_index import NormIndex

DATA = Path(__file__).parent / "data"


@pytest.fixture
def index() -> NormIndex:
    store = OxigraphStore(None)
    load_ontology(store)
    ingest_source(store, NormPackLoader(DATA / "packs" / "example.yaml"))
    norms = NormIndex.read_norms(store)
    rng = np.random.default_rng(3)
    retrieval = rng.standard_normal((len(norms), 8)).astype(np.float32)
    judge = rng.standard_normal((len(norms), 12)).astype(np.float32)
    return NormIndex(norms, retrieval, judge, "k1")


def test_the_index_comes_back_from_its_file_as_it_was_saved(index: NormIndex, tmp_path: Path) -> None:
    assert any(n.frame for n in index.norms) and any(n.frame is None for n in index.norms)
    assert any(n.polarity is None or n.polarity < 0 for n in index.norms)
    path = index.save(tmp_path)
    assert path == NormIndex.path(tmp_path, "k1")
    loaded = NormIndex.load(tmp_path, "k1")
    assert loaded is not None and loaded.norms == index.norms and loaded.key == "k1"
    assert np.array_equal(loaded.retrieval, index.retrieval) and np.array_equal(loaded.judge, index.judge)
    assert loaded.position == index.position
    assert NormIndex.load(tmp_path, "another-key") is None


def test_an_index_file_that_cannot_be_read_is_not_trusted(
    index: NormIndex, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = index.save(tmp_path)
    assert path is not None
    path.write_bytes(path.read_bytes()[:200])  # cut short
    with caplog.at_level(logging.WARNING):
        assert NormIndex.load(tmp_path, "k1") is None
    assert "cannot be read" in caplog.text
    # a file whose norm list and vectors disagree (written by another layout) is refused too
    NormIndex(index.norms[:-1], index.retrieval, index.judge, "k2").save(tmp_path)
    assert NormIndex.load(tmp_path, "k2") is None
    assert NormIndex(index.norms, index.retrieval, index.judge, None).save(tmp_path) is None
    # fewer judge vectors than norms, or a norm column shorter than the others
    NormIndex(index.norms, index.retrieval, index.judge[:-1], "k3").save(tmp_path)
    assert NormIndex.load(tmp_path, "k3") is None
    path = NormIndex(index.norms, index.retrieval, index.judge, "k4").save(tmp_path)
    assert path is not None
    with np.load(path) as data:
        arrays = dict(data)
    columns = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    columns["text"] = columns["text"][:-1]
    arrays["meta"] = np.frombuffer(json.dumps(columns).encode("utf-8"), dtype=np.uint8)
    np.savez(path, **arrays)
    assert NormIndex.load(tmp_path, "k4") is None


def test_an_in_memory_store_leaves_no_index_file(index: NormIndex, tmp_path: Path) -> None:
    store = OxigraphStore(None)
    load_ontology(store)
    ingest_source(store, NormPackLoader(DATA / "packs" / "example.yaml"))
    built = NormIndex.load_or_build(store, NormJudge.load(), tmp_path / "cache")
    assert len(built) == len(index)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
