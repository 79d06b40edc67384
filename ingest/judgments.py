"""Judgment words users write (in norm packs and requests) and the ontology grades they mean.

One table for packs and requests, so "bad" means the same thing everywhere. The grades and their
polarity come from the ontology (nkg:SocialChemScale, nkg:NormBankScale); here is only the wording.
"""

from __future__ import annotations

from functools import cache

import pyoxigraph as ox
import rdflib

from normkg.errors import InputError
from normkg.ontology.namespace import NKG, ontology_graph

_WORDS: dict[str, ox.NamedNode] = {
    "very bad": NKG.VeryBad,
    "bad": NKG.Bad,
    "wrong": NKG.Bad,
    "rude": NKG.Bad,
    "prohibited": NKG.Bad,
    "forbidden": NKG.Bad,
    "impermissible": NKG.Bad,
    "ok": NKG.Expected,
    "okay": NKG.NormBankOkay,
    "fine": NKG.Expected,
    "permitted": NKG.Expected,
    "allowed": NKG.Expected,
    "optional": NKG.Expected,
    "expected": NKG.NormBankExpected,
    "unexpected": NKG.NormBankUnexpected,
    "good": NKG.Good,
    "obligatory": NKG.Good,
    "required": NKG.Good,
    "should": NKG.Good,
    "very good": NKG.VeryGood,
}


@cache
def grade_polarity() -> dict[str, int]:
    """Polarity of every judgment grade, read from the ontology (nkg:polarity)."""
    graph = ontology_graph()
    predicate = rdflib.URIRef(NKG.polarity.value)
    return {str(s): int(o) for s, o in graph.subject_objects(predicate)}  # type: ignore[call-overload]


def judgment_words() -> list[str]:
    return sorted(_WORDS)


def judgment_grade(word: str, field: str = "judgment") -> ox.NamedNode:
    grade = _WORDS.get(" ".join(word.strip().lower().split()))
    if grade is None:
        raise InputError(
            f"{field}: unknown judgment {word!r}", hint="use one of: " + ", ".join(judgment_words())
        )
    return grade


def polarity(word: str, field: str = "judgment") -> int:
    return grade_polarity()[judgment_grade(word, field).value]
