"""The REST API (FastAPI; OpenAPI at /docs), versioned under /v1.

Every error is one JSON shape, ``{"ok": false, "status": N, "error": {"code", "message", "hint"}}``,
with a stable code (Datasette's lesson); request bodies above ``NORMKG_MAX_BODY_BYTES`` are refused
with 413 before they are read whole; writes need the API key, compared in constant time; CORS is off
unless origins are configured. The handlers are thin: they call ``NormService`` like the CLI does.
"""

import hmac
import logging
from contextlib import asynccontextmanager, suppress
from typing import Annotated, Any, Literal, Self

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from normkg import __version__
from normkg.api import moral_graph_routes
from normkg.errors import InputError, NormkgError
from normkg.kg.open import open_store
from normkg.kg.sparql_runner import SparqlRunner
from normkg.kg.store import GraphStore
from normkg.ontology.namespace import INSTANCE_BASE
from normkg.reasoning.checker import MAX_RESPONSE_CHARS, CheckResult, RequestNorm, render_text
from normkg.reasoning.context import Context, context_from_flat
from normkg.reasoning.explain import NormRef
from normkg.reasoning.service import NormService, NormsPage, SourceOut
from normkg.settings import Settings, get_settings

log = logging.getLogger(__name__)


# ---- error shape ------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    code: str
    message: str
    hint: str | None = None


class ErrorResponse(BaseModel):
    ok: Literal[False] = False
    status: int
    error: ErrorBody


def error_response(status: int, code: str, message: str, hint: str | None = None) -> JSONResponse:
    body = ErrorResponse(status=status, error=ErrorBody(code=code, message=message, hint=hint))
    return JSONResponse(body.model_dump(), status_code=status)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 404, 413, 422, 503)
}


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with 413, whether or not Content-Length tells the truth."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        overflow = False

        async def limited() -> Message:
            nonlocal seen, overflow
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    overflow = True
                    raise _TooLarge()
            return message

        async def unless_refused(message: Message) -> None:
            # FastAPI turns any error while it reads a body into its own 400; the app's answer to a
            # body that overflowed is dropped here, and the 413 sent instead.
            if not overflow:
                await send(message)

        with suppress(_TooLarge):
            await self.app(scope, limited, unless_refused)
        if overflow:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "body_too_large",
            f"request body is larger than {self.limit} bytes",
            "send less (split a batch), or raise NORMKG_MAX_BODY_BYTES",
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


# ---- request and response bodies ---------------------------------------------------------------


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: str = Field(
        max_length=MAX_RESPONSE_CHARS,
        description="The model's response to check.",
        examples=["Sure, tip the waiter 20%."],
    )
    context: Context | None = None
    norms: list[RequestNorm] = Field(default_factory=list, max_length=100)
    use_graph: bool = Field(True, description="Check against the graph's norms too (else only `norms`).")


class CheckResponse(CheckResult):
    explanation_text: str | None = None


