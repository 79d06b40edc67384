"""The ``normkg`` command line (Typer + rich). It calls the same service functions as the REST API."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sys
import typing
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from normkg.api.cli_moral_graph import moral_graph_app
from normkg.api.cli_train import evaluate as evaluate_command
from normkg.api.cli_train import train as train_command
from normkg.errors import ConfigError, DataDirNotFound, InputError, NormkgError, SourceError, StoreNotFound
from normkg.kg.store import GraphStore
from normkg.settings import Settings, get_settings

if TYPE_CHECKING:
    from normkg.api.app import BatchItem
    from normkg.reasoning.checker import CheckResult, RequestNorm
    from normkg.reasoning.context import Context
    from normkg.reasoning.service import NormService

app = typer.Typer(
    name="normkg",
    help="A knowledge graph of social norms and human values: ingest, query, check, explain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
app.add_typer(moral_graph_app, name="moral-graph", help="Build, rank, plot and deduplicate moral graphs.")
app.command(name="train", help="Train the response checker's decision model (fixed seed; --folds for CV).")(
    train_command
)
app.command(name="evaluate", help="Score the response checker's decision model on your labelled pairs.")(
    evaluate_command
)

StoreOpt = Annotated[str | None, typer.Option("--store", help="Store URL (default: NORMKG_STORE).")]


@contextmanager
def _session(url: str | None, *, create: bool = False) -> Iterator[GraphStore]:
    """Open the store for one command and always close it (the embedded store locks its folder).
    Only commands that write (``create=True``) make an embedded store that is not there yet."""
    from normkg.kg.open import open_for_reading, open_store

    graph_store = open_store(url, create=True) if create else open_for_reading(url)
    try:
        yield graph_store
    finally:
        graph_store.close()


def _fail(exc: NormkgError) -> None:
    err_console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(code=2)


def _settings_problem(exc: ValidationError | SettingsError) -> ConfigError:
    """What is wrong with the environment, naming the variable and what it expects.

    Why here: every command reads the settings, so a malformed ``NORMKG_*`` variable would otherwise
    be a pydantic traceback from whichever command ran first."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field, *rest = [str(p) for p in first.get("loc", ())] or ["?"]
        where = prefix + field.upper() + "".join(f"[{p}]" for p in rest)
        return ConfigError(f"{where}: {first.get('msg', 'invalid')}", hint="fix or unset the variable")
    # pydantic-settings parses list and object settings as JSON, and names only the field it failed on
    found = re.search(r'field "(\w+)"', str(exc))
    field = found.group(1) if found else "?"
    info = Settings.model_fields.get(field)
    expected = (
        'a JSON list of strings, e.g. ["a", "b"]'
        if info is not None and typing.get_origin(info.annotation) is list
        else "valid JSON"
    )
    return ConfigError(f"{prefix}{field.upper()}: not {expected}", hint="fix or unset the variable")


