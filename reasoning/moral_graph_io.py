"""Moral graphs in and out: the MGE export, a simple interview file, and mge-json / GraphML / RDF.

Readers validate every record and keep going: a bad record is listed in a :class:`ReadReport` with its
file, line (or 1-based record number in a JSON array), field and reason, and the good ones are kept
(pySHACL's lesson, as in ``normkg.ingest``). Exceptions (:class:`~normkg.errors.InputError`) are for
inputs that cannot be read at all.

Inputs
------

* **The MGE database export** (``moral-graph-elicitation/dft-data/*.json``, from
  ``meaningalignment/mge`` at 2e94ff9b07f1264a4a85e8fae8a672369ea2133b): votes are rows of ``edge.json``
  between *canonical* cards (``canonicalValuesCard.json``; ``valuesCard.canonicalCardId`` maps every
  elicited card to its canonical card, which is how MGE replaces elicited ids by deduplicated ones before
  building). We read canonical cards the way MGE's own importer does (``scripts/import-dft-data.ts`` at
  ca725c2102f993d476b69628e36f12f1878f1665: ``description`` = ``instructionsDetailed``, ``policies`` =
  ``evaluationCriteria``; ``relationship`` is the vote type). Cases and contexts come from
  ``case.json``, ``context.json`` and ``contextsOnCases.json``, demographics from ``demographic.json``
  (``DATA_EXPIRED`` is treated as not reported). ``valuesCard.json``, ``deduplicatedCard.json`` and
  ``deduplication.json`` are read as well, for :mod:`normkg.reasoning.moral_graph_dedup`.
* **MGE's demo graph** (``mge-app/graph.json``: ``values``, ``upgrades``, ``questions``), built as MGE's
  ``app/routes/api.data.graph.local.ts`` does: every upgrade is one ``upgrade`` vote, threshold 0.
* **Interview files** (JSON lines), for teams running their own elicitation. One line is one
  participant's judgment of one pair of cards::

    {"participant": "p01", "case": "homework", "context": "When a child refuses to do homework",
     "from": {"id": "rules", "title": "Clear Consequences",
              "description": "Setting firm rules and following through calmly",
              "policies": ["CONSEQUENCES the child can predict in advance",
                           "ROUTINES that make homework time a habit"]},
     "to": {"id": "curiosity", "title": "Nurturing Curiosity",
            "policies": ["MOMENTS when the child's own interests connect to the schoolwork"]},
     "judgment": "wiser",
     "demographics": {"usPoliticalAffiliation": "Democrat"}}
    {"participant": "p02", "case": "homework", "context": "When a child refuses to do homework",
     "from": "rules", "to": "curiosity", "judgment": "unsure"}

  Fields: ``participant`` (required, any pseudonymous id — never a name or e-mail); ``context`` (the
  choice context the cards were compared in) and/or ``case`` (the question it belongs to; at least one
  is required, and a line without ``context`` uses the case as its context); ``from`` and ``to`` (a card
  object, or just its id once the card has been written out with a ``title`` on any line — a card id
  that is written out twice must have the same text); ``judgment`` — ``"wiser"`` (moving from ``from`` to
  ``to`` is wiser: MGE's ``upgrade``), ``"not_wiser"`` (``no_upgrade``) or ``"unsure"`` (``not_sure``),
  MGE's own three words are accepted too; optional ``demographics`` (flat text or number fields, the same
  on every line of a participant), ``comment`` and ``story``. Unknown fields are refused, so that a typo
  ("judgement") cannot silently drop data; so is a second vote of a participant on the same pair (MGE's
  ``Edge`` key is user, from, to). ``tests/data/interviews/example.jsonl`` is a complete example.

Outputs
-------

* ``mge-json``: MGE's summary shape (values-tools ``src/types.ts`` ``MoralGraph`` at
  78d75e0e66eb1ac39e5efeca50affec9f32d6de6, and the dft repository's ``data/moral-graph-*.json``):
  ``{"values": [{id, title, description, policies, pageRank}], "edges": [{sourceValueId, wiserValueId,
  contexts, counts: {markedWiser, markedNotWiser, markedLessWise, markedUnsure, impressions}, summary:
  {wiserLikelihood, entropy}}]}``. Extra keys MGE ignores: a value's ``instructionsShort``, ``kind`` and
  ``source`` (where they are not the defaults), and top-level ``cases`` and ``namespace``, so that a graph
  read back names the same cards, cases and IRIs. ``pageRank`` is on MGE's scale and is recomputed, not
  read, when the file is read back.
* ``graphml`` (networkx): card and edge fields as GraphML attributes; lists are JSON text.
* ``ttl``: the normkg ontology's moral-graph terms, see :func:`moral_graph_triples`. Turtle is written
  and read with pyoxigraph.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeGuard, TypeVar, get_args

import networkx as nx
import numpy as np
import pyoxigraph as ox
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from normkg.errors import InputError
from normkg.ingest.base import BadRecord, Record, read_json_array, read_jsonl
from normkg.kg.terms import Term, Triple, to_python
from normkg.ontology.namespace import DCTERMS, NKG, PREFIXES, PROV, RDF, SKOS, XSD, mint
from normkg.reasoning.moral_graph import (
    DEFAULT_MIN_MARKED_WISER,
    MGE_CITATION,
    CardId,
    CardKind,
    Context,
    Demographic,
    EdgeCounts,
    EdgeSummary,
    Judgment,
    MoralGraph,
    Relationship,
    ValuesCard,
    build_moral_graph,
    card_sort_key,
    page_rank,
)

#: Namespaces of MGE card IRIs, shared with the MGE loader: ``mint("card", namespace, id)``.
MGE_ELICITED = "mge"
MGE_CANONICAL = "mge-canonical"
MGE_DEDUPLICATED = "mge-dedup"
#: Namespace of MGE's contexts and cases (``mint("context", "mge", id)``).
MGE_NAMESPACE = "mge"
MGE_LICENSE_NOTE = (
    "NONE STATED (meaningalignment/mge has no LICENSE); publicly released, terms unspecified: cite the paper"
)

GRAPH_FORMATS = ("mge-json", "graphml", "ttl")
_NOT_REPORTED = {"DATA_EXPIRED", "CONSENT_REVOKED", ""}
_JUDGMENT_WORDS: dict[str, Relationship] = {
    "wiser": "upgrade",
    "not_wiser": "no_upgrade",
    "unsure": "not_sure",
    "upgrade": "upgrade",
    "no_upgrade": "no_upgrade",
    "not_sure": "not_sure",
}


# ---- reports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RejectedRecord:
    """One record a reader refused: where it is, which field, and why."""

    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


@dataclass
class ReadReport:
    """What a reader read and what it refused; good records are kept whatever happens to bad ones."""

    source: str
    records_read: int = 0
    rejected: list[RejectedRecord] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.records_read - len(self.rejected)

    def reject(self, file: str, line: int, field_name: str, reason: str) -> None:
        self.rejected.append(RejectedRecord(file, line, field_name, reason))


_TYPE_TAGS = {"int", "str", "float", "bool", "list", "dict", "none", "literal", "union"}
_M = TypeVar("_M", bound=BaseModel)


def _field_path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a field path, without the union-member tags pydantic adds."""
    parts = [
        str(p)
        for p in loc
        if isinstance(p, int) or (p not in _TYPE_TAGS and not any(ch in p for ch in "[-") and p[:1].islower())
    ]
    return ".".join(parts) or "(record)"


