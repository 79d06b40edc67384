"""Score the shipped judge on anyone's labelled (norm, text) pairs: ``normkg evaluate FILE``.

Why: the README's accuracies come from cross-validation on data this project holds. A user with their
own labels, or a reviewer with data never seen here (Moral Stories' test split, say), must be able to
measure the judge on theirs with one command, reading each pair exactly as the checker reads a
request's norm and a sentence: the norm's kind from its wording (or from the judgment given), a
negated sentence judged as its affirmative with the verdict reversed. On the challenge sets it gives
the figures that training writes into the model's manifest.

Each text is judged as one unit, as in training; ``normkg check`` is what splits a response into
sentences. Two line formats are read (one per line, mixed freely):

* ``{"norm", "text", "label": "violates" | "follows" | "unrelated", "judgment"?, "kind"?}`` (the
  challenge sets' format; ``kind`` groups the per-kind accuracy);
* Moral Stories' classification split: ``{"norm", "moral_action" | "immoral_action", "label": "1" | "0"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from normkg.errors import InputError, SourceError
from normkg.ingest.base import BadRecord, read_jsonl
from normkg.ingest.judgments import polarity as word_polarity
from normkg.reasoning.judge import LABELS, NormJudge, Verdict
from normkg.reasoning.norm_index import deontic_kind
from normkg.reasoning.sentences import require_text

#: a wrong line stops the evaluation (a skipped label would change every figure): what each needs
EXPECTED = (
    'each line needs "norm" and either "text" with "label" violates, follows or unrelated, '
    'or Moral Stories\' "moral_action" / "immoral_action" with "label" "1" / "0"'
)


@dataclass(frozen=True)
class LabelledPair:
    norm: str
    text: str
    label: Verdict
    judgment: str | None  # the norm's judgment word, if given (else read from its wording)
    kind: str | None  # a group for per-kind accuracy (the challenge sets' item kinds)
    line: int


def _text(row: dict[str, Any], field: str) -> str:
    value = row.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field!r} must be a non-empty string")
    require_text(value, field)
    return value


def _pair(row: dict[str, Any], line: int) -> LabelledPair:
    norm = _text(row, "norm")
    label = row.get("label")
    if label is None:
        raise ValueError('no "label"')
    if sum(field in row for field in ("moral_action", "immoral_action", "text")) > 1:
        raise ValueError('give one of "text", "moral_action" and "immoral_action"')
    for field, verdict in (("moral_action", Verdict.FOLLOWS), ("immoral_action", Verdict.VIOLATES)):
        if field in row:  # Moral Stories: the label says which action the line holds
            expected = "1" if verdict is Verdict.FOLLOWS else "0"
            if str(label) != expected:
                raise ValueError(f"{field!r} with label {label!r}, expected {expected!r}")
            return LabelledPair(norm, _text(row, field), verdict, None, None, line)
    judgment = row.get("judgment")
    kind = row.get("kind")
    return LabelledPair(
        norm,
        _text(row, "text"),
        Verdict(str(label)),
        str(judgment) if judgment is not None else None,
        str(kind) if kind is not None else None,
        line,
    )


def read_labelled_pairs(path: Path) -> list[LabelledPair]:
    """Every pair in the JSON-lines file ``path``; a bad line is an error naming file and line."""
    if not path.is_file():
        raise SourceError(f"{path}: no such file", hint="give a JSON-lines file of labelled pairs")
    pairs: list[LabelledPair] = []
    for record in read_jsonl(path, path.parent):
        if isinstance(record, BadRecord):
            raise SourceError(f"{path}:{record.line}: {record.reason}", hint=EXPECTED)
        try:
            pair = _pair(record.data, record.line)
            if pair.judgment is not None:
                word_polarity(pair.judgment, "judgment")
        except (ValueError, TypeError, InputError) as exc:  # InputError: an unknown judgment word
            raise SourceError(f"{path}:{record.line}: {exc}", hint=EXPECTED) from None
        pairs.append(pair)
    if not pairs:
        raise SourceError(f"{path}: no labelled pairs", hint=EXPECTED)
    return pairs


class EvaluationReport(BaseModel):
    file: str
    model_version: str
    pairs: int
    labels: dict[str, int] = Field(description="How many pairs carry each label.")
    accuracy: float = Field(description="3-way: the most probable of violates, follows, unrelated.")
    violates_vs_follows_accuracy: float | None = Field(
        description="On the pairs labelled violates or follows: the more probable of the two "
        "(the README's Moral Stories figure); None without such pairs."
    )
    macro_f1: float = Field(description="Over the classes that occur as labels or predictions.")
    ece: float = Field(description="Expected calibration error of the 3-way probabilities (10 bins).")
    by_kind: dict[str, float] = Field(default_factory=dict, description="3-way accuracy per item kind.")
    confusion: dict[str, dict[str, int]] = Field(description="label -> predicted -> pairs.")


def present_macro_f1(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Macro-F1 over the classes that occur as labels or predictions. Why not all three: on a file
    without *unrelated* pairs (Moral Stories) that class would count as F1 0, capping a perfect
    judge at 0.67; predicting *unrelated* for a related pair still counts, as that class then occurs."""
    from sklearn.metrics import f1_score

    present = sorted(set(labels.tolist()) | set(predicted.tolist()))
    return float(f1_score(labels, predicted, labels=present, average="macro", zero_division=0))


