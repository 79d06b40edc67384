"""Moral Stories actions retold as advice (training augmentation, ``--advice``), with the real parser."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from normkg.reasoning.adapter_training import AdapterParameters
from normkg.reasoning.advice import as_advice
from normkg.reasoning.training import CHALLENGE_DIR, HyperParameters, build_training_data

MINI = CHALLENGE_DIR / "mini"  # the small slices of the real sources that test_judge uses


def test_a_story_action_becomes_advice_to_the_reader() -> None:
    got = as_advice(
        [
            "Julia throws eggs on her neighbor's car.",
            "Colin raises his hand and excuses himself to go to the bathroom.",
            "Jared doesn't wash his hands before eating his lunch.",
            "Mia takes Julie to the mall and walks around and shops with her.",
        ]
    )
    assert [a.text if a else None for a in got] == [
        "Throw eggs on your neighbor's car.",
        "Raise your hand and excuse yourself to go to the bathroom.",
        "Don't wash your hands before eating your lunch.",
        "Take Julie to the mall and walk around and shop with her.",
    ]
    assert [a.negated if a else None for a in got] == [False, False, True, False]
    assert got[2] is not None and got[2].clause == "wash your hands before eating your lunch."


def test_an_action_that_does_not_open_with_subject_and_verb_is_left_out() -> None:
    got = as_advice(
        [
            "After Jackie denies taking the jacket Barb goes to their mother.",  # opens with a clause
            "Mark has left the party.",  # perfect tense: not a plain action
            "",
        ]
    )
    assert got == [None, None, None]


def test_training_with_advice_adds_retold_actions_with_their_story_labels(tmp_path: Path) -> None:
    hp = HyperParameters(epochs=1, hidden=8, adapter=AdapterParameters(epochs=0), advice=True)
    data = build_training_data(MINI, seed=5, hp=hp, cache_dir=tmp_path / "cache")
    story = {(p.norm, p.label): p.text for p in data.pairs if p.source == "ms"}
    retold = [p for p in data.pairs if p.source == "ms-advice"]
    assert retold, "the mini Moral Stories slice has actions to retell"
    for pair in retold:
        action = story[(pair.norm, pair.label)]  # the story's action with the same norm and label
        advice = as_advice([action])[0]
        assert advice is not None and advice.clause.lower() in pair.text.lower()
        assert "should don't" not in pair.text and "and don't" not in pair.text
    plain = build_training_data(MINI, seed=5, hp=replace(hp, advice=False), cache_dir=tmp_path / "cache")
    assert [p for p in data.pairs if p.source != "ms-advice"] == plain.pairs, "nothing else changes"
