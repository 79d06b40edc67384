"""``normkg evaluate``: the shipped judge scored on labelled pairs, through the real model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from normkg.api.cli import app
from normkg.errors import SourceError
from normkg.reasoning.evaluation import evaluate, present_macro_f1, read_labelled_pairs
from normkg.reasoning.judge import MODEL_DIR, NormJudge, Verdict

DATA = Path(__file__).parent / "data"
runner = CliRunner()


@pytest.fixture(scope="module")
def judge() -> NormJudge:
    return NormJudge.load()


@pytest.mark.parametrize("name", ["challenge", "challenge_fresh"])
def test_the_challenge_sets_score_as_training_recorded_them(name: str) -> None:
    """The command reads each pair as training's evaluation does: same accuracy, same per-kind
    figures as the shipped model's manifest records for the same file."""
    manifest = json.loads((MODEL_DIR / "manifest.json").read_text(encoding="utf-8"))
    recorded = manifest["challenge_sets"][name]
    result = runner.invoke(app, ["evaluate", str(DATA / "checker" / f"{name}.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["accuracy"] == pytest.approx(recorded["final_model_accuracy"], abs=1e-4)
    assert report["by_kind"] == pytest.approx(recorded["final_model_accuracy_by_kind"], abs=1e-4)
    assert report["model_version"] == manifest["model_version"]
    assert sum(sum(row.values()) for row in report["confusion"].values()) == report["pairs"]


def test_moral_stories_lines_and_the_generic_format_read_alike(judge: NormJudge, tmp_path: Path) -> None:
    stories = read_labelled_pairs(DATA / "moral-stories" / "dev.jsonl")
    assert len(stories) == 20
    assert {p.label for p in stories} == {Verdict.FOLLOWS, Verdict.VIOLATES}
    generic = tmp_path / "generic.jsonl"
    generic.write_text(
        "".join(json.dumps({"norm": p.norm, "text": p.text, "label": p.label.value}) + "\n" for p in stories),
        encoding="utf-8",
    )
    a, probs_a = evaluate(judge, stories, "stories")
    b, probs_b = evaluate(judge, read_labelled_pairs(generic), "generic")
    assert (probs_a == probs_b).all() and a.violates_vs_follows_accuracy == b.violates_vs_follows_accuracy
    assert a.labels == {"violates": 10, "follows": 10}
    assert abs(probs_a.sum(axis=1) - 1).max() < 1e-5


def test_a_given_judgment_is_what_the_norm_is_read_as(judge: NormJudge, tmp_path: Path) -> None:
    path = tmp_path / "judged.jsonl"
    lines = [
        {
            "norm": "It's okay to leave a tip at a restaurant.",
            "judgment": judgment,
            "text": text,
            "label": label,
        }
        for judgment, label in (("bad", "violates"), ("good", "follows"))
        for text in ("I always leave a big tip when I eat out.", "Sure, leave a generous tip for the waiter.")
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    report, probs = evaluate(judge, read_labelled_pairs(path), str(path))
    # the same (permissive) wording and sentences: only the judgment given differs, as a graph
    # judgment overrides a rule's wording in the checker, and the verdict follows it
    assert report.violates_vs_follows_accuracy == 1.0, probs


def test_out_writes_each_pair_with_its_probabilities(tmp_path: Path) -> None:
    out = tmp_path / "pred.jsonl"
    source = DATA / "moral-stories" / "dev.jsonl"
    result = runner.invoke(app, ["evaluate", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "violates vs follows" in result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in rows] == list(range(1, 21))
    for row in rows:
        assert max(row["probabilities"], key=row["probabilities"].get) == row["predicted"]
        assert abs(sum(row["probabilities"].values()) - 1) < 1e-3


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("{not json", "invalid JSON"),
        ('{"norm": "Be kind.", "text": "Hi.", "label": "maybe"}', "maybe"),
        ('{"norm": "Be kind.", "label": "follows"}', "'text'"),
        ('{"norm": "", "text": "Hi.", "label": "follows"}', "'norm'"),
        ('{"norm": "Be kind.", "moral_action": "He helps.", "label": "0"}', "expected '1'"),
        ('{"norm": "Be kind.", "text": "Hi.", "label": "follows", "judgment": "purple"}', "purple"),
        ('{"norm": "Be kind.", "text": "I lie.\\ud800", "label": "follows"}', "lone surrogate"),
        ('{"norm": "Be kind.", "text": "Hi."}', 'no "label"'),
        (
            '{"norm": "Be kind.", "moral_action": "He helps.", "immoral_action": "He hits.", "label": "1"}',
            "one of",
        ),
    ],
)
def test_a_bad_line_is_an_error_naming_file_and_line(line: str, said: str, tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    good = '{"norm": "Be kind.", "text": "I helped her.", "label": "follows"}'
    path.write_text(f"{good}\n\n{line}\n", encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        read_labelled_pairs(path)
    assert f"{path}:3:" in str(caught.value) and said in str(caught.value)
    result = runner.invoke(app, ["evaluate", str(path)])
    assert result.exit_code == 2 and "pairs.jsonl:3" in " ".join(result.output.split())


def test_an_empty_or_missing_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(SourceError, match="no labelled pairs"):
        read_labelled_pairs(empty)
    with pytest.raises(SourceError, match="no such file"):
        read_labelled_pairs(tmp_path / "none.jsonl")


def test_macro_f1_counts_the_classes_a_file_has() -> None:
    two = np.array([0, 1, 1, 0])
    assert present_macro_f1(two, two) == 1.0  # no unrelated pairs: not capped at 2/3
    said_unrelated = np.array([0, 1, 2, 0])  # one related pair called unrelated: that class counts
    assert present_macro_f1(said_unrelated, two) < 0.8


def test_adapter_advice_without_an_adapter_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "m"), "--adapter-advice"])
    assert result.exit_code == 2 and "--adapter-epochs" in result.output
    assert not (tmp_path / "m").exists()