def judge_pairs(judge: NormJudge, pairs: Sequence[LabelledPair]) -> np.ndarray:
    """The judge's (violates, follows, unrelated) probabilities of each pair, read as the checker reads a
    request's norm and a sentence."""
    kinds = [deontic_kind(word_polarity(p.judgment, "judgment")) if p.judgment else None for p in pairs]
    texts = list(dict.fromkeys(p.text for p in pairs))
    # one vector per distinct (norm, kind); the same wording with two judgments is two norms
    keyed = list(dict.fromkeys(zip((p.norm for p in pairs), kinds, strict=True)))
    vectors = judge.embed_norms([n for n, _ in keyed], [k for _, k in keyed])
    row_of = {key: i for i, key in enumerate(keyed)}
    reading = judge.read(texts)
    text_row = {t: i for i, t in enumerate(texts)}
    norm_rows = [row_of[(p.norm, k)] for p, k in zip(pairs, kinds, strict=True)]
    return judge.judge_reading(vectors[norm_rows], reading, [text_row[p.text] for p in pairs])


def evaluate(
    judge: NormJudge, pairs: Sequence[LabelledPair], file: str
) -> tuple[EvaluationReport, np.ndarray]:
    """The report and the probabilities (rows follow ``pairs``)."""
    from normkg.reasoning.training import binary_accuracy, expected_calibration_error

    probs = judge_pairs(judge, pairs)
    labels = np.array([LABELS.index(p.label) for p in pairs])
    predicted = probs.argmax(axis=1)
    related = labels != LABELS.index(Verdict.UNRELATED)
    binary = binary_accuracy(probs[related], labels[related]) if related.any() else None
    by_kind: dict[str, float] = {}
    for kind in sorted({p.kind for p in pairs if p.kind is not None}):
        rows = np.array([p.kind == kind for p in pairs])
        by_kind[kind] = round(float((predicted[rows] == labels[rows]).mean()), 4)
    confusion = {
        label.value: {
            guess.value: int(((labels == i) & (predicted == j)).sum()) for j, guess in enumerate(LABELS)
        }
        for i, label in enumerate(LABELS)
        if (labels == i).any()
    }
    report = EvaluationReport(
        file=file,
        model_version=str(judge.manifest.get("model_version", "unknown")),
        pairs=len(pairs),
        labels={
            label.value: int((labels == i).sum()) for i, label in enumerate(LABELS) if (labels == i).any()
        },
        accuracy=round(float((predicted == labels).mean()), 4),
        violates_vs_follows_accuracy=round(binary, 4) if binary is not None else None,
        macro_f1=round(present_macro_f1(predicted, labels), 4),
        ece=round(expected_calibration_error(probs, labels), 4),
        by_kind=by_kind,
        confusion=confusion,
    )
    return report, probs
