"""BLEnD (Myung, Lee et al., NeurIPS 2024 Datasets & Benchmarks): everyday cultural knowledge in 16 places.

Source: shared/data/blend (SOURCE.txt), nlee0212/BLEnD at 24e7d73. Per country or region ``<Place>``:
``data/annotations/<Place>_data.json`` (question id -> local and English question, human answers in the
local language and in English with their vote counts, and don't-know counts) and
``data/questions/<Place>_questions.csv`` (ID, Topic, Source, Question, Translation).

One record is one question of an annotation file (records are numbered by the question's position in
the file, 1-based), joined by ID with its questions CSV row for the topic and the question's source. A
question in only one of the two files is reported, not guessed.

A question becomes one ``nkg:CulturalPractice`` per (place, question id), with:

- ``nkg:question``: the English question (``en``) and the local one, tagged with the place's language
  from :data:`PLACES` (the 13 languages of the paper). In the UK and US files both are English: the
  local one is the wording annotators saw ("... for nursery kids in the UK?") and ``en_question`` the
  shared template ("... for preschool kids in UK?"). So their local text is tagged ``en-GB`` / ``en-US``,
  which keeps the two apart and still matches ``langMatches(..., "en")``;
- ``nkg:topic``: a SKOS concept per Topic in ``nkg:BlendTopics``; ``nkg:questionSource``: the Source
  column (the language and country the question was first written for, e.g. "English (US)");
- ``nkg:country`` (ISO node, via vocab) and, for the three regions, ``nkg:region``; plus a frame built
  from the same constraints (``nkg:hasFrame``), so "which practices hold in country X" is the same frame
  query as for norms;
- ``nkg:answer``: one ``nkg:Answer`` per annotation cluster, with its local (place's tag) and English
  (``en``) answer strings as ``nkg:text``, and ``nkg:count``. In the UK and US files the two lists repeat
  each other, so a local string equal to an English one is kept once, as ``en``;
- ``nkg:idkCount``, ``nkg:noAnswerCount``, ``nkg:notApplicableCount``. Some files also key free-text
  remarks by annotators into ``idks`` ("Question unclear": 1); those are kept as ``nkg:comment``.

``data/prompts/*_prompts.csv`` is not loaded: those are LLM prompt templates ("Provide a single answer
... Question: {q}") used by BLEnD's evaluation harness. They say how to query a model, nothing about a
culture, so they are not knowledge for the graph, and leaving them out of ``inputs`` means editing them
does not trigger a re-ingest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from normkg.errors import SourceError
from normkg.ingest.base import (
    BadRecord,
    DatasetInfo,
    Loader,
    Record,
    RowError,
    RowTriples,
    parse_json_file,
    read_csv,
)
from normkg.ingest.frames import add_frame
from normkg.ingest.vocab import add_country, country_node
from normkg.ontology.namespace import NKG, SKOS, mint

ANNOTATIONS = "data/annotations"
QUESTIONS = "data/questions"
DATA_SUFFIX = "_data.json"
QUESTIONS_SUFFIX = "_questions.csv"
COLUMNS = ("ID", "Topic", "Source")

#: idks keys with a count property of their own; any other key is an annotator's free-text remark
IDK_COUNTS = {"idk": NKG.idkCount, "no-answer": NKG.noAnswerCount, "not-applicable": NKG.notApplicableCount}


@dataclass(frozen=True)
class Place:
    """A BLEnD country or region: ISO 3166-1 country, BCP 47 tag of its local language, region if any."""

    country: str
    language: str
    region: str | None = None
    region_code: str | None = None  # ISO 3166-2, where the region is one


#: file-name place -> Place. Regions: Assam (IN-AS), West Java (ID-JB), Northern Nigeria (no ISO 3166-2 code:
#: it is a group of states). Languages as listed in the BLEnD paper; the UK and US tags name the variant.
PLACES: dict[str, Place] = {
    "Algeria": Place("DZ", "ar"),
    "Assam": Place("IN", "as", "Assam", "IN-AS"),
    "Azerbaijan": Place("AZ", "az"),
    "China": Place("CN", "zh"),
    "Ethiopia": Place("ET", "am"),
    "Greece": Place("GR", "el"),
    "Indonesia": Place("ID", "id"),
    "Iran": Place("IR", "fa"),
    "Mexico": Place("MX", "es"),
    "North_Korea": Place("KP", "ko"),
    "Northern_Nigeria": Place("NG", "ha", "Northern Nigeria"),
    "South_Korea": Place("KR", "ko"),
    "Spain": Place("ES", "es"),
    "UK": Place("GB", "en-GB"),
    "US": Place("US", "en-US"),
    "West_Java": Place("ID", "su", "West Java", "ID-JB"),
}


def practice_node(place: str, question_id: str) -> ox.NamedNode:
    return mint("practice", "blend", place, question_id)


def answer_node(place: str, question_id: str, number: int) -> ox.NamedNode:
    return mint("answer", "blend", place, question_id, number)


def topic_node(topic: str) -> ox.NamedNode:
    return mint("topic", "blend", " ".join(topic.split()).casefold())


def region_node(place: Place) -> ox.NamedNode | None:
    """A region by its ISO 3166-2 code, or by country and name where it has none (Northern Nigeria)."""
    if place.region is None:
        return None
    if place.region_code is not None:
        return mint("region", place.region_code)
    return mint("region", place.country, place.region)


@dataclass(frozen=True)
class Question:
    """One annotated question joined with its questions CSV row."""

    place: str
    question_id: str
    entry: dict[str, Any]
    row: dict[str, str]


class BlendLoader(Loader):
    name = "blend"
    inputs = (f"{ANNOTATIONS}/*{DATA_SUFFIX}", f"{QUESTIONS}/*{QUESTIONS_SUFFIX}")
    dataset = DatasetInfo(
        title="BLEnD: everyday cultural knowledge in 16 countries and regions (short-answer questions with "
        "human answers)",
        citation="Myung, Lee, et al. (2024). BLEnD: A Benchmark for LLMs on Everyday Knowledge in Diverse "
        "Cultures and Languages. NeurIPS 2024 Datasets and Benchmarks Track.",
        license="not stated in repo (believed CC BY-SA 4.0, unverified)",
        homepage="https://github.com/nlee0212/BLEnD",
    )

    def records(self) -> Iterator[Record | BadRecord]:
        annotation_files = sorted((self.root / ANNOTATIONS).glob(f"*{DATA_SUFFIX}"))
        if not annotation_files:
            raise SourceError(f"{self.name}: no {ANNOTATIONS}/*{DATA_SUFFIX} under {self.root}")
        for path in annotation_files:
            yield from self._place_records(path)
        for path in sorted((self.root / QUESTIONS).glob(f"*{QUESTIONS_SUFFIX}")):
            place = path.name.removesuffix(QUESTIONS_SUFFIX)
            if not (self.root / ANNOTATIONS / f"{place}{DATA_SUFFIX}").is_file():
                yield BadRecord(
                    self._rel(path), 1, f"no {ANNOTATIONS}/{place}{DATA_SUFFIX} for these questions"
                )

    def _rel(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def _place_records(self, path: Path) -> Iterator[Record | BadRecord]:
        rel = self._rel(path)
        place = path.name.removesuffix(DATA_SUFFIX)
        if place not in PLACES:
            known = ", ".join(PLACES)
            yield BadRecord(rel, 1, f"unknown country or region {place!r} (known: {known}); file skipped")
            return
        questions_path = self.root / QUESTIONS / f"{place}{QUESTIONS_SUFFIX}"
        questions_rel = self._rel(questions_path)
        rows: dict[str, tuple[int, dict[str, str]]] = {}
        if not questions_path.is_file():
            yield BadRecord(questions_rel, 1, f"file not found; the questions of {rel} cannot be joined")
        else:
            for record in read_csv(questions_path, self.root, required=COLUMNS):
                if isinstance(record, BadRecord):
                    yield record
                    continue
                question_id = record.data["ID"].strip()
                if not question_id:
                    yield BadRecord(record.file, record.line, "missing 'ID'")
                elif question_id in rows:
                    first = rows[question_id][0]
                    yield BadRecord(
                        record.file, record.line, f"duplicate ID {question_id!r} (first on line {first})"
                    )
                else:
                    rows[question_id] = (record.line, record.data)
        entries, broken = parse_json_file(path, rel)
        if broken is not None:
            yield broken
            return
        if not isinstance(entries, dict):
            yield BadRecord(
                rel, 1, f"expected a JSON object of question id -> question, found {type(entries).__name__}"
            )
            return
        for position, (question_id, entry) in enumerate(entries.items(), start=1):
            row = rows.pop(question_id, None)
            if not isinstance(entry, dict):
                yield BadRecord(rel, position, f"question {question_id!r}: expected a JSON object")
            elif row is None:
                yield BadRecord(rel, position, f"question {question_id!r} is not in {questions_rel}")
            else:
                yield Record(rel, position, Question(place, question_id, entry, row[1]), question_id)
        for question_id, (line, _) in rows.items():
            yield BadRecord(questions_rel, line, f"question {question_id!r} has no annotations in {rel}")

    def map(self, record: Record, out: RowTriples) -> None:
        question: Question = record.data
        place = PLACES[question.place]
        entry, row = question.entry, question.row
        practice = out.entity(practice_node(question.place, question.question_id), NKG.CulturalPractice)

        local, english = _text(entry, "question"), _text(entry, "en_question")
        if not local and not english:
            raise RowError("no 'question' and no 'en_question'")
        out.text(practice, NKG.question, english, "en")
        out.text(practice, NKG.question, local, place.language)

        topic = row.get("Topic", "").strip()
        if topic:
            node = out.entity(topic_node(topic), SKOS.Concept)
            out.label(node, topic)
            out.add(node, SKOS.inScheme, NKG.BlendTopics)
            out.add(practice, NKG.topic, node)
        source = row.get("Source", "").strip()
        out.add(practice, NKG.questionSource, ox.Literal(source) if source else None)

        country = add_country(out, place.country)
        out.add(practice, NKG.country, country)
        constraints = [(NKG.country, country)]
        region = region_node(place)
        if region is not None and place.region is not None:
            out.entity(region, NKG.Region)
            out.label(region, place.region)
            out.add(region, SKOS.notation, ox.Literal(place.region_code) if place.region_code else None)
            out.add(region, SKOS.broader, country_node(place.country))
            out.add(practice, NKG.region, region)
            constraints.append((NKG.region, region))
        out.add(practice, NKG.hasFrame, add_frame(out, constraints))

        annotations = entry.get("annotations", [])
        if not isinstance(annotations, list):
            raise RowError("'annotations' is not a list")
        for number, annotation in enumerate(annotations, start=1):
            answer = answer_node(question.place, question.question_id, number)
            self._answer(out, answer, annotation, f"annotations[{number - 1}]", place.language)
            out.add(practice, NKG.answer, answer)

        idks = entry.get("idks", {})
        if not isinstance(idks, dict):
            raise RowError("'idks' is not an object")
        for key, value in idks.items():
            prop = IDK_COUNTS.get(key)
            if prop is not None:
                out.number(practice, prop, _count(value, f"idks[{key!r}]"))
            elif key.strip():
                out.add(practice, NKG.comment, ox.Literal(key.strip()))

    def _answer(
        self, out: RowTriples, node: ox.NamedNode, annotation: Any, where: str, language: str
    ) -> None:
        if not isinstance(annotation, dict):
            raise RowError(f"{where}: expected an object")
        english = _strings(annotation, "en_answers", where)
        local = _strings(annotation, "answers", where)
        if language.startswith("en-"):  # UK, US: the local list repeats the English one
            local = [t for t in local if t not in english]
        if not english and not local:
            raise RowError(f"{where}: no answer text")
        out.entity(node, NKG.Answer)
        out.number(node, NKG.count, _count(annotation.get("count"), f"{where}.count"))
        for text, lang in dict.fromkeys([(t, language) for t in local] + [(t, "en") for t in english]):
            out.text(node, NKG.text, text, lang)


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    return value.strip() if isinstance(value, str) else ""


def _strings(annotation: dict[str, Any], key: str, where: str) -> list[str]:
    values = annotation.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RowError(f"{where}.{key}: expected a list of strings")
    return [" ".join(v.split()) for v in values if v.strip()]


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RowError(f"{where}: expected a count (whole number >= 0), found {value!r}")
    return value
