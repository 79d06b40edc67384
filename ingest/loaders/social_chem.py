"""Social-Chem-101 (Forbes et al., EMNLP 2020): rules-of-thumb broken down into an action and its judgments.

Source: shared/data/social-chem-101 (SOURCE.txt): Kiehne et al. 2022's two filtered subsets,
``obligatory_sc101.csv`` (action-moral-judgment 1 or 2) and ``optional_sc101.csv`` (0, plus the column
``stripped``), each with the 25 original columns documented in the upstream README (README.v1.0.md).

One row is one rule-of-thumb breakdown, mapped to a ``nkg:Norm`` (the rule-of-thumb, its RoT-level
annotations and its situation) that is ``nkg:about`` a ``nkg:Behavior`` (the action and its action-level
annotations). Identity: ``rot-id`` is unique within and across both files, so it names the norm; the
behaviour is named by rot-id and action text, so that the full dataset's several breakdowns of one
rule-of-thumb (m = 3, 5, 50) would not merge different actions into one node.

Why each column goes where it goes:

- the judgment grade comes from the ontology's ``nkg:SocialChemScale`` (grade and deontic status are
  read from the TTL, their single home); the norm carries the grade's deontic status too, so queries
  need not hop through the behaviour and the scale;
- categories and legality are closed lists in the README, so their concept nodes are declared once
  with the dataset, and a value outside the list rejects the row rather than minting a stray concept;
- ``characters`` becomes one literal per character, which loses their order, so ``char-N`` answers
  (rot-char-targeting, action-char-involved) are kept as written *and* resolved to the character's
  name; an index beyond the listed characters (upstream lists at most six) is kept unresolved;
- the two worker ids go on the source row both as ``nkg:workerId`` and under a sub-property saying
  which worker it was (author of the rule-of-thumb, or of the breakdown);
- an empty number means "question not answered" in the README: it is left out, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import pyoxigraph as ox
import rdflib

from normkg.ingest.base import BadRecord, DatasetInfo, Loader, Record, RowError, RowTriples, read_csv, require
from normkg.ingest.vocab import foundation
from normkg.kg.terms import Triple
from normkg.ontology.namespace import NKG, PROV, RDF, RDFS, SKOS, mint, ontology_graph

FILES = ("obligatory_sc101.csv", "optional_sc101.csv")

COLUMNS = (
    "area", "m", "split", "rot-agree", "rot-categorization", "rot-moral-foundations", "rot-char-targeting",
    "rot-bad", "rot-judgment", "action", "action-agency", "action-moral-judgment", "action-agree",
    "action-legal", "action-pressure", "action-char-involved", "action-hypothetical", "situation",
    "situation-short-id", "rot", "rot-id", "rot-worker-id", "breakdown-worker-id", "n-characters",
    "characters",
)  # fmt: skip

# The README's closed answer lists, with the labels shown to people.
CATEGORY_LABELS = {
    "morality-ethics": "morality and ethics",
    "social-norms": "social norms",
    "advice": "advice",
    "description": "description",
}
LEGALITY_LABELS = {"legal": "legal", "illegal": "illegal", "tolerated": "tolerated"}


def category_node(name: str) -> ox.NamedNode:
    return mint("concept", "social-chem-101", "category", name)


def legality_node(name: str) -> ox.NamedNode:
    return mint("concept", "social-chem-101", "legality", name)


@cache
def judgment_grades() -> dict[int, tuple[ox.NamedNode, ox.NamedNode]]:
    """action-moral-judgment value -> (grade, deontic status), read from the ontology's SocialChemScale."""
    graph = ontology_graph()
    in_scheme = rdflib.URIRef(SKOS.inScheme.value)
    notation = rdflib.URIRef(SKOS.notation.value)
    deontic = rdflib.URIRef(NKG.deonticStatus.value)
    grades: dict[int, tuple[ox.NamedNode, ox.NamedNode]] = {}
    for grade in graph.subjects(in_scheme, rdflib.URIRef(NKG.SocialChemScale.value)):
        grades[int(str(graph.value(grade, notation)))] = (
            ox.NamedNode(str(grade)),
            ox.NamedNode(str(graph.value(grade, deontic))),
        )
    return grades


def _cell(data: dict[str, Any], column: str) -> str:
    value = data.get(column)
    return value.strip() if isinstance(value, str) else ""


