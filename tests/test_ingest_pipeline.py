"""Ingest end to end on small real slices: idempotent, atomic per source, bad rows reported not fatal."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from normkg.errors import SourceError
from normkg.ingest.pipeline import available_sources, ingest
from normkg.kg.oxigraph_store import OxigraphStore


@pytest.fixture
def data_dir(tmp_path: Path, test_data: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(test_data / "moral-stories", root / "moral-stories")
    return root


def _norm_count(store: OxigraphStore) -> int:
    rows = store.select("SELECT (COUNT(?n) AS ?c) WHERE { ?n a nkg:Norm }")
    return int(rows[0]["c"].value)  # type: ignore[union-attr]


def test_only_present_folders_are_sources(data_dir: Path) -> None:
    assert available_sources(data_dir) == ["moral-stories"]


def test_ingest_twice_gives_the_same_triples(data_dir: Path, disk_store: OxigraphStore) -> None:
    first = ingest(disk_store, data_dir)
    count = disk_store.count()
    second = ingest(disk_store, data_dir)
    assert disk_store.count() == count
    assert [r.unchanged for r in second] == [True, True]
    forced = ingest(disk_store, data_dir, force=True)
    assert not forced[1].unchanged and disk_store.count() == count
    lines = (data_dir / "moral-stories" / "dev.jsonl").read_text().splitlines()
    assert first[1].rows_read == len(lines)
    assert _norm_count(disk_store) == len(lines) // 2


def test_malformed_row_is_named_and_the_rest_kept(data_dir: Path, memory_store: OxigraphStore) -> None:
    path = data_dir / "moral-stories" / "dev.jsonl"
    lines = path.read_text().splitlines()
    lines.insert(3, '{"ID": "X1", "norm": "broken')  # invalid JSON on line 4
    lines.insert(6, '{"ID": "X2", "norm": "A norm.", "label": "7", "moral_action": "x"}')  # bad label, line 7
    path.write_text("\n".join(lines) + "\n")
    report = ingest(memory_store, data_dir)[1]
    assert report.rows_rejected == 2
    where = [(i.file, i.line) for i in report.issues]
    assert where == [("dev.jsonl", 4), ("dev.jsonl", 7)]
    assert "invalid JSON" in report.issues[0].reason and "label" in report.issues[1].reason
    assert _norm_count(memory_store) == 10  # the 20 good lines hold 10 norms


def test_changed_file_replaces_only_that_source(data_dir: Path, disk_store: OxigraphStore) -> None:
    ingest(disk_store, data_dir)
    ontology_before = disk_store.count("_ontology")
    path = data_dir / "moral-stories" / "dev.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:10]) + "\n")
    reports = ingest(disk_store, data_dir)
    assert reports[0].unchanged and not reports[1].unchanged
    assert disk_store.count("_ontology") == ontology_before
    assert _norm_count(disk_store) == 5


def test_unknown_source_fails_before_anything_is_written(data_dir: Path, disk_store: OxigraphStore) -> None:
    ingest(disk_store, data_dir)
    count = disk_store.count()
    with pytest.raises(SourceError, match="unknown source"):
        ingest(disk_store, data_dir, ["no-such-source"])
    assert disk_store.count() == count


def test_every_ingested_norm_has_its_source_row(data_dir: Path, memory_store: OxigraphStore) -> None:
    ingest(memory_store, data_dir)
    orphans = memory_store.select(
        "SELECT ?n WHERE { ?n a nkg:Norm . FILTER NOT EXISTS { ?n prov:wasDerivedFrom/nkg:inDataset ?d } }"
    )
    assert orphans == []
