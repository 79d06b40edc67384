"""Explanations: the typed record of why normkg said what it said, and its short text rendering.

Every judgment carries the context facts used, how the user's words were mapped, the matched frame
(constraints met and missing), the norm (id, text, judgment, dataset, source row, license), the
evidence sentence with offsets into the original text, the score, the defeated alternatives and
any conflicts. These are pydantic models because they are also the API's response bodies.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from normkg.kg.store import GraphStore
from normkg.kg.terms import Term, to_python
from normkg.reasoning.applicability import Constraint, FrameMatch
from normkg.reasoning.context import NormalizedContext
from normkg.reasoning.vocabulary import Mapping


class SourceRowRef(BaseModel):
    file: str | None = None
    line: int | None = None
    id: str | None = None
    iri: str | None = None


class NormRef(BaseModel):
    id: str = Field(description="The norm's IRI.")
    text: str
    judgment: str | None = Field(None, description="The grade on its source's scale (e.g. 'bad').")
    judgment_text: str | None = None
    polarity: int | None = Field(None, description="-2 (very bad) .. +2 (very good).")
    deontic_status: str | None = None
    behavior: str | None = None
    frame: str | None = None
    dataset: str | None = Field(
        None, description="normkg's name of the source (social-chem-101, pack-x, request)."
    )
    dataset_title: str | None = None
    license: str | None = None
    license_iri: str | None = None
    citation: str | None = None
    source_row: SourceRowRef | None = None


class ConstraintOut(BaseModel):
    property: str
    value: str
    label: str
    slot: str


class FrameOut(BaseModel):
    frame: str | None
    status: Literal["applies", "conditional", "general", "excluded"]
    confidence: float
    met: list[ConstraintOut] = []
    missing: list[ConstraintOut] = Field(
        [], description="Facts the context does not give: why it is conditional."
    )
    contradicted: list[ConstraintOut] = []


class MappingOut(BaseModel):
    field: str
    given: str
    method: Literal["exact", "lemma", "embedding", "alias", "unmatched"]
    score: float
    iri: str | None = None
    label: str | None = None
    alternatives: list[str] = []


class FactOut(BaseModel):
    slot: str
    label: str
    iri: str


class ContextOut(BaseModel):
    facts: list[FactOut] = []
    mappings: list[MappingOut] = []
    known_slots: list[str] = []
    situation: str | None = None


class DefeatedOut(BaseModel):
    norm: NormRef
    frame: FrameOut
    defeated_by: list[str]


class ConflictOut(BaseModel):
    behavior: str
    sides: list[NormRef]
    resolved_by_policy: str | None = None


def constraint_out(c: Constraint) -> ConstraintOut:
    return ConstraintOut(property=c.property_name, value=c.value, label=c.label, slot=c.slot)


def frame_out(match: FrameMatch) -> FrameOut:
    return FrameOut(
        frame=match.frame,
        status=match.status.value,
        confidence=round(match.confidence, 4),
        met=[constraint_out(c) for c in match.met],
        missing=[constraint_out(c) for c in match.missing],
        contradicted=[constraint_out(c) for c in match.contradicted],
    )


def mapping_out(m: Mapping) -> MappingOut:
    return MappingOut(
        field=m.field,
        given=m.given,
        method=m.method.value,
        score=round(m.score, 4),
        iri=m.term.iri if m.term else None,
        label=m.term.label if m.term else None,
        alternatives=[t.label for t in m.alternatives[:3]],
    )


def context_out(ctx: NormalizedContext) -> ContextOut:
    return ContextOut(
        facts=[FactOut(slot=f.slot, label=f.label, iri=f.value.value) for f in ctx.facts],
        mappings=[mapping_out(m) for m in ctx.mappings],
        known_slots=sorted(ctx.known_slots),
        situation=ctx.situation,
    )


def _line_order(term: Term | None) -> float:
    value = to_python(term)
    return float(value) if isinstance(value, int | float) else float("inf")


def norm_refs(store: GraphStore, norms: list[str]) -> dict[str, NormRef]:
    """Graph norms with their provenance, in one query (named query ``norm_detail``)."""
    import pyoxigraph as ox

    if not norms:
        return {}
    rows = store.query("norm_detail", {"norm": [ox.NamedNode(n) for n in dict.fromkeys(norms)]})
    # English text first, then the norm's source row with the lowest line (a Moral Stories norm has
    # two: the story's moral and immoral lines), then the row's IRI, so the row reported does not
    # depend on the store's order
    rows.sort(
        key=lambda r: (
            getattr(r.get("text"), "language", "") != "en",
            _line_order(r.get("line")),
            str(r.get("row", "")),
        )
    )
    out: dict[str, NormRef] = {}
    for row in rows:
        norm = row["norm"].value
        if norm in out:
            continue

        def text(key: str, row: dict = row) -> str | None:
            value = to_python(row.get(key))
            return None if value is None else str(value)

        line = to_python(row.get("line"))
        polarity = to_python(row.get("polarity"))
        out[norm] = NormRef(
            id=norm,
            text=text("text") or "",
            judgment=text("judgmentLabel"),
            judgment_text=text("judgmentText"),
            polarity=int(polarity) if isinstance(polarity, int | float) else None,
            deontic_status=text("deonticLabel"),
            behavior=text("behaviorText"),
            frame=text("frame"),
            dataset=text("source"),
            dataset_title=text("title"),
            license=text("licenseNote"),
            license_iri=text("license"),
            citation=text("citation"),
            source_row=SourceRowRef(
                file=text("file"),
                line=int(line) if isinstance(line, int) else None,
                id=text("rowId"),
                iri=text("row"),
            )
            if row.get("row") is not None
            else None,
        )
    return out


def render_source(norm: NormRef) -> str:
    """Where a norm comes from: its dataset, and the file and line of its row."""
    where = norm.dataset or "?"
    if norm.source_row and norm.source_row.file:
        where += f" {norm.source_row.file}:{norm.source_row.line}"
    return where


def render_norm(norm: NormRef) -> str:
    judged = f" [{norm.judgment}]" if norm.judgment else ""
    return f'"{norm.text}"{judged} ({render_source(norm)}; license: {norm.license or "?"})'


def render_frame(frame: FrameOut) -> str:
    if frame.status == "general":
        return "general norm (no frame: holds everywhere)"
    met = ", ".join(f"{c.slot}={c.label}" for c in frame.met) or "none"
    text = f"frame {frame.status} (met: {met}"
    if frame.missing:
        text += "; not given in the context: " + ", ".join(f"{c.slot}={c.label}" for c in frame.missing)
    return text + f"; confidence {frame.confidence:.2f})"
