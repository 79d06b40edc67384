"""``normkg moral-graph``: build, rank, plot and deduplicate moral graphs from elicitation data.

A Typer sub-app over the pure functions of :mod:`normkg.reasoning.moral_graph` and its io, plot and dedup
modules, so that the CLI and any API route compute the same thing. ``--input`` takes MGE's export
folder (dft-data), an interview ``.jsonl`` file, MGE's demo ``graph.json``, or a graph written by
``build`` (``.json`` in mge-json shape, ``.graphml``, ``.ttl``). Bad input exits with code 2 and says
what was wrong; rejected records are listed (the first few) but do not stop the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from normkg.errors import InputError, NormkgError
from normkg.reasoning.moral_graph import MoralGraph, RankedValue, rank_by_demographic, rank_values
from normkg.reasoning.moral_graph_io import (
    GRAPH_FORMATS,
    MgeExport,
    ReadReport,
    default_graph_id,
    load_moral_graph,
    read_elicitation,
    write_moral_graph,
)

moral_graph_app = typer.Typer(
    name="moral-graph",
    help="Moral graphs from Moral Graph Elicitation data: build, rank, plot, deduplicate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # messages stay one line: easy to grep

InputOpt = Annotated[
    Path,
    typer.Option(
        "--input",
        help="MGE export folder, interview .jsonl, graph.json, or a built graph (.json/.graphml/.ttl).",
    ),
]
MinWiserOpt = Annotated[
    int | None,
    typer.Option("--min-wiser", help="Edges need this many 'wiser' votes (default: 2; MGE's demo graph: 0)."),
]
ContextOpt = Annotated[
    str | None, typer.Option("--context", help="Only this context ('When seeking clarity').")
]
CaseOpt = Annotated[str | None, typer.Option("--case", help="Only the contexts of this case (question).")]
GraphIdOpt = Annotated[
    str | None, typer.Option("--graph-id", help="Id of the graph (IRIs); default: from the input name.")
]
_SUFFIX_FORMAT = {".json": "mge-json", ".graphml": "graphml", ".ttl": "ttl"}


def _fail(exc: NormkgError) -> None:
    err_console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(code=2)


def _show_rejected(report: ReadReport, show: int) -> None:
    if not report.rejected:
        return
    err_console.print(
        f"[yellow]{len(report.rejected)} of {report.records_read} records rejected[/yellow] ({report.source})"
    )
    for issue in report.rejected[:show]:
        err_console.print(f"  [yellow]rejected[/yellow] {issue}")
    if len(report.rejected) > show:
        err_console.print(f"  ... and {len(report.rejected) - show} more")


def _load(path: Path, min_wiser: int | None, graph_id: str | None, show: int = 5) -> MoralGraph:
    graph, report = load_moral_graph(path, min_marked_wiser=min_wiser, graph_id=graph_id)
    _show_rejected(report, show)
    return graph


def _build_deduplicated(
    path: Path, graph_id: str, threshold: float, min_wiser: int | None, show: int
) -> MoralGraph:
    """Merge near-duplicate cards (MGE's merge: votes are rewired to the representative), then build."""
    from normkg.reasoning.moral_graph_dedup import propose_merges

    if path.suffix in (".graphml", ".ttl") or (path.suffix == ".json" and not _has_votes(path)):
        raise InputError(f"{path} is a summarised graph: deduplication needs the individual votes")
    found = read_elicitation(path, graph_id)
    data = found.elicitation if isinstance(found, MgeExport) else found
    _show_rejected(data.report, show)
    proposal = propose_merges(list(data.cards), threshold)
    err_console.print(f"merged {len(proposal.mapping)} cards into {len(proposal.merges)} representatives")
    return data.build(min_wiser, card_map=proposal.mapping)


def _has_votes(path: Path) -> bool:
    try:
        return "upgrades" in json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def _ranking_table(title: str, ranked: list[RankedValue]) -> Table:
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("value")
    table.add_column("id", justify="right")
    table.add_column("PageRank", justify="right")
    table.add_column("MGE pageRank", justify="right")
    table.add_column("led here from (wiserLikelihood, wiser votes)")
    for n, r in enumerate(ranked, start=1):
        support = "; ".join(
            f"{e.source_id} ({e.wiser_likelihood:.2f}, {e.counts.marked_wiser})"
            for e in r.supporting_edges[:4]
        )
        table.add_row(
            str(n), r.card.title, str(r.card.id), f"{r.score:.4f}", f"{r.mge_page_rank:.4f}", support
        )
    return table


@moral_graph_app.command()
def build(
    input_path: InputOpt,
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="mge-json, graphml or ttl (default: from --out's suffix).")
    ] = None,
    min_wiser: MinWiserOpt = None,
    graph_id: GraphIdOpt = None,
    show_rejected: Annotated[int, typer.Option("--show-rejected", help="Rejected records to list.")] = 10,
    dedup_threshold: Annotated[
        float | None,
        typer.Option(
            "--dedup-threshold", help="First merge cards at least this similar (MiniLM cosine, e.g. 0.68)."
        ),
    ] = None,
) -> None:
    """Summarise the votes into a moral graph and write it; prints cards, edges kept and contexts."""
    try:
        chosen = fmt or _SUFFIX_FORMAT.get(out.suffix.lower(), "mge-json")
        if chosen not in GRAPH_FORMATS:
            raise InputError(f"unknown format {chosen!r}", hint="one of: " + ", ".join(GRAPH_FORMATS))
        gid = graph_id or default_graph_id(input_path)
        if dedup_threshold is None:
            graph = _load(input_path, min_wiser, gid, show_rejected)
        else:
            graph = _build_deduplicated(input_path, gid, dedup_threshold, min_wiser, show_rejected)
        write_moral_graph(graph, out, chosen, gid)
    except NormkgError as exc:
        _fail(exc)
        return
    table = Table(title=f"moral graph {gid} -> {out} ({chosen})")
    table.add_column("cards", justify="right")
    table.add_column("values in graph", justify="right")
    table.add_column("votes", justify="right")
    table.add_column("pairs summarised", justify="right")
    table.add_column("edges kept", justify="right")
    table.add_column("contexts", justify="right")
    table.add_row(
        str(len(graph.cards)),
        str(len(graph.values)),
        str(len(graph.judgments)),
        str(len(graph.all_edges)),
        str(len(graph.edges)),
        str(len(graph.contexts)),
    )
    console.print(table)


