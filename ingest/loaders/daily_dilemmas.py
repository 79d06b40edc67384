"""DailyDilemmas (Chiu, Jiang, Choi; ICLR 2025): everyday dilemmas, their two actions and the values at stake.

Source: shared/data/daily-dilemmas (SOURCE.txt), copied from github.com/kellycyy/daily_dilemmas:

- ``values.csv``: the 301 values, each mapped to a dimension of five theories (World Values Survey,
  Moral Foundations, Aristotle's virtues, Plutchik's emotions, Maslow's needs).
- ``dilemma.csv``: the 1,360 dilemmas (``idx``, ``basic_situation``, ``dilemma_situation``).
- ``dilemmas_with_detail_by_action.csv``: one row per action (to do / not to do) with the parties and
  values involved. The snapshot holds only the 8-row sample ``dilemmas_with_detail_by_action_test.csv``;
  the full file is read instead when present (the sample is a subset of it).
- ``principle_openai.csv`` / ``principle_claude.csv``: model-spec and constitution principles.

Decisions: the Moral Foundations column maps onto the shared foundation concepts (``nkg:Care`` ...), so
DailyDilemmas values meet the other sources' foundations; the other four theories become concept schemes
of their own. The values of an action are linked with ``nkg:value`` when they name one of the 301 values
(case-insensitively, which is how the upstream ``values_names`` column was derived: it lists exactly the
matching names); the others, free phrases such as 'Respect for resources', are kept as ``nkg:valueName``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import pyoxigraph as ox

from normkg.errors import SourceError
from normkg.ingest.base import (
    BadRecord,
    DatasetInfo,
    Loader,
    Record,
    RowError,
    RowTriples,
    read_csv,
    require,
)
from normkg.ingest.vocab import foundation
from normkg.kg.terms import Triple
from normkg.ontology.namespace import NKG, PROV, RDF, RDFS, SKOS, mint

SOURCE = "daily-dilemmas"

VALUES_FILE = "values.csv"
DILEMMA_FILE = "dilemma.csv"
#: the full per-action file first; the snapshot only has the test sample
ACTION_FILES = ("dilemmas_with_detail_by_action.csv", "dilemmas_with_detail_by_action_test.csv")
PRINCIPLE_FILES = {
    "principle_openai.csv": "OpenAI Model Spec",
    "principle_claude.csv": "Claude's constitution (Anthropic)",
}

ACTION_TYPES = ("to_do", "not_to_do")
LIST_COLUMNS = ("parties_direct", "parties_indirect", "values_direct", "values_indirect")


@dataclass(frozen=True)
class Theory:
    """One of the four theories values.csv maps values to (besides Moral Foundations)."""

    key: str
    column: str
    title: str
    #: emotions and needs are not values; WVS dimensions, virtues and Maslow's needs are value concepts
    scheme_class: ox.NamedNode
    concept_class: ox.NamedNode


THEORIES = (
    Theory("wvs", "WVS", "World Values Survey dimensions", NKG.ValueTaxonomy, NKG.Value),
    Theory("virtue", "Virtue", "Aristotle's virtues", NKG.ValueTaxonomy, NKG.Value),
    Theory("emotion", "Emotion", "Plutchik's emotions", SKOS.ConceptScheme, SKOS.Concept),
    Theory("maslow", "Maslow", "Maslow's hierarchy of needs", NKG.ValueTaxonomy, NKG.Value),
)
MFT_COLUMN = "MFT"

# A value row names the dimension of each theory it is *associated with* (a pole of a WVS axis, the emotion
# or need it evokes, the foundation it serves); that is neither equivalence nor subsumption ('trust' is not
# a kind of Loyalty, nor of Survival), so every mapping is skos:relatedMatch.
MAPPING = SKOS.relatedMatch


def value_scheme() -> ox.NamedNode:
    return mint("scheme", SOURCE, "values")


def theory_scheme(key: str) -> ox.NamedNode:
    return mint("scheme", SOURCE, key)


def topic_scheme() -> ox.NamedNode:
    return mint("scheme", SOURCE, "topics")


def value_node(name: str) -> ox.NamedNode:
    """The node of one of the 301 values; minted from the lower-cased name, the key actions match on."""
    return mint("value", SOURCE, name.strip().lower())


def theory_concept(key: str, label: str) -> ox.NamedNode:
    return mint("concept", SOURCE, key, label)


def dilemma_node(idx: str) -> ox.NamedNode:
    return mint("dilemma", SOURCE, idx)


def _idx(data: dict[str, str]) -> str:
    idx = require(data, "idx")
    if not idx.isdigit():
        raise RowError(f"idx must be a whole number, found {idx!r}")
    return idx


def _list(data: dict[str, str], column: str) -> list[str]:
    """A list cell written as a Python literal ("['You', 'The colleague']"); empty cell, empty list."""
    cell = (data.get(column) or "").strip()
    if not cell:
        return []
    try:
        value = ast.literal_eval(cell)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise RowError(f"{column}: not a Python list literal ({type(exc).__name__})") from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RowError(f"{column}: expected a list of strings, found {type(value).__name__}")
    # order-preserving dedupe: parties repeat once per value they hold
    return list(dict.fromkeys(item.strip() for item in value if item.strip()))


class DailyDilemmasLoader(Loader):
    name = SOURCE
    inputs = (VALUES_FILE, DILEMMA_FILE, *ACTION_FILES, *PRINCIPLE_FILES)
    dataset = DatasetInfo(
        title="DailyDilemmas: dilemmas, values (five theories), per-action sample, model-spec principles",
        citation="Chiu, Jiang, Choi (2025). DailyDilemmas: Revealing Value Preferences of LLMs with "
        "Quandaries of Daily Life. ICLR 2025. arXiv:2410.02683.",
        license="CC BY 4.0",
        license_iri="https://creativecommons.org/licenses/by/4.0/",
        homepage="https://github.com/kellycyy/daily_dilemmas",
    )

    @cached_property
    def action_file(self) -> str:
        for name in ACTION_FILES:
            if (self.root / name).is_file():
                return name
        raise SourceError(f"{self.name}: none of {', '.join(ACTION_FILES)} found in {self.root}")

    @cached_property
    def known_values(self) -> frozenset[str]:
        """Lower-cased names of the taxonomy's values, to decide which action values link to a concept.

        Read from values.csv up front because actions may be mapped before (or without) the value rows;
        a value row rejected later for a bad theory cell still counts as a name of the taxonomy.
        """
        return frozenset(
            record.data["value"].strip().lower()
            for record in read_csv(self.root / VALUES_FILE, self.root, required=("value",))
            if isinstance(record, Record) and record.data["value"].strip()
        )

    def records(self) -> Iterator[Record | BadRecord]:
        files = [
            (VALUES_FILE, ("value", MFT_COLUMN, *(t.column for t in THEORIES)), "value"),
            (DILEMMA_FILE, ("idx", "basic_situation", "dilemma_situation"), "idx"),
            (self.action_file, ("idx", "action_type", "action", *LIST_COLUMNS), "idx"),
            *((name, ("principle", "source"), None) for name in PRINCIPLE_FILES),
        ]
        for name, required, id_column in files:
            path = self.require_file(name)
            for record in read_csv(path, self.root, required=required):
                if isinstance(record, Record) and id_column is not None:
                    source_id = (record.data.get(id_column) or "").strip()
                    if name == self.action_file:
                        source_id += "/" + (record.data.get("action_type") or "").strip()
                    yield Record(record.file, record.line, record.data, source_id or None)
                else:
                    yield record

    def dataset_triples(self) -> list[Triple]:
        """The dataset plus the concept schemes its rows put concepts in, declared once."""
        triples = super().dataset_triples()
        schemes = [
            (value_scheme(), NKG.ValueTaxonomy, "DailyDilemmas values (301)"),
            (topic_scheme(), SKOS.ConceptScheme, "DailyDilemmas topics and topic groups"),
            *((theory_scheme(t.key), t.scheme_class, f"{t.title} (DailyDilemmas mapping)") for t in THEORIES),
        ]
        for scheme, cls, title in schemes:
            triples += [
                (scheme, RDF.type, cls),
                (scheme, SKOS.prefLabel, ox.Literal(title, language="en")),
                (scheme, RDFS.label, ox.Literal(title, language="en")),
                (scheme, PROV.wasDerivedFrom, self.dataset_node),
            ]
        return triples

    def map(self, record: Record, out: RowTriples) -> None:
        if record.file == VALUES_FILE:
            self._map_value(record.data, out)
        elif record.file == DILEMMA_FILE:
            self._map_dilemma(record.data, out)
        elif record.file == self.action_file:
            self._map_action(record.data, out)
        elif record.file in PRINCIPLE_FILES:
            self._map_principle(record.file, record.data, out)
        else:
            raise RowError(f"no mapping for file {record.file}")

    def _map_value(self, data: dict[str, str], out: RowTriples) -> None:
        name = require(data, "value")
        mft = (data.get(MFT_COLUMN) or "").strip()
        try:
            foundation_node = foundation(mft) if mft else None
        except RowError as exc:
            raise RowError(f"{MFT_COLUMN}: {exc}") from None
        value = out.entity(value_node(name), NKG.Value)
        out.label(value, name)
        out.add(value, SKOS.inScheme, value_scheme())
        out.add(value, MAPPING, foundation_node)
        for theory in THEORIES:
            label = (data.get(theory.column) or "").strip()
            if not label:
                continue
            concept = out.entity(theory_concept(theory.key, label), theory.concept_class)
            out.label(concept, label)
            out.add(concept, SKOS.inScheme, theory_scheme(theory.key))
            out.add(value, MAPPING, concept)

    def _map_dilemma(self, data: dict[str, str], out: RowTriples) -> None:
        dilemma = out.entity(dilemma_node(_idx(data)), NKG.Dilemma)
        out.text(dilemma, NKG.basicSituation, require(data, "basic_situation"), lang=None)  # xsd:string
        out.text(dilemma, NKG.situation, require(data, "dilemma_situation"))  # range rdf:langString

    def _map_action(self, data: dict[str, str], out: RowTriples) -> None:
        idx = _idx(data)
        action_type = require(data, "action_type")
        if action_type not in ACTION_TYPES:
            raise RowError(f"action_type must be one of {', '.join(ACTION_TYPES)}, found {action_type!r}")
        action_text = require(data, "action")
        lists = {column: _list(data, column) for column in LIST_COLUMNS}

        # the row asserts its dilemma too (it repeats the dilemma's columns), so an action whose idx is
        # missing from dilemma.csv still hangs off a typed dilemma; the dilemma derives from both rows
        dilemma = out.entity(dilemma_node(idx), NKG.Dilemma)
        option = out.entity(mint("option", self.name, idx, action_type), NKG.DilemmaOption)
        out.add(dilemma, NKG.option, option)
        out.text(option, NKG.text, action_text)
        out.text(option, NKG.actionType, action_type, lang=None)
        out.text(option, NKG.consequence, data.get("negative_consequence"), lang=None)
        for party in dict.fromkeys(lists["parties_direct"] + lists["parties_indirect"]):
            out.text(option, NKG.party, party, lang=None)
        for name in dict.fromkeys(lists["values_direct"] + lists["values_indirect"]):
            if name.lower() in self.known_values:
                out.add(option, NKG.value, value_node(name))
            else:
                out.text(option, NKG.valueName, name, lang=None)

        topic = (data.get("topic") or "").strip()
        group = (data.get("topic_group") or "").strip()
        group_node = mint("concept", self.name, "topic-group", group) if group else None
        if group_node is not None:
            out.entity(group_node, SKOS.Concept)
            out.label(group_node, group)
            out.add(group_node, SKOS.inScheme, topic_scheme())
        if topic:
            topic_node = out.entity(mint("concept", self.name, "topic", topic), SKOS.Concept)
            out.add(topic_node, SKOS.notation, ox.Literal(topic))
            out.label(topic_node, f"topic {topic}")
            out.add(topic_node, SKOS.inScheme, topic_scheme())
            out.add(topic_node, SKOS.broader, group_node)
            out.add(option, NKG.topic, topic_node)
        else:
            out.add(option, NKG.topic, group_node)

    def _map_principle(self, file: str, data: dict[str, str], out: RowTriples) -> None:
        text = require(data, "principle")
        spec = PRINCIPLE_FILES[file]
        principle = out.entity(mint("norm", self.name, file.removesuffix(".csv"), text), NKG.Principle)
        out.text(principle, NKG.text, text)
        out.text(principle, NKG.principleSource, data.get("source"), lang=None)
        out.add(principle, NKG.modelSpec, ox.Literal(spec))
        out.add(principle, NKG.deonticStatus, NKG.Obligatory)
