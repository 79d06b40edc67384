"""Training data, training and cross-validation of the norm judge (the model is in ``judge.py``).

Why this much data building: the only labelled (norm, action) pairs are the 2,000 Moral Stories dev
pairs, where an action's own valence already gives ~0.69 accuracy without reading the norm. A checker
must also decide *relative to the norm*: "I won't help you cheat" follows "It's wrong to cheat". So:

* Moral Stories: the real pairs; the same norm reworded (other template, or the opposite surface
  polarity by double negation: "It's good to X" -> "It's wrong not to X"), labels kept; and
  templated sentences that do or refuse the norm's verb phrase X. The norms stay *sensible*: adding
  the opposite rule with flipped labels ("It's wrong to help people in danger") taught the model to
  ignore what narrative actions are like and cost 2-15 points on held-out Moral Stories norms.
* Social-Chem-101 (only positive and neutral rules): each rule is parsed into (kind, X) and paired
  with one sentence doing X and one refusing X (refusals, negations, LLM-style compliance), and the
  opposite rule with flipped labels. Here the flip is what teaches "refusing a banned act follows
  the ban": templated sentences carry no valence of their own, so the flip costs nothing.
* unrelated: a norm with an action of another norm that is about something else (its norm is far,
  cosine < 0.45, and the action itself is not close, cosine < 0.35), and neutral LLM-answer sentences,
  with random norms and with the norms closest to them (what a check retrieves for a factual sentence).
  Near misses (the closest such action, any cosine) are kept aside as the "probe-near" evaluation
  set, which measures how often retrieval noise would be called a violation.

Every pair has a group (the normalised text of its source norm, shared by a norm and its rewrites
and by Moral Stories and Social-Chem when they share a text); folds are split by group.

With ``negation="rewrite"`` every sentence whose main clause is negated is replaced, for the head, by
its affirmative with violates and follows swapped (``negation.py``); the checker reads sentences the
same way, and the evaluation swaps the head's output back, so every metric is on the sentences as
written. The baselines always read the sentences as written.

Training is two steps (``tune_encoder``, then ``fit_head``): a LoRA adapter is tuned on the Moral
Stories triples (``adapter_training.py``), every text is re-embedded with it, and the head is fitted
over the new vectors. In cross-validation both steps see the training folds only, so each fold tunes
its own adapter; that is most of the training time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import numpy as np

from normkg.errors import SourceError
from normkg.ingest.base import BadRecord, Record, read_csv, read_jsonl
from normkg.reasoning.adapter_training import ADAPTER_DIR, AdapterParameters, AdapterTriple, fit_adapter
from normkg.reasoning.advice import as_advice
from normkg.reasoning.encoder import EMBEDDING_DIM, MAX_TOKENS, Encoder
from normkg.reasoning.judge import (
    _LEADING_NOT,
    ABSTAINING_GERUND,
    LABELS,
    MANIFEST_FILE,
    WEIGHTS_FILE,
    Deontic,
    HeadWeights,
    Verdict,
    _clean_core,
    assemble_norm_vectors,
    file_sha256,
    pair_features,
    parse_norm,
    prototype_texts,
    reverse_negations,
    softmax,
    swap_stance,
)
from normkg.reasoning.negation import judged_text
from normkg.reasoning.ranking import in_order
from normkg.settings import CHECKOUT_ROOT

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------
# Rewriting norms

_PRESCRIBE_TEMPLATES = (
    "It's good to {c}.",
    "You should {c}.",
    "It's important to {c}.",
    "It's right to {c}.",
    "People should {c}.",
    "It is kind to {c}.",
    "You ought to {c}.",
)
_PROSCRIBE_TEMPLATES = (
    "It's wrong to {c}.",
    "You shouldn't {c}.",
    "It's bad to {c}.",
    "You should never {c}.",
    "It's not okay to {c}.",
    "It is rude to {c}.",
    "People shouldn't {c}.",
)
_PERMIT_TEMPLATES = ("It's okay to {c}.", "You are allowed to {c}.", "It's fine to {c}.")


def render_norm(kind: Deontic, core: str, rng: random.Random) -> str:
    """A norm sentence saying ``kind`` about ``core``, in a randomly chosen template."""
    templates = {
        Deontic.PRESCRIBE: _PRESCRIBE_TEMPLATES,
        Deontic.PROSCRIBE: _PROSCRIBE_TEMPLATES,
        Deontic.PERMIT: _PERMIT_TEMPLATES,
    }[kind]
    return rng.choice(templates).format(c=core)


def opposite(kind: Deontic) -> Deontic:
    """The kind whose verdicts are the reverse (a permission's opposite is a prohibition)."""
    return Deontic.PRESCRIBE if kind is Deontic.PROSCRIBE else Deontic.PROSCRIBE


# The same rule with the opposite surface polarity: "It's good to X" == "It's wrong not to X".
_PRESCRIBE_AS_BAN = (
    "It's wrong not to {c}.",
    "You shouldn't fail to {c}.",
    "It's bad to refuse to {c}.",
    "It is rude not to {c}.",
    "Never fail to {c}.",
    "It's not okay to refuse to {c}.",
)
_PROSCRIBE_AS_DUTY = (
    "It's good not to {c}.",
    "You should refuse to {c}.",
    "It's right not to {c}.",
    "It is kind not to {c}.",
    "You should make sure not to {c}.",
    "It's important not to {c}.",
)


def render_equivalent(kind: Deontic, core: str, rng: random.Random) -> str:
    """The same rule in other words, half the time with the opposite surface polarity (double negation).

    Why not the *opposite* rule ("It's wrong to help others"): such rules are morally absurd, and
    training on them teaches the model to ignore what an action is like, which is most of the signal
    on real norms (measured on held-out Moral Stories norms: logistic regression on frozen features
    0.69 -> 0.67 with flipped Moral Stories rules, -> 0.54 with flipped Moral Stories and Social-Chem
    rules; a MiniLM cross-encoder fine-tuned on GPU with both: 0.65).
    """
    if kind is Deontic.PERMIT or rng.random() < 0.5:
        return render_norm(kind, core, rng)
    templates = _PRESCRIBE_AS_BAN if kind is Deontic.PRESCRIBE else _PROSCRIBE_AS_DUTY
    return rng.choice(templates).format(c=core)


# ---------------------------------------------------------------------------------------------------
# Action sentences that do, or refuse to do, a verb phrase

_FIRST_PERSON = [
    (r"\byourself\b", "myself"),
    (r"\byours\b", "mine"),
    (r"\byour\b", "my"),
    (r"\byou're\b", "I'm"),
    (r"\byou are\b", "I am"),
]

# Sentences that carry out X: statements, advice and LLM-style compliance.
_DO_SECOND = (
    "You should {c}.",
    "Go ahead and {c}.",
    "Sure, here's how to {c}.",
    "The best thing to do is {c}.",
    "Definitely {c}.",
    "Make sure to {c}.",
    "It's fine to {c}, go for it.",
    "Absolutely, {c}.",
    "Here is a step-by-step guide to {c}.",
    "My advice is to {c}.",
    "Yes, {c}.",
)
_DO_FIRST = (
    "I will {c}.",
    "I decided to {c}.",
    "Sure, I'll {c}.",
    "I always {c}.",
    "I'm going to {c}.",
    "Happy to help: I'll {c}.",
)
# Sentences that refuse or advise against X.
_DONT_SECOND = (
    "Don't {c}.",
    "You shouldn't {c}.",
    "Never {c}.",
    "You should never {c}.",
    "There's no reason to {c}.",
    "Please don't {c}.",
    "I'd advise you not to {c}.",
    "It's not a good idea to {c}.",
    "Avoid trying to {c}.",
    "No, you should not {c}.",
    "Sorry, I can't help you {c}.",
)
_DONT_FIRST = (
    "I won't {c}.",
    "I refuse to {c}.",
    "I'm not going to {c}.",
    "I decided not to {c}.",
    "I would never {c}.",
    "I can't {c}, sorry.",
)


def _first_person(core: str) -> str | None:
    out = core
    for pattern, repl in _FIRST_PERSON:
        out = re.sub(pattern, repl, out)
    return None if re.search(r"\byou\b", out) else out


def action_sentence(core: str, does: bool, rng: random.Random) -> str:
    """A sentence that does (``does``) or refuses/forbids the verb phrase ``core``."""
    first = _first_person(core)
    second_t, first_t = (_DO_SECOND, _DO_FIRST) if does else (_DONT_SECOND, _DONT_FIRST)
    if first is not None and rng.random() < 0.45:
        return rng.choice(first_t).format(c=first)
    return rng.choice(second_t).format(c=core)


# ---------------------------------------------------------------------------------------------------
# Neutral sentences: what else an LLM response says


_NEUTRAL_FIXED = (
    "Here are a few things to keep in mind.",
    "Let me know if you have any other questions.",
    "I hope this helps!",
    "In summary, there are several options.",
    "Great question!",
    "There are many ways to look at this.",
    "Thanks for asking.",
    "Below is a short overview.",
    "That depends on a few factors.",
    "Here is what I found.",
    "Let's break this down step by step.",
    "First, let's look at the background.",
    "The answer has two parts.",
    "Good luck!",
    "Feel free to ask a follow-up question.",
    "Here's a quick summary of the main points.",
    "There is no single correct answer.",
    "This is a common question.",
    "I'd be glad to explain.",
    "The table below compares the options.",
    "Some people prefer the first approach.",
)
_NEUTRAL_SUBJECTS = (
    "The recipe",
    "This function",
    "The train to Lyon",
    "The museum",
    "The report",
    "The garden",
    "Our server",
    "The spreadsheet",
    "The bakery on Main Street",
    "The library",
    "Photosynthesis",
    "The new phone",
    "The river",
    "The conference",
    "The algorithm",
    "The printer",
    "The bus",
    "The soup",
    "The guitar",
    "The hiking trail",
    "The camera",
    "The spring semester",
    "The database",
    "The marathon",
    "The bridge",
    "The painting",
    "The tomato plant",
    "The laptop battery",
    "The compiler",
    "The weather forecast",
    "The chess opening",
    "The lecture",
    "The sofa",
    "The vaccine trial",
    "The playlist",
    "The volcano",
)
_NEUTRAL_PREDICATES = (
    "takes about twenty minutes.",
    "was built in 1890.",
    "is located near the station.",
    "needs two cups of flour.",
    "opens at nine in the morning.",
    "uses a lot of memory.",
    "is usually crowded on weekends.",
    "has three main parts.",
    "returns a list of numbers.",
    "was updated last week.",
    "is about forty kilometres long.",
    "comes in blue and green.",
    "runs every fifteen minutes.",
    "depends on the temperature.",
    "is measured in meters.",
    "converts sunlight into chemical energy.",
    "starts on Monday.",
    "is written in Python.",
    "costs around thirty dollars.",
    "should be stored in a cool place.",
    "has a battery life of ten hours.",
    "was designed by an Italian architect.",
    "can be found on page twelve.",
    "is sorted alphabetically.",
    "grows best in full sun.",
    "is slightly salty.",
    "has a wooden frame.",
    "erupted in 1980.",
    "is printed in color.",
    "was delayed by an hour.",
)


def neutral_sentences(n: int, rng: random.Random) -> list[str]:
    """``n`` morally neutral sentences (fixed LLM boilerplate plus subject x predicate combinations)."""
    combos = [f"{s} {p}" for s in _NEUTRAL_SUBJECTS for p in _NEUTRAL_PREDICATES]
    pool = list(_NEUTRAL_FIXED) + combos
    rng.shuffle(pool)
    return [pool[i % len(pool)] for i in range(n)]


# ---------------------------------------------------------------------------------------------------
# Labels and pairs


@dataclass(frozen=True)
class Pair:
    norm: str
    text: str
    label: Verdict
    group: str  # normalised source norm text: GroupKFold key
    # ms | ms-flip | ms-para | ms-tmpl | ms-advice | sc | sc-flip | unrelated-ms | unrelated-sc | neutral
    source: str


def norm_key(text: str) -> str:
    """Group key: one rule written with other casing, spacing, contraction or punctuation is one group."""
    t = text.lower().replace("’", "'").replace("it is ", "it's ").replace("should not", "shouldn't")
    return re.sub(r"[^a-z' ]+", "", re.sub(r"\s+", " ", t)).strip()


@dataclass(frozen=True)
class MSItem:
    norm: str
    moral: str
    immoral: str


def _skip(issues: list[str] | None, message: str) -> None:
    """A bad row is reported (and logged) and skipped; the good rows of the file are kept."""
    log.warning("skipped %s", message)
    if issues is not None:
        issues.append(message)


def _good_records(
    rows: Iterable[Record | BadRecord], path: Path, issues: list[str] | None
) -> Iterator[Record]:
    """The readable records of a file (read by ingest's readers); bad ones are reported, file and line."""
    try:
        for row in rows:
            if isinstance(row, BadRecord):
                _skip(issues, f"{path.parent / row.file}:{row.line}: {row.reason}")
                continue
            yield row
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc


def read_moral_stories(path: Path, issues: list[str] | None = None) -> list[MSItem]:
    """Moral Stories action+norm pairs grouped by norm (each norm has one moral and one immoral action)."""
    by_norm: dict[str, dict[str, str]] = {}
    for record in _good_records(read_jsonl(path, path.parent), path, issues):
        row = record.data
        try:
            norm = row["norm"].strip()
            label = str(row["label"])
            action = row["moral_action"] if label == "1" else row["immoral_action"]
        except (KeyError, TypeError, AttributeError) as exc:
            _skip(issues, f"{path}:{record.line}: not a Moral Stories action+norm row ({exc!r})")
            continue
        by_norm.setdefault(norm, {})["moral" if label == "1" else "immoral"] = re.sub(
            r"\s+", " ", action
        ).strip()
    return [
        MSItem(n, a["moral"], a["immoral"]) for n, a in by_norm.items() if "moral" in a and "immoral" in a
    ]


@dataclass(frozen=True)
class SCItem:
    rot: str
    action: str  # the gerund phrase the rule judges: "helping your friends"
    optional: bool  # from optional_sc101.csv (an "it's okay" rule)


def read_social_chem(paths: Sequence[Path], issues: list[str] | None = None) -> list[SCItem]:
    """Rules of thumb with the action they judge, from the obligatory/optional Social-Chem subsets."""
    items: list[SCItem] = []
    for path in paths:
        for record in _good_records(read_csv(path, path.parent), path, issues):
            rot, action = (record.data.get("rot") or "").strip(), (record.data.get("action") or "").strip()
            if not rot or not action:
                _skip(issues, f"{path}:{record.line}: row without rot or action")
                continue
            items.append(SCItem(rot, action, "optional" in path.name))
    return items


def _gerund_pair(action: str) -> tuple[str, str]:
    """(doing, not doing) forms of a Social-Chem gerund action ("not lying" -> ("lying", "not lying"))."""
    a = _clean_core(action)
    if _LEADING_NOT.match(a):
        return _LEADING_NOT.sub("", a), a
    return a, f"not {a}"


def _rule_verdicts(kind: Deontic) -> tuple[Verdict, Verdict | None]:
    """Verdicts of (doing X, refusing X) under a rule about X; refusing a permission is no verdict."""
    if kind is Deontic.PRESCRIBE:
        return Verdict.FOLLOWS, Verdict.VIOLATES
    if kind is Deontic.PROSCRIBE:
        return Verdict.VIOLATES, Verdict.FOLLOWS
    return Verdict.FOLLOWS, None


def moral_stories_pairs(items: Iterable[MSItem], rng: random.Random, *, flip: bool = False) -> list[Pair]:
    """The real pairs, the same norm reworded (labels kept), and templated do/refuse sentences.

    ``flip`` adds the opposite rule with flipped labels instead of the templated sentences; it is kept
    only to measure why it is not the default (see ``render_equivalent``).
    """
    pairs: list[Pair] = []
    for item in items:
        group = norm_key(item.norm)
        pairs.append(Pair(item.norm, item.moral, Verdict.FOLLOWS, group, "ms"))
        pairs.append(Pair(item.norm, item.immoral, Verdict.VIOLATES, group, "ms"))
        parsed = parse_norm(item.norm)
        if parsed is None:
            continue
        if flip and parsed.kind is not Deontic.PERMIT:
            flipped = render_norm(opposite(parsed.kind), parsed.core, rng)
            pairs.append(Pair(flipped, item.moral, Verdict.VIOLATES, group, "ms-flip"))
            pairs.append(Pair(flipped, item.immoral, Verdict.FOLLOWS, group, "ms-flip"))
            continue
        reworded = render_equivalent(parsed.kind, parsed.core, rng)
        if norm_key(reworded) != group:
            pairs.append(Pair(reworded, item.moral, Verdict.FOLLOWS, group, "ms-para"))
            pairs.append(Pair(reworded, item.immoral, Verdict.VIOLATES, group, "ms-para"))
        on_do, on_refuse = _rule_verdicts(parsed.kind)
        pairs.append(Pair(item.norm, action_sentence(parsed.core, True, rng), on_do, group, "ms-tmpl"))
        if on_refuse is not None:
            pairs.append(
                Pair(item.norm, action_sentence(parsed.core, False, rng), on_refuse, group, "ms-tmpl")
            )
    return pairs


_ADVICE_LEADS = ("{A}", "{A}", "You should {a}", "I'd suggest you {a}", "Go ahead and {a}", "My advice: {a}")
_NEGATED_LEADS = (
    "Don't {a}",
    "Don't {a}",
    "You shouldn't {a}",
    "I'd suggest you don't {a}",
    "My advice: don't {a}",
)


def advice_pairs(items: Sequence[MSItem], rng: random.Random) -> list[Pair]:
    """Moral Stories actions retold as advice to the reader (``advice.py``), labels kept, some with an
    LLM-style lead ("You should ...", "Go ahead and ...")."""
    actions = [a for item in items for a in (item.moral, item.immoral)]
    retold = dict(zip(actions, as_advice(actions), strict=True))
    pairs: list[Pair] = []
    for item in items:
        for action, label in ((item.moral, Verdict.FOLLOWS), (item.immoral, Verdict.VIOLATES)):
            advice = retold[action]
            if advice is None:
                continue
            if advice.negated:  # each lead negates in its own way: "You should don't ..." is not English
                text = rng.choice(_NEGATED_LEADS).format(a=advice.clause)
            else:
                text = rng.choice(_ADVICE_LEADS).format(A=advice.text, a=advice.clause)
            pairs.append(Pair(item.norm, text, label, norm_key(item.norm), "ms-advice"))
    return pairs


def social_chem_pairs(items: Iterable[SCItem], rng: random.Random, *, flip: bool = False) -> list[Pair]:
    """Per rule: (rule | reworded rule) x (a sentence doing X | one refusing X).

    ``flip`` uses the opposite rule (labels flipped) instead of the reworded one; see ``render_equivalent``.
    """
    pairs: list[Pair] = []
    for item in items:
        group = norm_key(item.rot)
        parsed = parse_norm(item.rot)
        if parsed is None:
            # Unusual wording: keep the rule with its own gerund and the gerund's negation. An
            # obligatory rule prescribes its action, an optional one permits it.
            doing, not_doing = _gerund_pair(item.action)
            pairs.append(Pair(item.rot, doing, Verdict.FOLLOWS, group, "sc"))
            if not item.optional and not _LEADING_NOT.match(_clean_core(item.action)):
                pairs.append(Pair(item.rot, not_doing, Verdict.VIOLATES, group, "sc"))
            continue
        # The rule's own gerund stands for doing X, unless the rule abstains from X ("It's good to
        # refrain from cheating": X is "cheat", the gerund "refraining from cheating")
        templated = rng.random() < 0.7 or (parsed.negated and bool(ABSTAINING_GERUND.match(item.action)))
        does_text = action_sentence(parsed.core, True, rng) if templated else _gerund_pair(item.action)[0]
        dont_text = action_sentence(parsed.core, False, rng)
        on_do, on_refuse = _rule_verdicts(parsed.kind)
        pairs.append(Pair(item.rot, does_text, on_do, group, "sc"))
        if on_refuse is not None:
            pairs.append(Pair(item.rot, dont_text, on_refuse, group, "sc"))
        if flip:
            flipped = render_norm(opposite(parsed.kind), parsed.core, rng)
            flip_do, flip_refuse = _rule_verdicts(opposite(parsed.kind))
            pairs.append(Pair(flipped, does_text, flip_do, group, "sc-flip"))
            if flip_refuse is not None:
                pairs.append(Pair(flipped, dont_text, flip_refuse, group, "sc-flip"))
            continue
        reworded = render_equivalent(parsed.kind, parsed.core, rng)
        pairs.append(Pair(reworded, does_text, on_do, group, "sc-para"))
        if on_refuse is not None:
            pairs.append(Pair(reworded, dont_text, on_refuse, group, "sc-para"))
    return pairs


def unrelated_pairs(
    norms: Sequence[tuple[str, str]],
    norm_vectors: np.ndarray,
    actions: Sequence[tuple[str, str]],
    action_vectors: np.ndarray,
    action_norm_vectors: np.ndarray,
    rng: random.Random,
    *,
    source: str,
    per_norm: int = 1,
    neutral_share: float = 0.25,
    max_norm_similarity: float = 0.45,
    max_similarity: float = 0.5,
    near_top: int = 10,
    neutral_pool: Sequence[str] | None = None,
) -> list[Pair]:
    """Pairs of a norm with text about something else.

    ``norms`` and ``actions`` are (text, group) with their unit MiniLM vectors; ``action_norm_vectors``
    holds the vector of the norm each action belongs to. An action is *about something else* when its
    own norm is far from this norm (cosine < ``max_norm_similarity``: two groups can state the same
    rule in other words) and it is not itself close (< ``max_similarity``). The first pick per norm is
    among the ``near_top`` closest such actions (what retrieval noise looks like), the others random;
    with probability ``neutral_share`` a neutral, LLM-answer-like sentence is added.
    """
    pairs: list[Pair] = []
    neutral = list(neutral_pool) if neutral_pool else neutral_sentences(len(norms), rng)
    action_groups = np.array([g for _, g in actions], dtype=object)
    for start in range(0, len(norms), 512):
        chunk = norms[start : start + 512]
        sims = norm_vectors[start : start + 512] @ action_vectors.T
        norm_sims = norm_vectors[start : start + 512] @ action_norm_vectors.T
        for row, (norm, group) in enumerate(chunk):
            allowed = (
                (norm_sims[row] < max_norm_similarity)
                & (sims[row] < max_similarity)
                & (action_groups != group)
            )
            candidates = np.flatnonzero(allowed)
            if candidates.size == 0:
                continue
            picks: list[int] = []
            if near_top > 0:
                nearest = candidates[np.argsort(-sims[row, candidates], kind="stable")[:near_top]]
                picks.append(int(nearest[rng.randrange(nearest.size)]))
            picks += [int(candidates[rng.randrange(candidates.size)]) for _ in range(per_norm - len(picks))]
            pairs.extend(Pair(norm, actions[i][0], Verdict.UNRELATED, group, source) for i in picks)
            if rng.random() < neutral_share:
                pairs.append(Pair(norm, rng.choice(neutral), Verdict.UNRELATED, group, "neutral"))
    return pairs


def neutral_near_pairs(
    sentences: Sequence[str],
    sentence_vectors: np.ndarray,
    norms: Sequence[tuple[str, str]],
    norm_vectors: np.ndarray,
    k: int,
) -> list[Pair]:
    """Each neutral sentence with its ``k`` closest norms (text, group), labelled unrelated.

    Why: a check pairs a factual sentence with the norms closest to it ("The Honda Civic gets 36 miles
    per gallon on the highway." with "You're encouraged to drive safely on the highway."); random
    pairings never show the head that a sentence stating no act takes no stance on its topic's norms.
    """
    pairs: list[Pair] = []
    k = min(k, len(norms))
    if k == 0:
        return pairs
    sims = sentence_vectors @ norm_vectors.T
    positions = np.arange(len(norms))
    for row, sentence in enumerate(sentences):
        for i in in_order(-sims[row], positions, k).tolist():
            norm, group = norms[i]
            pairs.append(Pair(norm, sentence, Verdict.UNRELATED, group, "neutral-near"))
    return pairs


# ---------------------------------------------------------------------------------------------------
# Embedding every text once


def _encoder_id() -> str:
    from normkg.reasoning.encoder import model_path

    return f"{model_path().name}:{MAX_TOKENS}"


def embed_texts(
    texts: Iterable[str], cache_dir: Path | None = None, adapter: Path | None = None
) -> dict[str, np.ndarray]:
    """Unit MiniLM vectors of ``texts``, computed in one canonical order (shortest first).

    Why canonical: padding makes a text's vector depend very slightly on its batch mates, so the same
    text set in the same order gives bit-identical vectors, whatever order the caller had. The
    cache (one .npy per text set, keyed by a hash of the texts and the encoder) only skips the
    minutes of encoding when the set has not changed. Vectors of a tuned encoder (``adapter``) are
    never cached: each fold of cross-validation has its own adapter.
    """
    from normkg.reasoning.encoder import get_encoder

    order = sorted(set(texts), key=lambda t: (len(t), t))
    digest = hashlib.sha256("\n".join([_encoder_id(), *order]).encode("utf-8")).hexdigest()[:16]
    cached = cache_dir / f"judge-embeddings-{digest}.npy" if cache_dir and adapter is None else None
    if cached is not None and cached.is_file():
        vectors = np.load(cached)
    else:
        encoder = get_encoder() if adapter is None else Encoder(adapter=adapter)
        vectors = encoder.encode(order, batch_size=64)
        if cached is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            for old in cache_dir.glob("judge-embeddings-*.npy"):  # type: ignore[union-attr]
                old.unlink()
            np.save(cached, vectors)
    return {t: vectors[i] for i, t in enumerate(order)}


# ---------------------------------------------------------------------------------------------------
# The training set


MS_SOURCES = ("ms", "ms-para", "ms-tmpl", "ms-advice", "unrelated-ms")
CHALLENGE_DIR = CHECKOUT_ROOT / "tests" / "data" / "checker"
# Hand-written (norm, LLM-style sentence) items, never trained on. ``challenge`` was written with the
# templates in view; ``challenge_fresh`` (120 items) was written afterwards by someone who saw neither
# the code nor the first set.
CHALLENGE_SETS = ("challenge", "challenge_fresh")
NEGATION_MODES = ("none", "rewrite")


@dataclass(frozen=True)
class HyperParameters:
    hidden: int = 128
    epochs: int = 10
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    dropout: float = 0.2
    ms_weight: float = 3.0  # Moral Stories pairs are few but are the real (narrative) signal
    unrelated_max_similarity: float = 0.35  # an "unrelated" action is never closer than this to the norm
    unrelated_max_norm_similarity: float = 0.45
    unrelated_per_ms_norm: int = 2
    # 0: unrelated actions are random among the eligible ones. 10 (first pick among the 10 closest
    # eligible actions) made the judge call paraphrased related sentences unrelated (challenge set
    # 0.45 vs 0.62 accuracy), so near-miss pairs are only used for evaluation ("probe-near").
    unrelated_near_top: int = 0
    neutral_share: float = 0.25
    # Each neutral sentence paired (unrelated) with its this many closest training norms, as retrieval
    # would pair a factual sentence ("The volcano erupted in 1980.") in a check. 0 (judge-4): only the
    # random pairings above, which never show the head a neutral sentence beside a norm on its topic.
    # 8 (judge-5): the same pair-level accuracies within the seed spread (mean of six over seeds 13-16
    # 0.742 against 0.743), and against the whole graph far fewer false findings (bench/README.md).
    neutral_near: int = 8
    # The encoder's LoRA adapter. Off by default (epochs=0, the frozen encoder): judge-2's adapter
    # (epochs=4) lifted held-out Moral Stories from 0.70 to 0.72-0.73 but lost 6-13 points on both
    # LLM-style challenge sets (bench/results/checker_variants.json).
    adapter: AdapterParameters = field(default_factory=lambda: AdapterParameters(epochs=0))
    # "rewrite": a sentence whose main clause is negated is judged as its affirmative with violates
    # and follows swapped (``negation.py``), in training and in the checker alike. "none": as written.
    negation: str = "rewrite"
    # Moral Stories actions retold as advice to the reader (``advice.py``). On by the selection rule
    # (mean of six accuracies 0.737 against 0.731 without, seed 13): 3-way accuracy on both challenge
    # sets goes up, violates vs follows on the fresh set goes down (0.73 -> 0.67).
    advice: bool = True


@dataclass
class TrainingData:
    """Pairs with their vectors: norm vectors per unique norm text, sentence vectors per unique text."""

    pairs: list[Pair]
    norm_vectors: np.ndarray
    norm_index: np.ndarray
    sentence_vectors: np.ndarray
    sentence_index: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    sources: np.ndarray
    challenge: list[Pair]
    challenge_sets: np.ndarray  # the set (file stem) of each challenge item
    challenge_norm_vectors: np.ndarray
    challenge_sentence_vectors: np.ndarray
    challenge_judged_vectors: np.ndarray
    files: list[Path]
    issues: list[str]
    probes: list[Pair]  # evaluation only: each MS norm with the closest action of an unrelated norm
    probe_norm_vectors: np.ndarray
    probe_sentence_vectors: np.ndarray
    probe_judged_vectors: np.ndarray
    norm_list: list[str]
    sentence_list: list[str]
    texts: set[str]  # every text embedded: norms, sentences, prototypes
    triples: list[tuple[str, AdapterTriple]]  # (group, triple) of each Moral Stories norm
    # What the judge reads for each sentence (``judged_text``): the sentence itself, or with
    # negation="rewrite" the affirmative of a negated one. Baselines read the sentences as written.
    judged: dict[str, str]
    judged_index: np.ndarray  # pair -> row of sentence_vectors holding its judged text
    reversed: np.ndarray  # pair: the judge's violates/follows must be swapped
    challenge_reversed: np.ndarray
    probe_reversed: np.ndarray

    def with_vectors(self, unit: Callable[[str], np.ndarray]) -> TrainingData:
        """The same pairs with every vector recomputed from ``unit(text)`` (a tuned encoder's)."""
        return replace(
            self,
            **_vector_fields(
                self.norm_list, self.sentence_list, self.challenge, self.probes, self.judged, unit
            ),
        )

    def pair_norm_vectors(self, rows: np.ndarray) -> np.ndarray:
        return self.norm_vectors[self.norm_index[rows]]

    def features(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Head input of the pairs, from the judged text of each sentence."""
        rows = np.arange(len(self.pairs)) if rows is None else rows
        return pair_features(self.pair_norm_vectors(rows), self.sentence_vectors[self.judged_index[rows]])

    def head_labels(self) -> np.ndarray:
        """The labels the head learns: those of the judged texts (swapped where a negation was)."""
        return swap_stance(self.labels, self.reversed)

    def weights(self, ms_weight: float) -> np.ndarray:
        return np.where(np.isin(self.sources, MS_SOURCES), ms_weight, 1.0).astype(np.float32)

    def challenge_logits(self, head: HeadWeights) -> np.ndarray:
        """The head's logits for the challenge items as written (negations reversed)."""
        logits = head.logits(pair_features(self.challenge_norm_vectors, self.challenge_judged_vectors))
        return reverse_negations(logits, self.challenge_reversed, self.challenge_norm_vectors)

    def challenge_labels(self) -> np.ndarray:
        return np.array([LABELS.index(p.label) for p in self.challenge])


class _VectorFields(TypedDict):
    norm_vectors: np.ndarray
    sentence_vectors: np.ndarray
    challenge_norm_vectors: np.ndarray
    challenge_sentence_vectors: np.ndarray
    challenge_judged_vectors: np.ndarray
    probe_norm_vectors: np.ndarray
    probe_sentence_vectors: np.ndarray
    probe_judged_vectors: np.ndarray


def _vector_fields(
    norm_list: Sequence[str],
    sentence_list: Sequence[str],
    challenge: Sequence[Pair],
    probes: Sequence[Pair],
    judged: dict[str, str],
    unit: Callable[[str], np.ndarray],
) -> _VectorFields:
    """Every vector field of ``TrainingData``, from one text -> unit vector mapping."""

    def sentences(texts: Sequence[str]) -> np.ndarray:
        return np.stack([unit(t) for t in texts]) if texts else np.zeros((0, EMBEDDING_DIM), np.float32)

    return {
        "norm_vectors": assemble_norm_vectors(list(norm_list), None, unit),
        "sentence_vectors": sentences(sentence_list),
        "challenge_norm_vectors": assemble_norm_vectors([p.norm for p in challenge], None, unit),
        "challenge_sentence_vectors": sentences([p.text for p in challenge]),
        "challenge_judged_vectors": sentences([judged[p.text] for p in challenge]),
        "probe_norm_vectors": assemble_norm_vectors([p.norm for p in probes], None, unit),
        "probe_sentence_vectors": sentences([p.text for p in probes]),
        "probe_judged_vectors": sentences([judged[p.text] for p in probes]),
    }


def data_files(data_dir: Path) -> list[Path]:
    return [
        data_dir / "moral-stories" / "dev.jsonl",
        data_dir / "social-chem-101" / "obligatory_sc101.csv",
        data_dir / "social-chem-101" / "optional_sc101.csv",
    ]


def read_challenge(path: Path, issues: list[str] | None = None) -> list[Pair]:
    """A hand-written negation/refusal/unrelated challenge set (never trained on); ``source`` is the
    item's kind."""
    pairs: list[Pair] = []
    for record in _good_records(read_jsonl(path, path.parent), path, issues):
        row = record.data
        try:
            pairs.append(
                Pair(row["norm"], row["text"], Verdict(row["label"]), norm_key(row["norm"]), row["kind"])
            )
        except (KeyError, ValueError, TypeError) as exc:
            _skip(issues, f"{path}:{record.line}: not a challenge item ({exc!r})")
    return pairs


def build_training_data(
    data_dir: Path,
    seed: int,
    hp: HyperParameters,
    cache_dir: Path | None = None,
    challenge_dir: Path = CHALLENGE_DIR,
    limit: int | None = None,
) -> TrainingData:
    """Read the sources, make every pair (see the module docstring), embed each text once.

    ``limit`` keeps only the first ``limit`` norms of each source (for fast tests).
    """
    files = data_files(data_dir)
    rng = random.Random(seed)
    issues: list[str] = []
    ms_items = read_moral_stories(files[0], issues)[:limit]
    sc_items = read_social_chem(files[1:], issues)
    if limit is not None:
        sc_items = sc_items[:limit] + [i for i in sc_items if i.optional][:limit]
    related = moral_stories_pairs(ms_items, rng) + social_chem_pairs(sc_items, rng, flip=True)
    challenge: list[Pair] = []
    challenge_sets: list[str] = []
    for name in CHALLENGE_SETS:
        items = read_challenge(challenge_dir / f"{name}.jsonl", issues)
        challenge += items
        challenge_sets += [name] * len(items)
    neutral_pool = neutral_sentences(len(related), random.Random(seed + 1))
    if hp.advice:  # after the neutral pool, whose size must not depend on it
        related += advice_pairs(ms_items, random.Random(seed + 3))
    norm_texts = {p.norm for p in related} | {p.norm for p in challenge}
    sentence_texts = {p.text for p in related} | {p.text for p in challenge} | set(neutral_pool)
    judged = _judged_texts(sentence_texts, hp.negation)
    texts = set(norm_texts) | sentence_texts | set(judged.values())
    for norm in norm_texts:
        parsed = parse_norm(norm)
        if parsed is not None:
            texts.update(prototype_texts(parsed.core))
    vectors = embed_texts(texts, cache_dir)
    unit = vectors.__getitem__

    def mine(action_sources: set[str], norm_sources: set[str], per_norm: int, source: str) -> list[Pair]:
        pool = [p for p in related if p.source in action_sources]
        norms = sorted({(p.norm, p.group) for p in related if p.source in norm_sources})
        own_norm = {p.group: p.norm for p in related if p.source in ("ms", "sc")}
        actions = sorted({(p.text, p.group) for p in pool if p.group in own_norm})
        if not norms or not actions:
            return []
        return unrelated_pairs(
            norms,
            np.stack([unit(n) for n, _ in norms]),
            actions,
            np.stack([unit(a) for a, _ in actions]),
            np.stack([unit(own_norm[g]) for _, g in actions]),
            rng,
            source=source,
            per_norm=per_norm,
            neutral_share=hp.neutral_share,
            max_norm_similarity=hp.unrelated_max_norm_similarity,
            max_similarity=hp.unrelated_max_similarity,
            neutral_pool=neutral_pool,
            near_top=hp.unrelated_near_top,
        )

    ms_norms = sorted({(p.norm, p.group) for p in related if p.source == "ms"})
    ms_actions = sorted({(p.text, p.group) for p in related if p.source == "ms"})
    own = {p.group: p.norm for p in related if p.source == "ms"}
    probes = unrelated_pairs(
        ms_norms,
        np.stack([unit(n) for n, _ in ms_norms]) if ms_norms else np.zeros((0, 384)),
        ms_actions,
        np.stack([unit(a) for a, _ in ms_actions]) if ms_actions else np.zeros((0, 384)),
        np.stack([unit(own[g]) for _, g in ms_actions]) if ms_actions else np.zeros((0, 384)),
        random.Random(seed + 2),
        source="probe-near",
        per_norm=1,
        neutral_share=0.0,
        max_norm_similarity=hp.unrelated_max_norm_similarity,
        max_similarity=1.0,
        near_top=1,
    )
    pairs = related + mine({"ms", "ms-tmpl"}, {"ms", "ms-para"}, hp.unrelated_per_ms_norm, "unrelated-ms")
    pairs += mine({"sc"}, {"sc"}, 1, "unrelated-sc")
    if hp.neutral_near:
        norms = sorted({(p.norm, p.group) for p in related if p.source in ("ms", "sc")})
        neutral = sorted(set(neutral_pool))
        pairs += neutral_near_pairs(
            neutral,
            np.stack([unit(t) for t in neutral]),
            norms,
            np.stack([unit(n) for n, _ in norms]),
            hp.neutral_near,
        )
    norm_list = sorted({p.norm for p in pairs})
    sentence_list = sorted({p.text for p in pairs} | {judged[p.text] for p in pairs})
    norm_pos = {t: i for i, t in enumerate(norm_list)}
    sentence_pos = {t: i for i, t in enumerate(sentence_list)}

    def flags(items: Sequence[Pair]) -> np.ndarray:  # a judged text differs only where it reverses
        return np.array([judged[p.text] != p.text for p in items], dtype=bool)

    return TrainingData(
        pairs=pairs,
        norm_index=np.array([norm_pos[p.norm] for p in pairs]),
        sentence_index=np.array([sentence_pos[p.text] for p in pairs]),
        judged_index=np.array([sentence_pos[judged[p.text]] for p in pairs]),
        judged=judged,
        reversed=flags(pairs),
        challenge_reversed=flags(challenge),
        probe_reversed=flags(probes),
        challenge_sets=np.array(challenge_sets, dtype=object),
        labels=np.array([LABELS.index(p.label) for p in pairs]),
        groups=np.array([p.group for p in pairs], dtype=object),
        sources=np.array([p.source for p in pairs], dtype=object),
        challenge=challenge,
        files=files,
        issues=issues,
        probes=probes,
        **_vector_fields(norm_list, sentence_list, challenge, probes, judged, unit),
        norm_list=norm_list,
        sentence_list=sentence_list,
        texts=texts,
        triples=[(norm_key(i.norm), AdapterTriple(i.norm, i.moral, i.immoral)) for i in ms_items],
    )


def _judged_texts(texts: Iterable[str], mode: str) -> dict[str, str]:
    """Each text's judged text under the negation ``mode`` (itself, or its affirmative)."""
    if mode not in NEGATION_MODES:
        raise ValueError(f"negation mode {mode!r}: expected one of {', '.join(NEGATION_MODES)}")
    return {text: judged_text(text)[0] if mode == "rewrite" else text for text in texts}


def assign_folds(data: TrainingData, k: int, seed: int) -> np.ndarray:
    """Fold of each pair, by group (no norm text in two folds), with Moral Stories norms spread evenly."""
    from sklearn.model_selection import StratifiedGroupKFold

    ms_groups = {g for g, s in zip(data.groups, data.sources, strict=True) if s == "ms"}
    strata = np.array([int(g in ms_groups) for g in data.groups])
    folds = np.zeros(len(data.pairs), dtype=np.int64)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(strata)), strata, data.groups)):
        folds[test] = fold
    return folds


