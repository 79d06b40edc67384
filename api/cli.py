"""The ``normkg`` command line (Typer + rich). It calls the same service functions as the REST API."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from normkg.errors import NormkgError
from normkg.settings import get_settings

app = typer.Typer(
    name="normkg",
    help="A knowledge graph of social norms and human values: ingest, query, check, explain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

StoreOpt = Annotated[str | None, typer.Option("--store", help="Store URL (default: NORMKG_STORE).")]


def _fail(exc: NormkgError) -> None:
    err_console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(code=2)


@app.callback()
def main(
    log_level: Annotated[str | None, typer.Option(help="Logging level (default: NORMKG_LOG_LEVEL).")] = None,
) -> None:
    logging.basicConfig(level=(log_level or get_settings().log_level).upper(), stream=sys.stderr)


@app.command()
def ingest(
    sources: Annotated[list[str] | None, typer.Argument(help="Sources to load (default: all found).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data folder (default: NORMKG_DATA_DIR).")] = None,
    store: StoreOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Reload sources even when unchanged.")] = False,
    show_issues: Annotated[int, typer.Option("--show-issues", help="Rejected rows to list per source.")] = 5,
) -> None:
    """Load the datasets into the store and print a table of rows read, rejected and triples written."""
    from normkg.ingest.pipeline import available_sources, ingest_source, load_ontology
    from normkg.ingest.registry import loader_class
    from normkg.kg.open import open_store

    try:
        settings = get_settings()
        folder = data_dir or settings.resolve_data_dir()
        names = list(sources) if sources else available_sources(folder)
        graph_store = open_store(store)
        reports = [load_ontology(graph_store, force)]
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
            console=err_console, transient=False,
        ) as progress:
            task = progress.add_task("ingest", total=len(names))
            for name in names:
                cls = loader_class(name)
                progress.update(task, description=f"{name}: mapping")

                def step(source: str, phase: str) -> None:
                    progress.update(task, description=f"{source}: {phase}")

                reports.append(ingest_source(graph_store, cls(folder / cls.folder_name()), force=force, progress=step))
                progress.advance(task)
        total = graph_store.count()
        graph_store.close()
    except NormkgError as exc:
        _fail(exc)
        return
    table = Table(title=f"normkg ingest into {graph_store.url}")
    for column in ("source", "rows read", "rows rejected", "triples", "seconds", "status"):
        table.add_column(column, justify="left" if column in ("source", "status") else "right")
    for r in reports:
        table.add_row(
            r.source, str(r.rows_read), str(r.rows_rejected), str(r.triples), f"{r.seconds:.2f}",
            "unchanged" if r.unchanged else "loaded",
        )
    table.add_row("total", str(sum(r.rows_read for r in reports)), str(sum(r.rows_rejected for r in reports)),
                  str(total), f"{sum(r.seconds for r in reports):.2f}", "")
    console.print(table)
    for r in reports:
        for issue in r.issues[:show_issues]:
            err_console.print(f"[yellow]rejected[/yellow] {r.source}: {issue}")
        if len(r.issues) > show_issues:
            err_console.print(f"[yellow]... and {len(r.issues) - show_issues} more rejected rows in {r.source}[/yellow]")


@app.command()
def stats(
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts per source and per class."""
    from normkg.kg.open import open_store
    from normkg.kg.stats import graph_stats

    try:
        graph_store = open_store(store)
        result = graph_stats(graph_store)
        graph_store.close()
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
    from normkg.kg.open import open_store
    from normkg.kg.validate import validate_store

    try:
        graph_store = open_store(store)
        reports = validate_store(graph_store, list(sources) if sources else None)
        graph_store.close()
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
    source: Annotated[list[str] | None, typer.Option("--source", help="Only these sources (repeatable).")] = None,
    store: StoreOpt = None,
) -> None:
    """Write the graph (or some sources) to a file."""
    from normkg.errors import InputError
    from normkg.kg.open import open_store
    from normkg.kg.store import ExportFormat

    try:
        try:
            export_format = ExportFormat(fmt)
        except ValueError:
            raise InputError(f"unknown format {fmt!r}", hint="use ttl, nq, nt or jsonld") from None
        graph_store = open_store(store)
        known = graph_store.sources()
        for name in source or []:
            if name not in known:
                raise InputError(f"no source {name!r} in the store", hint="known: " + ", ".join(known))
        with out.open("wb") as handle:
            n = graph_store.export(handle, export_format, list(source) if source else None)
        graph_store.close()
    except NormkgError as exc:
        _fail(exc)
        return
    console.print(f"wrote {n} triples to {out}")


@app.command()
def sparql(
    query: Annotated[str, typer.Argument(help="A SPARQL SELECT, ASK or CONSTRUCT query (read-only).")],
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows.")] = False,
) -> None:
    """Run a read-only SPARQL query (prefixes nkg:, skos:, prov:, dcterms: ... are predeclared)."""
    from normkg.kg.open import open_store
    from normkg.kg.sparql_read import run_read_only

    try:
        graph_store = open_store(store)
        result = run_read_only(graph_store, query)
        graph_store.close()
    except NormkgError as exc:
        _fail(exc)
        return
    if as_json or not isinstance(result, list):
        console.print_json(json.dumps(result))
        return
    table = Table()
    columns = sorted({k for row in result for k in row})
    for column in columns:
        table.add_column(column)
    for row in result:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)