class BatchItem(CheckRequest):
    id: str | None = Field(None, max_length=200)


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[BatchItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_ids(self) -> Self:
        # results are matched to items by id: two items with one id could not be told apart
        seen: dict[str, int] = {}
        for i, item in enumerate(self.items):
            if item.id is not None and seen.setdefault(item.id, i) != i:
                raise ValueError(f"items[{i}].id {item.id!r} is also items[{seen[item.id]}]'s id")
        return self


class BatchResultItem(CheckResponse):
    id: str | None = None


class BatchResponse(BaseModel):
    results: list[BatchResultItem]


class Health(BaseModel):
    ok: bool
    version: str
    store: str
    triples: int


class PackReport(BaseModel):
    source: str
    rows_read: int
    rows_rejected: int
    triples: int
    unchanged: bool
    rejected: list[str] = Field(description="file:line: reason, for each rejected norm")


class SparqlResult(BaseModel):
    result: list[dict[str, Any]] | bool | list[list[str]] = Field(
        description="SELECT: rows of plain values; ASK: a boolean; CONSTRUCT, DESCRIBE: [s, p, o] triples"
    )
    truncated: bool = Field(
        False, description="True when the answer had more rows than NORMKG_SPARQL_MAX_ROWS; add a LIMIT"
    )


# ---- app -----------------------------------------------------------------------------------------


def create_app(
    settings: Settings | None = None,
    store: GraphStore | None = None,
    service: NormService | None = None,
    warm: bool = False,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        if warm:
            app.state.service.warm_up()
        yield
        app.state.sparql.close()

    app = FastAPI(
        title="normkg",
        version=__version__,
        description="Which social norms hold in a context, and whether a model's response violates them, "
        "with the full chain of why.",
        lifespan=lifespan,
        responses=ERRORS,
    )
    graph_store = store or (service.store if service else open_store(settings=settings))
    app.state.service = service or NormService(graph_store, settings)
    app.state.settings = settings
    # user SPARQL runs in worker processes that are killed at the time limit (kg/sparql_runner.py)
    app.state.sparql = SparqlRunner(app.state.service.store, settings, settings.sparql_workers)

    @app.exception_handler(NormkgError)
    async def normkg_error(request: Request, exc: NormkgError) -> JSONResponse:
        return error_response(exc.http_status, exc.code, exc.message, exc.hint)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
        response = error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    @app.exception_handler(ValidationError)  # a model built inside a route from query parameters
    async def validation_error(
        request: Request, exc: RequestValidationError | ValidationError
    ) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = (
            f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))
        )
        return error_response(422, "bad_input", message, "see /docs for the request schema")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(500, "internal_error", "normkg failed unexpectedly; the error is logged")

    def authorize(request: Request, write: bool) -> None:
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key is None or (not write and not settings.lock_reads):
            if write and key is None:
                raise _Unauthorized("writes are disabled: no API key is configured", "set NORMKG_API_KEY")
            return
        given = request.headers.get("x-api-key", "")
        if not hmac.compare_digest(given.encode(), key.encode()):
            raise _Unauthorized("missing or wrong API key", "send the key in the X-API-Key header")

    def reader(request: Request) -> NormService:
        authorize(request, write=False)
        return request.app.state.service

    def writer(request: Request) -> NormService:
        authorize(request, write=True)
        return request.app.state.service

    Reader = Annotated[NormService, Depends(reader)]
    Writer = Annotated[NormService, Depends(writer)]
    app.include_router(moral_graph_routes.router(reader, writer))

    @app.exception_handler(_Unauthorized)
    async def unauthorized(request: Request, exc: _Unauthorized) -> JSONResponse:
        return error_response(401, "unauthorized", exc.message, exc.hint)

    @app.get("/healthz", response_model=Health, tags=["meta"])
    def healthz(request: Request) -> Health:
        service: NormService = request.app.state.service
        return Health(ok=True, version=__version__, store=service.store.url, triples=service.store.count())

    @app.get("/v1/sources", response_model=list[SourceOut], tags=["graph"])
    def sources(service: Reader) -> list[SourceOut]:
        return service.sources()

    @app.get("/v1/norms", response_model=NormsPage, tags=["norms"])
    def norms(
        service: Reader,
        country: Annotated[str | None, Query(max_length=100, examples=["JP"])] = None,
        setting: Annotated[str | None, Query(max_length=200, examples=["restaurant"])] = None,
        role: Annotated[str | None, Query(max_length=200, examples=["customer"])] = None,
        other_role: Annotated[list[str] | None, Query(max_length=20)] = None,
        attribute: Annotated[
            list[str] | None, Query(description="kind=value, e.g. age bracket=teenager")
        ] = None,
        environment: Annotated[
            list[str] | None, Query(description="slot=value, e.g. time of day=night")
        ] = None,
        q: Annotated[str | None, Query(max_length=1000, description="Free text to rank norms by.")] = None,
        source: Annotated[list[str] | None, Query(description="Only these sources.")] = None,
        general: Annotated[bool, Query(description="Include general norms (no frame).")] = True,
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> NormsPage:
        context = context_from_flat(
            country=country,
            setting=setting,
            role=role,
            other_roles=other_role or [],
            attributes=attribute or [],
            environment=environment or [],
        )
        return service.norms(context, q, source or [], limit, offset, include_general=general)

    @app.get("/v1/norms/{norm_id:path}", response_model=NormRef, tags=["norms"])
    def norm(norm_id: str, service: Reader) -> NormRef:
        iri = norm_id if norm_id.startswith(("http://", "https://")) else INSTANCE_BASE + norm_id
        return service.norm(iri)

    @app.post("/v1/check", response_model=CheckResponse, tags=["check"])
    def check(
        body: CheckRequest,
        service: Reader,
        explain: Annotated[
            Literal["json", "text"], Query(description="text: add a readable account")
        ] = "json",
    ) -> CheckResponse:
        result = service.check(body.response, body.context, body.norms, body.use_graph)
        out = CheckResponse(**result.model_dump())
        if explain == "text":
            out.explanation_text = render_text(result)
        return out

    @app.post("/v1/check/batch", response_model=BatchResponse, tags=["check"])
    def check_batch(
        body: BatchRequest,
        service: Reader,
        explain: Annotated[Literal["json", "text"], Query()] = "json",
    ) -> BatchResponse:
        if len(body.items) > settings.max_batch:
            raise InputError(f"items: at most {settings.max_batch} per batch", hint="split the batch")
        results = service.check_batch([(i.response, i.context, i.norms, i.use_graph) for i in body.items])
        out = []
        for item, result in zip(body.items, results, strict=True):
            entry = BatchResultItem(id=item.id, **result.model_dump())
            if explain == "text":
                entry.explanation_text = render_text(result)
            out.append(entry)
        return BatchResponse(results=out)

    @app.post("/v1/norm-packs", response_model=PackReport, status_code=201, tags=["norms"])
    async def upload_pack(
        request: Request,
        service: Writer,
        name: Annotated[
            str | None,
            Query(max_length=63, description="The pack's name, where the pack itself names none."),
        ] = None,
    ) -> PackReport:
        """Add or replace a norm pack: the body is the pack file (YAML, or CSV with content-type text/csv).
        The pack becomes source `pack-<name>`; a later upload with the same name replaces it."""
        body = await request.body()
        kind = request.headers.get("content-type", "").split(";")[0].strip()
        report = service.upload_pack(body, ".csv" if kind == "text/csv" else ".yaml", name)
        return PackReport(
            source=report.source,
            rows_read=report.rows_read,
            rows_rejected=report.rows_rejected,
            triples=report.triples,
            unchanged=report.unchanged,
            rejected=[str(i) for i in report.issues],
        )

    @app.get("/v1/sparql", response_model=SparqlResult, tags=["graph"])
    def sparql(
        request: Request, service: Reader, query: Annotated[str, Query(min_length=1, max_length=20_000)]
    ) -> SparqlResult:
        """Run a read-only SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE; prefixes nkg:, skos:,
        prov:, dcterms: ... are predeclared). It is stopped at NORMKG_SPARQL_TIMEOUT_S (error code
        ``query_timeout``) and its answer is cut at NORMKG_SPARQL_MAX_ROWS rows (``truncated``)."""
        runner: SparqlRunner = request.app.state.sparql
        answer = runner.run(query, settings.sparql_timeout_s, settings.sparql_max_rows)
        return SparqlResult(result=answer.result, truncated=answer.truncated)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "x-api-key"],
        )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app


class _Unauthorized(Exception):
    def __init__(self, message: str, hint: str) -> None:
        self.message = message
        self.hint = hint