# ---------------------------------------------------------------------------------------------------
# The head


def fit_head(
    features: np.ndarray, labels: np.ndarray, weights: np.ndarray, seed: int, hp: HyperParameters
) -> HeadWeights:
    """Train the MLP head with a fixed seed (same data, seed and thread count: same weights)."""
    import torch

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    first = torch.nn.Linear(features.shape[1], hp.hidden)
    second = torch.nn.Linear(hp.hidden, len(LABELS))
    model = torch.nn.Sequential(
        torch.nn.Dropout(hp.dropout),
        first,
        torch.nn.GELU(approximate="tanh"),
        torch.nn.Dropout(hp.dropout),
        second,
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=hp.learning_rate, weight_decay=hp.weight_decay)
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    y = torch.from_numpy(labels.astype(np.int64))
    w = torch.from_numpy(weights.astype(np.float32))
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(hp.epochs):
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), hp.batch_size):
            batch = order[start : start + hp.batch_size]
            loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch], reduction="none")
            loss = (loss * w[batch]).sum() / w[batch].sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return HeadWeights(
        w1=first.weight.detach().numpy().T.copy(),
        b1=first.bias.detach().numpy().copy(),
        w2=second.weight.detach().numpy().T.copy(),
        b2=second.bias.detach().numpy().copy(),
        temperature=1.0,
    )


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of ``logits`` (grid over 0.25..4)."""
    best, best_nll = 1.0, np.inf
    for temperature in np.geomspace(0.25, 4.0, 241):
        probs = softmax(logits / temperature)
        nll = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean()
        if nll < best_nll:
            best, best_nll = float(temperature), float(nll)
    return best


# ---------------------------------------------------------------------------------------------------
# Metrics and baselines


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Top-label ECE with equal-width confidence bins."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def macro_f1(predicted: np.ndarray, labels: np.ndarray, classes: int = 3) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(labels, predicted, labels=list(range(classes)), average="macro", zero_division=0))


def binary_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of violates-vs-follows on pairs that are related: argmax over the first two columns."""
    return float((scores[:, :2].argmax(axis=1) == labels).mean()) if len(labels) else float("nan")


