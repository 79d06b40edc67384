"""Negation by rewriting: which sentences are rewritten, into what, and how the checker reports it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from normkg.reasoning.judge import swap_stance
from normkg.reasoning.negation import find_negation, judged_text

REWRITTEN = [
    ("I won't help you cheat.", "won't", "I will help you cheat."),
    ("You should never lie to your parents.", "never", "You should always lie to your parents."),
    ("Please don't kick the dog.", "don't", "Please do kick the dog."),
    (
        "I'm sorry, but I can't help you get into her account.",
        "can't",
        "I can help you get into her account.",
    ),
    ("Reading her diary without asking is not okay.", "is not", "Reading her diary without asking is okay."),
    ("It's not okay to hit people.", "'s not", "It's okay to hit people."),
    ("There's no need to thank him; it was his job.", "no need to", "There's a need to thank him."),
    ("If you can't pay, don't eat there.", "don't", "Do eat there."),
    ("No one should be treated that way.", "No one", "Everyone should be treated that way."),
    ("I refuse to write that message.", "refuse to", "I agree to write that message."),
    ("Don't forget to call your grandmother.", "Don't", "Do forget to call your grandmother."),
]


@pytest.mark.parametrize(("sentence", "cue", "affirmative"), REWRITTEN)
def test_a_negated_main_clause_is_rewritten_to_its_affirmative(
    sentence: str, cue: str, affirmative: str
) -> None:
    negation = find_negation(sentence)
    assert negation is not None
    assert (negation.cue, negation.affirmative) == (cue, affirmative)
    assert sentence[negation.start : negation.end] == cue
    assert judged_text(sentence) == (affirmative, True)


@pytest.mark.parametrize(
    "sentence",
    [
        "Tell your friend the truth.",  # no negation
        "Tell her the truth, even if it isn't easy.",  # only in a subordinate clause
        "Here's a trick to leave the shop with items you didn't pay for.",  # inside a relative clause
        "Not tomorrow, call her today.",  # a contrast
        "Not only should you thank her, you should also send flowers.",  # an idiom
        "I can't wait to help you!",
        "If you are not sure, ask her.",  # the main clause is affirmative
    ],
)
def test_no_rewrite_where_the_negation_does_not_scope_over_the_act(sentence: str) -> None:
    assert find_negation(sentence) is None
    assert judged_text(sentence) == (sentence, False)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_any_text_gives_no_rewrite_or_offsets_that_slice_the_cue(text: str) -> None:
    negation = find_negation(text)
    if negation is not None:
        assert text[negation.start : negation.end] == negation.cue
        assert negation.affirmative.strip()


@given(st.lists(st.integers(0, 2), max_size=20), st.data())
def test_swapping_twice_restores_labels_and_logits(labels: list[int], data: st.DataObject) -> None:
    rows = np.array(
        data.draw(st.lists(st.booleans(), min_size=len(labels), max_size=len(labels))), dtype=bool
    )
    y = np.array(labels, dtype=np.int64)
    swapped = swap_stance(y, rows)
    assert np.array_equal(swap_stance(swapped, rows), y)
    assert np.array_equal(swapped[y == 2], y[y == 2]), "unrelated never changes"
    assert np.array_equal(swapped[~rows], y[~rows])
    logits = np.arange(3 * len(labels), dtype=np.float32).reshape(-1, 3)
    turned = swap_stance(logits, rows)
    assert np.array_equal(turned[rows][:, [1, 0, 2]], logits[rows])
    assert np.array_equal(turned[~rows], logits[~rows])
