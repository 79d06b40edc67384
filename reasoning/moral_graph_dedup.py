"""Deduplicating values cards without an LLM: MiniLM embeddings and complete-linkage clustering.

MGE merges cards that are "about the same value" before it builds the graph, so that votes for two
wordings of one value count together. Upstream does it with embeddings plus GPT-4: DBSCAN (cosine
distance, eps 0.11) over OpenAI embeddings of the attentional policies, then a prompt asking whether the
cards pass all of a list of criteria ("would a user that articulated one of the cards feel like the
other cards in the cluster captured what they cared about fully") and a prompt choosing the best-worded
card of each cluster (``meaningalignment/dft`` ``app/values-tools/deduplicator2.ts`` at
a777ec404f3d4ea18a469a80740040a0b93ba57a; the newer ``meaningalignment/values-tools``
``src/services/embedding.ts`` at 78d75e0e66eb1ac39e5efeca50affec9f32d6de6 embeds the sorted policies).
Here there is no LLM: a card is its title plus its policies, one per line, embedded with the
project's MiniLM encoder (unit vectors, so cosine similarity is a dot product); cards are grouped so
that *every* pair in a group is at least ``threshold`` similar, and each group's representative is its
medoid (the member most similar to the others; the lowest id on ties), standing in for "best card".

Why complete linkage, not connected components of the similarity graph: the upstream criteria are
about every card of a cluster against every other, which is what complete linkage guarantees, whereas
connected components (single linkage) chain: A~B and B~C merge A with C however far apart they are.
Measured on the dataset (below), single linkage is as good only above 0.72, and collapses under it
(precision 0.57 at 0.68, 0.18 at 0.64), while complete linkage stays between 0.87 and 0.90 F1 from 0.60 to
0.80, so a threshold picked on one run of elicitation is less likely to be badly wrong on the next.
We use SciPy's hierarchical clustering (``scipy.cluster.hierarchy``) for both.

Measured against the dataset's own table (``dft-data/deduplication.json``, generation 3, the one MGE's
survey used: ``getDeduplicate`` in the dft repository's ``app/utils.ts``): 596 elicited cards in 150
groups, 3929 same-group pairs. Pairwise precision = share of the pairs we put together that the table
puts together; recall = share of the table's pairs we find. Title plus policies, MiniLM:

=========  ==========================  ==========================
threshold  complete linkage P / R      single linkage P / R
=========  ==========================  ==========================
0.60       0.885 / 0.874               0.071 / 0.947
0.64       0.906 / 0.872               0.175 / 0.904
**0.68**   **0.922 / 0.870** (F1 0.895)  0.572 / 0.886
0.72       0.924 / 0.839               0.853 / 0.850
0.76       0.925 / 0.827               0.874 / 0.831
0.80       0.925 / 0.824               0.879 / 0.827
0.84       0.923 / 0.792               0.924 / 0.814
=========  ==========================  ==========================

The default threshold is therefore 0.68 (complete linkage). It was chosen on the same table it is
scored against (there is no second labelled run), so read 0.92 / 0.87 as an upper estimate; the flat
curve around it says the choice is not fragile. For scale: the dataset's own generation-2 table, an
earlier LLM run over the same 596 cards, agrees with generation 3 at precision 0.96 / recall 0.93 —
that is what a second GPT-4 pass reaches, and what MiniLM falls short of. Policies alone (sorted, as
values-tools embeds them) score a little lower (0.911 / 0.846 at 0.68); "title. policy; policy" on one
line lower still (0.870 / 0.810). Many of the table's pairs are verbatim copies (recall stays 0.74 even
at 0.98), which is why precision is high everywhere but the chaining end of single linkage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from normkg.errors import InputError
from normkg.reasoning.moral_graph import CardId, ValuesCard, card_sort_key

DEFAULT_THRESHOLD = 0.68
Linkage = Literal["complete", "single", "average"]
DEFAULT_LINKAGE: Linkage = "complete"
SWEEP_THRESHOLDS = (0.60, 0.64, 0.68, 0.72, 0.76, 0.80, 0.84)


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray: ...


def card_text(card: ValuesCard) -> str:
    """What a card is embedded as: its title, then its attentional policies, one per line."""
    return "\n".join([card.title, *card.policies])


def embed_cards(cards: Sequence[ValuesCard], encoder: TextEncoder | None = None) -> np.ndarray:
    """Unit-length MiniLM vectors of the cards, one row per card, in order."""
    if encoder is None:
        from normkg.reasoning.encoder import get_encoder

        encoder = get_encoder()
    return encoder.encode([card_text(c) for c in cards])


@dataclass(frozen=True)
class DedupProposal:
    """Proposed merges: groups of card ids (singletons included) and card → representative for merged ones."""

    groups: tuple[tuple[CardId, ...], ...]
    mapping: Mapping[CardId, CardId]
    threshold: float
    linkage: Linkage

    @property
    def merges(self) -> list[tuple[CardId, ...]]:
        """The groups of two or more cards, largest first."""
        return sorted((g for g in self.groups if len(g) > 1), key=lambda g: (-len(g), card_sort_key(g[0])))

    def group_of(self) -> dict[CardId, int]:
        return {card_id: n for n, group in enumerate(self.groups) for card_id in group}


def cluster_labels(embeddings: np.ndarray, threshold: float, method: Linkage = DEFAULT_LINKAGE) -> np.ndarray:
    """Flat cluster labels such that (complete linkage) every pair in a cluster has cosine >= threshold."""
    n = embeddings.shape[0]
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.ones(1, dtype=int)
    similarity = embeddings @ embeddings.T
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    distance = (distance + distance.T) / 2
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method=method)
    labels: np.ndarray = fcluster(tree, t=1.0 - threshold, criterion="distance")
    return labels


def propose_merges(
    cards: Sequence[ValuesCard],
    threshold: float = DEFAULT_THRESHOLD,
    method: Linkage = DEFAULT_LINKAGE,
    embeddings: np.ndarray | None = None,
) -> DedupProposal:
    """Group near-duplicate cards and pick each group's medoid as the card the others merge into."""
    if not 0.0 < threshold <= 1.0:
        raise InputError(f"threshold must be in (0, 1], got {threshold}")
    ids = [c.id for c in cards]
    if len(set(ids)) != len(ids):
        raise InputError("card ids must be unique")
    vectors = embed_cards(cards) if embeddings is None else embeddings
    labels = cluster_labels(vectors, threshold, method)
    members: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        members.setdefault(int(label), []).append(index)
    groups: list[tuple[CardId, ...]] = []
    mapping: dict[CardId, CardId] = {}
    for indices in members.values():
        if len(indices) > 1:
            block = vectors[indices] @ vectors[indices].T
            totals = block.sum(axis=1)
            best = min(range(len(indices)), key=lambda k: (-totals[k], card_sort_key(ids[indices[k]])))
            representative = ids[indices[best]]
            for index in indices:
                if ids[index] != representative:
                    mapping[ids[index]] = representative
        groups.append(tuple(sorted((ids[i] for i in indices), key=card_sort_key)))
    groups.sort(key=lambda g: card_sort_key(g[0]))
    return DedupProposal(tuple(groups), mapping, threshold, method)