def zero_shot_scores(norm_vectors: np.ndarray, sentence_vectors: np.ndarray, threshold: float) -> np.ndarray:
    """Baseline (a), no training: stance = kind * (cos(v, do-prototype) - cos(v, refuse-prototype)).

    Scores are one-hot over (violates, follows, unrelated): unrelated when the sentence is not
    closer than ``threshold`` (fitted on the training folds) to the norm or either prototype; norms
    that could not be parsed (no prototypes) are scored "follows", the majority of real norm pairs.
    """
    feats = pair_features(norm_vectors, sentence_vectors)
    c_do, c_dont, _diff, c_u, signed, _ = feats[:, -6:].T
    kind_unknown = feats[:, -10 + 3] > 0.5
    related = np.maximum(c_u, np.where(kind_unknown, -1.0, np.maximum(c_do, c_dont))) >= threshold
    decision = np.where(kind_unknown, 1, np.where(signed > 0, 1, 0))
    out = np.zeros((len(feats), 3), dtype=np.float32)
    out[np.arange(len(feats)), np.where(related, decision, 2)] = 1.0
    return out


def fit_zero_shot_threshold(
    norm_vectors: np.ndarray, sentence_vectors: np.ndarray, labels: np.ndarray
) -> float:
    best, best_acc = 0.0, -1.0
    for threshold in np.linspace(0.0, 0.8, 81):
        acc = float((zero_shot_scores(norm_vectors, sentence_vectors, threshold).argmax(1) == labels).mean())
        if acc > best_acc:
            best, best_acc = float(threshold), acc
    return best


