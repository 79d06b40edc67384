"""The service both the CLI and the REST API call: one place that turns requests into answers.

It keeps the read-only state that answering needs -- vocabulary, frame table, norm index, decision
model -- and rebuilds it only when the store's content changes (its sources' content keys), so a
norm pack uploaded through the API is visible to the next request.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pydantic import BaseModel, Field

from normkg.errors import InputError, NotFoundError, SourceError
from normkg.ingest.loaders.norm_pack import NormPackLoader
from normkg.ingest.pipeline import SourceReport, ingest_source
from normkg.kg.store import GraphStore
from normkg.reasoning.applicability import FrameTable
from normkg.reasoning.checker import WARNINGS, Checker, CheckResult, RequestNorm
from normkg.reasoning.context import Context, normalize
from normkg.reasoning.explain import (
    ConflictOut,
    ContextOut,
    FrameOut,
    NormRef,
    context_out,
    frame_out,
    norm_refs,
)
from normkg.reasoning.frame_cache import cached_frame_rows
from normkg.reasoning.judge import NormJudge
from normkg.reasoning.norm_index import NormIndex
from normkg.reasoning.norms_query import norms_for_context
from normkg.reasoning.overrides import NormTable
from normkg.reasoning.vocabulary import Vocabulary
from normkg.settings import Settings, get_settings

log = logging.getLogger(__name__)


class NormItem(BaseModel):
    norm: NormRef
    frame: FrameOut
    score: float | None = Field(None, description="Similarity to q, when q is given.")
    defeated_by: list[str] = []


class NormsPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[NormItem]
    conflicts: list[ConflictOut]
    context: ContextOut
    warnings: list[str] = Field(default_factory=list, description=WARNINGS)


class SourceOut(BaseModel):
    name: str
    title: str | None = None
    license: str | None = None
    license_iri: str | None = None
    citation: str | None = None
    rows: int
    rejected: int
    triples: int


@dataclass
class _State:
    key: tuple[tuple[str, str, int], ...]
    vocabulary: Vocabulary
    frames: FrameTable
    index: NormIndex
    table: NormTable
    checker: Checker
    refs: _RefCache


class _RefCache:
    """Norms with their provenance, as read from the store, kept for the life of one store state.

    Why: a page of norms needs the provenance of each (one store query, tens of milliseconds on the
    full graph), and the same general norms come back on most pages. The cache belongs to a state, so
    a changed store (a new norm pack) starts an empty one; it is bounded, oldest entries first out.
    """

    def __init__(self, store: GraphStore, size: int = 50_000) -> None:
        self._store = store
        self._size = size
        self._refs: OrderedDict[str, NormRef] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._refs.clear()

    def get(self, norms: Sequence[str]) -> dict[str, NormRef]:
        with self._lock:
            out = {n: self._refs[n] for n in norms if n in self._refs}
        missing = [n for n in dict.fromkeys(norms) if n not in out]
        if missing:
            found = norm_refs(self._store, missing)
            with self._lock:
                for norm, ref in found.items():
                    self._refs[norm] = ref
                while len(self._refs) > self._size:
                    self._refs.popitem(last=False)
            out.update(found)
        return out


class NormService:
    def __init__(
        self, store: GraphStore, settings: Settings | None = None, judge: NormJudge | None = None
    ) -> None:
        self.store = store
        self.settings = settings or get_settings()
        self._judge = judge
        self._state: _State | None = None
        self._lock = threading.Lock()

    @property
    def judge(self) -> NormJudge:
        if self._judge is None:
            self._judge = NormJudge.load()
        return self._judge

    def _content_key(self) -> tuple[tuple[str, str, int], ...]:
        return tuple((n, i.content_key, i.triples) for n, i in sorted(self.store.sources().items()))

    def state(self) -> _State:
        key = self._content_key()
        state = self._state
        if state is not None and state.key == key:
            return state
        with self._lock:
            if self._state is not None and self._state.key == key:
                return self._state
            vocabulary = Vocabulary.from_store(self.store)
            frames = FrameTable.from_rows(cached_frame_rows(self.store, self.settings.cache_dir), vocabulary)
            index = NormIndex.load_or_build(self.store, self.judge, self.settings.cache_dir)
            table = NormTable(index, frames)
            refs = _RefCache(self.store)
            checker = Checker(
                table,
                vocabulary,
                self.judge,
                refs.get,
                self.settings.source_priority,
            )
            self._state = _State(key, vocabulary, frames, index, table, checker, refs)
            return self._state

    def warm_up(self) -> None:
        """Load everything now (at server start), not on the first request."""
        state = self.state()
        state.checker.check_many(["Warm-up."], [None], [[]], [True])
        for warning in self._empty_graph_warning(state):
            log.warning(warning)

    # ---- norms -------------------------------------------------------------------------------
    def norm(self, norm_id: str) -> NormRef:
        try:
            node = ox.NamedNode(norm_id)
        except ValueError:
            raise InputError(f"id: {norm_id!r} is not an IRI") from None
        state = self.state()
        if norm_id not in state.index.position:
            raise NotFoundError(
                f"no norm {norm_id}",
                hint="ids are those the norm listings return (GET /v1/norms, normkg norms --json)",
            )
        ref = state.refs.get([node.value]).get(node.value)
        if ref is None:
            raise NotFoundError(f"no norm {norm_id}")
        return ref

    def norms(
        self,
        context: Context | None = None,
        q: str | None = None,
        sources: Sequence[str] = (),
        limit: int = 20,
        offset: int = 0,
        include_general: bool = True,
    ) -> NormsPage:
        if not 1 <= limit <= 200:
            raise InputError("limit: must be between 1 and 200")
        if offset < 0:
            raise InputError("offset: must be 0 or more")
        state = self.state()
        ctx = normalize(context or Context(), state.vocabulary)
        known = set(self.store.sources())
        for name in sources:
            if name not in known:
                raise InputError(
                    f"source: unknown source {name!r}",
                    hint="the sources are listed by GET /v1/sources and normkg stats",
                )
        query_vector = self.judge.embed_sentences([q])[0] if q and q.strip() else None
        answer = norms_for_context(
            state.table,
            ctx,
            query_vector=query_vector,
            sources=sources,
            limit=limit,
            offset=offset,
            source_priority=self.settings.source_priority,
            include_general=include_general,
        )
        refs = state.refs.get([c.norm for c in answer.items])
        items = [
            NormItem(
                norm=refs.get(c.norm) or NormRef(id=c.norm, text=c.text),
                frame=frame_out(c.match),
                score=round(answer.scores[c.norm], 4) if c.norm in answer.scores else None,
                defeated_by=c.defeated_by,
            )
            for c in answer.items
        ]
        shown = {c.norm for c in answer.items}
        shown_conflicts = [c for c in answer.conflicts if shown & set(c.sides)]
        refs.update(state.refs.get([n for c in shown_conflicts for n in c.sides if n not in refs]))
        conflicts = [
            ConflictOut(
                behavior=conflict.behavior,
                sides=[refs.get(n) or NormRef(id=n, text="") for n in conflict.sides],
                resolved_by_policy=conflict.resolved_by_policy,
            )
            for conflict in shown_conflicts
        ]
        return NormsPage(
            total=answer.total,
            limit=limit,
            offset=offset,
            items=items,
            conflicts=conflicts,
            context=context_out(ctx),
            warnings=self._empty_graph_warning(state),
        )

    def _empty_graph_warning(self, state: _State, consequence: str = "") -> list[str]:
        """Why: an answer from a store that was never ingested looks like "no norm applies here";
        the warning tells the two apart."""
        if len(state.index):
            return []
        advice = "run `normkg ingest` (or upload a norm pack)"
        return [f"the graph in {self.store.url} holds no norms: {advice}{consequence}"]

    # ---- checking ----------------------------------------------------------------------------
    def check(
        self,
        response: str,
        context: Context | None = None,
        norms: Sequence[RequestNorm] = (),
        use_graph: bool = True,
    ) -> CheckResult:
        return self.check_batch([(response, context, list(norms), use_graph)])[0]

    def check_batch(
        self, items: Sequence[tuple[str, Context | None, list[RequestNorm], bool]]
    ) -> list[CheckResult]:
        for i, (_, _, norms, use_graph) in enumerate(items):
            if not use_graph and not norms:
                where = "" if len(items) == 1 else f"items[{i}]: "
                raise InputError(
                    f"{where}use_graph is false and no norms were given",
                    hint="send the norms to check against (CLI: --norm), or check against the graph",
                )
        state = self.state()
        results = state.checker.check_many(
            [i[0] for i in items], [i[1] for i in items], [i[2] for i in items], [i[3] for i in items]
        )
        warning = self._empty_graph_warning(state, "; only the norms sent with the request were checked")
        for result, (_, _, _, use_graph) in zip(results, items, strict=True):
            if use_graph:
                result.warnings.extend(warning)
        return results

    # ---- writes ------------------------------------------------------------------------------
    def upload_pack(self, body: bytes, suffix: str, name: str | None = None) -> SourceReport:
        """Ingest an uploaded norm pack as its own source; a bad pack changes nothing stored.

        The pack's name comes from its own ``name`` (YAML header, CSV column) or from ``name``; an
        upload has no file name to fall back on, and a shared stand-in would make every unnamed
        upload replace the one before it.
        """
        if not body.strip():
            raise InputError("body: empty norm pack", hint="send the YAML (or CSV) of the pack")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"body{suffix}"
            path.write_bytes(body)
            try:
                loader = NormPackLoader(path, name)
            except SourceError as exc:
                raise InputError(exc.message.replace(str(path), "body"), hint=exc.hint) from exc
            if not loader.names_itself and name is None:
                raise InputError(
                    "the pack has no name",
                    hint="add `name:` to the YAML header or a name column to the CSV, or send ?name=",
                )
            if loader.names_itself and name is not None and loader.pack_name != name:
                raise InputError(
                    f"name {name!r}: the pack calls itself {loader.pack_name!r}",
                    hint="send the pack's own name, or none",
                )
            return ingest_source(self.store, loader)

    # ---- sources -----------------------------------------------------------------------------
    def sources(self) -> list[SourceOut]:
        meta: dict[str, dict[str, Any]] = {}
        for row in self.store.query("datasets"):
            meta[row["source"].value] = {k: v.value for k, v in row.items()}
        out: list[SourceOut] = []
        for name, info in self.store.sources().items():
            if name.startswith("_"):
                continue
            m = meta.get(name, {})
            out.append(
                SourceOut(
                    name=name,
                    title=m.get("title"),
                    license=m.get("licenseNote"),
                    license_iri=m.get("license"),
                    citation=m.get("citation"),
                    rows=info.rows_read,
                    rejected=info.rows_rejected,
                    triples=info.triples,
                )
            )
        return out