@moral_graph_app.command()
def rank(
    input_path: InputOpt,
    context: ContextOpt = None,
    case: CaseOpt = None,
    top: Annotated[int, typer.Option("--top", help="How many values to list.")] = 5,
    by_demographic: Annotated[
        str | None,
        typer.Option(
            "--by-demographic", help="Rank each group of this field apart (usPoliticalAffiliation)."
        ),
    ] = None,
    min_wiser: MinWiserOpt = None,
) -> None:
    """The wisest values by PageRank, for the whole graph, a context, a case, or per demographic group."""
    try:
        if top < 1:
            raise InputError("--top must be at least 1")
        graph = _load(input_path, min_wiser, None)
        where = " / ".join(x for x in (case and f"case {case}", context) if x) or "all contexts"
        if by_demographic is None:
            console.print(
                _ranking_table(f"wisest values, {where}", rank_values(graph, context, case=case, top=top))
            )
            return
        comparison = rank_by_demographic(graph, by_demographic, context, case=case, top=top)
    except NormkgError as exc:
        _fail(exc)
        return
    for group, ranked in comparison.rankings.items():
        people = comparison.participants[group]
        console.print(_ranking_table(f"{by_demographic} = {group} ({people} voters), {where}", ranked))
    standing = Table(
        title=f"the overall top {top}, ranked within each group ('-': not in that group's graph)"
    )
    standing.add_column("value")
    standing.add_column("all", justify="right")
    for group in comparison.rankings:
        standing.add_column(group, justify="right")
    for n, r in enumerate(comparison.overall, start=1):
        cells = [str(comparison.positions[g].get(r.card.id, "-")) for g in comparison.rankings]
        standing.add_row(r.card.title, str(n), *cells)
    console.print(standing)
    titles = {r.card.id: r.card.title for ranked in comparison.rankings.values() for r in ranked}
    shared = ", ".join(titles[i] for i in comparison.shared) or "none"
    console.print(f"[bold]in every group's top {top}:[/bold] {shared}")
    agreement = Table(title=f"agreement of top-{top} lists (Jaccard)")
    agreement.add_column("group")
    agreement.add_column("group")
    agreement.add_column("overlap", justify="right")
    for (a, b), value in comparison.overlap.items():
        agreement.add_row(a, b, f"{value:.2f}")
    console.print(agreement)


