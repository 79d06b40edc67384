"""The hand-labelled (sentence, graph norm) pairs and the scoring of a checker against them."""

from __future__ import annotations

from pathlib import Path

import pytest

from normkg.errors import SourceError
from normkg.ontology.namespace import INSTANCES
from normkg.reasoning.end_to_end import GRAPH_PAIRS, agreement, read_graph_pairs, score
from normkg.reasoning.judge import Verdict
from normkg.reasoning.training import CHALLENGE_DIR, CHALLENGE_SETS, read_challenge

V, F, U = Verdict.VIOLATES, Verdict.FOLLOWS, Verdict.UNRELATED


def test_the_shipped_labels_are_about_the_challenge_sentences() -> None:
    pairs = read_graph_pairs()
    assert len(pairs) == 785
    assert agreement(pairs) == {"pairs": 40, "agree": 38}
    assert {p.set for p in pairs} == set(CHALLENGE_SETS)
    for name in CHALLENGE_SETS:
        sentences = {item.text for item in read_challenge(CHALLENGE_DIR / f"{name}.jsonl")}
        labelled = {p.text for p in pairs if p.set == name}
        # every sentence but one (no graph norm within the similarity floor) has candidates labelled
        assert labelled <= sentences and len(sentences - labelled) <= 1, name
    norm_base = INSTANCES.base + "norm/"  # every norm_id is a graph norm's IRI
    assert all(p.norm_id.startswith(norm_base) for p in pairs)
    assert {p.label for p in pairs} == {V, F, U}


def test_a_bad_line_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    good = GRAPH_PAIRS.read_text(encoding="utf-8").splitlines()[:2]
    path = tmp_path / "pairs.jsonl"
    bad = '{"text": "Hi.", "norm_id": "x", "set": "s", "label": "maybe"}'
    path.write_text("\n".join([*good, bad]) + "\n")
    with pytest.raises(SourceError, match=r"pairs\.jsonl:3: not a labelled graph pair"):
        read_graph_pairs(path)
    path.write_text("\n".join([good[0], "{not json"]) + "\n")
    with pytest.raises(SourceError, match=r"pairs\.jsonl:2: invalid JSON"):
        read_graph_pairs(path)
    path.write_text("\n".join([good[0], good[1], good[0]]) + "\n")
    with pytest.raises(SourceError, match=r"pairs\.jsonl:3: the same pair as line 1"):
        read_graph_pairs(path)


def test_score_counts_precision_recall_and_the_base_rates() -> None:
    gold = [V, V, F, U, U, U, U, U]
    predicted = [V, F, F, V, V, U, U, U]
    got = score(gold, predicted)
    assert got["accuracy"] == 0.625  # 5 of 8
    assert got["all_unrelated_accuracy"] == 0.625
    violates = {"precision": 0.333, "recall": 0.5, "flagged": 3, "support": 2, "base_rate": 0.25}
    follows = {"precision": 0.5, "recall": 1.0, "flagged": 2, "support": 1, "base_rate": 0.125}
    assert got["violates"] == violates and got["follows"] == follows
    with pytest.raises(ValueError):
        score(gold, predicted[:-1])
