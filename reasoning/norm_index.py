"""The norm index: every graph norm with its MiniLM vectors, computed once at ingest and cached.

Why cached on disk and keyed by the store's content: embedding the ~13k norms takes about half a
minute on two cores, which must never happen per request. ``normkg ingest`` builds the index right
after loading; ``normkg serve`` loads it, and rebuilds it only if the store changed since (same
sources with the same content keys -> same file name).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from normkg.kg.store import GraphStore
from normkg.kg.terms import to_python
from normkg.reasoning.cache_files import content_digest, read_arrays, read_consistently, save_arrays
from normkg.reasoning.negation import ascii_apostrophes

if TYPE_CHECKING:
    from normkg.reasoning.judge import Deontic, NormJudge


def deontic_kind(polarity: int | None) -> Deontic | None:
    """The judge's reading of a graph judgment: good prescribes, bad proscribes, neutral permits."""
    from normkg.reasoning.judge import Deontic

    if polarity is None:
        return None
    return Deontic.PRESCRIBE if polarity > 0 else Deontic.PROSCRIBE if polarity < 0 else Deontic.PERMIT


def judge_version(judge: NormJudge) -> str:
    """Changes whenever the shipped judge (its manifest: version, data, metrics) changes."""
    return hashlib.sha256(json.dumps(judge.manifest, sort_keys=True, default=str).encode()).hexdigest()[:16]


log = logging.getLogger(__name__)

# 2: a graph judgment of a negated rule is about not doing its core; 3: "refrain from X-ing" is not X;
# 4: except in a permission ("it's ok to stop X-ing" stays as worded); 5: the norm list as UTF-8 columns
INDEX_VERSION = 5


@dataclass(frozen=True)
class IndexedNorm:
    norm: str
    text: str
    frame: str | None
    polarity: int | None
    behavior: str | None
    source: str | None


_FIELDS = [f.name for f in fields(IndexedNorm)]

_TRAILING = re.compile(r"[\s.!?;:]+$")


def wording_key(text: str) -> str:
    """A norm's wording up to case, spacing, quote style and final punctuation.

    Why: Social-Chem-101 annotates the same rule of thumb in several rows, and Moral Stories reuses
    Social-Chem's rules; "It's good to be honest with your friends." appears six times in the graph.
    Why not training's ``norm_key`` (its fold key, which also merges "it is" / "it's"): that key
    drops every character outside a-z, so all rules in another script would fall into one group, and
    changing it would change the shipped model's folds.
    """
    return _TRAILING.sub("", " ".join(ascii_apostrophes(text).casefold().split()))


def restatement_groups(norms: list[IndexedNorm], kinds: Sequence[Deontic | None]) -> np.ndarray:
    """Per norm, the position of the first norm that says the same thing: the same wording
    (``wording_key``), the same frame and the same kind as the judge reads it (``judged_kinds``); for
    a wording the judge cannot read (kind None), also the same sign of the graph's judgment, so that
    "Dog fighting." judged good and judged bad stay two norms.

    Such norms get the same verdict on every sentence and the same applicability in every context, so
    the checker judges and reports a group once, listing the other rows as restatements; without
    this, one rule written six times fills every candidate slot of a sentence."""
    first: dict[tuple[str, str | None, Deontic | None, int | None], int] = {}
    groups = np.empty(len(norms), dtype=np.int64)
    for position, (norm, kind) in enumerate(zip(norms, kinds, strict=True)):
        sign = (
            None if kind is not None or norm.polarity is None else (norm.polarity > 0) - (norm.polarity < 0)
        )
        groups[position] = first.setdefault((wording_key(norm.text), norm.frame, kind, sign), position)
    return groups