@moral_graph_app.command()
def plot(
    input_path: InputOpt,
    out: Annotated[Path, typer.Option("--out", help="graph.svg or graph.png")],
    context: ContextOpt = None,
    case: CaseOpt = None,
    min_wiser: MinWiserOpt = None,
) -> None:
    """Draw the graph (or one context / case) with wiser values higher up."""
    from normkg.reasoning.moral_graph_plot import plot_moral_graph

    try:
        graph = _load(input_path, min_wiser, None)
        plot_moral_graph(graph, context, out, case=case)
    except NormkgError as exc:
        _fail(exc)
        return
    console.print(f"wrote {out}")


@moral_graph_app.command()
def dedup(
    input_path: InputOpt,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Cosine similarity (default 0.68).")
    ] = None,
    linkage: Annotated[
        str, typer.Option("--linkage", help="complete (default), average or single.")
    ] = "complete",
    generation: Annotated[
        int, typer.Option("--generation", help="MGE deduplication generation to score.")
    ] = 3,
    sweep_thresholds: Annotated[
        bool, typer.Option("--sweep", help="Also score a range of thresholds against the dataset's table.")
    ] = False,
    show: Annotated[int, typer.Option("--show", help="Merges to list.")] = 5,
) -> None:
    """Propose merges of near-duplicate cards (MiniLM); score them against the dataset's own table."""
    from normkg.reasoning import moral_graph_dedup as dd

    try:
        if linkage not in ("complete", "average", "single"):
            raise InputError(f"unknown linkage {linkage!r}", hint="complete, average or single")
        method: dd.Linkage = (
            "complete" if linkage == "complete" else "average" if linkage == "average" else "single"
        )
        chosen = dd.DEFAULT_THRESHOLD if threshold is None else threshold
        found = read_elicitation(input_path)
        _show_rejected(found.report, 5)
        if isinstance(found, MgeExport):
            cards, truth = dd.mge_reference(found.elicited_cards, found.deduplication, generation)
        else:
            cards, truth = list(found.cards), {}
        if len(cards) < 2:
            raise InputError(f"{input_path}: fewer than two cards to compare")
        err_console.print(f"embedding {len(cards)} cards ...")
        vectors = dd.embed_cards(cards)
        proposal = dd.propose_merges(cards, chosen, method, vectors)
        scores = (
            dd.sweep(cards, truth, dd.SWEEP_THRESHOLDS, method, vectors) if truth and sweep_thresholds else []
        )
    except NormkgError as exc:
        _fail(exc)
        return
    titles = {c.id: c.title for c in cards}
    console.print(
        f"{len(cards)} cards -> {len(proposal.groups)} groups at threshold {chosen} ({method} linkage); "
        f"{len(proposal.mapping)} cards merged into {len(proposal.merges)} representatives"
    )
    for group in proposal.merges[:show]:
        head = proposal.mapping.get(group[0], group[0])
        others = sorted({titles[i] for i in group if i != head})
        console.print(
            f"  [bold]{titles[head]}[/bold] ({head}) <- {len(group) - 1}: {'; '.join(others)[:140]}"
        )
    if not truth:
        return
    score = dd.pairwise_score(proposal.group_of(), truth)
    table = Table(title=f"pairwise agreement with deduplication.json (generation {generation})")
    for name in (
        "threshold",
        "cards",
        "true pairs",
        "proposed pairs",
        "correct",
        "precision",
        "recall",
        "F1",
    ):
        table.add_column(name, justify="right")
    rows = sorted({t: s for t, s in [*scores, (chosen, score)]}.items())
    for t, s in rows:
        table.add_row(
            f"{t:.2f}" + (" *" if t == chosen else ""),
            str(s.cards),
            str(s.true_pairs),
            str(s.predicted_pairs),
            str(s.correct_pairs),
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            f"{s.f1:.3f}",
        )
    console.print(table)
