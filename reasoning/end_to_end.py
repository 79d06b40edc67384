"""End-to-end evaluation: the checker's findings against hand labels of (sentence, graph norm) pairs.

Why: cross-validation and the challenge sets score a sentence against the one norm it was written
for. A real check retrieves the closest of ~12,700 graph norms, and most of those candidates are about
something else: a loosely related norm judged *violated* is a false alarm that no pair-level metric
sees. ``graph_pairs.jsonl`` holds, for each challenge sentence, the graph norms the checker retrieved
when it was labelled (its ``checker.TOP_K`` most similar norms above ``MIN_SIMILARITY``, from plain
MiniLM vectors, before restatements were grouped: since then a slot freed by a restatement can hold a
norm without a label, whose findings are not scored), each labelled violates / follows / unrelated by
an annotator who saw neither the code nor any model output. Nothing is trained on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from normkg.errors import SourceError
from normkg.ingest.base import BadRecord, read_jsonl
from normkg.reasoning.checker import CheckResult
from normkg.reasoning.judge import LABELS, Verdict
from normkg.reasoning.training import CHALLENGE_DIR

GRAPH_PAIRS = CHALLENGE_DIR / "graph_pairs.jsonl"


@dataclass(frozen=True)
class GraphPair:
    text: str  # the sentence, as checked
    norm_id: str  # the graph norm's IRI
    label: Verdict  # the annotator's
    set: str  # the challenge set the sentence comes from
    unsure: bool  # the annotator marked the call as a close one
    second_label: Verdict | None = None  # a second annotator's label, where the pair has one


def read_graph_pairs(path: Path = GRAPH_PAIRS) -> list[GraphPair]:
    """Every labelled pair; a bad line is an error naming file and line (a skipped label would skew
    every figure computed from the file)."""
    pairs: list[GraphPair] = []
    first_line: dict[tuple[str, str], int] = {}
    try:
        for record in read_jsonl(path, path.parent):
            if isinstance(record, BadRecord):
                raise SourceError(f"{path}:{record.line}: {record.reason}")
            row = record.data
            try:
                second = row.get("second_opinion")
                pair = GraphPair(
                    text=str(row["text"]),
                    norm_id=str(row["norm_id"]),
                    label=Verdict(row["label"]),
                    set=str(row["set"]),
                    unsure=bool(row.get("unsure", False)),
                    second_label=Verdict(second["label"]) if isinstance(second, dict) else None,
                )
            except (KeyError, ValueError) as exc:
                raise SourceError(
                    f"{path}:{record.line}: not a labelled graph pair ({exc!r})",
                    hint="each line needs text, norm_id, set and label (violates, follows or unrelated)",
                ) from exc
            key = (pair.text, pair.norm_id)
            if key in first_line:  # it would count twice in every figure
                raise SourceError(f"{path}:{record.line}: the same pair as line {first_line[key]}")
            first_line[key] = record.line
            pairs.append(pair)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    return pairs


def predicted_labels(pairs: Sequence[GraphPair], results: Mapping[str, CheckResult]) -> list[Verdict]:
    """What the checker said about each pair: its finding's label for that norm on that sentence, or
    *unrelated* where it reported none (below the probability floor, outside the top candidates, or
    judged unrelated). A finding is about its restatements too: they are the same rule, judged once."""
    found: dict[tuple[str, str], Verdict] = {}
    for text, result in results.items():
        for finding in result.findings:
            if finding.evidence.text == text:
                for norm in (finding.norm, *finding.restatements):
                    found[(text, norm.id)] = Verdict(finding.label)
    return [found.get((p.text, p.norm_id), Verdict.UNRELATED) for p in pairs]


def score(gold: Sequence[Verdict], predicted: Sequence[Verdict]) -> dict[str, object]:
    """Accuracy next to always saying *unrelated*, and per stance label its precision, recall and the
    base rate (a label's share among the pairs: the precision of flagging pairs at random)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels for {len(predicted)} predictions")
    n = len(gold)
    out: dict[str, object] = {
        "pairs": n,
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted, strict=True)) / n, 3) if n else None,
        "all_unrelated_accuracy": round(sum(g is Verdict.UNRELATED for g in gold) / n, 3) if n else None,
    }
    for label in LABELS[:2]:
        hits = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        flagged = sum(p == label for p in predicted)
        support = sum(g == label for g in gold)
        out[label.value] = {
            "precision": round(hits / flagged, 3) if flagged else None,
            "recall": round(hits / support, 3) if support else None,
            "flagged": flagged,
            "support": support,
            "base_rate": round(support / n, 3) if n else None,
        }
    return out


def agreement(pairs: Sequence[GraphPair]) -> dict[str, int]:
    """How often two annotators agree, on the pairs that both labelled."""
    both = [p for p in pairs if p.second_label is not None]
    return {"pairs": len(both), "agree": sum(p.label == p.second_label for p in both)}


def evaluate(pairs: Sequence[GraphPair], results: Mapping[str, CheckResult]) -> dict[str, object]:
    """``score`` per challenge set, over all pairs and over those the annotator was sure of."""
    predicted = predicted_labels(pairs, results)
    report: dict[str, object] = {"annotators": agreement(pairs)}
    for name in sorted({p.set for p in pairs}):
        rows = [i for i, p in enumerate(pairs) if p.set == name]
        sure = [i for i in rows if not pairs[i].unsure]
        report[name] = {
            "all": score([pairs[i].label for i in rows], [predicted[i] for i in rows]),
            "sure": score([pairs[i].label for i in sure], [predicted[i] for i in sure]),
        }
    return report
