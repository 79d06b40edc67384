"""Moral Stories actions retold as advice to the reader, for training the judge.

"Julia throws eggs on her neighbor's car." -> "Throw eggs on your neighbor's car."

Why: the checker reads replies that advise the user, while Moral Stories tells third-person stories.
Its immoral actions are the only labelled data in which the *opposite behaviour* (lying against "be
honest", kicking against "be kind to your dog"), not a negation of the norm's own words, carries the
stance; the templated sentences built from a norm's verb phrase never do.

Parse-based (spaCy's parser and lemmatizer, loaded by ``sentences.parser``): an
action whose sentence does not open with its subject and main verb is left out rather than guessed.
Known noise: "his"/"her" become "your" even where they mean someone else, and "he"/"she" stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from normkg.reasoning.sentences import parser

_POSSESSIVE = {"his": "your", "her": "your", "their": "your"}
_REFLEXIVE = {"himself": "yourself", "herself": "yourself", "themselves": "yourself"}
_FINITE = ("VBZ", "VBD", "VBP")


class Advice(NamedTuple):
    """An action retold to the reader: the imperative clause ("throw eggs on your neighbor's car")
    and whether the story's action was negated (the advice is then "Don't <clause>")."""

    clause: str
    negated: bool

    @property
    def text(self) -> str:
        """The advice as a sentence: "Throw eggs ...", or "Don't throw eggs ..."."""
        return f"Don't {self.clause}" if self.negated else self.clause[0].upper() + self.clause[1:]


def as_advice(actions: Sequence[str]) -> list[Advice | None]:
    """Each action retold as advice to the reader, or None where its first sentence is not
    "<subject> <main verb> ..."."""
    return [_retell(doc) for doc in parser().pipe(actions, batch_size=256)]


def _retell(doc: Any) -> Advice | None:
    sentence = next(iter(doc.sents), None)
    if sentence is None:
        return None
    root = sentence.root
    subjects = [t for t in root.children if t.dep_ == "nsubj"]
    if root.pos_ != "VERB" or not subjects:
        return None
    subject = subjects[0]
    if subject.left_edge.i != sentence.start or subject.pos_ not in ("PROPN", "PRON"):
        return None
    between = list(doc[subject.right_edge.i + 1 : root.i])
    negated = any(t.dep_ == "neg" for t in between)
    if root.tag_ not in _FINITE and not (negated and root.tag_ == "VB"):  # "doesn't plan"
        return None
    for token in between:
        if token.dep_ == "aux" and not (negated and token.lemma_ == "do"):
            return None  # "has left", "will go": not a plain action
        if token.dep_ not in ("aux", "neg", "advmod"):
            return None
    # the reader's other actions: "walks ... and shops" (the small model tags "shops" a noun, or hangs
    # "scrubs" on a noun); a conjoined verb with a subject of its own is another clause, left alone
    verbs = {root.i} | {c.i for c in root.conjuncts if c.tag_ == "NNS"}
    verbs |= {
        t.i
        for t in doc[root.i + 1 : sentence.end]
        if t.dep_ == "conj" and t.tag_ in _FINITE and not any(c.dep_ == "nsubj" for c in t.children)
    }
    words: list[str] = []
    for token in doc[subject.right_edge.i + 1 : sentence.end]:
        if token.dep_ in ("aux", "neg") and token.i < root.i:
            continue
        word = token.text
        if token.i in verbs:
            word = token.lemma_
        elif token.lower_ in _REFLEXIVE:
            word = _REFLEXIVE[token.lower_]
        elif token.tag_ == "PRP$" and token.lower_ in _POSSESSIVE:
            word = _POSSESSIVE[token.lower_]
        words.append(word + token.whitespace_)
    text = "".join(words).strip()
    if not text:
        return None
    return Advice(text[0].lower() + text[1:], negated)