@app.callback()
def main(
    log_level: Annotated[str | None, typer.Option(help="Logging level (default: NORMKG_LOG_LEVEL).")] = None,
) -> None:
    """Read (and so check) the settings once, before any command runs."""
    try:
        settings = get_settings()
    except (ValidationError, SettingsError) as exc:
        _fail(_settings_problem(exc))
        return
    level = (log_level or settings.log_level).upper()
    if level not in logging.getLevelNamesMapping():
        given = f"--log-level {log_level}" if log_level else f"NORMKG_LOG_LEVEL={settings.log_level}"
        _fail(
            ConfigError(f"{given}: not a logging level", hint="use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        )
    logging.basicConfig(level=level, stream=sys.stderr)


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write, moved onto ``path`` only when the block ends without
    an error (and removed otherwise); the folder is made if missing, as ``evaluate --out`` does.

    Why: a run that fails half-way (a bad batch line found at check time, a store that drops out)
    must leave an existing file as it was, not a mix of new partial results."""
    part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part.touch(exist_ok=False)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot be written ({exc.strerror})") from exc
    try:
        yield part
        try:
            os.replace(part, path)
        except OSError as exc:
            raise InputError(f"--out {path}: cannot be written ({exc.strerror})") from exc
    finally:
        part.unlink(missing_ok=True)


def _known_sources(graph_store: GraphStore, names: list[str]) -> None:
    """Refuse a ``--source`` the store does not hold, pointing at the CLI's own list of sources."""
    known = graph_store.sources()
    for name in names:
        if name not in known:
            shown = ", ".join(n for n in known if not n.startswith("_")) or "none: run `normkg ingest`"
            raise InputError(
                f"--source: no source {name!r} in the store",
                hint=f"`normkg stats` lists them; known: {shown}",
            )


@app.command()
def ingest(
    sources: Annotated[list[str] | None, typer.Argument(help="Sources to load (default: all found).")] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data folder (default: NORMKG_DATA_DIR).")
    ] = None,
    store: StoreOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Reload sources even when unchanged.")] = False,
    show_issues: Annotated[int, typer.Option("--show-issues", help="Rejected rows to list per source.")] = 5,
    pack: Annotated[
        list[Path] | None, typer.Option("--pack", help="A norm pack file (YAML/CSV); repeatable.")
    ] = None,
    index: Annotated[
        bool, typer.Option(help="Embed the norms for checking (cached; done once per change).")
    ] = True,
) -> None:
    """Load the datasets into the store and print a table of rows read, rejected and triples written."""
    from normkg.ingest.base import Loader
    from normkg.ingest.loaders.norm_pack import load_packs
    from normkg.ingest.pipeline import available_sources, ingest_source, load_ontology
    from normkg.ingest.registry import loader_class

    try:
        settings = get_settings()
        packs = load_packs(pack or [])
        if sources or not packs:
            folder = data_dir or settings.resolve_data_dir()
            if not folder.is_dir():
                raise DataDirNotFound(
                    f"data folder {folder} not found", hint="check --data-dir / NORMKG_DATA_DIR"
                )
            names = list(sources) if sources else available_sources(folder)
            if not names:
                raise SourceError(
                    f"no known source folder under {folder}", hint="see the README's data table"
                )
        else:
            folder, names = Path("."), []
        loaders: list[Loader] = [
            loader_class(n)(folder / loader_class(n).folder_name()) for n in names
        ] + list(packs)
        with _session(store, create=True) as graph_store:
            reports = [load_ontology(graph_store, force)]
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=False,
            ) as progress:
                task = progress.add_task("ingest", total=len(loaders))
                for loader in loaders:
                    progress.update(task, description=f"{loader.name}: mapping")

                    def step(source: str, phase: str) -> None:
                        progress.update(task, description=f"{source}: {phase}")

                    reports.append(ingest_source(graph_store, loader, force=force, progress=step))
                    progress.advance(task)
            mge = folder / "moral-graph-elicitation" / "dft-data"
            graph_note = (
                _store_mge_graph(graph_store, mge)
                if "moral-graph-elicitation" in names and mge.is_dir()
                else ""
            )
            total = graph_store.count()
            index_note = _build_index(graph_store, settings) if index else "norm index: skipped (--no-index)"
    except NormkgError as exc:
        _fail(exc)
        return
    table = Table(title=f"normkg ingest into {graph_store.url}")
    for column in ("source", "rows read", "rows rejected", "triples", "seconds", "status"):
        table.add_column(column, justify="left" if column in ("source", "status") else "right")
    for r in reports:
        table.add_row(
            r.source,
            str(r.rows_read),
            str(r.rows_rejected),
            str(r.triples),
            f"{r.seconds:.2f}",
            "unchanged" if r.unchanged else "loaded",
        )
    table.add_row(
        "total",
        str(sum(r.rows_read for r in reports)),
        str(sum(r.rows_rejected for r in reports)),
        str(total),
        f"{sum(r.seconds for r in reports):.2f}",
        "",
    )
    console.print(table)
    if graph_note:
        console.print(graph_note)
    console.print(index_note)
    for r in reports:
        for issue in r.issues[:show_issues]:
            err_console.print(f"[yellow]rejected[/yellow] {r.source}: {issue}")
        if len(r.issues) > show_issues:
            err_console.print(
                f"[yellow]... and {len(r.issues) - show_issues} more rejected rows in {r.source}[/yellow]"
            )


def _store_mge_graph(graph_store: object, folder: Path) -> str:
    """Build the moral graph of the MGE run from its raw tables and keep it next to the norms."""
    from normkg.reasoning.moral_graph_io import default_graph_id, load_moral_graph
    from normkg.reasoning.moral_graph_store import save_moral_graph

    graph_id = default_graph_id(folder)
    graph, report = load_moral_graph(folder, graph_id=graph_id)
    stored = save_moral_graph(graph_store, graph, graph_id, report)  # type: ignore[arg-type]
    return (
        f"moral graph {graph_id}: {len(graph.values)} values, {len(graph.edges)} edges kept, "
        f"{len(graph.contexts)} contexts ({stored.triples} triples)"
    )


