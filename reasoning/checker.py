"""Checking an LLM response against the norms that hold in its context.

Per request: split the response into sentences (spaCy senter, offsets into the original text),
embed each sentence once, retrieve the closest applicable norms per sentence from the cached norm
index (plus the norms sent with the request), let the decision model (``judge``) say violates /
follows / unrelated with a calibrated probability, and explain each finding. Norms are never
embedded per request except those the request itself brings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from normkg.errors import InputError
from normkg.ingest.judgments import polarity as word_polarity
from normkg.ingest.loaders.normbank import behavior_node
from normkg.reasoning.applicability import (
    Candidate,
    Conflict,
    FrameMatch,
    FrameTable,
    Status,
    match_constraints,
    resolve,
)
from normkg.reasoning.context import Context, NormalizedContext, normalize
from normkg.reasoning.explain import ConflictOut, ContextOut, DefeatedOut, FrameOut, NormRef, frame_out
from normkg.reasoning.judge import LABELS, NormJudge, Verdict, retrieval_vectors
from normkg.reasoning.norm_index import NormIndex, deontic_kind
from normkg.reasoning.norms_query import candidates_for
from normkg.reasoning.sentences import Sentence, split_many
from normkg.reasoning.vocabulary import Vocabulary

#: candidates retrieved per sentence, and the least cosine similarity to consider a norm at all
TOP_K = 5
MIN_SIMILARITY = 0.25
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


class Evidence(BaseModel):
    sentence: int
    text: str
    start: int = Field(description="Character offset of the sentence in the response.")
    end: int


class Finding(BaseModel):
    label: Literal["violates", "follows"]
    probability: float
    probabilities: dict[str, float]
    similarity: float
    evidence: Evidence
    norm: NormRef
    frame: FrameOut
    defeated_alternatives: list[DefeatedOut] = []
    conflicts: list[ConflictOut] = []


class CheckResult(BaseModel):
    verdict: Literal["violation", "consistent", "no_applicable_norm"]
    findings: list[Finding]
    sentences: list[Evidence]
    context: ContextOut
    norms_considered: int


@dataclass
class _Pool:
    """The norms a request is checked against: applicable graph norms and request norms."""

    candidates: list[Candidate]
    retrieval: np.ndarray
    judge: np.ndarray
    refs: dict[str, NormRef]
    conflicts: list[Conflict]


def request_candidates(
    norms: Sequence[RequestNorm], context: NormalizedContext, vocabulary: Vocabulary, frames: FrameTable
) -> tuple[list[Candidate], dict[str, NormRef]]:
    from normkg.reasoning.applicability import constraint

    labels = vocabulary.labels()
    out: list[Candidate] = []
    refs: dict[str, NormRef] = {}
    for i, norm in enumerate(norms):
        norm_id = f"request:norms[{i}]"
        pol = word_polarity(norm.judgment, f"norms[{i}].judgment") if norm.judgment else None
        frame_iri: str | None = None
        match = FrameMatch(None, Status.GENERAL)
        if norm.frame is not None and not norm.frame.is_empty():
            framed = normalize(norm.frame, vocabulary)
            frame_iri = f"{norm_id}:frame"
            constraints = [constraint(f.property.value, f.value.value, labels) for f in framed.facts]
            match = match_constraints(frame_iri, constraints, context)
            frames.add_frame(frame_iri, frozenset(constraints))
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
    return out, refs


class Checker:
    """Checks responses; holds nothing but references to the shared, read-only state."""

    def __init__(
        self,
        index: NormIndex,
        frames: FrameTable,
        vocabulary: Vocabulary,
        judge: NormJudge,
        norm_ref: object,
        source_priority: Sequence[str] = (),
    ) -> None:
        self.index = index
        self.frames = frames
        self.vocabulary = vocabulary
        self.judge = judge
        self._norm_ref = norm_ref
        self.source_priority = tuple(source_priority)

    def _ref(self, norm: str, refs: dict[str, NormRef]) -> NormRef:
        ref = refs.get(norm)
        if ref is None:
            found = self._norm_ref(norm)  # type: ignore[operator]
            ref = (
                found
                if found is not None
                else NormRef(id=norm, text=self.index.norms[self.index.position[norm]].text)
            )
            refs[norm] = ref
        return ref

    def _pool(self, context: NormalizedContext, norms: Sequence[RequestNorm], use_graph: bool) -> _Pool:
        frames = self.frames.copy()
        graph = candidates_for(self.index, frames, context) if use_graph else []
        extra, refs = request_candidates(norms, context, self.vocabulary, frames)
        candidates = [c for c in graph + extra if c.match.status is not Status.EXCLUDED]
        conflicts = resolve(candidates, frames, self.source_priority)
        positions = [self.index.position[c.norm] for c in candidates if c.norm in self.index.position]
        retrieval = (
            self.index.retrieval[positions] if positions else np.zeros((0, self.index.retrieval.shape[1]))
        )
        judge = self.index.judge[positions] if positions else np.zeros((0, self.index.judge.shape[1]))
        ordered = [c for c in candidates if c.norm in self.index.position]
        kept = [c for c in extra if c.match.status is not Status.EXCLUDED]
        if kept:
            vectors = self.judge.embed_norms([c.text for c in kept], [deontic_kind(c.polarity) for c in kept])
            retrieval = np.vstack([retrieval, retrieval_vectors(vectors)])
            judge = np.vstack([judge, vectors])
            ordered += kept
        return _Pool(ordered, retrieval, judge, refs, conflicts)

    def check_many(
        self,
        responses: Sequence[str],
        contexts: Sequence[Context | None],
        norms: Sequence[Sequence[RequestNorm]],
        use_graph: Sequence[bool],
    ) -> list[CheckResult]:
        for i, response in enumerate(responses):
            if not response.strip():
                raise InputError(
                    f"{'response' if len(responses) == 1 else f'items[{i}].response'}: is empty",
                    hint="send the model's response text",
                )
            if len(response) > MAX_RESPONSE_CHARS:
                raise InputError(
                    f"response: longer than {MAX_RESPONSE_CHARS} characters", hint="check it in parts"
                )
        split = split_many(list(responses))
        flat = [s.text for sentences in split for s in sentences]
        # one encoder pass per sentence: the judge reads the same vectors retrieval compares
        vectors = self.judge.embed_sentences(flat)
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
                    vectors[offset : offset + n],
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
        sentence_vectors: np.ndarray,
    ) -> CheckResult:
        from normkg.reasoning.explain import context_out

        ctx = normalize(context or Context(), self.vocabulary)
        pool = self._pool(ctx, norms, use_graph)
        evidence = [Evidence(sentence=s.index, text=s.text, start=s.start, end=s.end) for s in sentences]
        if not pool.candidates or not sentences:
            return CheckResult(
                verdict="no_applicable_norm",
                findings=[],
                sentences=evidence,
                context=context_out(ctx),
                norms_considered=len(pool.candidates),
            )
        sims = sentence_vectors @ pool.retrieval.T  # (sentences, norms)
        k = min(TOP_K, sims.shape[1])
        pairs: list[tuple[int, int, float]] = []
        for si in range(sims.shape[0]):
            top = np.argpartition(-sims[si], k - 1)[:k]
            for ni in top:
                if sims[si, ni] >= MIN_SIMILARITY:
                    pairs.append((si, int(ni), float(sims[si, ni])))
        findings: list[Finding] = []
        if pairs:
            probs = self.judge.judge(
                pool.judge[[p[1] for p in pairs]], sentence_vectors[[p[0] for p in pairs]]
            )
            for (si, ni, sim), p in zip(pairs, probs, strict=True):
                label = LABELS[int(np.argmax(p))]
                if label is Verdict.UNRELATED or float(np.max(p)) < MIN_PROBABILITY:
                    continue
                cand = pool.candidates[ni]
                if cand.defeated:
                    continue
                findings.append(self._finding(cand, label, p, sim, evidence[si], pool))
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
            norms_considered=len(pool.candidates),
        )

    def _finding(
        self, cand: Candidate, label: Verdict, p: np.ndarray, sim: float, evidence: Evidence, pool: _Pool
    ) -> Finding:
        probabilities = {name.value: round(float(v), 4) for name, v in zip(LABELS, p, strict=True)}
        defeated = [
            DefeatedOut(
                norm=self._ref(c.norm, pool.refs), frame=frame_out(c.match), defeated_by=c.defeated_by
            )
            for c in pool.candidates
            if c.behavior and c.behavior == cand.behavior and cand.norm in c.defeated_by
        ]
        conflicts = [
            ConflictOut(
                behavior=conflict.behavior,
                sides=[self._ref(n, pool.refs) for n in conflict.sides],
                resolved_by_policy=conflict.resolved_by_policy,
            )
            for conflict in pool.conflicts
            if cand.norm in conflict.sides
        ]
        return Finding(
            label=label.value,
            probability=probabilities[label.value],
            probabilities=probabilities,
            similarity=round(sim, 4),
            evidence=evidence,
            norm=self._ref(cand.norm, pool.refs),
            frame=frame_out(cand.match),
            defeated_alternatives=defeated,
            conflicts=conflicts,
        )


def render_text(result: CheckResult) -> str:
    """A short human-readable account of a check (CLI output and ``explain=text``)."""
    from normkg.reasoning.explain import render_frame, render_norm

    lines = [
        f"verdict: {result.verdict} ({len(result.findings)} findings, "
        f"{result.norms_considered} norms considered)"
    ]
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
        lines.append(f"  {render_frame(f.frame)}")
        for d in f.defeated_alternatives:
            lines.append(f"  defeats {render_norm(d.norm)}")
        for c in f.conflicts:
            others = [render_norm(s) for s in c.sides if s.id != f.norm.id]
            note = f" (resolved by {c.resolved_by_policy})" if c.resolved_by_policy else " (unresolved)"
            lines.append(f"  conflicts with {'; '.join(others)}{note}")
    return "\n".join(lines)