def _integer(data: dict[str, Any], column: str, low: int, high: int | None = None) -> int | None:
    """A whole number written as "4" or "4.0"; empty means unanswered (None); anything else is a RowError."""
    raw = _cell(data, column)
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        raise RowError(f"{column}: not a number: {raw!r}") from None
    if not number.is_integer() or number < low or (high is not None and number > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise RowError(f"{column}: {raw!r} is not a whole number in {bounds}")
    return int(number)


def _choices(data: dict[str, Any], column: str) -> list[str]:
    return [part.strip() for part in _cell(data, column).split("|") if part.strip()]


def _closed(data: dict[str, Any], column: str, labels: dict[str, str], *, many: bool) -> list[str]:
    """The answers of a closed-list column ("|"-separated when ``many``); one off the list is a RowError."""
    values = _choices(data, column) if many else [v for v in [_cell(data, column)] if v]
    for value in values:
        if value not in labels:
            raise RowError(f"{column}: unknown value {value!r} (expected one of {', '.join(labels)})")
    return values


def _character(code: str, characters: list[str]) -> str | None:
    """The character a ``char-N`` answer points at, if N is within the listed characters."""
    index = code.removeprefix("char-")
    if index != code and index.isdigit() and int(index) < len(characters):
        return characters[int(index)] or None
    return None


def _plain(value: str) -> ox.Literal | None:
    return ox.Literal(value) if value else None


class SocialChemLoader(Loader):
    name = "social-chem-101"
    inputs = FILES
    dataset = DatasetInfo(
        title="Social-Chem-101 (obligatory and optional subsets of Kiehne et al. 2022)",
        citation="Forbes, Hwang, Shwartz, Sap, Choi (2020). Social Chemistry 101: Learning to Reason about "
        "Social and Moral Norms. EMNLP 2020. Subsets from Kiehne, Kroll, Balke (2022). Contextualizing "
        "Language Models for Norms Diverging from Social Majority. Findings of EMNLP 2022.",
        license="CC BY-SA 4.0 (Social-Chem-101 data; share-alike applies)",
        license_iri="https://creativecommons.org/licenses/by-sa/4.0/",
        homepage="https://github.com/mbforbes/social-chemistry-101",
    )

    def records(self) -> Iterator[Record | BadRecord]:
        for name in FILES:
            path = self.require_file(name)
            for record in read_csv(path, self.root, required=COLUMNS):
                if isinstance(record, Record):
                    yield Record(record.file, record.line, record.data, _cell(record.data, "rot-id") or None)
                else:
                    yield record

    def dataset_triples(self) -> list[Triple]:
        """The dataset plus its two closed vocabularies, declared once rather than on every row."""
        triples = super().dataset_triples()
        schemes = (
            (NKG.SocialChemCategories, category_node, CATEGORY_LABELS),
            (NKG.Legality, legality_node, LEGALITY_LABELS),
        )
        for scheme, node_of, labels in schemes:
            for value, label in labels.items():
                node = node_of(value)
                triples += [
                    (node, RDF.type, SKOS.Concept),
                    (node, SKOS.inScheme, scheme),
                    (node, SKOS.notation, ox.Literal(value)),
                    (node, SKOS.prefLabel, ox.Literal(label, language="en")),
                    (node, RDFS.label, ox.Literal(label, language="en")),
                    (node, PROV.wasDerivedFrom, self.dataset_node),
                ]
        return triples

    def map(self, record: Record, out: RowTriples) -> None:
        data = record.data
        rot_id = require(data, "rot-id")
        rot = require(data, "rot")
        action_text = require(data, "action")
        judgment = _integer(data, "action-moral-judgment", -2, 2)
        grade = judgment_grades()[judgment] if judgment is not None else None
        flagged = _integer(data, "rot-bad", 0, 1)
        characters = [part.strip() for part in _cell(data, "characters").split("|")]

        norm = out.entity(mint("norm", self.name, rot_id), NKG.Norm)
        out.text(norm, NKG.text, rot)
        out.text(norm, NKG.judgmentText, data.get("rot-judgment"))
        out.number(norm, NKG.agreement, _integer(data, "rot-agree", 0, 4))
        for category in _closed(data, "rot-categorization", CATEGORY_LABELS, many=True):
            out.add(norm, NKG.category, category_node(category))
        for name in _choices(data, "rot-moral-foundations"):
            try:
                out.add(norm, NKG.moralFoundation, foundation(name))
            except RowError as exc:
                raise RowError(f"rot-moral-foundations: {exc}") from None
        targeting = _cell(data, "rot-char-targeting")
        out.add(norm, NKG.characterTargeting, _plain(targeting))
        out.text(norm, NKG.targetedCharacter, _character(targeting, characters))
        out.add(norm, NKG.flaggedBad, ox.Literal(bool(flagged)) if flagged is not None else None)
        out.add(norm, NKG.deonticStatus, grade[1] if grade else None)
        out.add(norm, NKG.permissionCue, _plain(_cell(data, "stripped")))
        out.text(norm, NKG.situation, data.get("situation"))
        out.add(norm, NKG.situationId, _plain(_cell(data, "situation-short-id")))
        for character in dict.fromkeys(characters):  # a name listed twice is one literal anyway
            out.text(norm, NKG.characters, character)
        out.number(norm, NKG.characterCount, _integer(data, "n-characters", 0))
        out.add(norm, NKG.sourceArea, _plain(_cell(data, "area")))
        out.add(norm, NKG.split, _plain(_cell(data, "split")))
        out.number(norm, NKG.breakdownCount, _integer(data, "m", 1))

        action = out.entity(mint("behavior", self.name, rot_id, action_text), NKG.Behavior)
        out.add(norm, NKG.about, action)
        out.text(action, NKG.text, action_text)
        out.add(action, NKG.agency, _plain(_cell(data, "action-agency")))
        out.add(action, NKG.judgment, grade[0] if grade else None)
        out.number(action, NKG.actionAgreement, _integer(data, "action-agree", 0, 4))
        for legality in _closed(data, "action-legal", LEGALITY_LABELS, many=False):
            out.add(action, NKG.legality, legality_node(legality))
        out.number(action, NKG.culturalPressure, _integer(data, "action-pressure", -2, 2))
        involved = _cell(data, "action-char-involved")
        out.add(action, NKG.characterInvolved, _plain(involved))
        out.text(action, NKG.involvedCharacter, _character(involved, characters))
        out.add(action, NKG.hypothetical, _plain(_cell(data, "action-hypothetical")))

        for column, role in (
            ("rot-worker-id", NKG.rotWorkerId),
            ("breakdown-worker-id", NKG.breakdownWorkerId),
        ):
            worker = _plain(_cell(data, column))
            out.add(out.row, NKG.workerId, worker)
            out.add(out.row, role, worker)