def _build_index(graph_store: object, settings: object) -> str:
    """Embed every norm once (cached by content), so that serving never embeds graph norms."""
    import time

    from normkg.reasoning.frame_cache import cached_frame_rows
    from normkg.reasoning.judge import NormJudge
    from normkg.reasoning.norm_index import NormIndex

    start = time.perf_counter()
    judge = NormJudge.load()
    key = NormIndex.store_key(graph_store, judge)  # type: ignore[arg-type]
    cache_dir = settings.cache_dir  # type: ignore[attr-defined]
    cached_frame_rows(graph_store, cache_dir)  # type: ignore[arg-type]  # the service's start reads it
    if NormIndex.load(cache_dir, key) is not None:
        return f"norm index: up to date ({NormIndex.path(cache_dir, key)})"
    with err_console.status("embedding norms for checking (once per change of the graph)"):
        built = NormIndex.build(graph_store, judge)  # type: ignore[arg-type]
        path = built.save(cache_dir)
    where = path or "not cached: the store is in memory, or changed while it was read"
    return f"norm index: {len(built)} norms embedded in {time.perf_counter() - start:.1f} s -> {where}"


@app.command()
def stats(
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts per source and per class."""
    from normkg.kg.stats import graph_stats

    try:
        with _session(store) as graph_store:
            result = graph_stats(graph_store)
    except NormkgError as exc:
        _fail(exc)
        return
    if as_json:
        console.print_json(json.dumps(result))
        return
    table = Table(title=f"{result['triples']} triples")
    for column in ("source", "rows", "rejected", "triples"):
        table.add_column(column)
    for name, info in result["sources"].items():
        table.add_row(name, str(info["rows"]), str(info["rejected"]), str(info["triples"]))
    console.print(table)
    classes = Table(title="instances per class")
    classes.add_column("class")
    classes.add_column("instances", justify="right")
    for name, n in result["classes"].items():
        classes.add_row(name, str(n))
    console.print(classes)


@app.command()
def validate(
    sources: Annotated[list[str] | None, typer.Argument(help="Sources to validate (default: all).")] = None,
    store: StoreOpt = None,
    show: Annotated[int, typer.Option("--show", help="Violations to list per source.")] = 10,
) -> None:
    """Check the stored sources against the SHACL shapes (pySHACL); exit 1 if any violation."""
    from normkg.kg.validate import validate_store

    try:
        with _session(store) as graph_store:
            reports = validate_store(graph_store, list(sources) if sources else None)
    except NormkgError as exc:
        _fail(exc)
        return
    table = Table(title="SHACL validation")
    for column in ("source", "triples", "violations", "seconds"):
        table.add_column(column, justify="left" if column == "source" else "right")
    for r in reports:
        table.add_row(r.source, str(r.triples), str(len(r.violations)), f"{r.seconds:.2f}")
    console.print(table)
    total = sum(len(r.violations) for r in reports)
    for r in reports:
        for violation in r.violations[:show]:
            err_console.print(f"[red]violation[/red] {r.source}: {violation}")
    console.print(f"{total} violations")
    if total:
        raise typer.Exit(code=1)


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="ttl, nq, nt or jsonld.")] = "nq",
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only these sources (repeatable).")
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Write the graph (or some sources) to a file (replaced only once all of it is written)."""
    from normkg.kg.store import ExportFormat

    try:
        try:
            export_format = ExportFormat(fmt)
        except ValueError:
            raise InputError(f"unknown format {fmt!r}", hint="use ttl, nq, nt or jsonld") from None
        with _session(store) as graph_store:
            _known_sources(graph_store, source or [])
            with _replacing(out) as part, part.open("wb") as handle:
                n = graph_store.export(handle, export_format, list(source) if source else None)
    except NormkgError as exc:
        _fail(exc)
        return
    console.print(f"wrote {n} triples to {out}")


@app.command()
def sparql(
    query: Annotated[str, typer.Argument(help="A SPARQL SELECT, ASK or CONSTRUCT query (read-only).")],
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows.")] = False,
    max_rows: Annotated[
        int | None, typer.Option("--max-rows", min=1, help="Print at most this many rows (default: all).")
    ] = None,
) -> None:
    """Run a read-only SPARQL query (prefixes nkg:, skos:, prov:, dcterms: ... are predeclared).

    Unlike GET /v1/sparql it has no time limit and, without --max-rows, no row cap."""
    from normkg.kg.sparql_read import run_read_only

    try:
        with _session(store) as graph_store:
            answer = run_read_only(graph_store, query, max_rows)
            result = answer.result
    except NormkgError as exc:
        _fail(exc)
        return
    if answer.truncated:
        typer.echo(f"(cut at {max_rows} rows: --max-rows)", err=True)
    if as_json or not isinstance(result, list):
        console.print_json(json.dumps(result))
        return
    table = Table()
    rows = [row for row in result if isinstance(row, dict)]
    if len(rows) != len(result):  # CONSTRUCT / DESCRIBE: triples
        for column in ("subject", "predicate", "object"):
            table.add_column(column)
        for triple in result:
            table.add_row(*(str(t) for t in triple))
    else:
        columns = sorted({k for row in rows for k in row})
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)


