"""Sentence splitting: offsets always slice the original text exactly (property-based)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from normkg.reasoning.sentences import split_many, split_sentences

WORDS = st.sampled_from(
    [
        "Sure",
        "you",
        "should",
        "never",
        "steal",
        "Dr.",
        "e.g.",
        "OK",
        "tip",
        "🙂",
        "日本",
        "naïve",
        "'quote'",
        '"x"',
        "1.5",
        "...",
    ]
)
SEPARATORS = st.sampled_from([" ", "  ", ". ", "! ", "? ", "\n", "\n\n", "\r\n", "\t", " - ", ""])
TEXTS = st.lists(st.tuples(WORDS, SEPARATORS), max_size=40).map(
    lambda parts: "".join(w + s for w, s in parts)
)


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_offsets_slice_the_original_text(text: str) -> None:
    sentences = split_sentences(text)
    previous_end = 0
    for i, s in enumerate(sentences):
        assert s.index == i
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert s.start >= previous_end
        previous_end = s.end
    # nothing but whitespace is left out
    covered = "".join(s.text for s in sentences)
    assert "".join(text.split()) == "".join(covered.split())


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=300))
def test_any_unicode_text_is_split_without_error(text: str) -> None:
    for s in split_sentences(text):
        assert text[s.start : s.end] == s.text


def test_line_breaks_end_sentences_and_batches_match_single_calls() -> None:
    text = "Here is how:\n- take the key\n- open the door. Then leave."
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Here is how:",
        "- take the key",
        "- open the door.",
        "Then leave.",
    ]
    assert split_many([text, "", "One. Two."]) == [sentences, [], split_sentences("One. Two.")]


def test_a_sentence_never_starts_inside_a_joined_emoji_or_a_combining_mark() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man, ZWJ, woman, ZWJ, girl: one character
    text = f"{family} I won't help you cheat. Thumbs up \U0001f44d\U0001f3fd for that."
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        f"{family} I won't help you cheat.",
        "Thumbs up \U0001f44d\U0001f3fd for that.",
    ]
    for s in sentences:
        assert text[s.start : s.end] == s.text