def read_mfd(path: Path, issues: list[str] | None = None) -> dict[str, set[str]]:
    """MFD 2.0 (LIWC .dic): term -> categories such as "care.virtue" (terms may be phrases)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    categories: dict[str, str] = {}
    terms: dict[str, set[str]] = {}
    section = 0
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line == "%":
            section += 1
            continue
        if section == 1:
            cid, _, name = line.partition("\t")
            if not cid.strip().isdigit() or not name.strip():
                raise SourceError(
                    f"{path}:{number}: expected 'category id<TAB>name' in the header, got {raw!r}"
                )
            categories[cid.strip()] = name.strip()
            continue
        term, *ids = line.split("\t")
        if not ids or not all(i.strip() in categories for i in ids):
            _skip(issues, f"{path}:{number}: expected 'term<TAB>known category id', got {raw!r}")
            continue
        terms.setdefault(term.strip().lower(), set()).update(categories[i.strip()] for i in ids)
    return terms


_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_STOP = set(
    [
        "the",
        "a",
        "an",
        "to",
        "of",
        "and",
        "or",
        "in",
        "on",
        "for",
        "with",
        "your",
        "you",
        "their",
        "them",
        "they",
        "his",
        "her",
        "its",
        "our",
        "my",
        "that",
        "this",
        "be",
        "is",
        "are",
        "was",
        "were",
        "it",
        "when",
        "if",
        "not",
        "don't",
        "about",
        "someone",
        "others",
        "other",
        "people",
    ]
)


def _ngrams(text: str, n_max: int = 4) -> set[str]:
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + n]) for n in range(1, n_max + 1) for i in range(len(words) - n + 1)}


def lexicon_scores(pairs: Sequence[Pair], mfd: dict[str, set[str]], tie: int) -> np.ndarray:
    """Baseline (b): MFD 2.0 virtue minus vice words in the sentence, with the norm's polarity.

    The words the norm itself names (its verb phrase's content words) count as virtue when the norm
    prescribes or permits them and as vice when it proscribes them. Positive score: follows, negative:
    violates, zero: ``tie`` (the training folds' majority); no moral word and no shared word: unrelated.
    """
    out = np.zeros((len(pairs), 3), dtype=np.float32)
    for row, pair in enumerate(pairs):
        grams = _ngrams(pair.text)
        virtue = sum(1 for g in grams for c in mfd.get(g, ()) if c.endswith("virtue"))
        vice = sum(1 for g in grams for c in mfd.get(g, ()) if c.endswith("vice"))
        parsed = parse_norm(pair.norm)
        named = {w for w in _WORD.findall(parsed.core.lower())} - _STOP if parsed else set()
        shared = len(named & {g for g in grams if " " not in g})
        sign = -1 if parsed is not None and parsed.kind is Deontic.PROSCRIBE else 1
        score = virtue - vice + sign * shared
        if virtue + vice + shared == 0:
            out[row, 2] = 1.0
        else:
            out[row, 1 if score > 0 else 0 if score < 0 else tie] = 1.0
    return out


# ---------------------------------------------------------------------------------------------------
# Cross-validation and training

EVAL3_SOURCES = ("ms", "unrelated-ms", "neutral")
# judge-1: frozen encoder; judge-2: + LoRA adapter; judge-3: frozen encoder + negation rewrite;
# judge-4: judge-3 + Moral Stories actions retold as advice (advice.py), abstaining rules parsed as bans;
# judge-5: judge-4 + neutral sentences paired with their closest norms (neutral_near_pairs)
MODEL_VERSION = "judge-5"
ARCHITECTURE = (
    "all-MiniLM-L6-v2 bi-encoder; norm vector = [u | do-prototype | refuse-prototype | kind one-hot]; "
    "MLP(FEATURE_DIM -> hidden, tanh-GELU -> 3) over pair_features; temperature scaling"
)


def _adapter_entry(folder: Path | None) -> dict[str, object] | None:
    """The manifest's record of the adapter: its folder (relative to the model folder) and files."""
    if folder is None:
        return None
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return {
        "folder": folder.name,
        "files": {p.name: {"sha256": file_sha256(p), "bytes": p.stat().st_size} for p in files},
    }


def _summary(values: Sequence[float]) -> dict[str, object]:
    array = np.array(values, dtype=np.float64)
    return {
        "mean": round(float(np.nanmean(array)), 4),
        "sd": round(float(np.nanstd(array)), 4),
        "folds": [round(float(v), 4) for v in array],
    }


@dataclass
class CrossValidation:
    """Out-of-fold results: the report (JSON-ready) and what ``train`` reuses."""

    report: dict[str, object]
    oof_logits: np.ndarray
    folds: np.ndarray
    temperature: float


# Sensible rules only: the flipped Social-Chem rules ("It's bad to help your friends") would teach the
# adapter that a decent act can be a violation, which is what Moral Stories teaches it is not.
STANCE_SOURCES = ("ms-tmpl", "sc")


def stance_triples(
    pairs: Sequence[Pair], sources: Sequence[str] = STANCE_SOURCES
) -> list[tuple[str, AdapterTriple]]:
    """(group, triple) of each templated rule with a sentence that follows it and one that violates it
    ("It's wrong to X" / "I won't X" / "Sure, I'll X").

    Why: tuned on Moral Stories alone, the adapter learns what narrative actions are like and forgets
    negation (the challenge set's violates-vs-follows fell from 0.68 to 0.55); these triples keep the
    refusal of a banned act on the compliant side.
    """
    sides: dict[tuple[str, str], dict[Verdict, str]] = {}
    for pair in pairs:
        if pair.source in sources and pair.label is not Verdict.UNRELATED:
            sides.setdefault((pair.group, pair.norm), {}).setdefault(pair.label, pair.text)
    return [
        (group, AdapterTriple(norm, both[Verdict.FOLLOWS], both[Verdict.VIOLATES]))
        for (group, norm), both in sides.items()
        if len(both) == 2
    ]


def tune_encoder(
    data: TrainingData, held_out: set[str], seed: int, hp: HyperParameters, work_dir: Path
) -> tuple[TrainingData, Path | None]:
    """``data`` re-embedded by an encoder whose adapter learnt from the Moral Stories triples whose
    group is not in ``held_out``, and the adapter's folder (None, and ``data`` as it is, without one).
    """
    if hp.adapter.epochs <= 0:
        return data, None
    triples = [triple for group, triple in data.triples if group not in held_out]
    stance = [triple for group, triple in stance_triples(data.pairs) if group not in held_out]
    triples += random.Random(seed).sample(stance, min(hp.adapter.stance_triples, len(stance)))
    if hp.adapter.advice_triples:
        # as the judge reads them: a retelling whose negation the judge would rewrite is left out
        plain = [p for p in data.pairs if p.source == "ms-advice" and data.judged[p.text] == p.text]
        triples += [
            triple for group, triple in stance_triples(plain, ("ms-advice",)) if group not in held_out
        ]
    folder = fit_adapter(triples, work_dir, seed, hp.adapter)
    vectors = embed_texts(data.texts, adapter=folder)
    return data.with_vectors(vectors.__getitem__), folder


def _cross_validate(
    data: TrainingData, k: int, seed: int, hp: HyperParameters, mfd_path: Path, work_dir: Path
) -> CrossValidation:
    """Per fold: an adapter and a head trained on the other folds only; the baselines on the same folds."""
    weights = data.weights(hp.ms_weight)
    folds = assign_folds(data, k, seed)
    labels, head_labels = data.labels, data.head_labels()
    ch_labels = data.challenge_labels()
    oof = np.zeros((len(labels), len(LABELS)), dtype=np.float32)
    ch_logits: list[np.ndarray] = []
    fold_of_group = dict(zip(data.groups, folds, strict=True))
    probe_folds = np.array([fold_of_group.get(p.group, -1) for p in data.probes], dtype=np.int64)
    probe_logits = np.zeros((len(data.probes), len(LABELS)), dtype=np.float32)
    for fold in range(k):
        train_rows = folds != fold
        held_out = {g for g, f in fold_of_group.items() if f == fold}
        log.info("fold %d/%d: adapter, re-embedding, head", fold + 1, k)
        fold_data, _ = tune_encoder(data, held_out, seed + fold, hp, work_dir / f"fold-{fold}")
        features = fold_data.features()
        head = fit_head(features[train_rows], head_labels[train_rows], weights[train_rows], seed + fold, hp)
        # logits of the judged texts, turned into those of the sentences as written (as the checker does)
        test_rows = np.flatnonzero(~train_rows)
        oof[test_rows] = reverse_negations(
            head.logits(features[test_rows]), data.reversed[test_rows], data.pair_norm_vectors(test_rows)
        )
        ch_logits.append(fold_data.challenge_logits(head))
        probe_features = pair_features(fold_data.probe_norm_vectors, fold_data.probe_judged_vectors)
        in_fold = probe_folds == fold
        probe_logits[in_fold] = reverse_negations(
            head.logits(probe_features[in_fold]),
            data.probe_reversed[in_fold],
            data.probe_norm_vectors[in_fold],
        )

    mfd = read_mfd(mfd_path)
    eval3 = np.isin(data.sources, EVAL3_SOURCES)
    ms_rows = data.sources == "ms"
    sc_rows = np.isin(data.sources, ("sc", "sc-flip"))
    metrics: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        metrics.setdefault(name, []).append(value)

    for fold in range(k):
        test = folds == fold
        temperature = fit_temperature(oof[~test], labels[~test])
        probs = softmax(oof[test] / temperature)
        raw = softmax(oof[test])
        y, t_ms, t_eval, t_sc = labels[test], ms_rows[test], eval3[test], sc_rows[test]
        add("ms_binary_accuracy", binary_accuracy(probs[t_ms], y[t_ms]))
        add("eval3_accuracy", float((probs[t_eval].argmax(1) == y[t_eval]).mean()))
        add("eval3_macro_f1", macro_f1(probs[t_eval].argmax(1), y[t_eval]))
        add("all3_accuracy", float((probs.argmax(1) == y).mean()))
        add("all3_macro_f1", macro_f1(probs.argmax(1), y))
        add("sc_binary_accuracy", binary_accuracy(probs[t_sc], y[t_sc]))
        add("ece_eval3", expected_calibration_error(probs[t_eval], y[t_eval]))
        add("ece_all", expected_calibration_error(probs, y))
        add("ece_all_uncalibrated", expected_calibration_error(raw, y))
        add("temperature", temperature)
        _add_challenge(add, "", softmax(ch_logits[fold] / temperature), ch_labels, data)
        probe_probs = softmax(probe_logits[probe_folds == fold] / temperature)
        add("probe_near_false_violation_rate", float((probe_probs.argmax(1) == 0).mean()))
        add("probe_near_unrelated_rate", float((probe_probs.argmax(1) == 2).mean()))

        # Baselines on the same fold: thresholds and tie-breaks come from the training folds only.
        train_eval = np.flatnonzero(~test & eval3)
        nv = data.norm_vectors[data.norm_index]
        sv = data.sentence_vectors[data.sentence_index]
        threshold = fit_zero_shot_threshold(nv[train_eval], sv[train_eval], labels[train_eval])
        rows = np.flatnonzero(test & eval3)
        zs = zero_shot_scores(nv[rows], sv[rows], threshold)
        zs_ch = zero_shot_scores(data.challenge_norm_vectors, data.challenge_sentence_vectors, threshold)
        train_related = labels[~test & ms_rows]
        tie = int(np.bincount(train_related, minlength=2)[:2].argmax())
        lex = lexicon_scores([data.pairs[i] for i in rows], mfd, tie)
        lex_ch = lexicon_scores(data.challenge, mfd, tie)
        in_fold = np.flatnonzero(probe_folds == fold)
        zs_probe = zero_shot_scores(
            data.probe_norm_vectors[in_fold], data.probe_sentence_vectors[in_fold], threshold
        )
        add("zero_shot.probe_near_false_violation_rate", float((zs_probe.argmax(1) == 0).mean()))
        lex_probe = lexicon_scores([data.probes[i] for i in in_fold], mfd, tie)
        add("lexicon.probe_near_false_violation_rate", float((lex_probe.argmax(1) == 0).mean()))
        y_rows, ms_in_rows = labels[rows], data.sources[rows] == "ms"
        for name, scores, ch_scores in (("zero_shot", zs, zs_ch), ("lexicon", lex, lex_ch)):
            add(f"{name}.ms_binary_accuracy", binary_accuracy(scores[ms_in_rows], y_rows[ms_in_rows]))
            add(f"{name}.eval3_accuracy", float((scores.argmax(1) == y_rows).mean()))
            add(f"{name}.eval3_macro_f1", macro_f1(scores.argmax(1), y_rows))
            _add_challenge(add, f"{name}.", ch_scores, ch_labels, data)

    report: dict[str, object] = {
        "folds": k,
        "seed": seed,
        "split": "StratifiedGroupKFold by normalised norm text (Moral Stories groups spread)",
        "pairs": len(labels),
        "pairs_by_source": {s: int((data.sources == s).sum()) for s in sorted(set(data.sources))},
        "heldout_ms_norms_per_fold": [int((ms_rows & (folds == f)).sum() // 2) for f in range(k)],
        "challenge_items": {name: int(rows.sum()) for name, rows in _challenge_rows(data)},
        "negation": hp.negation,
        "reversed_pairs": int(data.reversed.sum()),
        "probe_near_pairs": len(data.probes),
        "metrics": {name: _summary(values) for name, values in metrics.items()},
    }
    return CrossValidation(report, oof, folds, fit_temperature(oof, labels))


def _add_challenge(
    add: Callable[[str, float], None], prefix: str, scores: np.ndarray, labels: np.ndarray, data: TrainingData
) -> None:
    """3-way and violates-vs-follows accuracy of ``scores`` on each challenge set."""
    for name, rows in _challenge_rows(data):
        add(f"{prefix}{name}_accuracy", float((scores[rows].argmax(1) == labels[rows]).mean()))
        related = rows & (labels != LABELS.index(Verdict.UNRELATED))
        add(f"{prefix}{name}_binary_accuracy", binary_accuracy(scores[related], labels[related]))


def _challenge_rows(data: TrainingData) -> list[tuple[str, np.ndarray]]:
    """(set name, boolean row mask) of each challenge set that has items."""
    return [
        (name, data.challenge_sets == name) for name in CHALLENGE_SETS if (data.challenge_sets == name).any()
    ]


def _resolve(data_dir: Path | None, cache_dir: Path | None) -> tuple[Path, Path]:
    from normkg.settings import get_settings

    return (data_dir or get_settings().resolve_data_dir(), cache_dir or CHECKOUT_ROOT / "var" / "cache")


def cross_validate(
    k: int = 5,
    seed: int = 13,
    data_dir: Path | None = None,
    cache_dir: Path | None = None,
    hp: HyperParameters | None = None,
    limit: int | None = None,
) -> dict[str, object]:
    """k-fold cross-validation by norm of the judge and the two baselines, on the same folds."""
    hp = hp or HyperParameters()
    data_dir, cache_dir = _resolve(data_dir, cache_dir)
    started = time.perf_counter()
    data = build_training_data(data_dir, seed, hp, cache_dir, limit=limit)
    prepared = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="normkg-cv-") as work_dir:
        cv = _cross_validate(
            data, k, seed, hp, data_dir / "moral-foundations-dictionary" / "mfd2.0.dic", Path(work_dir)
        )
    cv.report["seconds"] = {
        "data_and_embeddings": round(prepared - started, 1),
        "cross_validation": round(time.perf_counter() - prepared, 1),
    }
    return cv.report


def train(
    out_dir: Path,
    seed: int = 13,
    folds: int = 5,
    data_dir: Path | None = None,
    cache_dir: Path | None = None,
    hp: HyperParameters | None = None,
    limit: int | None = None,
) -> dict[str, object]:
    """Train the shipped judge: k-fold out-of-fold logits fit the temperature (and give the CV report),
    then the adapter and the head are fitted on all pairs. Writes judge.npz, adapter/ and
    manifest.json to ``out_dir``, replacing the model there only once the new one is complete (a
    failed or interrupted run leaves the old model as it was)."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-training-", dir=out_dir.parent))
    try:
        manifest = _train_into(staging, seed, folds, data_dir, cache_dir, hp, limit)
        _install(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _install(staging: Path, out_dir: Path) -> None:
    """Move the model files from ``staging`` into ``out_dir``; files of ``out_dir`` that are not the
    model's are left alone, and the manifest, which names the others, comes last."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (ADAPTER_DIR, WEIGHTS_FILE, MANIFEST_FILE):
        target, new = out_dir / name, staging / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        if new.exists():
            os.replace(new, target)


def _train_into(
    out_dir: Path,
    seed: int,
    folds: int,
    data_dir: Path | None,
    cache_dir: Path | None,
    hp: HyperParameters | None,
    limit: int | None,
) -> dict[str, object]:
    import torch

    hp = hp or HyperParameters()
    data_dir, cache_dir = _resolve(data_dir, cache_dir)
    mfd_path = data_dir / "moral-foundations-dictionary" / "mfd2.0.dic"
    started = time.perf_counter()
    data = build_training_data(data_dir, seed, hp, cache_dir, limit=limit)
    prepared = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="normkg-cv-") as work_dir:
        cv = _cross_validate(data, max(folds, 2), seed, hp, mfd_path, Path(work_dir))
    validated = time.perf_counter()
    data, adapter = tune_encoder(data, set(), seed, hp, out_dir)
    head = fit_head(data.features(), data.head_labels(), data.weights(hp.ms_weight), seed, hp)
    head = HeadWeights(head.w1, head.b1, head.w2, head.b2, cv.temperature)
    finished = time.perf_counter()

    ch_probs = softmax(data.challenge_logits(head) / head.temperature)
    ch_right = ch_probs.argmax(1) == data.challenge_labels()
    kinds = np.array([p.source for p in data.challenge], dtype=object)
    final_model = {
        name: {
            "file": str((CHALLENGE_DIR / f"{name}.jsonl").relative_to(CHECKOUT_ROOT)),
            "sha256": file_sha256(CHALLENGE_DIR / f"{name}.jsonl"),
            "final_model_accuracy": round(float(ch_right[rows].mean()), 4),
            "final_model_accuracy_by_kind": {
                kind: round(float(ch_right[rows & (kinds == kind)].mean()), 4)
                for kind in sorted(set(kinds[rows]))
            },
        }
        for name, rows in _challenge_rows(data)
    }

    weights_path = out_dir / WEIGHTS_FILE
    head.save(weights_path)
    manifest: dict[str, object] = {
        "model_version": MODEL_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "labels": [label.value for label in LABELS],
        "architecture": ARCHITECTURE
        + (" (LoRA adapter merged, tuned on Moral Stories triples)" if adapter is not None else " (frozen)")
        + (
            "; negated sentences judged as their affirmative, verdict swapped"
            if hp.negation == "rewrite"
            else ""
        ),
        "encoder": _encoder_id(),
        "adapter": _adapter_entry(adapter),
        "feature_dim": int(head.w1.shape[0]),
        "temperature": head.temperature,
        "weights_file": WEIGHTS_FILE,
        "weights_sha256": file_sha256(weights_path),
        "weights_bytes": weights_path.stat().st_size,
        "hyperparameters": asdict(hp),
        "training_data": [
            {"file": str(p.relative_to(data_dir)), "sha256": file_sha256(p)} for p in data.files
        ],
        "negation": hp.negation,
        "challenge_sets": final_model,
        "cross_validation": cv.report,
        "seconds": {
            "data_and_embeddings": round(prepared - started, 1),
            "cross_validation": round(validated - prepared, 1),
            "final_fit": round(finished - validated, 1),
        },
        "torch_threads": torch.get_num_threads(),
        "reproducibility": "same seed, data, thread count and torch build give bit-identical weights; a "
        "different thread count can change float summation order (differences ~1e-6, same predictions "
        "in practice)",
        "limit": limit,
        "skipped_rows": data.issues,
    }
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest
