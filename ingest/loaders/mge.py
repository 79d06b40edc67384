"""Moral Graph Elicitation (Klingefjord, Lowe, Edelman 2024): the raw tables of the Oct 2023 DFT/MGE run.

Source: shared/data/moral-graph-elicitation (SOURCE.txt): ``dft-data/*.json``, a Postgres export (one
JSON array per table) of meaningalignment/mge. What each table and column means is read from the
run's Prisma schema (meaningalignment/dft ``schema.prisma``, the last version before the MGE rewrite,
whose columns match these files exactly); in particular ``edge``, ``edgeHypothesis``, ``vote`` and
``impression`` refer to *canonical* cards (``canonicalValuesCard``), not to elicited ones: their ids
overlap with ``valuesCard`` ids only by chance.

Table by table:

- ``valuesCard`` / ``deduplicatedCard`` / ``canonicalValuesCard`` -> ``nkg:ValuesCard`` with
  ``nkg:cardKind`` Elicited / Deduplicated / Canonical: title (``dcterms:title`` and label), instructions, one
  ``nkg:attentionalPolicy`` per ``evaluationCriteria`` entry, ``nkg:createdAt``; an elicited card's
  ``canonicalCardId`` -> ``nkg:canonicalAs`` and its ``quality`` -> ``nkg:cardQuality``; a deduplicated
  card's ``generation`` -> ``nkg:generation``.
- ``deduplication`` -> elicited card ``nkg:deduplicatedAs`` deduplicated card. Its ``generation`` is the
  deduplicated card's own, so it is checked against it rather than stored twice.
- ``deduplicationVerification`` / ``graphPositionVerification`` -> one node each (their answers).
- ``context`` -> ``nkg:Context`` (the text is the id); ``case`` -> ``nkg:Case`` (title, question, seed
  message); ``contextsOnCases`` -> context ``nkg:inCase`` case.
- ``edge`` -> ``nkg:WiserThanVote``: one participant's judgment, in a context, of the transition from
  ``fromId`` to ``toId`` (``relationship`` upgrade / no_upgrade / not_sure). The aggregated
  ``nkg:WiserThan`` edges of a moral graph are built elsewhere from these votes, not here.
- ``edgeHypothesis`` -> ``nkg:EdgeHypothesis``: the transitions the pipeline proposed for judgment.
- ``vote`` -> ``nkg:CardVote``, ``impression`` -> ``nkg:Impression`` (card shown / voted for a case).
- ``demographic`` -> sub-properties of ``nkg:demographic`` on the participant (usPoliticalAffiliation ->
  politicalAffiliation, age -> ageYears, ethnicitySimplified -> ethnicity, language -> primaryLanguage,
  the others under their own names). Prolific's ``DATA_EXPIRED`` / ``CONSENT_REVOKED`` markers mean
  "not known" and are left out.

Participants are pseudonymous integer keys into the ``user`` table, which was deliberately not copied
(it holds e-mail addresses); no personal data is read or written. The ``chat`` table is absent, so a
card's author (``nkg:cardAuthor``) cannot be known and ``chatId`` is not kept; ``updatedAt`` and the
timestamps of pure link rows (contextsOnCases, deduplication) are database bookkeeping and are dropped.
``story`` and ``runId`` hold the schema default ``OLD`` where the run predates them: left out.

References are checked: a row naming a card, context or case that no mapped row of its table
declares is a RowError naming the missing id (an untyped, textless card or context would only
mislead queries). So the loader streams the tables that are referred to first and remembers which
keys mapped; duplicate primary keys are rejected the same way. On the full data no row dangles.

Not loaded, on purpose:

- ``cases.json`` is a byte-identical second export of the ``case`` table (same rows, same ids);
  loading both would only duplicate provenance. If it ever differs, that is reported.
- ``dft-repo-data/bridging.csv`` is the output of an SQL query over these same tables (pairs of
  canonical cards voted for by a Republican and a Democrat that both lead to a common wiser card);
  every fact in it is already here and re-derivable by a query, and "bridging" is an analysis, not a
  source fact with a term in the ontology.
- ``mge-app/graph.json`` is the MGE app's hand-made demo fixture (a San Francisco homelessness
  deliberation): another deliberation whose card ids 1..6 collide with this run's, with no
  participants and no votes, and whose ``upgrades`` are already-aggregated edges; it is example data,
  not elicited data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterator
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import pyoxigraph as ox

from normkg.ingest.base import BadRecord, DatasetInfo, Loader, Record, RowError, RowTriples, read_json_array
from normkg.ontology.namespace import DCTERMS, NKG, XSD, mint

FOLDER = "dft-data"

# Stream order: every table comes after the tables it refers to.
TABLES = (
    "case.json",
    "context.json",
    "contextsOnCases.json",
    "canonicalValuesCard.json",
    "deduplicatedCard.json",
    "valuesCard.json",
    "deduplication.json",
    "deduplicationVerification.json",
    "graphPositionVerification.json",
    "edgeHypothesis.json",
    "edge.json",
    "vote.json",
    "impression.json",
    "demographic.json",
)
DUPLICATE_TABLE = ("cases.json", "case.json")

CardKind = Literal["elicited", "deduplicated", "canonical"]
_CARD_NAMESPACE: dict[CardKind, str] = {
    "elicited": "mge",
    "deduplicated": "mge-dedup",
    "canonical": "mge-canonical",
}
_CARD_TABLE: dict[CardKind, str] = {
    "elicited": "valuesCard.json",
    "deduplicated": "deduplicatedCard.json",
    "canonical": "canonicalValuesCard.json",
}
_CARD_KIND: dict[CardKind, ox.NamedNode] = {
    "elicited": NKG.ElicitedCard,
    "deduplicated": NKG.DeduplicatedCard,
    "canonical": NKG.CanonicalCard,
}

# Closed answer lists of the schema (EdgeType, DeduplicationVerificationOption), as the TTL notates them.
RELATIONSHIPS = {"upgrade": NKG.Upgrade, "no_upgrade": NKG.NoUpgrade, "not_sure": NKG.NotSure}
DEDUP_OPTIONS = {"same": NKG.DedupSame, "different": NKG.DedupDifferent, "unsure": NKG.DedupUnsure}

# Placeholders that stand for "no value": the schema's default for old rows, Prolific's expiry markers.
OLD = "OLD"
NOT_KNOWN = frozenset({"DATA_EXPIRED", "CONSENT_REVOKED"})

# demographic column -> property; text columns only (age and fluentLanguages are handled apart)
DEMOGRAPHIC_TEXT = {
    "usPoliticalAffiliation": NKG.politicalAffiliation,
    "sex": NKG.sex,
    "ethnicitySimplified": NKG.ethnicity,
    "countryOfBirth": NKG.countryOfBirth,
    "countryOfResidence": NKG.countryOfResidence,
    "nationality": NKG.nationality,
    "language": NKG.primaryLanguage,
    "studentStatus": NKG.studentStatus,
    "employmentStatus": NKG.employmentStatus,
}

_DATETIME = re.compile(r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


# ---- the node IRIs, shared with the moral-graph builder -----------------------------------------


def card_node(kind: CardKind, card_id: int) -> ox.NamedNode:
    """A card of one of MGE's three card tables; each table has its own id space."""
    return mint("card", _CARD_NAMESPACE[kind], card_id)


