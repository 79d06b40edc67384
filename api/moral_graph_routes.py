"""REST routes for moral graphs: upload interviews, read the summary, rank, export, plot.

No `from __future__ import annotations` here: FastAPI must see the dependency aliases as objects.
"""

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from normkg.errors import InputError
from normkg.reasoning.moral_graph import rank_values
from normkg.reasoning.moral_graph_io import mge_json_dict, write_moral_graph
from normkg.reasoning.moral_graph_store import load_stored, stored_ids, upload_moral_graph
from normkg.reasoning.service import NormService

_MEDIA = {"mge-json": "application/json", "graphml": "application/xml", "ttl": "text/turtle"}


class Rejected(BaseModel):
    where: str
    reason: str


class MoralGraphSummary(BaseModel):
    id: str
    cards: int
    values: int
    edges: int
    contexts: list[str]
    triples: int | None = None
    rejected: list[Rejected] = []


class RankedOut(BaseModel):
    card_id: str
    title: str
    score: float
    mge_page_rank: float
    supporting_edges: list[dict[str, Any]]


def summary(
    graph_id: str, graph: Any, triples: int | None = None, rejected: list[Rejected] | None = None
) -> MoralGraphSummary:
    return MoralGraphSummary(
        id=graph_id,
        cards=len(graph.cards),
        values=len(graph.values),
        edges=len(graph.edges),
        contexts=graph.contexts,
        triples=triples,
        rejected=rejected or [],
    )


def router(reader: Any, writer: Any) -> APIRouter:
    routes = APIRouter(prefix="/v1/moral-graphs", tags=["moral graphs"])
    Reader = Annotated[NormService, Depends(reader)]
    Writer = Annotated[NormService, Depends(writer)]

    @routes.post("", response_model=MoralGraphSummary, status_code=201)
    async def create(
        request: Request,
        service: Writer,
        graph_id: Annotated[str | None, Query(alias="id", max_length=63)] = None,
    ) -> MoralGraphSummary:
        """Upload interview JSONL (content-type application/x-ndjson) or an mge-json graph.

        A bad upload changes nothing stored (as for norm packs): an id naming a dataset source, an
        unreadable body, or one from which no card with a vote survives is refused with 422.
        """
        body = await request.body()
        kind = request.headers.get("content-type", "").split(";")[0].strip()
        suffix = ".json" if kind == "application/json" else ".jsonl"
        stored = upload_moral_graph(service.store, body, suffix, graph_id)
        rejected = [Rejected(where=f"{r.file}:{r.line}", reason=r.reason) for r in stored.report.rejected]
        return summary(stored.graph_id, stored.graph, stored.triples, rejected)

    @routes.get("", response_model=list[str])
    def list_graphs(service: Reader) -> list[str]:
        return stored_ids(service.store)

    @routes.get("/{graph_id}", response_model=MoralGraphSummary)
    def read(graph_id: str, service: Reader) -> MoralGraphSummary:
        return summary(graph_id, load_stored(service.store, graph_id))

    @routes.get("/{graph_id}/ranking", response_model=list[RankedOut])
    def ranking(
        graph_id: str,
        service: Reader,
        context: Annotated[str | None, Query(max_length=500)] = None,
        top: Annotated[int, Query(ge=1, le=500)] = 10,
    ) -> list[RankedOut]:
        graph = load_stored(service.store, graph_id)
        if context is not None and context not in graph.contexts:
            raise InputError(
                f"context: {context!r} is not a context of this graph",
                hint="contexts: " + "; ".join(graph.contexts[:10]),
            )
        ranked = rank_values(graph, context, top=top)
        edges = mge_json_dict(graph)["edges"]
        out = []
        for r in ranked:
            support = {(e.source_id, e.wiser_id) for e in r.supporting_edges}
            out.append(
                RankedOut(
                    card_id=str(r.card.id),
                    title=r.card.title,
                    score=round(r.score, 6),
                    mge_page_rank=round(r.mge_page_rank, 6),
                    supporting_edges=[e for e in edges if (e["sourceValueId"], e["wiserValueId"]) in support],
                )
            )
        return out

    @routes.get("/{graph_id}/export")
    def export(
        graph_id: str,
        service: Reader,
        fmt: Annotated[Literal["mge-json", "graphml", "ttl"], Query(alias="format")] = "mge-json",
    ) -> Response:
        graph = load_stored(service.store, graph_id)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "graph"
            write_moral_graph(graph, path, fmt, graph_id)
            return Response(path.read_bytes(), media_type=_MEDIA[fmt])

    @routes.get("/{graph_id}/plot")
    def plot(
        graph_id: str,
        service: Reader,
        context: Annotated[str | None, Query(max_length=500)] = None,
        fmt: Annotated[Literal["svg", "png"], Query(alias="format")] = "svg",
    ) -> Response:
        from normkg.reasoning.moral_graph_plot import plot_moral_graph

        graph = load_stored(service.store, graph_id)
        with tempfile.TemporaryDirectory() as tmp:
            path = plot_moral_graph(graph, context, Path(tmp) / f"graph.{fmt}")
            return Response(path.read_bytes(), media_type="image/svg+xml" if fmt == "svg" else "image/png")

    return routes
