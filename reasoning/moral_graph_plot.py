"""Drawing a moral graph: wiser values higher up, arrows from a value to the one judged wiser.

Why a layered drawing and not a force layout (MGE's app uses react-force-graph): the one thing a reader
wants from a moral graph is "which way is wiser", and a force layout scatters that direction. Here every
arrow points upwards: a value's height is the length of the longest chain of wiser-than edges leading
to it (cycles, which MGE's edge rule allows in principle, are drawn as one level), and within a level
values are ordered by the mean position of their neighbours (the barycentre heuristic of layered graph
drawing) to keep arrows short and crossings few. Edge width and darkness follow ``wiserLikelihood``;
a value's colour is its PageRank in the drawn graph, so the wisest values stand out at the top.
"""

from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from normkg.errors import InputError  # noqa: E402
from normkg.reasoning.moral_graph import CardId, MoralGraph, page_rank, select_graph  # noqa: E402

_WRAP = 22
_PER_ROW = 7
_SUBROW = 0.55
_LEVEL_GAP = 1.0
_SWEEPS = 8


def layers(g: nx.DiGraph) -> dict[CardId, int]:
    """Level of each node: the longest chain of edges ending at it, with values nobody moved *to* lifted
    to just below the lowest value they lead to (so they do not all pile up on the bottom row);
    strongly connected parts share one level."""
    condensed = nx.condensation(g)
    level: dict[int, int] = {}
    for component in nx.topological_sort(condensed):
        preds = list(condensed.predecessors(component))
        level[component] = 1 + max(level[p] for p in preds) if preds else 0
    for component in reversed(list(nx.topological_sort(condensed))):
        succs = list(condensed.successors(component))
        if succs and not list(condensed.predecessors(component)):
            level[component] = min(level[s] for s in succs) - 1
    mapping = condensed.graph["mapping"]
    return {node: level[mapping[node]] for node in g.nodes}


def order_within_layers(g: nx.DiGraph, level: dict[CardId, int]) -> dict[int, list[CardId]]:
    """Node order per level, by repeated barycentre sweeps (down, then up) from a stable start."""
    rows: dict[int, list[CardId]] = defaultdict(list)
    for node in sorted(g.nodes, key=lambda n: (str(type(n)), n)):
        rows[level[node]].append(node)
    undirected = g.to_undirected(as_view=True)
    for sweep in range(_SWEEPS):
        levels = sorted(rows) if sweep % 2 == 0 else sorted(rows, reverse=True)
        for lv in levels:
            position = {n: i / max(len(rows[k]) - 1, 1) for k in rows for i, n in enumerate(rows[k])}
            ref = lv - 1 if sweep % 2 == 0 else lv + 1

            def barycentre(node: CardId, ref: int = ref, position: dict[CardId, float] = position) -> float:
                near = [position[m] for m in undirected.neighbors(node) if level[m] == ref]
                if not near:
                    near = [position[m] for m in undirected.neighbors(node)]
                return sum(near) / len(near) if near else position[node]

            rows[lv].sort(key=barycentre)
    return rows


def _positions(rows: dict[int, list[CardId]]) -> dict[CardId, tuple[float, float]]:
    """x, y of each node: levels bottom-up; a level wider than ``_PER_ROW`` zig-zags over sub-rows
    (node i on sub-row i mod k, half a column apart), which keeps the barycentre order left to right
    while making a wide level narrower instead of unreadably long."""
    subrows = {lv: math.ceil(len(row) / _PER_ROW) for lv, row in rows.items()}
    columns = max(math.ceil(len(row) / subrows[lv]) for lv, row in rows.items())
    positions: dict[CardId, tuple[float, float]] = {}
    base = 0.0
    for lv in sorted(rows):
        row, k = rows[lv], subrows[lv]
        width = (len(row) - 1) / k
        offset = (columns - 1 - width) / 2
        for i, node in enumerate(row):
            positions[node] = (offset + i / k, base + (i % k) * _SUBROW)
        base += (k - 1) * _SUBROW + _LEVEL_GAP
    return positions