def _context(
    country: str | None,
    setting: str | None,
    role: str | None,
    other_role: list[str] | None,
    attribute: list[str] | None,
    environment: list[str] | None,
) -> Context:
    from normkg.reasoning.context import context_from_flat

    return context_from_flat(
        country=country,
        setting=setting,
        role=role,
        other_roles=other_role or [],
        attributes=attribute or [],
        environment=environment or [],
        names=("--attribute", "--environment"),
    )


CountryOpt = Annotated[str | None, typer.Option("--country", help="ISO code or name (JP, Japan).")]
SettingOpt = Annotated[str | None, typer.Option("--setting", help="e.g. restaurant.")]
RoleOpt = Annotated[str | None, typer.Option("--role", help="The actor's role, e.g. customer.")]
OtherRoleOpt = Annotated[
    list[str] | None, typer.Option("--other-role", help="Another person's role (repeatable).")
]
AttributeOpt = Annotated[
    list[str] | None, typer.Option("--attribute", help="kind=value, e.g. 'age bracket=teen'.")
]
EnvironmentOpt = Annotated[
    list[str] | None, typer.Option("--environment", help="slot=value, e.g. 'time of day=night'.")
]


@app.command()
def norms(
    country: CountryOpt = None,
    setting: SettingOpt = None,
    role: RoleOpt = None,
    other_role: OtherRoleOpt = None,
    attribute: AttributeOpt = None,
    environment: EnvironmentOpt = None,
    q: Annotated[str | None, typer.Option("--q", help="Free text to rank norms by.")] = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="Only these sources.")] = None,
    general: Annotated[bool, typer.Option(help="Include general norms (no frame).")] = True,
    limit: Annotated[int, typer.Option("--limit")] = 10,
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The norms that hold in a context, most specific first (or ranked by --q)."""
    from normkg.reasoning.service import NormService

    try:
        context = _context(country, setting, role, other_role, attribute, environment)  # before opening
        with _session(store) as graph_store:
            _known_sources(graph_store, source or [])
            page = NormService(graph_store).norms(context, q, source or [], limit, 0, include_general=general)
    except NormkgError as exc:
        _fail(exc)
        return
    if as_json:
        console.print_json(page.model_dump_json())
        return
    for warning in page.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}")
    for m in page.context.mappings:
        if m.method != "exact":
            console.print(
                f"[dim]mapped {m.field} {m.given!r} -> {m.label or 'nothing'} "
                f"({m.method}, {m.score:.2f})[/dim]"
            )
    table = Table(title=f"{page.total} norms")
    for column in ("norm", "judgment", "frame", "source"):
        table.add_column(column)
    for item in page.items:
        frame = item.frame.status + (
            f" (missing {', '.join(c.label for c in item.frame.missing)})" if item.frame.missing else ""
        )
        note = " [red](defeated)[/red]" if item.defeated_by else ""
        table.add_row(item.norm.text + note, item.norm.judgment or "", frame, item.norm.dataset or "")
    console.print(table)
    for conflict in page.conflicts:
        console.print(
            f"[yellow]conflict[/yellow] on {conflict.behavior}: "
            + " vs ".join(repr(s.text) for s in conflict.sides)
        )


@app.command()
def check(
    text: Annotated[str | None, typer.Argument(help="The response to check.")] = None,
    country: CountryOpt = None,
    setting: SettingOpt = None,
    role: RoleOpt = None,
    other_role: OtherRoleOpt = None,
    attribute: AttributeOpt = None,
    environment: EnvironmentOpt = None,
    norm: Annotated[
        list[str] | None, typer.Option("--norm", help="Extra norm text, 'TEXT' or 'TEXT|judgment'.")
    ] = None,
    graph: Annotated[bool, typer.Option(help="Use the graph's norms (else only --norm).")] = True,
    batch: Annotated[
        Path | None,
        typer.Option("--batch", help="JSONL input: {id, response, context?, norms?, use_graph?}."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="JSONL output for --batch.")] = None,
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check a model response (or a JSONL batch) against the norms that hold in its context.

    A batch is read whole, each line as ``POST /v1/check/batch`` reads an item, before the store is
    opened; --out is replaced only when every line was checked."""
    from normkg.reasoning.checker import render_text
    from normkg.reasoning.service import NormService

    try:
        context = _context(country, setting, role, other_role, attribute, environment)  # before opening
        if batch is not None:
            lines = _read_batch(batch, graph)  # every line read and validated before anything is opened
            with closing(_check_store(store, any(line.use_graph for line in lines))) as graph_store:
                if out is None:
                    _check_batch(NormService(graph_store), batch, lines, sys.stdout)
                else:
                    with _replacing(out) as part, part.open("w", encoding="utf-8") as handle:
                        _check_batch(NormService(graph_store), batch, lines, handle)
            return
        if text is None:
            raise typer.BadParameter("give TEXT or --batch FILE")
        extra = _request_norms(norm or [])
        if not graph and not extra:
            raise InputError(
                "--no-graph leaves only the --norm options, and none was given",
                hint="add --norm 'TEXT|judgment', or drop --no-graph",
            )
        with closing(_check_store(store, graph)) as graph_store:
            result = NormService(graph_store).check(text, context, extra, graph)
    except NormkgError as exc:
        _fail(exc)
        return
    if as_json:
        console.print_json(result.model_dump_json())
    else:
        console.print(render_text(result), highlight=False)


