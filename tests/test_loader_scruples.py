"""Scruples loader on the real 20-instance HIT sample: pairs of actions and the less ethical one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from normkg.ingest.base import LoadResult
from normkg.ingest.loaders.scruples import ScruplesLoader
from normkg.ingest.registry import loader_class
from normkg.kg.oxigraph_store import OxigraphStore

SLICE = Path(__file__).parent / "data" / "scruples"


def instances(root: Path = SLICE) -> list[dict[str, Any]]:
    lines = (root / "data.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1  # the sample is one HIT: one line
    found: list[dict[str, Any]] = json.loads(lines[0])["instances"]
    return found


@pytest.fixture(scope="module")
def result() -> LoadResult:
    return ScruplesLoader(SLICE).run()


@pytest.fixture(scope="module")
def store(result: LoadResult) -> OxigraphStore:
    s = OxigraphStore(None)
    s.replace("scruples", result.triples)
    return s


def count(store: OxigraphStore, pattern: str) -> int:
    return int(store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")[0]["n"].value)


def test_registry_names_this_loader() -> None:
    assert loader_class("scruples") is ScruplesLoader


def test_counts_by_class_match_the_sample(result: LoadResult, store: OxigraphStore) -> None:
    items = instances()
    assert result.issues == []
    assert result.rows_read == len(items)
    assert count(store, "?d a nkg:Dilemma") == len(items)
    assert count(store, "?o a nkg:DilemmaOption") == sum(len(i["actions"]) for i in items)
    assert count(store, "?d nkg:option ?o") == sum(len(i["actions"]) for i in items)
    assert count(store, "?d nkg:lessEthicalOption ?o") == len(items)


def test_rows_are_distinct_per_instance_on_the_one_line(store: OxigraphStore) -> None:
    found = store.select(
        "SELECT ?r ?line ?id WHERE { ?r a nkg:SourceRow ; nkg:sourceLine ?line ; nkg:sourceId ?id }"
    )
    assert {int(r["line"].value) for r in found} == {1}
    assert sorted(r["id"].value for r in found) == sorted(i["id"] for i in instances())
    assert len({r["r"] for r in found}) == len(instances())


def test_less_ethical_option_is_the_labelled_action(store: OxigraphStore) -> None:
    found = store.select(
        "SELECT ?id ?text WHERE { ?d nkg:lessEthicalOption ?o ; prov:wasDerivedFrom ?r . "
        "?r nkg:sourceId ?id . ?o nkg:text ?text ; a nkg:DilemmaOption }"
    )
    chosen = {r["id"].value: r["text"].value for r in found}
    assert chosen == {i["id"]: i["actions"][i["label"]]["description"] for i in instances()}


def test_first_instance_triples_and_provenance(store: OxigraphStore) -> None:
    first = instances()[0]
    assert first["id"] == "gVJWzXwANx0nDiJfBNBX8XCXUrmY5iiS" and first["label"] == 0
    found = store.select(
        "SELECT ?o ?text ?action ?file ?line ?less WHERE { ?d a nkg:Dilemma ; nkg:option ?o ; "
        "prov:wasDerivedFrom ?r . ?r nkg:sourceId ?id ; nkg:sourceFile ?file ; nkg:sourceLine ?line ; "
        "nkg:inDataset ?ds . ?o nkg:text ?text ; dcterms:identifier ?action ; prov:wasDerivedFrom ?r . "
        "BIND(EXISTS { ?d nkg:lessEthicalOption ?o } AS ?less) FILTER(STR(?id) = ?want) }",
        {"want": ox.Literal(first["id"])},
    )
    assert {(r["text"].value, r["action"].value, r["less"].value) for r in found} == {
        (
            "not encouraging my 6yo to have a relationship with her bio dad and 4 half siblings",
            "W0zf9dPGrSCeFY2LRbAOknRppO24JkKM",
            "true",
        ),
        ("poking fun at my wife for getting off her diet", "f3qwv4n2oHAe09qBumna9K2HSu5u2jjS", "false"),
    }
    assert {(r["file"].value, int(r["line"].value)) for r in found} == {("data.jsonl", 1)}
    assert found[0]["text"].language == "en"


def test_invalid_json_and_bad_instances_are_reported_and_good_ones_kept(tmp_path: Path) -> None:
    real = (SLICE / "data.jsonl").read_text(encoding="utf-8").splitlines()[0]
    good = {
        "id": "extra-good",
        "actions": [{"id": "a", "description": "x"}, {"id": "b", "description": "y"}],
        "label": 1,
    }
    bad_label = {**good, "id": "extra-bad", "label": 2}
    hit = json.dumps({"instances": [bad_label, good]})
    (tmp_path / "data.jsonl").write_text(real + '\n{"instances": [\n' + hit + "\n", encoding="utf-8")

    result = ScruplesLoader(tmp_path).run()
    issues = [(i.file, i.line, i.reason) for i in result.issues]
    assert [(f, n) for f, n, _ in issues] == [("data.jsonl", 2), ("data.jsonl", 3)]
    assert issues[0][2].startswith("invalid JSON")
    assert "label must be 0 or 1" in issues[1][2]
    store = OxigraphStore(None)
    store.replace("scruples", result.triples)
    assert count(store, "?d a nkg:Dilemma") == len(instances()) + 1
    kept = store.select('SELECT ?line WHERE { ?r nkg:sourceId "extra-good" ; nkg:sourceLine ?line }')
    assert [int(r["line"].value) for r in kept] == [3]


def test_two_runs_produce_identical_triples() -> None:
    assert ScruplesLoader(SLICE).run().triples == ScruplesLoader(SLICE).run().triples