@dataclass(frozen=True)
class PairwiseScore:
    """Pairwise agreement of a grouping with a reference: do two cards share a group in both?"""

    cards: int
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def pairwise_score(predicted: Mapping[CardId, Hashable], truth: Mapping[CardId, Hashable]) -> PairwiseScore:
    """Score group labels against reference labels, over the cards both label (counted, not enumerated)."""
    common = [c for c in predicted if c in truth]
    pred_sizes = Counter(predicted[c] for c in common)
    true_sizes = Counter(truth[c] for c in common)
    both = Counter((predicted[c], truth[c]) for c in common)
    return PairwiseScore(
        cards=len(common),
        predicted_pairs=_pairs(pred_sizes.values()),
        true_pairs=_pairs(true_sizes.values()),
        correct_pairs=_pairs(both.values()),
    )


def sweep(
    cards: Sequence[ValuesCard],
    truth: Mapping[CardId, Hashable],
    thresholds: Sequence[float] = SWEEP_THRESHOLDS,
    method: Linkage = DEFAULT_LINKAGE,
    embeddings: np.ndarray | None = None,
) -> list[tuple[float, PairwiseScore]]:
    """Precision and recall against ``truth`` at each threshold (cards are embedded once)."""
    vectors = embed_cards(cards) if embeddings is None else embeddings
    out = []
    for threshold in thresholds:
        proposal = propose_merges(cards, threshold, method, vectors)
        out.append((threshold, pairwise_score(proposal.group_of(), truth)))
    return out


def mge_reference(
    elicited_cards: Sequence[ValuesCard], deduplication: Mapping[int, Mapping[int, int]], generation: int = 3
) -> tuple[list[ValuesCard], dict[CardId, int]]:
    """The elicited cards MGE deduplicated in ``generation``, and their deduplicated card ids (the truth)."""
    if generation not in deduplication:
        raise InputError(
            f"no deduplication of generation {generation}",
            hint="generations present: " + ", ".join(map(str, sorted(deduplication))),
        )
    table = deduplication[generation]
    cards = [c for c in elicited_cards if isinstance(c.id, int) and c.id in table]
    return cards, {c.id: table[c.id] for c in cards if isinstance(c.id, int)}