def _request_norms(values: list[str]) -> list[RequestNorm]:
    """The ``--norm 'TEXT|judgment'`` options as request norms; a bad one is an error naming it.

    Why here and not left to the service: its messages name the API's ``norms[i]`` fields."""
    from normkg.ingest.judgments import judgment_grade
    from normkg.reasoning.checker import RequestNorm

    extra = []
    for number, value in enumerate(values, start=1):
        body, _, judgment = value.partition("|")
        where = f"--norm {number}"
        try:
            request_norm = RequestNorm(text=body.strip(), judgment=judgment.strip() or None)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ()))
            raise InputError(f"{where}: {field}: {first.get('msg', 'invalid')}") from None
        if request_norm.judgment:
            judgment_grade(request_norm.judgment, f"{where}: judgment")
        extra.append(request_norm)
    return extra


def _check_store(url: str | None, use_graph: bool) -> GraphStore:
    """The store to check against. Checking only the request's norms (``--no-graph``) needs no graph:
    with none ingested yet, an empty in-memory store serves for the vocabulary."""
    from normkg.kg.open import open_for_reading, open_store

    try:
        return open_for_reading(url)
    except StoreNotFound:
        if use_graph:
            raise
        return open_store("oxigraph:memory")


@dataclass(frozen=True)
class _BatchLine:
    """One line of a batch file: its number, the item as the API reads it, and whether it uses the
    graph (the line's ``use_graph``, else the command's ``--graph/--no-graph``)."""

    number: int
    item: BatchItem
    use_graph: bool


def _read_batch(path: Path, use_graph: bool) -> list[_BatchLine]:
    """The batch's lines, each validated by the API's own batch-item model, so that a line means the
    same to ``normkg check --batch`` and to ``POST /v1/check/batch`` (``"use_graph": "false"`` is
    false, a numeric id or an unknown field is refused). A bad line (broken JSON, not UTF-8, wrong
    fields) is an error naming file and line."""
    from normkg.api.app import BatchItem
    from normkg.ingest.base import BadRecord, read_jsonl

    if not path.is_file():
        raise InputError(f"{path}: no such file", hint="--batch takes a JSON-lines file")
    try:
        records = list(read_jsonl(path, path.parent))
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc
    lines: list[_BatchLine] = []
    ids: dict[str, int] = {}  # results are matched to lines by id
    for record in records:
        where = f"{path}:{record.line}"
        if isinstance(record, BadRecord):
            raise InputError(f"{where}: {record.reason}", hint="each line is one JSON object")
        try:
            item = BatchItem.model_validate(record.data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ()))
            message = f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg", "invalid"))
            raise InputError(
                f"{where}: {message}", hint="a line is {id?, response, context?, norms?, use_graph?}"
            ) from None
        given = "use_graph" in item.model_fields_set
        graph = item.use_graph if given else use_graph
        if not graph and not item.norms:
            if given:
                raise InputError(f"{where}: use_graph is false and no norms were given", hint="add norms")
            raise InputError(
                f"{where}: no norms, and --no-graph leaves the graph out",
                hint='add norms to the line, or give it "use_graph": true',
            )
        if item.id is not None and item.id in ids:
            raise InputError(f"{where}: id {item.id!r} is also the id of line {ids[item.id]}")
        if item.id is not None:
            ids[item.id] = record.line
        lines.append(_BatchLine(record.line, item, graph))
    return lines


def _check_batch(service: NormService, path: Path, lines: list[_BatchLine], target: IO[str]) -> None:
    """Check the lines in chunks and write one JSON result per line (a line without an id gets its
    line number). A line the service refuses (an unknown country, an empty response, a bad judgment:
    found only at check time) is an error naming file and line: the chunk it broke is checked again
    line by line to find it."""
    chunk = 32
    warnings: dict[str, None] = {}
    with Progress(
        TextColumn("checking"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
    ) as progress:
        task = progress.add_task("check", total=len(lines))
        for start in range(0, len(lines), chunk):
            part = lines[start : start + chunk]
            results = _check_lines(service, path, part)
            for line, result in zip(part, results, strict=True):
                answer: dict[str, Any] = {
                    "id": line.item.id if line.item.id is not None else line.number,
                    "verdict": result.verdict,
                    "findings": [f.model_dump() for f in result.findings],
                }
                if result.warnings:
                    answer["warnings"] = result.warnings
                    warnings.update(dict.fromkeys(result.warnings))
                target.write(json.dumps(answer) + "\n")
            progress.advance(task, len(part))
    for warning in warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}")


def _check_lines(service: NormService, path: Path, part: list[_BatchLine]) -> list[CheckResult]:
    """``part`` checked in one call; when the service refuses it, the error of the first line it
    refuses alone, prefixed with that line's place (the service's message names no line)."""

    def items(lines: list[_BatchLine]) -> list[tuple[str, Context | None, list[RequestNorm], bool]]:
        return [(ln.item.response, ln.item.context, ln.item.norms, ln.use_graph) for ln in lines]

    try:
        return service.check_batch(items(part))
    except InputError as exc:
        for line in part:
            try:
                service.check_batch(items([line]))
            except InputError as alone:
                raise InputError(f"{path}:{line.number}: {alone.message}", hint=alone.hint) from alone
        span = f"{path}:{part[0].number}-{part[-1].number}"
        raise InputError(f"{span}: {exc.message}", hint=exc.hint) from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    store: StoreOpt = None,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs)."""
    import uvicorn

    from normkg.api.app import create_app
    from normkg.kg.open import open_store

    settings = get_settings()
    try:
        application = create_app(settings, open_store(store), warm=True)
    except NormkgError as exc:
        _fail(exc)
        return
    uvicorn.run(application, host=host, port=port, log_level=settings.log_level.lower())


@app.command()
def copy(
    to: Annotated[str, typer.Option("--to", help="Target store URL.")],
    from_: Annotated[
        str | None, typer.Option("--from", help="Source store URL (default: NORMKG_STORE).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Copy sources the target already has unchanged.")
    ] = False,
) -> None:
    """Move a whole graph between stores (embedded, SPARQL server, Neo4j), checking counts at the end."""
    from normkg.kg.copy import copy_store
    from normkg.kg.open import open_store

    try:
        source, target = open_store(from_, create=False), open_store(to)
        total = sum(info.triples for info in source.sources().values())
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err_console,
        ) as progress:
            task = progress.add_task("copy", total=total)
            done: dict[str, int] = {}

            def step(name: str, copied: int, of: int) -> None:
                done[name] = copied
                progress.update(task, description=f"copy {name}", completed=sum(done.values()))

            counts = copy_store(source, target, step, force=force)
        source.close()
        target.close()
    except NormkgError as exc:
        _fail(exc)
        return
    table = Table(title=f"copied {source.url} -> {target.url}")
    table.add_column("source")
    table.add_column("triples", justify="right")
    for name, n in counts.items():
        table.add_row(name, str(n))
    console.print(table)
    console.print(f"{sum(counts.values())} triples; counts match")
