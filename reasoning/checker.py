"""Checking an LLM response against the norms that hold in its context.

Per request: split the response into sentences (spaCy senter, offsets into the original text),
embed each sentence once, retrieve the closest applicable norms per sentence from the cached norm
index (plus the norms sent with the request), let the decision model (``judge``) say violates /
follows / unrelated with a calibrated probability, and explain each finding. Norms are never
embedded per request except those the request itself brings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from normkg.errors import InputError
from normkg.ingest.judgments import polarity as word_polarity
from normkg.ingest.loaders.normbank import behavior_node
from normkg.reasoning.applicability import Candidate, Conflict, FrameMatch, Status, match_constraints
from normkg.reasoning.context import Context, NormalizedContext, normalize
from normkg.reasoning.explain import ConflictOut, ContextOut, DefeatedOut, FrameOut, NormRef, frame_out
from normkg.reasoning.judge import LABELS, NormJudge, Reading, Verdict, retrieval_vectors
from normkg.reasoning.negation import Negation
from normkg.reasoning.norm_index import deontic_kind
from normkg.reasoning.overrides import Admitted, NormTable
from normkg.reasoning.ranking import in_order
from normkg.reasoning.sentences import Sentence, require_text, split_many
from normkg.reasoning.vocabulary import Vocabulary

#: candidates retrieved per sentence, and the least cosine similarity to consider a norm at all
TOP_K = 5
MIN_SIMILARITY = 0.25
#: norms looked at per sentence to find TOP_K that are not restatements of one another
FETCH_K = 4 * TOP_K
#: restatements listed per finding
MAX_RESTATEMENTS = 20
#: a finding is reported when its label's probability reaches this
MIN_PROBABILITY = 0.5
MAX_RESPONSE_CHARS = 20_000
MAX_REQUEST_NORMS = 100


class RequestNorm(BaseModel):
    """A norm sent with the request, in addition to (or instead of) the graph's."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=1000)
    judgment: str | None = Field(None, description="bad, good, ok, expected, unexpected, ...")
    behavior: str | None = Field(None, max_length=500)
    frame: Context | None = Field(None, description="Where the norm holds (same fields as a context).")

    @field_validator("text")
    @classmethod
    def _has_words(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("a norm's text must say something, not only spaces")
        return text


class Evidence(BaseModel):
    sentence: int
    text: str
    start: int = Field(description="Character offset of the sentence in the response.")
    end: int


class NegationOut(BaseModel):
    """How a negated sentence was judged: as its affirmative, with violates and follows swapped."""

    cue: str
    start: int = Field(description="Character offset of the negation cue in the response.")
    end: int
    judged_as: str = Field(description="The affirmative sentence the judge read.")


class Finding(BaseModel):
    label: Literal["violates", "follows"]
    probability: float
    probabilities: dict[str, float]
    similarity: float
    evidence: Evidence
    negation: NegationOut | None = Field(
        None, description="Present when the judge read the sentence's affirmative and reversed its verdict."
    )
    norm: NormRef
    restatements: list[NormRef] = Field(
        [],
        description=(
            "Other graph norms with the same wording (up to case and final punctuation), frame and "
            f"kind: the same rule in other rows or datasets, judged once with this one (at most "
            f"{MAX_RESTATEMENTS} listed)."
        ),
    )
    frame: FrameOut
    defeated_alternatives: list[DefeatedOut] = []
    conflicts: list[ConflictOut] = []


#: the ``warnings`` field of an answer (checks and norm pages)
WARNINGS = "What limits this answer, e.g. a graph that holds no norms."


class CheckResult(BaseModel):
    verdict: Literal["violation", "consistent", "no_applicable_norm"]
    findings: list[Finding]
    sentences: list[Evidence]
    context: ContextOut
    norms_considered: int
    warnings: list[str] = Field(default_factory=list, description=WARNINGS)


@dataclass
class _Pool:
    """The norms a request is checked against: the admitted graph norms and the request's own norms.

    Graph norms are scored against every sentence in one matrix product over the whole index, with
    the norms the context excludes masked out (cheaper than copying the admitted rows); the request's
    norms are embedded here, once, and appended.
    """

    admitted: Admitted
    extra_retrieval: np.ndarray
    extra_judge: np.ndarray
    refs: dict[str, NormRef]


@dataclass
class _Decided:
    """A (sentence, norm) pair the judge found related, before its finding is written: the norm
    reported, the verdict, its probabilities and similarity, the sentence, restated rows' positions,
    and the norms it defeats and conflicts with (every norm the finding will name)."""

    cand: Candidate
    label: Verdict
    p: np.ndarray
    sim: float
    sentence: int
    restated: list[int]
    defeats: list[Candidate]
    conflicts: list[Conflict]


def request_candidates(
    norms: Sequence[RequestNorm], context: NormalizedContext, vocabulary: Vocabulary, where: str = ""
) -> tuple[list[Candidate], dict[str, frozenset[tuple[str, str]]], dict[str, NormRef]]:
    """The request's norms as candidates, their frames' constraint keys, and their references.
    ``where`` prefixes the field an error names ("items[2]." in a batch)."""
    from normkg.reasoning.applicability import constraint

    labels = vocabulary.labels()
    out: list[Candidate] = []
    keys: dict[str, frozenset[tuple[str, str]]] = {}
    refs: dict[str, NormRef] = {}
    for i, norm in enumerate(norms):
        norm_id = f"request:norms[{i}]"
        pol = word_polarity(norm.judgment, f"{where}norms[{i}].judgment") if norm.judgment else None
        frame_iri: str | None = None
        match = FrameMatch(None, Status.GENERAL)
        if norm.frame is not None and not norm.frame.is_empty():
            framed = normalize(norm.frame, vocabulary, f"{where}norms[{i}].frame")
            frame_iri = f"{norm_id}:frame"
            constraints = [constraint(f.property.value, f.value.value, labels) for f in framed.facts]
            match = match_constraints(frame_iri, constraints, context)
            keys[frame_iri] = frozenset((c.property, c.value) for c in constraints)
        behavior = behavior_node(norm.behavior).value if norm.behavior else None
        out.append(Candidate(norm_id, norm.text, pol, behavior, "request", frame_iri, match))
        refs[norm_id] = NormRef(
            id=norm_id,
            text=norm.text,
            judgment=norm.judgment,
            polarity=pol,
            behavior=norm.behavior,
            frame=frame_iri,
            dataset="request",
        )
    return out, keys, refs


class Checker:
    """Checks responses; holds nothing but references to the shared, read-only state."""

    def __init__(
        self,
        table: NormTable,
        vocabulary: Vocabulary,
        judge: NormJudge,
        norm_refs: Callable[[Sequence[str]], Mapping[str, NormRef]],
        source_priority: Sequence[str] = (),
    ) -> None:
        self.table = table
        self.index = table.index
        self.vocabulary = vocabulary
        self.judge = judge
        self._norm_refs = norm_refs
        self.source_priority = tuple(source_priority)

    def _ref(self, norm: str, refs: dict[str, NormRef]) -> NormRef:
        """``norm``'s reference, fetched by ``_fetch_refs`` (a norm the store has no row for gets its
        text only)."""
        ref = refs.get(norm)
        if ref is None:
            ref = refs[norm] = NormRef(id=norm, text=self.index.norms[self.index.position[norm]].text)
        return ref

    def _fetch_refs(self, pool: _Pool, kept: Sequence[_Decided]) -> None:
        """Provenance of every graph norm the findings will name (the finding's norm, its restatements,
        defeated alternatives and conflict sides) in one lookup, not one store query per norm."""
        wanted: list[str] = []
        for d in kept:
            wanted.append(d.cand.norm)
            wanted.extend(self.index.norms[m].norm for m in d.restated)
            wanted.extend(c.norm for c in d.defeats)
            wanted.extend(n for conflict in d.conflicts for n in conflict.sides)
        missing = [n for n in dict.fromkeys(wanted) if n not in pool.refs]
        if missing:
            pool.refs.update(self._norm_refs(missing))

    def _pool(
        self, context: NormalizedContext, norms: Sequence[RequestNorm], use_graph: bool, where: str
    ) -> _Pool:
        extra, keys, refs = request_candidates(norms, context, self.vocabulary, where)
        admitted = Admitted.build(
            self.table,
            context,
            extras=extra,
            extra_keys=keys,
            use_graph=use_graph,
            source_priority=self.source_priority,
        )
        kept = admitted.extras
        dim = self.index.judge.shape[1]
        judge = np.zeros((0, dim), dtype=np.float32)
        retrieval = np.zeros((0, self.index.retrieval.shape[1]), dtype=np.float32)
        if kept:
            judge = self.judge.embed_norms([c.text for c in kept], [deontic_kind(c.polarity) for c in kept])
            retrieval = retrieval_vectors(judge)
        return _Pool(admitted, retrieval, judge, refs)

    def check_many(
        self,
        responses: Sequence[str],
        contexts: Sequence[Context | None],
        norms: Sequence[Sequence[RequestNorm]],
        use_graph: Sequence[bool],
    ) -> list[CheckResult]:
        for i, response in enumerate(responses):
            field = "response" if len(responses) == 1 else f"items[{i}].response"
            if not response.strip():
                raise InputError(f"{field}: is empty", hint="send the model's response text")
            if len(response) > MAX_RESPONSE_CHARS:
                raise InputError(
                    f"{field}: longer than {MAX_RESPONSE_CHARS} characters", hint="check it in parts"
                )
            require_text(response, field)
        split = split_many(list(responses))
        flat = [s.text for sentences in split for s in sentences]
        # one encoder pass per sentence: the judge reads the vectors retrieval compares (or, for a
        # negated sentence, those of its affirmative)
        reading = self.judge.read(flat)
        results: list[CheckResult] = []
        offset = 0
        for i, sentences in enumerate(split):
            n = len(sentences)
            results.append(
                self._check_one(
                    sentences,
                    contexts[i],
                    norms[i],
                    use_graph[i],
                    reading.rows(slice(offset, offset + n)),
                    "" if len(split) == 1 else f"items[{i}].",
                )
            )
            offset += n
        return results

    def _check_one(
        self,
        sentences: list[Sentence],
        context: Context | None,
        norms: Sequence[RequestNorm],
        use_graph: bool,
        read: Reading,
        where: str,
    ) -> CheckResult:
        from normkg.reasoning.explain import context_out

        ctx = normalize(context or Context(), self.vocabulary, f"{where}context")
        pool = self._pool(ctx, norms, use_graph, where)
        evidence = [Evidence(sentence=s.index, text=s.text, start=s.start, end=s.end) for s in sentences]
        admitted = pool.admitted
        if not admitted.total or not sentences:
            return CheckResult(
                verdict="no_applicable_norm",
                findings=[],
                sentences=evidence,
                context=context_out(ctx),
                norms_considered=admitted.total,
            )
        n_graph = len(self.index)
        sentence_vectors = read.vectors
        graph_sims = sentence_vectors @ self.index.retrieval.T  # (sentences, graph norms)
        graph_sims = np.where(admitted.mask[None, :], graph_sims, -np.inf)
        sims = np.hstack([graph_sims, sentence_vectors @ pool.extra_retrieval.T])
        groups = self.index.groups
        pairs: list[tuple[int, int, float]] = []
        for si in range(sims.shape[0]):
            for ni in _top_groups(sims[si], groups):
                pairs.append((si, ni, float(sims[si, ni])))
        kept: list[_Decided] = []
        if pairs:
            norm_vectors = np.stack(
                [self.index.judge[n] if n < n_graph else pool.extra_judge[n - n_graph] for _, n, _ in pairs]
            )
            probs = self.judge.judge_reading(norm_vectors, read, [p[0] for p in pairs])
            for (si, ni, sim), p in zip(pairs, probs, strict=True):
                label = LABELS[int(np.argmax(p))]
                if label is Verdict.UNRELATED or float(np.max(p)) < MIN_PROBABILITY:
                    continue
                if ni < n_graph:
                    # the group's verdict, reported for a member that is not defeated: members agree
                    # in wording, frame and kind but not always in behaviour or source, which decide
                    # overrides and the source-priority policy
                    live = self._live_members(ni, pool)
                    if not live:
                        continue
                    cand = admitted.candidate(live[0])
                    restated = live[1 : 1 + MAX_RESTATEMENTS]
                else:
                    cand = admitted.extras[ni - n_graph]
                    cand.defeated_by = list(admitted.defeated_by(cand))
                    if cand.defeated:
                        continue
                    restated = []
                defeats, conflicts = admitted.defeats(cand), admitted.conflicts(cand)
                kept.append(_Decided(cand, label, p, sim, si, restated, defeats, conflicts))
        self._fetch_refs(pool, kept)
        findings = [
            self._finding(d, evidence[d.sentence], pool.refs, read.negations[d.sentence]) for d in kept
        ]
        findings.sort(key=lambda f: (f.evidence.sentence, f.label != "violates", -f.probability))
        if any(f.label == "violates" for f in findings):
            verdict: Literal["violation", "consistent", "no_applicable_norm"] = "violation"
        elif findings:
            verdict = "consistent"
        else:
            verdict = "no_applicable_norm"
        return CheckResult(
            verdict=verdict,
            findings=findings,
            sentences=evidence,
            context=context_out(ctx),
            norms_considered=admitted.total,
        )

    def _live_members(self, position: int, pool: _Pool) -> list[int]:
        """``position`` and the rest of its restatement group (``NormIndex.groups``) that the context
        admits and nothing defeats, ``position`` first if it is one of them."""
        admitted = pool.admitted
        members = [position, *self.index.restatements(position)]
        return [m for m in members if admitted.mask[m] and not admitted.candidate(m).defeated]

    def _finding(
        self, d: _Decided, evidence: Evidence, refs: dict[str, NormRef], negation: Negation | None
    ) -> Finding:
        probabilities = {name.value: round(float(v), 4) for name, v in zip(LABELS, d.p, strict=True)}
        return Finding(
            label=d.label.value,
            probability=probabilities[d.label.value],
            probabilities=probabilities,
            similarity=round(d.sim, 4),
            evidence=evidence,
            negation=_negation_out(negation, evidence),
            norm=self._ref(d.cand.norm, refs),
            frame=frame_out(d.cand.match),
            defeated_alternatives=[
                DefeatedOut(norm=self._ref(c.norm, refs), frame=frame_out(c.match), defeated_by=c.defeated_by)
                for c in d.defeats
            ],
            conflicts=[
                ConflictOut(
                    behavior=conflict.behavior,
                    sides=[self._ref(n, refs) for n in conflict.sides],
                    resolved_by_policy=conflict.resolved_by_policy,
                )
                for conflict in d.conflicts
            ],
            restatements=[self._ref(self.index.norms[m].norm, refs) for m in d.restated],
        )


def _top_groups(sims: np.ndarray, groups: np.ndarray) -> list[int]:
    """Up to TOP_K candidate positions with similarity >= MIN_SIMILARITY, most similar first, at most
    one per restatement group (request norms, past the graph's positions, are each their own group).

    Why a widening window: a group of restatements has (nearly) one vector, so its members sit
    together at the top; FETCH_K norms usually hold TOP_K groups, and the window grows fourfold while
    they do not (the graph has rules written 25 times)."""
    n = len(sims)
    k = min(FETCH_K, n)
    while True:
        top = in_order(-sims, np.arange(n), k)  # most similar first; ties in index order
        seen: set[int] = set()
        out: list[int] = []
        for ni in top.tolist():
            if len(out) == TOP_K or sims[ni] < MIN_SIMILARITY:
                return out
            group = int(groups[ni]) if ni < len(groups) else -1 - ni
            if group not in seen:
                seen.add(group)
                out.append(ni)
                if len(out) == TOP_K:
                    return out
        if k == n:
            return out
        k = min(4 * k, n)


def _negation_out(negation: Negation | None, evidence: Evidence) -> NegationOut | None:
    if negation is None:
        return None
    return NegationOut(
        cue=negation.cue,
        start=evidence.start + negation.start,
        end=evidence.start + negation.end,
        judged_as=negation.affirmative,
    )


def render_text(result: CheckResult) -> str:
    """A short human-readable account of a check (CLI output and ``explain=text``)."""
    from normkg.reasoning.explain import render_frame, render_norm, render_source

    lines = [
        f"verdict: {result.verdict} ({len(result.findings)} findings, "
        f"{result.norms_considered} norms considered)"
    ]
    lines += [f"warning: {w}" for w in result.warnings]
    if result.context.facts:
        lines.append("context: " + ", ".join(f"{f.slot}={f.label}" for f in result.context.facts))
    for m in result.context.mappings:
        if m.method != "exact":
            target = m.label if m.label else "nothing (unmatched)"
            lines.append(f"  mapped {m.field} {m.given!r} -> {target} by {m.method} (score {m.score:.2f})")
    for f in result.findings:
        e = f.evidence
        lines.append(f"- sentence {e.sentence + 1} [{e.start}:{e.end}] {e.text!r}")
        lines.append(
            f"  {f.label} {render_norm(f.norm)} with p={f.probability:.2f} (similarity {f.similarity:.2f})"
        )
        if f.negation is not None:
            lines.append(
                f"  negated by {f.negation.cue!r}: judged as {f.negation.judged_as!r}, verdict reversed"
            )
        if f.restatements:
            lines.append(f"  also stated in: {'; '.join(render_source(r) for r in f.restatements)}")
        lines.append(f"  {render_frame(f.frame)}")
        for d in f.defeated_alternatives:
            lines.append(f"  defeats {render_norm(d.norm)}")
        for c in f.conflicts:
            others = [render_norm(s) for s in c.sides if s.id != f.norm.id]
            note = f" (resolved by {c.resolved_by_policy})" if c.resolved_by_policy else " (unresolved)"
            lines.append(f"  conflicts with {'; '.join(others)}{note}")
    return "\n".join(lines)