def context_node(text: str) -> ox.NamedNode:
    """An MGE context: its text ("When seeking clarity") is its id."""
    return mint("context", "mge", text)


def case_node(case_id: str) -> ox.NamedNode:
    return mint("case", "mge", case_id)


def participant_node(user_id: int) -> ox.NamedNode:
    """A participant, by MGE's pseudonymous integer user id."""
    return mint("participant", "mge", user_id)


# ---- field readers: a wrong or missing value is a RowError naming the column ---------------------


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if value is None:
        raise RowError(f"missing {key!r}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise RowError(f"{key!r} must be an integer, found {value!r}")
    return value


def _optional_int(data: dict[str, Any], key: str) -> int | None:
    return None if data.get(key) is None else _int(data, key)


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RowError(f"{key!r} must be a string, found {value!r}")
    return value.strip() or None


def _text(data: dict[str, Any], key: str) -> str:
    value = _optional_text(data, key)
    if value is None:
        raise RowError(f"missing {key!r}")
    return value


def _known(value: str | None) -> str | None:
    """A text value, or None for the schema's and Prolific's placeholders."""
    return None if value is None or value == OLD or value in NOT_KNOWN else value


def _texts(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RowError(f"{key!r} must be a list of strings, found {value!r}")
    return [v.strip() for v in value if v.strip()]


def _timestamp(data: dict[str, Any], key: str = "createdAt") -> ox.Literal | None:
    """An ISO 8601 timestamp as xsd:dateTime (kept as written: Prisma exports UTC with 'Z')."""
    value = _optional_text(data, key)
    if value is None:
        return None
    try:
        if not _DATETIME.fullmatch(value):
            raise ValueError
        datetime.fromisoformat(value)
    except ValueError:
        raise RowError(f"{key!r} is not a date-time: {value!r}") from None
    return ox.Literal(value, datatype=XSD.dateTime)


def _plain(value: str | None) -> ox.Literal | None:
    return ox.Literal(value) if value is not None else None


class MgeLoader(Loader):
    name = "moral-graph-elicitation"
    inputs = tuple(f"{FOLDER}/{table}" for table in (*TABLES, DUPLICATE_TABLE[0]))
    dataset = DatasetInfo(
        title="Moral Graph Elicitation: Democratic Fine-Tuning run of Oct 2023 (raw tables)",
        citation="Klingefjord, Lowe, Edelman (2024). What are human values, and how do we align AI to them? "
        "arXiv:2404.10636. Data: github.com/meaningalignment/mge, dft-data at commit 2e94ff9b.",
        license="none stated upstream; publicly released by the Meaning Alignment Institute — cite the "
        "paper, ask MAI before redistribution",
        homepage="https://github.com/meaningalignment/mge",
    )

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._reset()

    def _reset(self) -> None:
        # table -> primary key -> record number of the row that mapped it (references resolve here)
        self._mapped: dict[str, dict[Hashable, int]] = {table: {} for table in TABLES}
        self._generation: dict[int, int] = {}  # deduplicated card id -> its generation

    def records(self) -> Iterator[Record | BadRecord]:
        self._reset()
        for table in TABLES:
            path = self.require_file(f"{FOLDER}/{table}")
            for record in read_json_array(path, self.root):
                if isinstance(record, Record) and record.data.get("id") is not None:
                    yield Record(record.file, record.line, record.data, str(record.data["id"]))
                else:
                    yield record
        yield from self._check_duplicate_table()

    def _check_duplicate_table(self) -> Iterator[BadRecord]:
        """cases.json is skipped because it repeats case.json; say so if that ever stops being true."""
        copy, original = (self.root / FOLDER / name for name in DUPLICATE_TABLE)
        if not copy.is_file() or copy.read_bytes() == original.read_bytes():
            return
        try:
            same = json.loads(copy.read_bytes()) == json.loads(original.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError):
            same = False
        if not same:
            yield BadRecord(
                f"{FOLDER}/{DUPLICATE_TABLE[0]}", 1,
                f"differs from {DUPLICATE_TABLE[1]}; only {DUPLICATE_TABLE[1]} is loaded",
            )  # fmt: skip

    def map(self, record: Record, out: RowTriples) -> None:
        table = PurePosixPath(record.file).name
        data = record.data
        match table:
            case "case.json":
                key: Hashable = self._case(data, out)
            case "context.json":
                key = self._context(data, out)
            case "contextsOnCases.json":
                key = self._context_on_case(data, out)
            case "canonicalValuesCard.json":
                key = self._card("canonical", data, out)
            case "deduplicatedCard.json":
                key = self._card("deduplicated", data, out)
            case "valuesCard.json":
                key = self._card("elicited", data, out)
            case "deduplication.json":
                key = self._deduplication(data, out)
            case "deduplicationVerification.json":
                key = self._deduplication_verification(data, out)
            case "graphPositionVerification.json":
                key = self._graph_position_verification(data, out)
            case "edgeHypothesis.json":
                key = self._edge_hypothesis(data, out)
            case "edge.json":
                key = self._edge(data, out)
            case "vote.json":
                key = self._card_event(data, out, "card-vote", NKG.CardVote)
            case "impression.json":
                key = self._card_event(data, out, "impression", NKG.Impression)
            case "demographic.json":
                key = self._demographic(data, out)
            case _:
                raise RowError(f"no mapping for table {table}")
        mapped = self._mapped[table]
        if key in mapped:
            raise RowError(f"duplicate key {key} in {table} (first at record {mapped[key]})")
        mapped[key] = record.line

    # ---- references --------------------------------------------------------------------------

    def _ref(self, table: str, key: Hashable, column: str) -> None:
        if key not in self._mapped[table]:
            raise RowError(f"{column} {key!r} is not in {table} (dangling reference)")

    def _card_ref(self, kind: CardKind, data: dict[str, Any], column: str) -> ox.NamedNode:
        card_id = _int(data, column)
        self._ref(_CARD_TABLE[kind], card_id, column)
        return card_node(kind, card_id)

    def _context_ref(self, data: dict[str, Any]) -> ox.NamedNode:
        context = _text(data, "contextId")
        self._ref("context.json", context, "contextId")
        return context_node(context)

    def _case_ref(self, data: dict[str, Any]) -> ox.NamedNode:
        case = _text(data, "caseId")
        self._ref("case.json", case, "caseId")
        return case_node(case)

    @staticmethod
    def _participant(data: dict[str, Any], out: RowTriples) -> ox.NamedNode:
        return out.entity(participant_node(_int(data, "userId")), NKG.Participant)

    # ---- tables ------------------------------------------------------------------------------

    def _case(self, data: dict[str, Any], out: RowTriples) -> str:
        case_id, title = _text(data, "id"), _text(data, "title")
        question, seed = _text(data, "question"), _known(_optional_text(data, "seedMessage"))
        case = out.entity(case_node(case_id), NKG.Case)
        out.text(case, DCTERMS.title, title)
        out.label(case, title)
        out.text(case, NKG.question, question)
        out.add(case, NKG.seedMessage, _plain(seed))
        return case_id

    def _context(self, data: dict[str, Any], out: RowTriples) -> str:
        text = _text(data, "id")
        out.label(out.entity(context_node(text), NKG.Context), text)
        return text

    def _context_on_case(self, data: dict[str, Any], out: RowTriples) -> tuple[str, str]:
        context, case = self._context_ref(data), self._case_ref(data)
        out.add(out.entity(context, NKG.Context), NKG.inCase, case)
        return _text(data, "contextId"), _text(data, "caseId")

    def _card(self, kind: CardKind, data: dict[str, Any], out: RowTriples) -> int:
        card_id, title = _int(data, "id"), _text(data, "title")
        short, detailed = _text(data, "instructionsShort"), _text(data, "instructionsDetailed")
        policies, created = _texts(data, "evaluationCriteria"), _timestamp(data)
        generation = _int(data, "generation") if kind == "deduplicated" else None
        canonical = quality = None
        if kind == "elicited":
            if data.get("canonicalCardId") is not None:
                canonical = self._card_ref("canonical", data, "canonicalCardId")
            quality = _optional_text(data, "quality")

        card = out.entity(card_node(kind, card_id), NKG.ValuesCard)
        out.add(card, NKG.cardKind, _CARD_KIND[kind])
        out.text(card, DCTERMS.title, title)
        out.label(card, title)
        out.text(card, NKG.instructionsShort, short, lang=None)
        out.text(card, NKG.instructionsDetailed, detailed, lang=None)
        for policy in policies:
            out.text(card, NKG.attentionalPolicy, policy, lang=None)
        out.add(card, NKG.createdAt, created)
        out.add(card, NKG.canonicalAs, canonical)
        out.add(card, NKG.cardQuality, _plain(quality))
        if generation is not None:
            out.number(card, NKG.generation, generation)
            self._generation.setdefault(card_id, generation)  # a duplicate row is rejected later
        return card_id

    def _deduplication(self, data: dict[str, Any], out: RowTriples) -> tuple[int, int]:
        card = self._card_ref("elicited", data, "valuesCardId")
        dedup = self._card_ref("deduplicated", data, "deduplicatedCardId")
        generation, dedup_id = _int(data, "generation"), _int(data, "deduplicatedCardId")
        if generation != self._generation[dedup_id]:
            raise RowError(
                f"generation {generation} differs from deduplicated card {dedup_id}'s "
                f"generation {self._generation[dedup_id]}"
            )
        out.add(out.entity(card, NKG.ValuesCard), NKG.deduplicatedAs, dedup)
        return _int(data, "valuesCardId"), dedup_id

    def _deduplication_verification(self, data: dict[str, Any], out: RowTriples) -> tuple[int, int, int]:
        key = (_int(data, "userId"), _int(data, "valuesCardId"), _int(data, "deduplicatedCardId"))
        card = self._card_ref("elicited", data, "valuesCardId")
        dedup = self._card_ref("deduplicated", data, "deduplicatedCardId")
        option = _text(data, "option")
        if option not in DEDUP_OPTIONS:
            raise RowError(f"option: unknown value {option!r} (expected one of {', '.join(DEDUP_OPTIONS)})")
        check = out.entity(mint("dedup-verification", "mge", *key), NKG.DeduplicationVerification)
        out.add(check, NKG.participant, self._participant(data, out))
        out.add(check, NKG.card, card)
        out.add(check, NKG.deduplicatedCard, dedup)
        out.add(check, NKG.verificationOption, DEDUP_OPTIONS[option])
        out.add(check, NKG.createdAt, _timestamp(data))
        return key

    def _graph_position_verification(self, data: dict[str, Any], out: RowTriples) -> tuple[int, int]:
        key = (_int(data, "userId"), _int(data, "deduplicatedCardId"))
        dedup = self._card_ref("deduplicated", data, "deduplicatedCardId")
        satisfied = data.get("isSatisfiedWithPosition")
        if not isinstance(satisfied, bool):
            raise RowError(f"'isSatisfiedWithPosition' must be true or false, found {satisfied!r}")
        check = out.entity(mint("graph-position-verification", "mge", *key), NKG.GraphPositionVerification)
        out.add(check, NKG.participant, self._participant(data, out))
        out.add(check, NKG.deduplicatedCard, dedup)
        out.add(check, NKG.satisfiedWithPosition, ox.Literal(satisfied))
        out.add(check, NKG.createdAt, _timestamp(data))
        return key

    def _transition(self, data: dict[str, Any], node: ox.NamedNode, out: RowTriples) -> None:
        """What an edge and an edge hypothesis share: two canonical cards, a context, a story, a run."""
        source = self._card_ref("canonical", data, "fromId")
        target = self._card_ref("canonical", data, "toId")
        if source == target:
            raise RowError(f"fromId and toId are the same card ({data['fromId']})")
        out.add(node, NKG.fromCard, source)
        out.add(node, NKG.toCard, target)
        out.add(node, NKG.context, self._context_ref(data))
        out.add(node, NKG.story, _plain(_known(_optional_text(data, "story"))))
        out.add(node, NKG.runId, _plain(_known(_optional_text(data, "runId"))))
        out.add(node, NKG.createdAt, _timestamp(data))

    def _edge_hypothesis(self, data: dict[str, Any], out: RowTriples) -> tuple[int, int]:
        key = (_int(data, "fromId"), _int(data, "toId"))
        hypothesis = out.entity(mint("edge-hypothesis", "mge", *key), NKG.EdgeHypothesis)
        self._transition(data, hypothesis, out)
        return key

    def _edge(self, data: dict[str, Any], out: RowTriples) -> tuple[int, int, int]:
        key = (_int(data, "userId"), _int(data, "fromId"), _int(data, "toId"))
        relationship = _text(data, "relationship")
        if relationship not in RELATIONSHIPS:
            raise RowError(
                f"relationship: unknown value {relationship!r} (expected one of {', '.join(RELATIONSHIPS)})"
            )
        vote = out.entity(mint("wiser-than-vote", "mge", *key), NKG.WiserThanVote)
        self._transition(data, vote, out)
        out.add(vote, NKG.relationship, RELATIONSHIPS[relationship])
        out.add(vote, NKG.participant, self._participant(data, out))
        out.add(vote, NKG.comment, _plain(_optional_text(data, "comment")))
        return key

    def _card_event(self, data: dict[str, Any], out: RowTriples, kind: str, cls: ox.NamedNode) -> int:
        """A vote or an impression: a participant and a canonical card, for a case, in one draw."""
        event_id = _int(data, "id")
        card = self._card_ref("canonical", data, "valuesCardId")
        case, draw = self._case_ref(data), _text(data, "drawId")
        event = out.entity(mint(kind, "mge", event_id), cls)
        out.add(event, NKG.participant, self._participant(data, out))
        out.add(event, NKG.card, card)
        out.add(event, NKG.inCase, case)
        out.add(event, NKG.drawId, ox.Literal(draw))
        out.add(event, NKG.createdAt, _timestamp(data))
        return event_id

    def _demographic(self, data: dict[str, Any], out: RowTriples) -> int:
        user_id, age = _int(data, "userId"), _optional_int(data, "age")
        values = {prop: _known(_optional_text(data, column)) for column, prop in DEMOGRAPHIC_TEXT.items()}
        languages = [lang for lang in _texts(data, "fluentLanguages") if _known(lang)]
        participant = self._participant(data, out)
        out.add(participant, NKG.ageYears, ox.Literal(age) if age is not None else None)
        for prop, value in values.items():
            out.add(participant, prop, _plain(value))
        for language in languages:
            out.add(participant, NKG.fluentLanguage, ox.Literal(language))
        return user_id  # the schema makes userId unique: one demographic row per participant