def _validate(model: type[_M], record: Record, report: ReadReport) -> _M | None:
    try:
        return model.model_validate(record.data)
    except ValidationError as exc:
        errors = exc.errors()
        reason = errors[0]["msg"]
        others = [f"{_field_path(e['loc'])}: {e['msg']}" for e in errors[1:4]]
        if others:
            reason += "; also " + "; ".join(others)
        report.reject(record.file, record.line, _field_path(errors[0]["loc"]), reason)
        return None


def _records(rows: Iterable[Record | BadRecord], report: ReadReport) -> Iterator[Record]:
    for row in rows:
        report.records_read += 1
        if isinstance(row, BadRecord):
            report.reject(row.file, row.line, "(record)", row.reason)
        else:
            yield row


NonEmpty = Annotated[StrictStr, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


# ---- what readers return -------------------------------------------------------------------------


@dataclass(frozen=True)
class ElicitationData:
    """The inputs of :func:`build_moral_graph` as read from a file or folder, with its report."""

    cards: tuple[ValuesCard, ...]
    judgments: tuple[Judgment, ...]
    contexts: tuple[Context, ...]
    demographics: tuple[Demographic, ...]
    report: ReadReport
    min_marked_wiser: int = DEFAULT_MIN_MARKED_WISER
    namespace: str | None = None
    source_file: str = ""
    license_note: str = "not stated"
    citation: str = MGE_CITATION

    def build(
        self, min_marked_wiser: int | None = None, card_map: Mapping[CardId, CardId] | None = None
    ) -> MoralGraph:
        return build_moral_graph(
            self.cards,
            self.judgments,
            contexts=self.contexts,
            demographics=self.demographics,
            card_map=card_map,
            min_marked_wiser=self.min_marked_wiser if min_marked_wiser is None else min_marked_wiser,
            namespace=self.namespace,
            source_file=self.source_file,
            license_note=self.license_note,
            citation=self.citation,
        )


@dataclass(frozen=True)
class MgeExport:
    """The MGE export folder: the graph inputs plus the elicited and deduplicated card tables.

    ``deduplication`` maps generation → elicited card id → deduplicated card id (MGE's table of the
    same name); ``canonical_of`` maps elicited card id → canonical card id.
    """

    elicitation: ElicitationData
    elicited_cards: tuple[ValuesCard, ...]
    canonical_of: Mapping[int, int]
    deduplicated_cards: tuple[ValuesCard, ...]
    deduplication: Mapping[int, Mapping[int, int]]

    @property
    def report(self) -> ReadReport:
        return self.elicitation.report


# ---- the MGE export folder -----------------------------------------------------------------------


class _CaseRow(_Strict):
    id: NonEmpty
    title: StrictStr = ""


class _ContextRow(_Strict):
    id: NonEmpty


class _ContextOnCaseRow(_Strict):
    contextId: NonEmpty
    caseId: NonEmpty


class _CardRow(_Strict):
    id: StrictInt
    title: NonEmpty
    instructionsShort: StrictStr | None = None
    instructionsDetailed: StrictStr = ""
    evaluationCriteria: list[StrictStr]


class _ElicitedCardRow(_CardRow):
    canonicalCardId: StrictInt | None = None


class _DeduplicationRow(_Strict):
    valuesCardId: StrictInt
    deduplicatedCardId: StrictInt
    generation: StrictInt


class _EdgeRow(_Strict):
    userId: StrictInt
    fromId: StrictInt
    toId: StrictInt
    contextId: NonEmpty
    relationship: Literal["upgrade", "no_upgrade", "not_sure"]


class _DemographicRow(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")
    userId: StrictInt


def _card(row: _CardRow, kind: CardKind, source: str) -> ValuesCard:
    return ValuesCard(
        id=row.id,
        title=row.title,
        description=row.instructionsDetailed,
        policies=tuple(row.evaluationCriteria),
        instructions_short=row.instructionsShort,
        kind=kind,
        source=source,
    )


def read_mge_export(folder: Path) -> MgeExport:
    """Read MGE's table export (dft-data); bad rows are reported, good ones kept."""
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    for required in ("canonicalValuesCard.json", "edge.json"):
        if not (folder / required).is_file():
            raise InputError(f"{folder} has no {required}", hint="expected MGE's table export (dft-data)")
    report = ReadReport(str(folder))

    def rows(name: str) -> Iterator[Record]:
        path = folder / name
        if path.is_file():
            yield from _records(read_json_array(path, folder), report)

    cases: set[str] = set()
    for record in rows("case.json"):
        case_row = _validate(_CaseRow, record, report)
        if case_row:
            cases.add(case_row.id)
    context_ids: set[str] = set()
    for record in rows("context.json"):
        ctx_row = _validate(_ContextRow, record, report)
        if ctx_row:
            context_ids.add(ctx_row.id)
    context_cases: dict[str, list[str]] = {c: [] for c in sorted(context_ids)}
    for record in rows("contextsOnCases.json"):
        link = _validate(_ContextOnCaseRow, record, report)
        if link is None:
            continue
        if context_ids and link.contextId not in context_ids:
            report.reject(
                record.file, record.line, "contextId", f"no context {link.contextId!r} in context.json"
            )
        elif cases and link.caseId not in cases:
            report.reject(record.file, record.line, "caseId", f"no case {link.caseId!r} in case.json")
        else:
            context_cases.setdefault(link.contextId, []).append(link.caseId)

    canonical: dict[int, ValuesCard] = {}
    for record in rows("canonicalValuesCard.json"):
        card_row = _validate(_CardRow, record, report)
        if card_row is None:
            continue
        if card_row.id in canonical:
            report.reject(record.file, record.line, "id", f"duplicate card id {card_row.id}")
            continue
        canonical[card_row.id] = _card(card_row, "canonical", MGE_CANONICAL)

    judgments: list[Judgment] = []
    seen_votes: dict[tuple[int, int, int], int] = {}
    for record in rows("edge.json"):
        edge = _validate(_EdgeRow, record, report)
        if edge is None:
            continue
        problem: tuple[str, str] | None = None
        if edge.fromId not in canonical:
            problem = ("fromId", f"no canonicalValuesCard with id {edge.fromId}")
        elif edge.toId not in canonical:
            problem = ("toId", f"no canonicalValuesCard with id {edge.toId}")
        elif edge.fromId == edge.toId:
            problem = ("toId", "the same card as fromId")
        elif context_ids and edge.contextId not in context_ids:
            problem = ("contextId", f"no context {edge.contextId!r} in context.json")
        elif (edge.userId, edge.fromId, edge.toId) in seen_votes:
            earlier = seen_votes[(edge.userId, edge.fromId, edge.toId)]
            problem = ("userId", f"user already voted on this pair (record {earlier})")
        if problem:
            report.reject(record.file, record.line, *problem)
            continue
        seen_votes[(edge.userId, edge.fromId, edge.toId)] = record.line
        judgments.append(
            Judgment(str(edge.userId), edge.fromId, edge.toId, edge.contextId, edge.relationship)
        )

    demographics: list[Demographic] = []
    for record in rows("demographic.json"):
        person = _validate(_DemographicRow, record, report)
        if person is None:
            continue
        attributes = {
            key: str(value)
            for key, value in (person.model_extra or {}).items()
            if key != "id"
            and isinstance(value, str | int)
            and not isinstance(value, bool)
            and str(value) not in _NOT_REPORTED
        }
        demographics.append(Demographic(str(person.userId), attributes))

    elicited: list[ValuesCard] = []
    canonical_of: dict[int, int] = {}
    for record in rows("valuesCard.json"):
        vc = _validate(_ElicitedCardRow, record, report)
        if vc is None:
            continue
        elicited.append(_card(vc, "elicited", MGE_ELICITED))
        if vc.canonicalCardId is not None:
            canonical_of[vc.id] = vc.canonicalCardId
    deduplicated: dict[int, ValuesCard] = {}
    for record in rows("deduplicatedCard.json"):
        dc = _validate(_CardRow, record, report)
        if dc:
            deduplicated[dc.id] = _card(dc, "deduplicated", MGE_DEDUPLICATED)
    elicited_ids = {c.id for c in elicited}
    dedup: dict[int, dict[int, int]] = {}
    for record in rows("deduplication.json"):
        d = _validate(_DeduplicationRow, record, report)
        if d is None:
            continue
        if d.valuesCardId not in elicited_ids:
            report.reject(record.file, record.line, "valuesCardId", f"no valuesCard with id {d.valuesCardId}")
        elif d.deduplicatedCardId not in deduplicated:
            report.reject(
                record.file,
                record.line,
                "deduplicatedCardId",
                f"no deduplicatedCard with id {d.deduplicatedCardId}",
            )
        else:
            dedup.setdefault(d.generation, {})[d.valuesCardId] = d.deduplicatedCardId

    data = ElicitationData(
        cards=tuple(canonical.values()),
        judgments=tuple(judgments),
        contexts=tuple(Context(c, tuple(sorted(set(cs)))) for c, cs in sorted(context_cases.items())),
        demographics=tuple(demographics),
        report=report,
        namespace=MGE_NAMESPACE,
        source_file=str(folder),
        license_note=MGE_LICENSE_NOTE,
    )
    return MgeExport(
        elicitation=data,
        elicited_cards=tuple(elicited),
        canonical_of=canonical_of,
        deduplicated_cards=tuple(deduplicated.values()),
        deduplication=dedup,
    )


# ---- MGE's demo graph (values + upgrades) --------------------------------------------------------


class _AppValue(_Strict):
    id: StrictInt
    title: NonEmpty
    description: StrictStr = ""
    policies: list[StrictStr] = []
    contexts: list[StrictStr] = []
    questionId: StrictInt | None = None


class _AppUpgrade(_Strict):
    fromId: StrictInt
    toId: StrictInt
    context: NonEmpty


def read_mge_app_graph(path: Path, data: Mapping[str, Any]) -> ElicitationData:
    """MGE's bundled demo graph: values, upgrades (one ``upgrade`` vote each) and questions (cases)."""
    report = ReadReport(str(path))
    name = path.name
    cards: dict[int, ValuesCard] = {}
    context_cases: dict[str, set[str]] = {}
    for n, raw in enumerate(data.get("values") or [], start=1):
        report.records_read += 1
        value = _validate(_AppValue, Record(f"{name}#values", n, raw), report)
        if value is None:
            continue
        cards[value.id] = ValuesCard(value.id, value.title, value.description, tuple(value.policies))
        for ctx in value.contexts:
            cases = context_cases.setdefault(ctx, set())
            if value.questionId is not None:
                cases.add(str(value.questionId))
    judgments = []
    for n, raw in enumerate(data.get("upgrades") or [], start=1):
        report.records_read += 1
        upgrade = _validate(_AppUpgrade, Record(f"{name}#upgrades", n, raw), report)
        if upgrade is None:
            continue
        if upgrade.fromId not in cards or upgrade.toId not in cards:
            side = "fromId" if upgrade.fromId not in cards else "toId"
            report.reject(f"{name}#upgrades", n, side, "no value with this id")
            continue
        context_cases.setdefault(upgrade.context, set())
        judgments.append(Judgment(f"upgrade-{n}", upgrade.fromId, upgrade.toId, upgrade.context, "upgrade"))
    return ElicitationData(
        cards=tuple(cards.values()),
        judgments=tuple(judgments),
        contexts=tuple(Context(c, tuple(sorted(cs))) for c, cs in sorted(context_cases.items())),
        demographics=(),
        report=report,
        min_marked_wiser=0,
        source_file=str(path),
        license_note=MGE_LICENSE_NOTE,
    )


# ---- interview JSON lines ------------------------------------------------------------------------


class _InterviewCard(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    id: StrictInt | NonEmpty
    title: NonEmpty | None = None
    description: StrictStr = ""
    policies: list[NonEmpty] = []


class _InterviewRow(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True)
    participant: NonEmpty
    case: NonEmpty | None = None
    context: NonEmpty | None = None
    from_: _InterviewCard | StrictInt | NonEmpty = Field(alias="from")
    to: _InterviewCard | StrictInt | NonEmpty
    judgment: Literal["wiser", "not_wiser", "unsure", "upgrade", "no_upgrade", "not_sure"]
    demographics: dict[str, StrictStr | StrictInt] = {}
    comment: StrictStr | None = None
    story: StrictStr | None = None


def read_interviews(path: Path, graph_id: str | None = None) -> ElicitationData:
    """Read an interview JSONL file (format in the module docstring); cards are minted under the graph."""
    if not path.is_file():
        raise InputError(f"{path} is not a file")
    report = ReadReport(str(path))
    rows: list[tuple[Record, _InterviewRow]] = []
    for record in _records(read_jsonl(path, path.parent), report):
        row = _validate(_InterviewRow, record, report)
        if row is None:
            continue
        if row.context is None and row.case is None:
            report.reject(record.file, record.line, "context", "give a context or a case (or both)")
            continue
        rows.append((record, row))

    defined: dict[CardId, tuple[ValuesCard, int]] = {}
    accepted: list[tuple[Record, _InterviewRow]] = []
    for record, row in rows:
        problem: tuple[str, str] | None = None
        new_cards: list[ValuesCard] = []
        for side, value in (("from", row.from_), ("to", row.to)):
            if not isinstance(value, _InterviewCard) or value.title is None:
                continue
            card = ValuesCard(value.id, value.title, value.description, tuple(value.policies))
            earlier = defined.get(card.id)
            if earlier is not None and earlier[0] != card:
                changed = next(
                    f
                    for f in ("title", "description", "policies")
                    if getattr(earlier[0], f) != getattr(card, f)
                )
                problem = (
                    f"{side}.{changed}",
                    f"card {card.id!r} was written differently on line {earlier[1]}",
                )
                break
            new_cards.append(card)
        if problem:
            report.reject(record.file, record.line, *problem)
            continue
        for card in new_cards:
            defined.setdefault(card.id, (card, record.line))
        accepted.append((record, row))

    judgments: list[Judgment] = []
    context_cases: dict[str, set[str]] = {}
    demographics: dict[str, dict[str, tuple[str, int]]] = {}  # participant -> field -> (value, line)
    votes: dict[tuple[str, CardId, CardId], int] = {}
    for record, row in accepted:
        ids: list[CardId] = [v.id if isinstance(v, _InterviewCard) else v for v in (row.from_, row.to)]
        missing = [(side, i) for side, i in zip(("from", "to"), ids, strict=True) if i not in defined]
        problem = None
        if missing:
            side, card_id = missing[0]
            problem = (side, f"card {card_id!r} is never written out with a title")
        elif ids[0] == ids[1]:
            problem = ("to", "the same card as from")
        elif (row.participant, ids[0], ids[1]) in votes:
            problem = (
                "participant",
                f"already judged this pair on line {votes[(row.participant, ids[0], ids[1])]}",
            )
        else:
            known = demographics.get(row.participant, {})
            for key, raw in row.demographics.items():
                if key in known and known[key][0] != str(raw):
                    said, line = known[key]
                    problem = (
                        f"demographics.{key}",
                        f"participant said {said!r} on line {line}, now {raw!r}",
                    )
                    break
        if problem:
            report.reject(record.file, record.line, *problem)
            continue
        votes[(row.participant, ids[0], ids[1])] = record.line
        fields = demographics.setdefault(row.participant, {})
        for key, raw in row.demographics.items():
            fields.setdefault(key, (str(raw), record.line))
        context = row.context or row.case
        assert context is not None
        cases = context_cases.setdefault(context, set())
        if row.case is not None:
            cases.add(row.case)
        judgments.append(Judgment(row.participant, ids[0], ids[1], context, _JUDGMENT_WORDS[row.judgment]))

    return ElicitationData(
        cards=tuple(card for card, _ in defined.values()),
        judgments=tuple(judgments),
        contexts=tuple(Context(c, tuple(sorted(cs))) for c, cs in sorted(context_cases.items())),
        demographics=tuple(
            Demographic(p, {k: value for k, (value, _) in fields.items()})
            for p, fields in demographics.items()
            if fields
        ),
        report=report,
        namespace=graph_id,
        source_file=str(path),
    )


# ---- mge-json ------------------------------------------------------------------------------------


def _value_dict(card: ValuesCard, mge_rank: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": card.id,
        "title": card.title,
        "description": card.description,
        "policies": list(card.policies),
    }
    if card.instructions_short is not None:
        out["instructionsShort"] = card.instructions_short
    if card.kind != "elicited":
        out["kind"] = card.kind
    if card.source is not None:
        out["source"] = card.source
    if mge_rank is not None:
        out["pageRank"] = mge_rank
    return out


def edge_dict(edge: EdgeSummary) -> dict[str, Any]:
    """One edge in MGE's summary shape."""
    c = edge.counts
    return {
        "sourceValueId": edge.source_id,
        "wiserValueId": edge.wiser_id,
        "contexts": list(edge.contexts),
        "counts": {
            "markedWiser": c.marked_wiser,
            "markedNotWiser": c.marked_not_wiser,
            "markedLessWise": c.marked_less_wise,
            "markedUnsure": c.marked_unsure,
            "impressions": c.impressions,
        },
        "summary": {"wiserLikelihood": edge.wiser_likelihood, "entropy": edge.entropy},
    }


def mge_json_dict(graph: MoralGraph) -> dict[str, Any]:
    """The graph in MGE's summary shape (values referenced by kept edges, kept edges)."""
    ranks = page_rank(graph)
    out: dict[str, Any] = {
        "values": [
            _value_dict(card, ranks[card.id][1] if card.id in ranks else None) for card in graph.values
        ],
        "edges": [edge_dict(e) for e in graph.edges],
    }
    if graph.case_contexts:
        out["cases"] = {case: list(ctxs) for case, ctxs in graph.case_contexts.items()}
    if graph.namespace is not None:
        out["namespace"] = graph.namespace
    return out


class _SummaryValue(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: StrictInt | NonEmpty
    title: StrictStr
    description: StrictStr | None = None
    instructionsDetailed: StrictStr | None = None
    policies: list[StrictStr] | None = None
    evaluationCriteria: list[StrictStr] | None = None
    instructionsShort: StrictStr | None = None
    kind: Literal["elicited", "canonical", "deduplicated"] = "elicited"
    source: StrictStr | None = None


class _SummaryCounts(BaseModel):
    markedWiser: int = Field(ge=0)
    markedNotWiser: int = Field(ge=0)
    markedLessWise: int = Field(ge=0)
    markedUnsure: int = Field(ge=0)
    impressions: int = Field(ge=0)


class _SummaryStats(BaseModel):
    wiserLikelihood: float
    entropy: float


class _SummaryEdge(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sourceValueId: StrictInt | NonEmpty
    wiserValueId: StrictInt | NonEmpty
    contexts: list[StrictStr] = []
    counts: _SummaryCounts
    summary: _SummaryStats


def moral_graph_from_mge_json(
    data: Mapping[str, Any], source: str = "mge-json", report: ReadReport | None = None
) -> MoralGraph:
    """A graph from MGE's summary shape; its edges are taken as kept (they are MGE's trimmed edges)."""
    report = report or ReadReport(source)
    name = Path(source).name
    cards: dict[CardId, ValuesCard] = {}
    for n, raw in enumerate(data.get("values") or [], start=1):
        report.records_read += 1
        value = _validate(_SummaryValue, Record(f"{name}#values", n, raw), report)
        if value is None:
            continue
        cards[value.id] = ValuesCard(
            id=value.id,
            title=value.title,
            description=value.description
            if value.description is not None
            else value.instructionsDetailed or "",
            policies=tuple(value.policies if value.policies is not None else value.evaluationCriteria or []),
            instructions_short=value.instructionsShort,
            kind=value.kind,
            source=value.source,
        )
    edges: list[EdgeSummary] = []
    for n, raw in enumerate(data.get("edges") or [], start=1):
        report.records_read += 1
        record = Record(f"{name}#edges", n, raw)
        e = _validate(_SummaryEdge, record, report)
        if e is None:
            continue
        if e.sourceValueId not in cards or e.wiserValueId not in cards:
            side = "sourceValueId" if e.sourceValueId not in cards else "wiserValueId"
            report.reject(record.file, n, side, "no value with this id")
            continue
        c = e.counts
        edges.append(
            EdgeSummary(
                source_id=e.sourceValueId,
                wiser_id=e.wiserValueId,
                contexts=tuple(sorted(set(e.contexts))),
                counts=EdgeCounts(
                    c.markedWiser, c.markedNotWiser, c.markedLessWise, c.markedUnsure, c.impressions
                ),
                wiser_likelihood=e.summary.wiserLikelihood,
                entropy=e.summary.entropy,
            )
        )
    edges.sort(key=lambda e: (card_sort_key(e.source_id), card_sort_key(e.wiser_id)))
    cases = data.get("cases") or {}
    if not isinstance(cases, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
        for k, v in cases.items()
    ):
        report.reject(name, 0, "cases", "expected an object of case id -> list of contexts")
        cases = {}
    namespace = data.get("namespace")
    return MoralGraph(
        cards=cards,
        edges=tuple(edges),
        all_edges=tuple(edges),
        case_contexts={k: tuple(sorted(set(v))) for k, v in sorted(cases.items())},
        namespace=namespace if isinstance(namespace, str) else None,
        source_file=source,
    )


def write_mge_json(graph: MoralGraph, path: Path) -> None:
    path.write_text(json.dumps(mge_json_dict(graph), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ---- GraphML -------------------------------------------------------------------------------------


def to_graphml_graph(graph: MoralGraph) -> nx.DiGraph:
    """A DiGraph with only GraphML-safe attributes (lists as JSON text, ids with their type)."""
    ranks = page_rank(graph)
    g = nx.DiGraph(
        namespace=graph.namespace or "",
        source_file=graph.source_file,
        min_marked_wiser=graph.min_marked_wiser,
        cases=json.dumps(dict(graph.case_contexts), ensure_ascii=False),
    )
    for card in graph.values:
        g.add_node(
            str(card.id),
            card_id=str(card.id),
            card_id_is_int=isinstance(card.id, int),
            title=card.title,
            description=card.description,
            policies=json.dumps(list(card.policies), ensure_ascii=False),
            instructions_short=card.instructions_short if card.instructions_short is not None else "",
            has_instructions_short=card.instructions_short is not None,
            kind=card.kind,
            source=card.source or "",
            page_rank=ranks[card.id][1] if card.id in ranks else 0.0,
        )
    for e in graph.edges:
        c = e.counts
        g.add_edge(
            str(e.source_id),
            str(e.wiser_id),
            contexts=json.dumps(list(e.contexts), ensure_ascii=False),
            markedWiser=c.marked_wiser,
            markedNotWiser=c.marked_not_wiser,
            markedLessWise=c.marked_less_wise,
            markedUnsure=c.marked_unsure,
            impressions=c.impressions,
            wiserLikelihood=e.wiser_likelihood,
            entropy=e.entropy,
        )
    return g


def write_graphml(graph: MoralGraph, path: Path) -> None:
    nx.write_graphml(to_graphml_graph(graph), path)


def _is_card_kind(value: str) -> TypeGuard[CardKind]:
    """GraphML attributes are untyped text, so a card kind has to be checked against the Literal."""
    return value in get_args(CardKind)


def read_graphml(path: Path) -> MoralGraph:
    try:
        g = nx.read_graphml(path)
    except Exception as exc:  # networkx raises bare exceptions of several kinds on bad XML
        raise InputError(f"{path}: not a readable GraphML file: {exc}") from exc
    ids: dict[str, CardId] = {}
    cards: dict[CardId, ValuesCard] = {}
    for node, attrs in g.nodes(data=True):
        raw_id = str(attrs.get("card_id", node))
        card_id: CardId = int(raw_id) if attrs.get("card_id_is_int") else raw_id
        ids[node] = card_id
        kind = str(attrs.get("kind", "elicited"))
        cards[card_id] = ValuesCard(
            id=card_id,
            title=str(attrs.get("title", "")),
            description=str(attrs.get("description", "")),
            policies=tuple(json.loads(attrs.get("policies", "[]"))),
            instructions_short=str(attrs.get("instructions_short", ""))
            if attrs.get("has_instructions_short")
            else None,
            kind=kind if _is_card_kind(kind) else "elicited",
            source=str(attrs["source"]) if attrs.get("source") else None,
        )
    edges = []
    for a, b, attrs in g.edges(data=True):
        edges.append(
            EdgeSummary(
                source_id=ids[a],
                wiser_id=ids[b],
                contexts=tuple(json.loads(attrs.get("contexts", "[]"))),
                counts=EdgeCounts(
                    *(
                        int(attrs.get(k, 0))
                        for k in (
                            "markedWiser",
                            "markedNotWiser",
                            "markedLessWise",
                            "markedUnsure",
                            "impressions",
                        )
                    )
                ),
                wiser_likelihood=float(attrs["wiserLikelihood"]),
                entropy=float(attrs["entropy"]),
            )
        )
    edges.sort(key=lambda e: (card_sort_key(e.source_id), card_sort_key(e.wiser_id)))
    cases = json.loads(g.graph.get("cases", "{}"))
    return MoralGraph(
        cards=cards,
        edges=tuple(edges),
        all_edges=tuple(edges),
        case_contexts={k: tuple(v) for k, v in cases.items()},
        min_marked_wiser=int(g.graph.get("min_marked_wiser", DEFAULT_MIN_MARKED_WISER)),
        namespace=str(g.graph["namespace"]) if g.graph.get("namespace") else None,
        source_file=str(g.graph.get("source_file", "")),
    )


# ---- RDF -----------------------------------------------------------------------------------------

_KIND_CONCEPTS: dict[CardKind, str] = {
    "elicited": "ElicitedCard",
    "canonical": "CanonicalCard",
    "deduplicated": "DeduplicatedCard",
}
_COUNT_TERMS = ("markedWiser", "markedNotWiser", "markedLessWise", "markedUnsure", "impressions")


def card_iri(card: ValuesCard, graph_id: str) -> ox.NamedNode:
    """The card's IRI: in its source's namespace (MGE cards, shared with the loader) or the graph's."""
    return mint("card", card.source or graph_id, card.id)


def _decimal(value: float) -> ox.Literal:
    """xsd:decimal has no exponent; the shortest positional digits still read back as the same float."""
    return ox.Literal(np.format_float_positional(value, unique=True, trim="-"), datatype=XSD.decimal)


def _identifier(value: CardId) -> ox.Literal:
    return ox.Literal(value) if isinstance(value, int) else ox.Literal(str(value))


def moral_graph_triples(graph: MoralGraph, graph_id: str) -> list[Triple]:
    """The graph as RDF: a nkg:MoralGraph, its cards (nkg:ValuesCard) and reified nkg:WiserThan edges.

    Every card and edge is ``nkg:inMoralGraph`` the graph, and derives (``prov:wasDerivedFrom``) from one
    nkg:SourceRow standing for the input the graph was built from, so that the SHACL shapes hold.
    Policies are given one by one (``nkg:attentionalPolicy``, for queries) and as an ordered RDF list
    (``nkg:attentionalPolicyList``), so the card reads back exactly as written.
    """
    g = mint("moral-graph", graph_id)
    ns = graph.namespace or graph_id
    row = mint("row", "moral-graph", graph_id)
    dataset = mint("dataset", "moral-graph", graph_id)
    out: list[Triple] = [
        (dataset, RDF.type, NKG.Dataset),
        (dataset, NKG.sourceName, ox.Literal(f"moral-graph/{graph_id}")),
        (dataset, DCTERMS.title, ox.Literal(f"Moral graph {graph_id}")),
        (dataset, NKG.licenseNote, ox.Literal(graph.license_note)),
        (dataset, NKG.citation, ox.Literal(graph.citation)),
        (row, RDF.type, NKG.SourceRow),
        (row, NKG.inDataset, dataset),
        (row, NKG.sourceFile, ox.Literal(graph.source_file or "(unknown)")),
        (row, NKG.sourceLine, ox.Literal(0)),
        (g, RDF.type, NKG.MoralGraph),
        (g, DCTERMS.identifier, ox.Literal(graph_id)),
        (g, PROV.wasDerivedFrom, row),
    ]
    if graph.namespace is not None:
        out.append((g, NKG.sourceName, ox.Literal(graph.namespace)))

    for card in graph.values:
        c = card_iri(card, graph_id)
        out += [
            (c, RDF.type, NKG.ValuesCard),
            (c, PROV.wasDerivedFrom, row),
            (c, NKG.inMoralGraph, g),
            (c, DCTERMS.identifier, _identifier(card.id)),
            (c, DCTERMS.title, ox.Literal(card.title, language="en")),
            (c, NKG.cardKind, NKG[_KIND_CONCEPTS[card.kind]]),
        ]
        if card.description:
            out.append((c, DCTERMS.description, ox.Literal(card.description, language="en")))
        if card.instructions_short is not None:
            out.append((c, NKG.instructionsShort, ox.Literal(card.instructions_short)))
        if card.source is not None:
            out.append((c, NKG.sourceName, ox.Literal(card.source)))
        cells = [mint("policy-list", card.source or graph_id, card.id, i) for i in range(len(card.policies))]
        out.append((c, NKG.attentionalPolicyList, cells[0] if cells else RDF.nil))
        for i, (cell, policy) in enumerate(zip(cells, card.policies, strict=True)):
            out.append((c, NKG.attentionalPolicy, ox.Literal(policy)))
            out.append((cell, RDF.first, ox.Literal(policy)))
            out.append((cell, RDF.rest, cells[i + 1] if i + 1 < len(cells) else RDF.nil))

    context_cases: dict[str, list[str]] = {ctx: [] for e in graph.edges for ctx in e.contexts}
    for case, ctxs in graph.case_contexts.items():
        for ctx in ctxs:
            context_cases.setdefault(ctx, []).append(case)
    for ctx, cases in context_cases.items():
        x = mint("context", ns, ctx)
        out += [
            (x, RDF.type, NKG.Context),
            (x, SKOS.prefLabel, ox.Literal(ctx, language="en")),
            (x, NKG.inMoralGraph, g),
        ]
        for case in cases:
            k = mint("case", ns, case)
            out += [(k, RDF.type, NKG.Case), (k, DCTERMS.identifier, ox.Literal(case)), (x, NKG.inCase, k)]

    for e in graph.edges:
        w = mint("wiser-than", graph_id, e.source_id, e.wiser_id)
        out += [
            (w, RDF.type, NKG.WiserThan),
            (w, PROV.wasDerivedFrom, row),
            (w, NKG.inMoralGraph, g),
            (w, NKG.fromCard, card_iri(graph.cards[e.source_id], graph_id)),
            (w, NKG.toCard, card_iri(graph.cards[e.wiser_id], graph_id)),
            (w, NKG.wiserLikelihood, _decimal(e.wiser_likelihood)),
            (w, NKG.entropy, _decimal(e.entropy)),
        ]
        out += [
            (w, NKG[name], ox.Literal(value))
            for name, value in zip(_COUNT_TERMS, e.counts.as_tuple(), strict=True)
        ]
        out += [(w, NKG.context, mint("context", ns, ctx)) for ctx in e.contexts]
    return list(dict.fromkeys(out))


def moral_graph_from_triples(
    triples: Iterable[Triple | ox.Triple], graph_id: str | None = None
) -> MoralGraph:
    """Read a graph written by :func:`moral_graph_triples` back (``graph_id`` picks one of several)."""
    index: dict[Term, dict[ox.NamedNode, list[Term]]] = {}
    for t in triples:
        subj, pred, obj = (t.subject, t.predicate, t.object) if isinstance(t, ox.Triple) else t
        # moral_graph_triples never writes quoted triples (RDF-star), so statements about them cannot
        # belong to a moral graph; skipping them keeps the index to plain terms.
        if isinstance(subj, ox.Triple) or isinstance(obj, ox.Triple):
            continue
        index.setdefault(subj, {}).setdefault(pred, []).append(obj)

    def one(s: Term, p: ox.NamedNode) -> Term | None:
        values = index.get(s, {}).get(p)
        return values[0] if values else None

    def text(s: Term, p: ox.NamedNode) -> str | None:
        value = one(s, p)
        return None if value is None else str(value.value)

    graphs = [s for s, props in index.items() if NKG.MoralGraph in props.get(RDF.type, [])]
    if graph_id is not None:
        graphs = [g for g in graphs if text(g, DCTERMS.identifier) == graph_id]
    if len(graphs) != 1:
        found = sorted(text(g, DCTERMS.identifier) or "?" for g in graphs)
        raise InputError(
            f"expected one moral graph{f' {graph_id!r}' if graph_id else ''}, found {len(graphs)}",
            hint=f"graphs found: {', '.join(found) or 'none'}",
        )
    g = graphs[0]
    members = {s for s, props in index.items() if g in props.get(NKG.inMoralGraph, [])}
    kinds = {NKG[concept]: kind for kind, concept in _KIND_CONCEPTS.items()}

    cards: dict[CardId, ValuesCard] = {}
    iri_ids: dict[Term, CardId] = {}
    for s in members:
        if NKG.ValuesCard not in index[s].get(RDF.type, []):
            continue
        raw_id = to_python(one(s, DCTERMS.identifier))
        if not isinstance(raw_id, int | str) or isinstance(raw_id, bool):
            raise InputError(f"card {s} has no dcterms:identifier")
        policies: list[str] = []
        cell = one(s, NKG.attentionalPolicyList)
        if cell is None:
            policies = sorted(str(o.value) for o in index[s].get(NKG.attentionalPolicy, []))
        while cell is not None and cell != RDF.nil:
            head = text(cell, RDF.first)
            if head is None:
                raise InputError(f"broken policy list of card {s}")
            policies.append(head)
            cell = one(cell, RDF.rest)
        kind_node = one(s, NKG.cardKind)
        card = ValuesCard(
            id=raw_id,
            title=text(s, DCTERMS.title) or "",
            description=text(s, DCTERMS.description) or "",
            policies=tuple(policies),
            instructions_short=text(s, NKG.instructionsShort),
            kind=kinds.get(kind_node, "elicited") if isinstance(kind_node, ox.NamedNode) else "elicited",
            source=text(s, NKG.sourceName),
        )
        cards[raw_id] = card
        iri_ids[s] = raw_id

    contexts: dict[Term, str] = {}
    case_contexts: dict[str, list[str]] = {}
    for s in members:
        if NKG.Context not in index[s].get(RDF.type, []):
            continue
        label = text(s, SKOS.prefLabel) or ""
        contexts[s] = label
        for case in index[s].get(NKG.inCase, []):
            case_id = text(case, DCTERMS.identifier)
            if case_id is not None:
                case_contexts.setdefault(case_id, []).append(label)

    edges: list[EdgeSummary] = []
    for s in members:
        if NKG.WiserThan not in index[s].get(RDF.type, []):
            continue
        a, b = one(s, NKG.fromCard), one(s, NKG.toCard)
        if a not in iri_ids or b not in iri_ids:
            raise InputError(f"edge {s} names a card that is not in the graph")
        counts = [to_python(one(s, NKG[name])) for name in _COUNT_TERMS]
        likelihood, ent = to_python(one(s, NKG.wiserLikelihood)), to_python(one(s, NKG.entropy))
        edges.append(
            EdgeSummary(
                source_id=iri_ids[a],
                wiser_id=iri_ids[b],
                contexts=tuple(sorted(contexts.get(x, str(x)) for x in index[s].get(NKG.context, []))),
                counts=EdgeCounts(*(int(c) if isinstance(c, int | float) else 0 for c in counts)),
                wiser_likelihood=float(likelihood) if isinstance(likelihood, int | float) else 0.0,
                entropy=float(ent) if isinstance(ent, int | float) else 0.0,
            )
        )
    edges.sort(key=lambda e: (card_sort_key(e.source_id), card_sort_key(e.wiser_id)))

    row = one(g, PROV.wasDerivedFrom)
    dataset = one(row, NKG.inDataset) if row is not None else None
    source_file = text(row, NKG.sourceFile) if row is not None else None
    return MoralGraph(
        cards=cards,
        edges=tuple(edges),
        all_edges=tuple(edges),
        case_contexts={k: tuple(sorted(v)) for k, v in sorted(case_contexts.items())},
        namespace=text(g, NKG.sourceName),
        source_file="" if source_file in (None, "(unknown)") else str(source_file),
        license_note=(text(dataset, NKG.licenseNote) if dataset is not None else None) or "not stated",
        citation=(text(dataset, NKG.citation) if dataset is not None else None) or MGE_CITATION,
    )


def write_ttl(graph: MoralGraph, path: Path, graph_id: str) -> None:
    triples = (ox.Triple(s, p, o) for s, p, o in moral_graph_triples(graph, graph_id))
    ox.serialize(triples, str(path), ox.RdfFormat.TURTLE, prefixes=dict(PREFIXES))


def read_ttl(path: Path, graph_id: str | None = None) -> MoralGraph:
    try:
        quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    except (SyntaxError, ValueError, OSError) as exc:
        raise InputError(f"{path}: not readable Turtle: {exc}") from exc
    return moral_graph_from_triples((q.triple for q in quads), graph_id)


# ---- one entry point for the CLI and the bench ---------------------------------------------------


def default_graph_id(path: Path) -> str:
    """A graph id from the input's name (``dft-data`` → ``mge-dft-data``, ``example.jsonl`` → ``example``)."""
    if path.is_dir() and (path / "edge.json").is_file():
        return f"mge-{path.name}"
    return path.stem if path.is_file() else path.name


def read_elicitation(path: Path, graph_id: str | None = None) -> ElicitationData | MgeExport:
    """Votes from a folder (MGE export), a .jsonl interview file, or MGE's demo graph.json."""
    if path.is_dir():
        if (path / "edge.json").is_file():
            return read_mge_export(path)
        if (path / "graph.json").is_file():
            return read_elicitation(path / "graph.json", graph_id)
        raise InputError(f"{path} holds neither MGE's export (edge.json) nor a graph.json")
    if not path.is_file():
        raise InputError(f"{path} does not exist")
    if path.suffix == ".jsonl":
        return read_interviews(path, graph_id or default_graph_id(path))
    if path.suffix == ".json":
        data = _load_json(path)
        if "upgrades" in data:
            return read_mge_app_graph(path, data)
        raise InputError(
            f"{path} holds no votes",
            hint="expected MGE's graph.json ('upgrades') or an mge-json graph ('values' and 'edges')",
        )
    raise InputError(
        f"{path}: unknown input type {path.suffix!r}",
        hint="give an MGE export folder, a .jsonl interview file or a .json/.graphml/.ttl graph",
    )


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object at the top")
    return data


def load_moral_graph(
    path: Path, *, min_marked_wiser: int | None = None, graph_id: str | None = None
) -> tuple[MoralGraph, ReadReport]:
    """Any supported input as a moral graph: votes are summarised, summaries (json/graphml/ttl) read as is."""
    if path.is_file() and path.suffix == ".graphml":
        return read_graphml(path), ReadReport(str(path))
    if path.is_file() and path.suffix == ".ttl":
        return read_ttl(path, graph_id), ReadReport(str(path))
    if path.is_file() and path.suffix == ".json":
        data = _load_json(path)
        if "edges" in data and "upgrades" not in data:
            report = ReadReport(str(path))
            return moral_graph_from_mge_json(data, str(path), report), report
    found = read_elicitation(path, graph_id)
    data_ = found.elicitation if isinstance(found, MgeExport) else found
    return data_.build(min_marked_wiser), data_.report


def write_moral_graph(graph: MoralGraph, path: Path, fmt: str, graph_id: str) -> None:
    if fmt == "mge-json":
        write_mge_json(graph, path)
    elif fmt == "graphml":
        write_graphml(graph, path)
    elif fmt == "ttl":
        write_ttl(graph, path, graph_id)
    else:
        raise InputError(f"unknown format {fmt!r}", hint="one of: " + ", ".join(GRAPH_FORMATS))
