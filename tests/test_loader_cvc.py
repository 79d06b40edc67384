"""The CVC value-taxonomy loader on its one (derived) file, copied whole to tests/data/cvc.

Expected counts are counted here from the JSON and checked against SOURCE.txt, which states them
independently ("3 levels (national/social/personal), 12 core values, 50 derived values"). Labels are
read from the file's "<Chinese> <English>" strings.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from graph_queries import count, memory_store, one, values

from normkg.errors import SourceError
from normkg.ingest.base import LoadResult
from normkg.ingest.loaders.cvc import FILE, CvcLoader, value_node
from normkg.kg.store import GraphStore
from normkg.ontology.namespace import NKG, RDFS, SKOS, mint

SLICE = Path(__file__).parent / "data" / "cvc"


def taxonomy(root: Path = SLICE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / FILE).read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def result() -> LoadResult:
    return CvcLoader(SLICE).run()


@pytest.fixture(scope="module")
def store(result: LoadResult) -> GraphStore:
    return memory_store("cvc", result.triples)


def test_three_levels_3_12_50(result: LoadResult, store: GraphStore) -> None:
    dimensions = taxonomy()["dimensions"]
    cores = [c for d in dimensions.values() for c in d]
    derived = [v for d in dimensions.values() for values in d.values() for v in values]
    assert (len(dimensions), len(cores), len(derived)) == (3, 12, 50)  # as SOURCE.txt states
    assert result.issues == []
    assert count(store, "?x a nkg:Value ; skos:topConceptOf nkg:CvcValues") == 3
    assert count(store, "?x skos:broader ?d . ?d skos:topConceptOf nkg:CvcValues") == 12
    assert count(store, "?x skos:broader/skos:broader ?d . ?d skos:topConceptOf nkg:CvcValues") == 50
    assert count(store, "?x a nkg:Value ; skos:inScheme nkg:CvcValues") == 65
    assert count(store, "?x a nkg:Value ; skos:broader ?a, ?b FILTER(?a != ?b)") == 0


def test_labels_are_split_by_language(store: GraphStore) -> None:
    prosperity = value_node("富强")
    assert values(store, prosperity, SKOS.prefLabel) == {
        ox.Literal("富强", language="zh"),
        ox.Literal("Prosperity", language="en"),
    }
    assert values(store, prosperity, SKOS.broader) == {value_node("国家")}
    assert values(store, value_node("国家"), SKOS.prefLabel) == {
        ox.Literal("国家", language="zh"),
        ox.Literal("National", language="en"),
    }
    rule = value_node("依法治国")
    assert values(store, rule, SKOS.prefLabel) == {
        ox.Literal("依法治国", language="zh"),
        ox.Literal("Rule of law in governing the country", language="en"),
    }
    assert values(store, rule, SKOS.broader) == {value_node("法治")}
    assert ox.Literal("Rule of Law", language="en") in values(store, value_node("法治"), SKOS.prefLabel)
    # every concept has exactly one label per language
    for lang in ("zh", "en"):
        assert count(store, f"?x a nkg:Value ; skos:prefLabel ?l FILTER(LANG(?l) = '{lang}')") == 65


def test_worked_examples_are_norms_with_their_values(store: GraphStore) -> None:
    examples = taxonomy()["prompt_examples"]
    assert len(examples) == 2
    for number, example in enumerate(examples, start=1):
        norm = mint("norm", "cvc", "prompt-example", number)
        assert values(store, norm, NKG.text) == {ox.Literal(example["rot"], language="zh")}
        labels = example["level"] + example["core"] + example["derived"]
        assert values(store, norm, NKG.value) == {value_node(v) for v in labels}
        assert values(store, norm, RDFS.comment)
    row = one(
        store.select(
            "SELECT ?r WHERE { ?n prov:wasDerivedFrom ?r }", {"n": mint("norm", "cvc", "prompt-example", 2)}
        )
    )
    assert values(store, row["r"], NKG.sourceFile) == {ox.Literal(FILE)}
    assert values(store, row["r"], NKG.sourceLine) == {ox.Literal(65 + 2)}  # after the 65 entries


def test_provenance_numbers_entries_in_document_order(store: GraphStore) -> None:
    order: list[str] = []
    for dimension, cores in taxonomy()["dimensions"].items():
        order.append(dimension)
        for core, derived in cores.items():
            order += [core, *derived]
    rows = store.select("SELECT ?id ?l WHERE { ?r a nkg:SourceRow ; nkg:sourceId ?id ; nkg:sourceLine ?l }")
    numbered = {r["id"].value: int(r["l"].value) for r in rows}
    assert all(numbered[label] == n for n, label in enumerate(order, start=1))


def test_dataset_says_the_file_is_derived(result: LoadResult) -> None:
    title = next(o for s, p, o in result.triples if p.value.endswith("/terms/title"))
    assert "DERIVED" in title.value and "not an original" in title.value


def test_malformed_entries_are_reported_and_the_rest_kept(tmp_path: Path) -> None:
    data = taxonomy()
    social = data["dimensions"]["社会 Social"]
    social["平等 Equality"][0] = "机会平等"  # no English name
    data["prompt_examples"][0]["derived"].append("不存在")  # not in the taxonomy
    data["prompt_examples"][1]["derived"] = ["尊重他人"]  # under 友善, which the example chooses
    data["prompt_examples"][1]["core"] = ["文明", "和谐"]  # ... no longer
    (tmp_path / FILE).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    result = CvcLoader(tmp_path).run()

    order: list[str] = []
    for dimension, cores in data["dimensions"].items():
        order.append(dimension)
        for core, derived in cores.items():
            order += [core, *derived]
    issues = {(i.file, i.line): i.reason for i in result.issues}
    assert set(issues) == {(FILE, order.index("机会平等") + 1), (FILE, 66), (FILE, 67)}
    assert "机会平等" in issues[(FILE, order.index("机会平等") + 1)]
    assert "不存在" in issues[(FILE, 66)]
    assert "尊重他人" in issues[(FILE, 67)] and "友善" in issues[(FILE, 67)]
    s = memory_store("cvc", result.triples)
    assert count(s, "?x a nkg:Value") == 64
    assert count(s, "?x a nkg:Norm") == 0


def test_invalid_json_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=FILE):
        CvcLoader(tmp_path).run()
    shutil.copy(SLICE / FILE, tmp_path / FILE)
    lines = (tmp_path / FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    lines[4] = lines[4].replace("[", "", 1)  # line 5: '"富强 Prosperity": [' loses its bracket
    (tmp_path / FILE).write_text("".join(lines), encoding="utf-8")
    result = CvcLoader(tmp_path).run()
    # line 6 then reads as the value of "富强 Prosperity"; line 7's string is a key missing its ':'
    assert [(i.file, i.line) for i in result.issues] == [(FILE, 7)]
    assert "invalid JSON" in result.issues[0].reason


def test_two_runs_give_the_same_triples(result: LoadResult) -> None:
    assert CvcLoader(SLICE).run().triples == result.triples