class NormIndex:
    """Norms and their vectors: ``retrieval`` for finding candidates, ``judge`` for the decision model."""

    def __init__(
        self, norms: list[IndexedNorm], retrieval: np.ndarray, judge: np.ndarray, key: str | None
    ) -> None:
        self.norms = norms
        self.retrieval = retrieval
        self.judge = judge
        self.key = key
        self.position = {n.norm: i for i, n in enumerate(norms)}

    def __len__(self) -> int:
        return len(self.norms)

    # ---- restatements ----------------------------------------------------------------------
    @cached_property
    def groups(self) -> np.ndarray:
        """``restatement_groups`` of the index, computed on first use (about 2 s per million norms)."""
        from normkg.reasoning.judge import KINDS, judged_kinds

        return restatement_groups(self.norms, [KINDS[i] for i in judged_kinds(self.judge).tolist()])

    @cached_property
    def _members(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.groups, kind="stable")
        return order, np.searchsorted(self.groups[order], np.arange(len(self.norms) + 1))

    def restatements(self, position: int) -> list[int]:
        """The other positions in ``position``'s group, in index order."""
        order, starts = self._members
        group = int(self.groups[position])
        return [int(p) for p in order[starts[group] : starts[group + 1]] if p != position]

    # ---- building --------------------------------------------------------------------------
    @staticmethod
    def store_key(store: GraphStore, judge: NormJudge) -> str:
        """Changes whenever a source's content or the judge's version changes."""
        return content_digest(store, f"v{INDEX_VERSION}", judge_version(judge))

    @staticmethod
    def read_norms(store: GraphStore) -> list[IndexedNorm]:
        found: dict[str, IndexedNorm] = {}
        for row in store.query("norm_index"):
            norm = row["norm"].value
            text = row["text"]
            language = getattr(text, "language", None)
            previous = found.get(norm)
            if previous is not None and language not in (None, "en"):
                continue
            polarity = to_python(row.get("polarity"))
            found[norm] = IndexedNorm(
                norm=norm,
                text=text.value,
                frame=row["frame"].value if "frame" in row else None,
                polarity=int(polarity) if isinstance(polarity, int | float) else None,
                behavior=row["behavior"].value if "behavior" in row else None,
                source=row["source"].value if "source" in row else None,
            )
        return [found[k] for k in sorted(found)]

    @classmethod
    def build(cls, store: GraphStore, judge: NormJudge) -> NormIndex:
        from normkg.reasoning.judge import retrieval_vectors

        norms, key = read_consistently(
            store, lambda: cls.store_key(store, judge), lambda: cls.read_norms(store)
        )
        texts = [n.text for n in norms]
        judge_vectors = judge.embed_norms(texts, [deontic_kind(n.polarity) for n in norms])
        return cls(norms, retrieval_vectors(judge_vectors), judge_vectors, key)

    # ---- cache -----------------------------------------------------------------------------
    @staticmethod
    def path(cache_dir: Path, key: str) -> Path:
        return cache_dir / f"norm-index-{key}.npz"

    def save(self, cache_dir: Path) -> Path | None:
        """Write the index to the cache; not when it has no key (see ``read_consistently``)."""
        if self.key is None:
            return None
        # Why columns of UTF-8 bytes: a numpy string array is UTF-32 and is read back through its repr;
        # at a million norms the list was most of the service's start.
        columns = {name: [getattr(n, name) for n in self.norms] for name in _FIELDS}
        meta = np.frombuffer(json.dumps(columns).encode("utf-8"), dtype=np.uint8)
        return save_arrays(
            self.path(cache_dir, self.key), retrieval=self.retrieval, judge=self.judge, meta=meta
        )

    @classmethod
    def load(cls, cache_dir: Path, key: str) -> NormIndex | None:
        def parse(data: Mapping[str, np.ndarray]) -> NormIndex:
            columns = json.loads(data["meta"].tobytes().decode("utf-8"))
            norms = [IndexedNorm(*row) for row in zip(*(columns[name] for name in _FIELDS), strict=True)]
            if not len(norms) == len(data["retrieval"]) == len(data["judge"]):
                raise ValueError(
                    f"{len(norms)} norms for {len(data['retrieval'])} / {len(data['judge'])} vectors"
                )
            return cls(norms, data["retrieval"], data["judge"], key)

        return read_arrays(cls.path(cache_dir, key), parse)

    @classmethod
    def load_or_build(cls, store: GraphStore, judge: NormJudge, cache_dir: Path) -> NormIndex:
        key = cls.store_key(store, judge)
        index = cls.load(cache_dir, key)
        if index is None:
            log.warning("norm index for this store is not cached yet: building it now (once)")
            index = cls.build(store, judge)
            index.save(cache_dir)
        return index
