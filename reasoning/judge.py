"""The norm judge: does a sentence violate, follow, or have nothing to do with a norm?

Architecture (why): the checker may spend about one MiniLM forward pass per sentence, so the judge
never encodes a (norm, sentence) pair jointly. A sentence is represented by its plain MiniLM vector --
the very vector retrieval uses, so judging costs no extra encoder pass (a negated sentence costs one
more, for its affirmative; see below). A norm is represented at
ingest by its MiniLM vector plus two *stance prototypes*: the mean vectors of sentences that do its
verb phrase X ("Someone chose to X.") and that refuse it ("Someone refused to X."), and its deontic
kind (prescribe / proscribe / permit / unknown), parsed from its wording or given by the graph. A
small MLP reads [u, v, u*v, |u-v|, v*(do-dont), kind*v*(do-dont), kind, cosines] and outputs three
logits; a temperature fitted on out-of-fold predictions makes them calibrated probabilities.

The shipped judge-5 uses frozen all-MiniLM-L6-v2. A model may instead carry a small LoRA adapter
(``normkg train --adapter-epochs 4``, as judge-2 did) tuned on Moral Stories (norm, moral action,
immoral action) triples; it is merged into the encoder at load, and retrieval uses the same vectors.
It lifts held-out Moral Stories (frozen vectors stop near 0.70 with any head) but loses on LLM-style
sentences, which is why it is off.

A sentence whose main clause is negated is read as its affirmative, and violates and follows are
swapped (``negation.py``, for a model trained with ``negation="rewrite"``, as the manifest says):
"I won't help you cheat" is judged as "I will help you cheat", then reversed. Declining a permitted act
takes no stance. The stance prototypes then only separate doing from refusing in sentences that state
an act ("Someone chose to cheat" / "Someone refused to cheat"), with the norm's kind deciding which
side complies.

Weights live in ``reasoning/models/`` (``judge.npz``, ``manifest.json``, and ``adapter/`` for a model
that has one), written by
``normkg.reasoning.training.train``; nothing is trained at start-up, and ``load`` refuses a head or an
adapter whose checksum differs from the manifest's.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from normkg.errors import ConfigError, InputError
from normkg.reasoning.encoder import EMBEDDING_DIM
from normkg.reasoning.negation import Negation, find_negation
from normkg.reasoning.sentences import gerund_to_base

MODEL_DIR = Path(__file__).resolve().parent / "models"
WEIGHTS_FILE = "judge.npz"
MANIFEST_FILE = "manifest.json"


class Verdict(StrEnum):
    """The three decisions; their order is the column order of every probability array."""

    VIOLATES = "violates"
    FOLLOWS = "follows"
    UNRELATED = "unrelated"


LABELS: tuple[Verdict, ...] = (Verdict.VIOLATES, Verdict.FOLLOWS, Verdict.UNRELATED)

# ---------------------------------------------------------------------------------------------------
# Norm grammar: a rule of thumb as (deontic kind, verb phrase)


class Deontic(StrEnum):
    """What a norm says about its verb phrase X."""

    PRESCRIBE = "prescribe"  # "It's good to X", "You should X"
    PROSCRIBE = "proscribe"  # "It's wrong to X", "You shouldn't X"
    PERMIT = "permit"  # "It's okay to X"


@dataclass(frozen=True)
class ParsedNorm:
    kind: Deontic
    core: str  # a base-form verb phrase without leading negation: "help your friends"
    negated: bool = False  # the wording judged "not <core>" ("It's good not to X"); ``kind`` is about core


_GOOD = [
    "good",
    "nice",
    "kind",
    "important",
    "polite",
    "expected",
    "right",
    "helpful",
    "considerate",
    "responsible",
    "admirable",
    "thoughtful",
    "honorable",
    "commendable",
    "great",
    "noble",
    "proper",
    "appropriate",
    "courteous",
    "respectful",
    "generous",
    "brave",
    "wise",
    "smart",
    "best",
    "fair",
    "encouraged",
    "necessary",
    "healthy",
    "honest",
    "decent",
    "caring",
    "loving",
    "sweet",
    "supportive",
    "virtuous",
    "moral",
    "ethical",
    "mature",
    "better",
    "valuable",
    "beneficial",
    "wonderful",
    "fun",
    "courageous",
    "gracious",
    "reasonable",
    "prudent",
    "smarter",
    "safer",
    "safe",
    "preferable",
    "essential",
    "vital",
    "crucial",
    "proper",
    "customary",
    "polite",
    "expected",
    "honourable",
    "admired",
    "praiseworthy",
    "loyal",
    "selfless",
    "respectable",
    "helpful",
    "welcoming",
    "considerate",
    "sensible",
]
_BAD = [
    "wrong",
    "bad",
    "rude",
    "mean",
    "unkind",
    "inappropriate",
    "unacceptable",
    "selfish",
    "immoral",
    "unethical",
    "cruel",
    "disrespectful",
    "hurtful",
    "irresponsible",
    "dishonest",
    "unfair",
    "frowned",
    "impolite",
    "inconsiderate",
    "lazy",
    "shameful",
    "terrible",
    "awful",
    "gross",
    "disgusting",
    "harmful",
    "dangerous",
    "illegal",
    "unhealthy",
    "annoying",
    "offensive",
    "toxic",
    "creepy",
    "childish",
    "tacky",
    "petty",
    "insensitive",
    "careless",
    "unreasonable",
    "abusive",
    "evil",
    "sinful",
    "hateful",
    "wasteful",
    "reckless",
    "thoughtless",
    "disloyal",
    "irritating",
    "embarrassing",
    "unsafe",
    "stupid",
    "foolish",
    "hypocritical",
    "manipulative",
    "greedy",
    "jealous",
    "controlling",
    "aggressive",
    "violent",
    "nasty",
]
_OK = [
    "okay",
    "ok",
    "fine",
    "acceptable",
    "allowed",
    "understandable",
    "normal",
    "natural",
    "alright",
    "permissible",
    "legitimate",
]

_ADVERBS = (
    r"(?:(?:very|always|really|generally|usually|often|perfectly|so|quite|also|never|not|extremely|"
    r"typically|considered|seen as|important and|a good idea|a bad idea)\s+)*"
)
_IT_IS = re.compile(
    rf"^(?:it'?s|it is|its|it’s|is)\s+{_ADVERBS}([a-z]+)\s+"
    r"(?:(?:for|of)\s+(?:you|people|someone|a person|others)\s+)?"
    r"((?:not\s+|never\s+)?)to\s+(.+)$",
    re.IGNORECASE,
)
_IT_IS_EXPECTED_THAT = re.compile(
    r"^(?:it'?s|it is|it’s)\s+(?:expected|important|good|polite|right)\s+that\s+"
    r"you(?:'ll|\s+will|\s+should)?\s+(.+)$",
    re.IGNORECASE,
)
_YOU_SHOULD = re.compile(
    r"^(?:you|people|one|everyone|we)\s+"
    r"(should|ought to|must|need to|have to|are expected to|'re expected to|"
    r"shouldn't|should not|should never|ought not to|ought not|must not|mustn't|can|may|"
    r"are allowed to|'re allowed to|are encouraged to|'re encouraged to)\s+"
    r"(?:(?:always|usually|generally|try to|definitely|really)\s+)*(.+)$",
    re.IGNORECASE,
)
_YOURE = re.compile(
    r"^you(?:'re|’re|\s+are)\s+(expected|encouraged|allowed|supposed|free|obligated)\s+to\s+(.+)$",
    re.IGNORECASE,
)
_LEADING_NOT = re.compile(r"^(?:not|never)\s+", re.IGNORECASE)
# "refrain from cheating" is "not cheat": a rule about abstaining is a rule about the act abstained
# from. (base form, gerund) of each verb of abstaining, with its particle.
_ABSTAINING = (
    ("refrain from", "refraining from"),
    ("abstain from", "abstaining from"),
    ("keep from", "keeping from"),
    ("stay away from", "staying away from"),
    ("avoid", "avoiding"),
    ("stop", "stopping"),
    ("quit", "quitting"),
)
_ABSTAIN = re.compile(
    r"^(?:" + "|".join(base for base, _ in _ABSTAINING) + r")\s+(?=\w+ing\b)", re.IGNORECASE
)
#: an action phrase that opens with abstaining ("refraining from cheating"), in Social-Chem's gerund form
ABSTAINING_GERUND = re.compile(
    r"^(?:" + "|".join(g.removesuffix(" from") for _, g in _ABSTAINING) + r")\b", re.IGNORECASE
)


def _clean_core(text: str) -> str:
    core = text.strip().rstrip(".!").strip()
    return re.sub(r"\s+", " ", core)


def parse_norm(text: str) -> ParsedNorm | None:
    """Split a rule of thumb into its deontic kind and verb phrase, or None when its form is unusual.

    Why rules and not a model: the templates of Social-Chem and Moral Stories norms are few ("It's good
    to", "You shouldn't"), and a wrong parse only costs an augmentation, never a label of real data.
    """
    text = text.strip().replace("’", "'")
    kind: Deontic | None = None
    core = ""
    negated = False
    if m := _IT_IS.match(text):
        adjective, not_to, core = m.group(1).lower(), m.group(2), m.group(3)
        head = text[: m.start(1)].lower()
        prefix_negated = bool(re.search(r"\b(not|never)\b", head))
        if adjective in _GOOD:
            kind = Deontic.PROSCRIBE if prefix_negated else Deontic.PRESCRIBE
        elif adjective in _BAD:
            kind = Deontic.PRESCRIBE if prefix_negated else Deontic.PROSCRIBE
        elif adjective in _OK:
            kind = Deontic.PROSCRIBE if prefix_negated else Deontic.PERMIT
        negated = bool(not_to)
    elif m := _IT_IS_EXPECTED_THAT.match(text):
        kind, core = Deontic.PRESCRIBE, m.group(1)
    elif m := _YOURE.match(text):
        verb, core = m.group(1).lower(), m.group(2)
        kind = Deontic.PERMIT if verb in ("allowed", "free") else Deontic.PRESCRIBE
    elif m := _YOU_SHOULD.match(text):
        modal, core = m.group(1).lower(), m.group(2)
        if modal in (
            "shouldn't",
            "should not",
            "should never",
            "ought not to",
            "ought not",
            "must not",
            "mustn't",
        ):
            kind = Deontic.PROSCRIBE
        elif modal in ("can", "may", "are allowed to", "'re allowed to"):
            kind = Deontic.PERMIT
        else:
            kind = Deontic.PRESCRIBE
    if kind is None:
        return None
    core = _clean_core(core)
    if _LEADING_NOT.match(core):
        core = _LEADING_NOT.sub("", core)
        negated = not negated
    abstain = _ABSTAIN.match(core) if kind is not Deontic.PERMIT else None  # "it's ok to stop X": as worded
    if abstain and (base := gerund_to_base(core[abstain.end() :])) is not None:
        core = base
        negated = not negated
    if negated:
        if kind is Deontic.PERMIT:  # "it's okay not to X" says nothing about doing X
            return None
        kind = Deontic.PROSCRIBE if kind is Deontic.PRESCRIBE else Deontic.PRESCRIBE
    if len(core.split()) < 1 or not re.match(r"^[a-z]", core, re.IGNORECASE):
        return None
    return ParsedNorm(kind, core[0].lower() + core[1:], negated)


# ---------------------------------------------------------------------------------------------------
# Vectors and features

# Sentences standing for "doing X" and "refusing X"; deliberately unlike the templates that
# training.py uses to make action sentences, so the head cannot learn to match templates.
DO_PROTOTYPES = ("Someone chose to {c}.", "We will {c}.")
DONT_PROTOTYPES = ("Someone refused to {c}.", "We will not {c}.")
KINDS: tuple[Deontic | None, ...] = (Deontic.PRESCRIBE, Deontic.PROSCRIBE, Deontic.PERMIT, None)
# Which side of the stance axis complies: doing X for a duty or a permission, refusing X for a ban.
_SIGNS = np.array([1.0, -1.0, 0.5], dtype=np.float32)  # in the order of KINDS[:3]

# Layout of a norm vector: [u | do prototype | don't prototype | one-hot kind].
NORM_DIM = 3 * EMBEDDING_DIM + len(KINDS)
_U = slice(0, EMBEDDING_DIM)
_DO = slice(EMBEDDING_DIM, 2 * EMBEDDING_DIM)
_DONT = slice(2 * EMBEDDING_DIM, 3 * EMBEDDING_DIM)
_KIND = slice(3 * EMBEDDING_DIM, NORM_DIM)
FEATURE_DIM = 6 * EMBEDDING_DIM + len(KINDS) + 6


def prototype_texts(core: str) -> list[str]:
    """The do- and refuse-sentences whose mean vectors stand for a norm's two sides."""
    return [t.format(c=core) for t in DO_PROTOTYPES + DONT_PROTOTYPES]


def assemble_norm_vectors(
    texts: Sequence[str], kinds: Sequence[Deontic | None] | None, vector_of: Callable[[str], np.ndarray]
) -> np.ndarray:
    """Norm vectors from already computed sentence vectors (``vector_of(text)``, unit 384-d).

    Why a callback: training embeds every text once in bulk and ingest embeds per norm; both must
    build the same layout.
    """
    out = np.zeros((len(texts), NORM_DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        parsed = parse_norm(text)
        out[row, _U] = vector_of(text)
        if parsed is None:
            # No verb phrase, no prototypes: the head was trained to read such norms as kind-unknown,
            # so a given kind is not used here (it would be an input combination never seen).
            out[row, _KIND][KINDS.index(None)] = 1.0
            continue
        kind = _given_kind(parsed, kinds[row] if kinds is not None else None)
        out[row, _KIND][KINDS.index(kind)] = 1.0
        protos = np.stack([vector_of(t) for t in prototype_texts(parsed.core)])
        for part, rows in ((_DO, protos[: len(DO_PROTOTYPES)]), (_DONT, protos[len(DO_PROTOTYPES) :])):
            mean = rows.mean(axis=0)
            out[row, part] = mean / max(float(np.linalg.norm(mean)), 1e-9)
    return out


def _given_kind(parsed: ParsedNorm, given: Deontic | None) -> Deontic:
    """The kind of ``parsed.core`` when the graph judged the rule as worded (``given``).

    Why: a graph judgment is about the rule's own action: "It's honorable to not cheat on a test" is
    judged *good*, i.e. good is *not cheating*, which proscribes the parsed core "cheat on a test".
    """
    if given is None:
        return parsed.kind
    if parsed.negated:
        if given is Deontic.PERMIT:  # "it's okay not to X" says nothing about doing X: keep the wording's
            return parsed.kind
        return Deontic.PRESCRIBE if given is Deontic.PROSCRIBE else Deontic.PROSCRIBE
    return given


def retrieval_vectors(norm_vectors: np.ndarray) -> np.ndarray:
    """The plain MiniLM vectors inside norm vectors (what retrieval compares sentences with)."""
    return norm_vectors[:, _U]


def judged_kinds(norm_vectors: np.ndarray) -> np.ndarray:
    """Per norm vector, the index in ``KINDS`` of the kind the judge reads it with (after the graph's
    judgment and the wording are reconciled): two norms with the same wording and the same judged kind
    get the same verdict on any sentence."""
    return np.asarray(norm_vectors)[:, _KIND].argmax(axis=1)


def pair_features(norm_vectors: np.ndarray, sentence_vectors: np.ndarray) -> np.ndarray:
    """Head input for row-aligned (norm, sentence) vectors; see the module docstring for the parts."""
    u = norm_vectors[:, _U]
    do, dont, kind = norm_vectors[:, _DO], norm_vectors[:, _DONT], norm_vectors[:, _KIND]
    v = sentence_vectors
    sign = (kind[:, :3] @ _SIGNS)[:, None]
    stance = v * (do - dont)
    c_do = (v * do).sum(1, keepdims=True)
    c_dont = (v * dont).sum(1, keepdims=True)
    c_u = (v * u).sum(1, keepdims=True)
    diff = c_do - c_dont
    scalars = np.hstack([c_do, c_dont, diff, c_u, sign * diff, 20.0 * sign * diff])
    feats = np.hstack([u, v, u * v, np.abs(u - v), stance, sign * stance, kind, scalars])
    return feats.astype(np.float32, copy=False)


def gelu(x: np.ndarray) -> np.ndarray:
    """tanh-approximated GELU, the activation the head is trained with (torch approximate='tanh')."""
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


@dataclass(frozen=True)
class HeadWeights:
    w1: np.ndarray  # (FEATURE_DIM, hidden)
    b1: np.ndarray
    w2: np.ndarray  # (hidden, 3)
    b2: np.ndarray
    temperature: float

    def logits(self, features: np.ndarray) -> np.ndarray:
        """Uncalibrated logits (before dividing by the temperature)."""
        return np.asarray(gelu(features @ self.w1 + self.b1) @ self.w2 + self.b2)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            w1=self.w1,
            b1=self.b1,
            w2=self.w2,
            b2=self.b2,
            temperature=np.array([self.temperature], dtype=np.float64),
        )

    @classmethod
    def read(cls, path: Path) -> HeadWeights:
        try:
            with np.load(path) as data:
                weights = cls(data["w1"], data["b1"], data["w2"], data["b2"], float(data["temperature"][0]))
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(
                f"cannot read judge weights {path}: {exc}", hint="run `normkg train` to create them"
            ) from exc
        if weights.w1.shape[0] != FEATURE_DIM:
            raise ConfigError(
                f"{path}: weights expect {weights.w1.shape[0]} features, the code makes {FEATURE_DIM}",
                hint="retrain with `normkg train`",
            )
        return weights


def swap_stance(values: np.ndarray, reversed_rows: np.ndarray) -> np.ndarray:
    """``values`` with violates and follows swapped in the rows flagged by ``reversed_rows``: labels
    (n,) or logits/probabilities (n, 3). Used where a negated sentence was judged as its affirmative."""
    out = np.array(values, copy=True)
    rows = np.asarray(reversed_rows, dtype=bool)
    if out.ndim == 1:
        stance = out[rows]
        out[rows] = np.where(stance == 0, 1, np.where(stance == 1, 0, stance))
    else:
        stance = np.flatnonzero(rows)
        out[stance, 0], out[stance, 1] = out[stance, 1], out[stance, 0].copy()
    return out


# A logit that softmax turns into exactly 0 next to any real one.
_NO_STANCE_LOGIT = -1e4


def reverse_negations(logits: np.ndarray, negated: np.ndarray, norm_vectors: np.ndarray) -> np.ndarray:
    """Logits for sentences as written, from the head's logits of their judged texts: violates and
    follows swapped where a negated sentence was judged as its affirmative, and no stance at all where
    such a sentence meets a permission ("It's okay to X" / "I won't X" neither follows nor violates).

    The one place that turns a judgment of the affirmative into one of the sentence: the checker and
    the cross-validation both go through it.
    """
    out = swap_stance(logits, negated)
    permits = np.asarray(norm_vectors)[:, _KIND][:, KINDS.index(Deontic.PERMIT)] == 1.0
    out[np.asarray(negated, dtype=bool) & permits, :2] = _NO_STANCE_LOGIT
    return out


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class Reading:
    """Sentences as read by a judge: the vectors retrieval compares, the vectors the judge reads (the
    affirmative's for a negated sentence) and each sentence's reversed negation, if any."""

    vectors: np.ndarray
    judged: np.ndarray
    negations: Sequence[Negation | None]

    def rows(self, part: slice) -> Reading:
        return Reading(self.vectors[part], self.judged[part], self.negations[part])


class NormJudge:
    """Calibrated (violates, follows, unrelated) probabilities for (norm, sentence) pairs.

    Thread-safe: the head is read-only numpy; the encoder serialises its own forward passes.
    """

    def __init__(
        self,
        weights: HeadWeights,
        manifest: dict[str, object] | None = None,
        adapter: Path | None = None,
    ) -> None:
        self.weights = weights
        self.manifest = manifest or {}
        self.adapter = adapter

    @classmethod
    def load(cls, path: Path | None = None) -> NormJudge:
        """The trained judge in ``path`` (judge.npz + manifest.json + adapter/; default: the shipped one)."""
        folder = path or MODEL_DIR
        weights = HeadWeights.read(folder / WEIGHTS_FILE)
        manifest_path = folder / MANIFEST_FILE
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
        adapter = manifest.get("adapter")
        folder_name = adapter.get("folder") if isinstance(adapter, dict) else None
        adapter_dir = folder / str(folder_name) if folder_name else None
        _verify(folder, manifest, adapter_dir)
        return cls(weights, manifest, adapter_dir)

    @property
    def negation(self) -> str:
        """How the model was trained to read negated sentences ("rewrite" or "none"; see negation.py)."""
        return str(self.manifest.get("negation", "none"))

    def negation_of(self, sentence: str) -> Negation | None:
        """The negation this judge reverses in ``sentence`` (None for a model trained without it)."""
        return find_negation(sentence) if self.negation == "rewrite" else None

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        from normkg.reasoning.encoder import get_encoder

        return get_encoder(self.adapter).encode(list(texts))

    def embed_sentences(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence vectors: the judge encoder's unit vectors, which retrieval reuses (one pass)."""
        return self._encode(texts)

    def read(self, texts: Sequence[str]) -> Reading:
        """Sentences as the checker reads them: one encoder pass per sentence, plus one per negated
        sentence for its affirmative (when the model was trained with negation="rewrite")."""
        negations = [self.negation_of(text) for text in texts]
        affirmatives = [n.affirmative for n in negations if n is not None]
        vectors = self._encode(list(texts) + affirmatives)
        plain = vectors[: len(texts)]
        judged = plain.copy()
        judged[[i for i, n in enumerate(negations) if n is not None]] = vectors[len(texts) :]
        return Reading(plain, judged, negations)

    def embed_norms(self, texts: Sequence[str], kinds: Sequence[Deontic | None] | None = None) -> np.ndarray:
        """Norm vectors (n, NORM_DIM) to cache at ingest: 1 + 4 encoder passes per parsable norm.

        ``kinds`` overrides the kind parsed from the wording (e.g. the graph's judgment of a
        Social-Chem rule); None entries keep the parsed kind, and norms whose wording cannot be parsed
        stay kind-unknown. Columns [0, 384) are the plain MiniLM
        vector (``retrieval_vectors``).
        """
        if kinds is not None and len(kinds) != len(texts):
            raise InputError(f"{len(kinds)} kinds for {len(texts)} norms")
        unique: list[str] = []
        for text in texts:
            unique.append(text)
            parsed = parse_norm(text)
            if parsed is not None:
                unique.extend(prototype_texts(parsed.core))
        order = list(dict.fromkeys(unique))
        vectors = self._encode(order)
        index = {t: i for i, t in enumerate(order)}
        return assemble_norm_vectors(texts, kinds, lambda t: vectors[index[t]])

    def logits(
        self,
        norm_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        pairs: Sequence[tuple[int, int]] | None = None,
    ) -> np.ndarray:
        """Calibrated logits (already divided by the temperature); rows follow ``pairs``."""
        norms, sentences = _aligned(norm_vectors, sentence_vectors, pairs)
        return self.weights.logits(pair_features(norms, sentences)) / self.weights.temperature

    def judge(
        self,
        norm_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        pairs: Sequence[tuple[int, int]] | None = None,
    ) -> np.ndarray:
        """Probabilities (n, 3) over ``LABELS`` for each (norm row, sentence row) in ``pairs``.

        Without ``pairs`` the two arrays are taken as row-aligned pairs. The sentence vectors are
        read as they are; ``judge_reading`` reverses negations as the model was trained to.
        """
        return softmax(self.logits(norm_vectors, sentence_vectors, pairs))

    def judge_reading(
        self, norm_vectors: np.ndarray, reading: Reading, sentence_rows: Sequence[int]
    ) -> np.ndarray:
        """Probabilities (n, 3) of row-aligned (norm, sentence ``sentence_rows[i]`` of ``reading``)
        pairs: the judged vector of each sentence, with violates and follows swapped for a negation."""
        rows = list(sentence_rows)
        negated = np.array([reading.negations[r] is not None for r in rows], dtype=bool)
        logits = self.logits(norm_vectors, reading.judged[rows])
        return softmax(reverse_negations(logits, negated, norm_vectors))

    def verdicts(self, probabilities: np.ndarray) -> list[Verdict]:
        return [LABELS[int(i)] for i in probabilities.argmax(axis=1)]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _verify(folder: Path, manifest: dict[str, object], adapter_dir: Path | None) -> None:
    """Check the head and adapter files against the checksums the manifest recorded at training.

    Why: the head is only meaningful over the encoder it was trained with; a hand-copied head from
    one run and adapter from another would load and judge silently wrong.
    """
    expected: list[tuple[Path, object]] = []
    if "weights_sha256" in manifest:
        expected.append((folder / WEIGHTS_FILE, manifest["weights_sha256"]))
    adapter = manifest.get("adapter")
    if adapter_dir is not None and isinstance(adapter, dict) and isinstance(adapter.get("files"), dict):
        for name, entry in adapter["files"].items():
            if name != "README.md" and isinstance(entry, dict):  # the card does not change the model
                expected.append((adapter_dir / name, entry.get("sha256")))
    for path, sha in expected:
        if not path.is_file():
            raise ConfigError(
                f"{path}: missing; {folder / MANIFEST_FILE} names it", hint="retrain with `normkg train`"
            )
        if file_sha256(path) != sha:
            raise ConfigError(
                f"{path}: its sha256 differs from the one {folder / MANIFEST_FILE} recorded at training "
                "(files from different training runs?)",
                hint="restore the files of one `normkg train` run, or retrain",
            )


def _aligned(
    norm_vectors: np.ndarray, sentence_vectors: np.ndarray, pairs: Sequence[tuple[int, int]] | None
) -> tuple[np.ndarray, np.ndarray]:
    norm_vectors = np.asarray(norm_vectors, dtype=np.float32)
    sentence_vectors = np.asarray(sentence_vectors, dtype=np.float32)
    if norm_vectors.ndim != 2 or norm_vectors.shape[1] != NORM_DIM:
        raise InputError(
            f"norm vectors must have shape (n, {NORM_DIM}) (use NormJudge.embed_norms), "
            f"got {norm_vectors.shape}"
        )
    if sentence_vectors.ndim != 2 or sentence_vectors.shape[1] != EMBEDDING_DIM:
        raise InputError(
            f"sentence vectors must have shape (n, {EMBEDDING_DIM}), got {sentence_vectors.shape}"
        )
    if pairs is None:
        if len(norm_vectors) != len(sentence_vectors):
            raise InputError(
                f"{len(norm_vectors)} norms and {len(sentence_vectors)} sentences are not row-aligned"
            )
        return norm_vectors, sentence_vectors
    index = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if index.size and (
        index.min() < 0
        or index[:, 0].max() >= len(norm_vectors)
        or index[:, 1].max() >= len(sentence_vectors)
    ):
        raise InputError("a pair points outside the norm or sentence vectors")
    return norm_vectors[index[:, 0]], sentence_vectors[index[:, 1]]
