"""The BLEnD loader on a real slice (tests/data/blend: the upstream layout and file names).

The slice: the first 10 questions of Assam (a region of India, questions and answers in Assamese) and
of the UK (English), plus two UK questions whose ``idks`` carry an annotator's remark, with their rows of
the questions CSVs. Expected values come from reading those files here with json and csv, and from the
BLEnD paper and README (Assam is in India, ISO 3166-2 IN-AS; the UK is GB; idks has idk / no-answer /
not-applicable counts).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from graph_queries import count, memory_store, one, values

from normkg.errors import SourceError
from normkg.ingest.base import LoadResult
from normkg.ingest.loaders.blend import BlendLoader, practice_node, topic_node
from normkg.kg.store import GraphStore
from normkg.ontology.namespace import NKG, SKOS

SLICE = Path(__file__).parent / "data" / "blend"
PLACES = ("Assam", "UK")


def annotated(place: str, root: Path = SLICE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (root / f"data/annotations/{place}_data.json").read_text(encoding="utf-8")
    )
    return data


def questions(place: str, root: Path = SLICE) -> list[dict[str, str]]:
    with (root / f"data/questions/{place}_questions.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def result() -> LoadResult:
    return BlendLoader(SLICE).run()


@pytest.fixture(scope="module")
def store(result: LoadResult) -> GraphStore:
    return memory_store("blend", result.triples)


def lit(text: str, lang: str) -> ox.Literal:
    return ox.Literal(text, language=lang)


def test_counts_match_the_slice(result: LoadResult, store: GraphStore) -> None:
    entries = {p: annotated(p) for p in PLACES}
    assert result.issues == []
    assert result.rows_read == sum(len(e) for e in entries.values()) == 22
    assert count(store, "?x a nkg:CulturalPractice") == 22
    assert count(store, "?x a nkg:SourceRow") == 22
    answers = sum(len(q["annotations"]) for e in entries.values() for q in e.values())
    assert count(store, "?x a nkg:Answer") == answers
    assert count(store, "?p nkg:answer ?x") == answers
    topics = {r["Topic"] for p in PLACES for r in questions(p)}
    assert count(store, "?x skos:inScheme nkg:BlendTopics") == len(topics)
    assert count(store, "?x a nkg:Country") == 2
    assert count(store, "?x a nkg:Region") == 1
    assert count(store, "?x a nkg:Frame") == 2  # {IN, IN-AS} and {GB}


def test_one_assam_question_by_hand(store: GraphStore) -> None:
    """Al-en-01, the first question of Assam_data.json: a common snack for preschool kids."""
    entry = annotated("Assam")["Al-en-01"]
    row = next(r for r in questions("Assam") if r["ID"] == "Al-en-01")
    practice = practice_node("Assam", "Al-en-01")
    assert values(store, practice, NKG.question) == {
        lit("What is a common snack for preschool kids in Assam?", "en"),
        lit(entry["question"], "as"),
    }
    assert values(store, practice, NKG.topic) == {topic_node(row["Topic"])}
    assert values(store, topic_node("Food"), SKOS.prefLabel) == {lit("Food", "en")}
    assert values(store, practice, NKG.questionSource) == {ox.Literal("English (US)")}
    assert values(store, practice, NKG.idkCount) == {ox.Literal(entry["idks"]["idk"])}
    assert values(store, practice, NKG.noAnswerCount) == {ox.Literal(0)}
    assert values(store, practice, NKG.notApplicableCount) == {ox.Literal(0)}

    hit = one(
        store.select(
            "SELECT ?c ?r ?f WHERE { ?p nkg:country ?c ; nkg:region ?r ; nkg:hasFrame ?f . "
            "?f nkg:country ?c ; nkg:region ?r ; nkg:constraintCount 2 }",
            {"p": practice},
        )
    )
    assert values(store, hit["c"], SKOS.notation) == {ox.Literal("IN")}
    assert values(store, hit["r"], SKOS.notation) == {ox.Literal("IN-AS")}
    assert values(store, hit["r"], SKOS.prefLabel) == {lit("Assam", "en")}
    assert values(store, hit["r"], SKOS.broader) == {hit["c"]}

    rows = store.select("SELECT ?a ?n WHERE { ?p nkg:answer ?a . ?a nkg:count ?n }", {"p": practice})
    assert sorted(int(r["n"].value) for r in rows) == sorted(a["count"] for a in entry["annotations"])
    answer = one(
        store.select("SELECT ?a WHERE { ?p nkg:answer ?a . ?a nkg:text 'semolina'@en }", {"p": practice})
    )["a"]
    assert values(store, answer, NKG.text) == {lit("semolina", "en"), lit("চুজি", "as")}
    assert values(store, answer, NKG.count) == {ox.Literal(2)}

    provenance = one(
        store.select(
            "SELECT ?f ?l ?id WHERE { ?p prov:wasDerivedFrom ?r . ?r nkg:sourceFile ?f ; nkg:sourceLine ?l ; "
            "nkg:sourceId ?id }",
            {"p": practice},
        )
    )
    assert provenance == {
        "f": ox.Literal("data/annotations/Assam_data.json"),
        "l": ox.Literal(1),  # first question of the file
        "id": ox.Literal("Al-en-01"),
    }
    assert {answer, hit["c"], hit["r"], hit["f"]} <= {
        r["x"]
        for r in store.select(
            "SELECT ?x WHERE { ?x prov:wasDerivedFrom ?r . ?p prov:wasDerivedFrom ?r }", {"p": practice}
        )
    }


def test_english_places_keep_both_questions_and_one_literal_per_answer(store: GraphStore) -> None:
    entries = annotated("UK")
    entry = entries["Al-en-01"]
    assert entry["question"] != entry["en_question"]  # "nursery kids" vs "preschool kids"
    practice = practice_node("UK", "Al-en-01")
    assert values(store, practice, NKG.question) == {
        lit(entry["question"], "en-GB"),
        lit(entry["en_question"], "en"),
    }
    langs = {
        r["l"].value
        for r in store.select(
            "SELECT (LANG(?t) AS ?l) WHERE { ?p nkg:answer ?a . ?a nkg:text ?t }", {"p": practice}
        )
    }
    assert langs == {"en"}  # the UK's answers and en_answers lists are the same strings here
    texts = {
        r["t"].value for r in store.select("SELECT ?t WHERE { ?p nkg:answer/nkg:text ?t }", {"p": practice})
    }
    assert texts == {t for a in entry["annotations"] for t in a["en_answers"] + a["answers"]}


def test_free_text_idks_become_comments(store: GraphStore) -> None:
    """UK Ji-ko-36 has idks {'no-answer': 1, 'Question unclear': 1, ...} (read in the file)."""
    idks = annotated("UK")["Ji-ko-36"]["idks"]
    assert idks["Question unclear"] == 1
    practice = practice_node("UK", "Ji-ko-36")
    assert values(store, practice, NKG.comment) == {ox.Literal("Question unclear")}
    assert values(store, practice, NKG.noAnswerCount) == {ox.Literal(idks["no-answer"])}


def test_practices_of_a_country_are_a_frame_query(store: GraphStore) -> None:
    rows = store.select(
        "SELECT ?p WHERE { ?p a nkg:CulturalPractice ; nkg:hasFrame ?f . ?f nkg:country ?c . "
        "?c skos:notation ?code }",
        {"code": ox.Literal("GB")},
    )
    assert {r["p"] for r in rows} == {practice_node("UK", q) for q in annotated("UK")}
    rows = store.select("SELECT ?p WHERE { ?p nkg:hasFrame ?f . ?f nkg:country ?c . ?c skos:notation 'IN' }")
    assert {r["p"] for r in rows} == {practice_node("Assam", q) for q in annotated("Assam")}


# ---- bad input -----------------------------------------------------------------------------------------


def copy_slice(tmp_path: Path) -> Path:
    root = tmp_path / "blend"
    shutil.copytree(SLICE, root)
    return root


def test_invalid_json_is_reported_and_other_places_kept(tmp_path: Path) -> None:
    root = copy_slice(tmp_path)
    path = root / "data/annotations/Assam_data.json"
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert text[3].lstrip().startswith('"en_question"')
    text[3] = text[3].replace('"', "", 1)  # line 4: a key without its opening quote
    path.write_text("".join(text), encoding="utf-8")
    result = BlendLoader(root).run()
    assert [(i.file, i.line) for i in result.issues] == [("data/annotations/Assam_data.json", 4)]
    assert "invalid JSON" in result.issues[0].reason
    s = memory_store("blend", result.triples)
    assert count(s, "?x a nkg:CulturalPractice") == len(annotated("UK"))


def test_missing_column_and_unjoined_questions(tmp_path: Path) -> None:
    root = copy_slice(tmp_path)
    # Assam: drop the Topic column
    assam = root / "data/questions/Assam_questions.csv"
    rows = list(csv.reader(assam.open(newline="", encoding="utf-8")))
    with assam.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([r[:2] + r[3:] for r in rows])
    # UK: the CSV loses the row of Al-en-02 (line 3) and gains a question with no annotations
    uk = root / "data/questions/UK_questions.csv"
    lines = uk.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[2].startswith("1,Al-en-02,")
    lines = lines[:2] + lines[3:] + ["99,Zz-en-99,Food,English (US),Why?,Why?\n"]
    uk.write_text("".join(lines), encoding="utf-8")

    result = BlendLoader(root).run()

    issues = {(i.file, i.line): i.reason for i in result.issues}
    assam_ids = list(annotated("Assam", root))
    uk_ids = list(annotated("UK", root))
    expected = {("data/questions/Assam_questions.csv", 1)}
    expected |= {("data/annotations/Assam_data.json", n) for n in range(1, len(assam_ids) + 1)}
    expected |= {("data/annotations/UK_data.json", uk_ids.index("Al-en-02") + 1)}
    expected |= {("data/questions/UK_questions.csv", len(lines))}
    assert set(issues) == expected
    assert "Topic" in issues[("data/questions/Assam_questions.csv", 1)]
    assert "'Al-en-02'" in issues[("data/annotations/UK_data.json", 2)]
    assert "UK_questions.csv" in issues[("data/annotations/UK_data.json", 2)]
    assert "'Zz-en-99'" in issues[("data/questions/UK_questions.csv", len(lines))]
    s = memory_store("blend", result.triples)
    assert {r["p"] for r in s.select("SELECT ?p WHERE { ?p a nkg:CulturalPractice }")} == {
        practice_node("UK", q) for q in uk_ids if q != "Al-en-02"
    }


def test_unknown_place_and_region_without_iso_code(tmp_path: Path) -> None:
    root = copy_slice(tmp_path)
    for place in ("Atlantis", "Northern_Nigeria"):
        shutil.copy(root / "data/annotations/UK_data.json", root / f"data/annotations/{place}_data.json")
        shutil.copy(root / "data/questions/UK_questions.csv", root / f"data/questions/{place}_questions.csv")
    result = BlendLoader(root).run()
    assert [(i.file, i.line) for i in result.issues] == [("data/annotations/Atlantis_data.json", 1)]
    assert "unknown country or region 'Atlantis'" in result.issues[0].reason
    s = memory_store("blend", result.triples)
    practice = practice_node("Northern_Nigeria", "Al-en-01")
    hit = one(s.select("SELECT ?c ?r WHERE { ?p nkg:country ?c ; nkg:region ?r }", {"p": practice}))
    assert values(s, hit["c"], SKOS.notation) == {ox.Literal("NG")}
    assert values(s, hit["r"], SKOS.prefLabel) == {lit("Northern Nigeria", "en")}
    assert values(s, hit["r"], SKOS.notation) == set()
    assert count(s, "?x a nkg:CulturalPractice") == 22 + len(annotated("UK"))


def test_bad_answer_rejects_its_question_only(tmp_path: Path) -> None:
    root = copy_slice(tmp_path)
    data = annotated("UK", root)
    data["Al-en-04"]["annotations"][0]["count"] = "two"
    (root / "data/annotations/UK_data.json").write_text(
        json.dumps(data, ensure_ascii=False), encoding="utf-8"
    )
    result = BlendLoader(root).run()
    position = list(data).index("Al-en-04") + 1
    assert [(i.file, i.line) for i in result.issues] == [("data/annotations/UK_data.json", position)]
    assert "count" in result.issues[0].reason and "'two'" in result.issues[0].reason
    s = memory_store("blend", result.triples)
    assert count(s, "?x a nkg:CulturalPractice") == 21
    assert not s.select("SELECT ?a WHERE { ?p nkg:answer ?a }", {"p": practice_node("UK", "Al-en-04")})


def test_no_annotation_files(tmp_path: Path) -> None:
    (tmp_path / "blend" / "data").mkdir(parents=True)
    with pytest.raises(SourceError, match="_data.json"):
        BlendLoader(tmp_path / "blend").run()


def test_two_runs_give_the_same_triples(result: LoadResult) -> None:
    again = BlendLoader(SLICE).run()
    assert again.triples == result.triples