def plot_moral_graph(
    graph: MoralGraph,
    context: str | None,
    out_path: Path,
    *,
    case: str | None = None,
    title: str | None = None,
) -> Path:
    """Draw the graph of ``context`` (and/or ``case``; both ``None``: the whole graph) to SVG or PNG."""
    suffix = out_path.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise InputError(f"{out_path}: write .svg or .png")
    part = select_graph(graph, context, case=case)
    g = part.digraph
    if g.number_of_edges() == 0:
        where = context or case or "the graph"
        raise InputError(
            f"no kept edges in {where}",
            hint="try another context, or a lower minimum of wiser-than votes per edge (min_wiser)",
        )
    ranks = {node: scores[0] for node, scores in page_rank(part).items()}
    positions = _positions(order_within_layers(g, layers(g)))
    with plt.rc_context({"svg.fonttype": "none"}):  # SVG text stays text: searchable, small
        _draw(part, positions, ranks, out_path, context, case, title)
    return out_path


def _draw(
    part: MoralGraph,
    positions: dict[CardId, tuple[float, float]],
    ranks: dict[CardId, float],
    out_path: Path,
    context: str | None,
    case: str | None,
    title: str | None,
) -> None:
    g = part.digraph
    columns = max(x for x, _ in positions.values()) + 1
    height = max(y for _, y in positions.values()) + 1
    fig, ax = plt.subplots(
        figsize=(min(max(2.1 * columns, 7.0), 40.0), min(max(1.3 * height + 1.0, 4.0), 40.0))
    )
    ax.set_xlim(-0.6, columns - 0.4)
    ax.set_ylim(-0.5, height - 0.1)  # headroom for arcs over the top row
    ax.axis("off")

    cmap = colormaps["YlOrRd"]
    norm = Normalize(vmin=min(ranks.values()), vmax=max(ranks.values()) or 1.0)
    boxes: dict[CardId, Text] = {}
    for node, (x, y) in positions.items():
        boxes[node] = ax.text(
            x,
            y,
            textwrap.fill(part.cards[node].title, _WRAP),
            ha="center",
            va="center",
            fontsize=8,
            zorder=3,
            bbox={
                "boxstyle": "round,pad=0.4",
                "facecolor": cmap(0.08 + 0.5 * norm(ranks[node])),
                "edgecolor": "#555555",
                "lw": 0.8,
            },
        )
    fig.canvas.draw()  # the boxes get their size here; arrows are clipped to them
    for a, b, data in g.edges(data=True):
        likelihood = float(data["wiser_likelihood"])
        shade = 0.65 - 0.5 * likelihood
        # edges within a level (a cycle drawn flat) arc above the row instead of crossing its boxes
        same_level = abs(positions[a][1] - positions[b][1]) < _LEVEL_GAP / 2
        bend = 0.3 if same_level else 0.08
        ax.annotate(
            "",
            xy=boxes[b].get_position(),
            xytext=boxes[a].get_position(),
            zorder=2,
            arrowprops={
                "arrowstyle": "-|>",
                "mutation_scale": 10 + 6 * likelihood,
                "lw": 0.6 + 3.0 * likelihood,
                "color": (shade, shade, shade),
                "patchA": boxes[a].get_bbox_patch(),
                "patchB": boxes[b].get_bbox_patch(),
                "shrinkA": 2,
                "shrinkB": 2,
                "connectionstyle": f"arc3,rad={bend}",
            },
        )
    heading = title or (
        f"Moral graph: {context}" if context else f"Moral graph: case {case}" if case else "Moral graph"
    )
    ax.set_title(
        f"{heading}\n{g.number_of_nodes()} values, {g.number_of_edges()} wiser-than edges", fontsize=10
    )
    fig.text(
        0.5,
        0.01,
        "arrow: to the value judged wiser  ·  width and darkness: wiserLikelihood  ·  colour: PageRank",
        ha="center",
        va="bottom",
        fontsize=7,
        color="#444444",
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=150 if out_path.suffix.lower() == ".png" else None)
    plt.close(fig)
