"""Mapping a context's free words onto the graph's situational vocabulary, and saying how.

A user writes "waiters", "temple", "teen"; the graph has NormBank's "waiter", "temple", "teenager".
Each term is matched exactly, then by lemma, then by MiniLM nearest neighbour with its cosine score;
below ``MIN_EMBEDDING_SCORE`` it stays unmatched. Every mapping is reported with its method and
score, so nothing is silently guessed.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pyoxigraph as ox

from normkg.kg.store import GraphStore
from normkg.ontology.namespace import NKG
from normkg.reasoning.encoder import get_encoder
from normkg.reasoning.sentences import lemma_key

#: cosine below which an embedding neighbour is not taken as a match (MiniLM; measured on NormBank
#: labels: unrelated labels sit below ~0.5, paraphrases such as "teen"/"teenager" above ~0.7)
MIN_EMBEDDING_SCORE = 0.62


class VocabularyKind(StrEnum):
    SETTING = "setting"
    ROLE = "role"
    ATTRIBUTE = "attribute"
    CONDITION = "condition"
    COUNTRY = "country"


_CLASS_KIND = {
    NKG.Setting.value: VocabularyKind.SETTING,
    NKG.Role.value: VocabularyKind.ROLE,
    NKG.Attribute.value: VocabularyKind.ATTRIBUTE,
    NKG.EnvironmentCondition.value: VocabularyKind.CONDITION,
    NKG.Country.value: VocabularyKind.COUNTRY,
}


class MatchMethod(StrEnum):
    EXACT = "exact"
    LEMMA = "lemma"
    EMBEDDING = "embedding"
    ALIAS = "alias"  # a country name ISO does not use ("UK", "Turkey")
    UNMATCHED = "unmatched"


@dataclass(frozen=True)
class Term:
    iri: str
    kind: VocabularyKind
    label: str
    group: str | None = None  # setting of a role, kind of an attribute, slot of a condition
    group_label: str | None = None


@dataclass(frozen=True)
class Mapping:
    """How one word of the context was mapped (or not)."""

    field: str
    given: str
    method: MatchMethod
    score: float
    term: Term | None = None
    alternatives: tuple[Term, ...] = ()


@dataclass
class _Index:
    terms: list[Term]
    by_label: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_lemma: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    vectors: np.ndarray | None = None


def _norm(text: str) -> str:
    return " ".join(text.strip().lower().split())


class Vocabulary:
    """The situational vocabulary of one store, indexed for matching (built once per process)."""

    def __init__(self, terms: list[Term]) -> None:
        self._indexes: dict[VocabularyKind, _Index] = {}
        by_kind: dict[VocabularyKind, list[Term]] = defaultdict(list)
        for term in terms:
            by_kind[term.kind].append(term)
        for kind in VocabularyKind:
            index = _Index(sorted(by_kind[kind], key=lambda t: (t.label, t.iri)))
            for i, term in enumerate(index.terms):
                index.by_label[_norm(term.label)].append(i)
            self._indexes[kind] = index
        self._lock = threading.Lock()
        self._labels: dict[str, tuple[str, str | None]] | None = None

    @classmethod
    def from_store(cls, store: GraphStore) -> Vocabulary:
        terms: dict[tuple[str, str], Term] = {}
        for row in store.query("vocabulary"):
            cls_iri = row["class"].value
            term, label = row["term"], row["label"]
            group = row.get("group")
            group_label = row.get("groupLabel")
            key = (term.value, cls_iri)
            if key in terms and terms[key].group is not None:
                continue
            terms[key] = Term(
                iri=term.value,
                kind=_CLASS_KIND[cls_iri],
                label=label.value,
                group=group.value if isinstance(group, ox.NamedNode) else None,
                group_label=group_label.value if group_label is not None else None,
            )
        return cls(list(terms.values()))

    def terms(self, kind: VocabularyKind) -> list[Term]:
        return list(self._indexes[kind].terms)

    def labels(self) -> dict[str, tuple[str, str | None]]:
        """IRI -> (label, group label) of every term, for explanations (built once: checks ask each time)."""
        if self._labels is None:
            self._labels = {
                t.iri: (t.label, t.group_label) for index in self._indexes.values() for t in index.terms
            }
        return self._labels

    def _lemmas(self, index: _Index) -> dict[str, list[int]]:
        if not index.by_lemma and index.terms:
            with self._lock:
                if not index.by_lemma:
                    for i, term in enumerate(index.terms):
                        index.by_lemma[lemma_key(term.label)].append(i)
        return index.by_lemma

    def _vectors(self, index: _Index) -> np.ndarray:
        if index.vectors is None:
            with self._lock:
                if index.vectors is None:
                    index.vectors = get_encoder().encode([t.label for t in index.terms])
        return index.vectors

    def match(
        self,
        field_name: str,
        given: str,
        kind: VocabularyKind,
        *,
        group: str | None = None,
        group_label: str | None = None,
    ) -> Mapping:
        """Map ``given`` to a term of ``kind``; prefer terms in ``group`` (the setting of a role, ...)."""
        index = self._indexes[kind]
        if not index.terms:
            return Mapping(field_name, given, MatchMethod.UNMATCHED, 0.0)

        def pick(candidates: list[int]) -> tuple[Term, tuple[Term, ...]]:
            terms = [index.terms[i] for i in candidates]
            preferred = [
                t
                for t in terms
                if (group and t.group == group)
                or (group_label and t.group_label and _norm(t.group_label) == _norm(group_label))
            ]
            chosen = (preferred or terms)[0]
            return chosen, tuple(t for t in terms if t is not chosen)

        exact = index.by_label.get(_norm(given))
        if exact:
            term, others = pick(exact)
            return Mapping(field_name, given, MatchMethod.EXACT, 1.0, term, others)
        lemma = self._lemmas(index).get(lemma_key(given))
        if lemma:
            term, others = pick(lemma)
            return Mapping(field_name, given, MatchMethod.LEMMA, 1.0, term, others)
        vectors = self._vectors(index)
        query = get_encoder().encode([given])[0]
        scores = vectors @ query
        if group or group_label:
            boost = np.array(
                [
                    0.03
                    if (group and t.group == group)
                    or (group_label and t.group_label and _norm(t.group_label) == _norm(group_label))
                    else 0.0
                    for t in index.terms
                ],
                dtype=np.float32,
            )
            scores = scores + boost
        best = int(np.argmax(scores))
        score = float(min(1.0, scores[best]))
        order = np.argsort(-scores)[1:4]
        alternatives = tuple(index.terms[int(i)] for i in order)
        if score < MIN_EMBEDDING_SCORE:
            return Mapping(
                field_name, given, MatchMethod.UNMATCHED, score, None, (index.terms[best], *alternatives)
            )
        return Mapping(field_name, given, MatchMethod.EMBEDDING, score, index.terms[best], alternatives)
