"""Negation scope by rewriting: judge the affirmative sentence, then reverse the verdict.

Why: a bi-encoder vector of "I won't help you cheat" sits next to "I will help you cheat" (the topic
dominates the vector), and a judge tuned to what actions are like morally tends to read both alike.
When the negation is in the sentence's main clause, its stance toward a norm is the reverse of the
affirmative's: "I won't help you cheat" follows "It's wrong to cheat" exactly because "I will help you
cheat" violates it. So the checker judges the affirmative ("I will help you cheat") and swaps
violates and follows; "unrelated" stays unrelated. The rewrite is reported in the explanation.

Rules, not a parser, because the cues of English negation are few and closed (not, n't, never, no
one, nothing, refuse, unable, avoid, no need) and spaCy's parser would cost ~15 ms per response. The
rules decline (return None) whenever the negation's scope is unclear: no cue in the main clause, a
cue only in a leading subordinate clause ("If you can't pay, ..."), or a fixed phrase that is not a
negation of the act ("not only", "no matter", "can't wait"). Only the main clause is kept, with its
cues turned positive: "You don't need to give back the camera; he forgot he lent it" -> "You do need
to give back the camera." (keeping the reason clause made the affirmative contradict itself).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# cue (lower case, apostrophes normalised) -> its positive form; longest alternatives first in the regex
_POSITIVE: dict[str, str] = {
    "won't": "will",
    "will not": "will",
    "can't": "can",
    "cannot": "can",
    "can not": "can",
    "couldn't": "could",
    "could not": "could",
    "shouldn't": "should",
    "should not": "should",
    "wouldn't": "would",
    "would not": "would",
    "mustn't": "must",
    "must not": "must",
    "don't": "do",
    "do not": "do",
    "doesn't": "does",
    "does not": "does",
    "didn't": "did",
    "did not": "did",
    "isn't": "is",
    "is not": "is",
    "aren't": "are",
    "are not": "are",
    "wasn't": "was",
    "was not": "was",
    "weren't": "were",
    "were not": "were",
    "haven't": "have",
    "have not": "have",
    "hasn't": "has",
    "has not": "has",
    "hadn't": "had",
    "ain't": "is",
    "am not": "am",
    "'m not": "'m",
    "'re not": "'re",
    "'s not": "'s",
    "not": "",
    "never": "always",
    "no longer": "still",
    "no need to": "a need to",
    "no reason to": "a reason to",
    "nothing": "something",
    "no one": "everyone",
    "nobody": "everybody",
    "refuse to": "agree to",
    "refused to": "agreed to",
    "decline to": "agree to",
    "declined to": "agreed to",
    "unable to": "able to",
    "avoid": "try",
}
# Phrases with a negation word that do not negate the act.
_IDIOMS = re.compile(
    r"\b(?:not only|not just|not to mention|no matter|never mind|no doubt|nothing but|can't wait|"
    r"cannot wait|couldn't agree|could not agree|can't stress|cannot stress|can't thank|"
    r"not sure whether|whether or not)\b",
    re.IGNORECASE,
)
_CUE = re.compile(
    r"(?<![\w'])(?:"
    + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in sorted(_POSITIVE, key=len, reverse=True))
    + r")(?![\w'])",
    re.IGNORECASE,
)
# "'m not" etc. attach to the previous word: match them without the leading word boundary.
_CLITIC = re.compile(r"(?<=\w)(?:'m|'re|'s)\s+not(?![\w'])", re.IGNORECASE)
# Discourse openers that come before the main clause: "I'm sorry, but", "No,", "Unfortunately,".
_LEAD_IN = re.compile(
    r"^(?:\s*(?:(?:no|nope|sorry|unfortunately|honestly|well|okay|ok|look|sadly|frankly|"
    r"i'm sorry|i am sorry|i apologi[sz]e|as an ai(?: language model| assistant)?)\s*[,.!;:]\s*(?:but\s+)?"
    r"|(?:i'm |i am )?sorry,?\s+but\s+))+",
    re.IGNORECASE,
)
# A negated copula near the clause's end evaluates the subject: "Reading her diary is not okay."
_COPULA = re.compile(r"^(?:is|are|was|were|'s|'re)\b", re.IGNORECASE)
_EARLY_WORDS = 4
_SUBORDINATE_START = re.compile(
    r"^(?:if|when|whenever|unless|although|though|even if|even though|because|since|while|whether|"
    r"before|after|as long as|once|until)\b",
    re.IGNORECASE,
)
# Where a clause ends: punctuation or a conjunction that starts a new clause.
_CLAUSE_END = re.compile(
    r"[,;:()\u2014]|\s(?:because|if|unless|when|although|though|since|while|but|so that|whereas|which|"
    r"who)\s",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Negation:
    """A sentence whose main clause is negated, and its affirmative rewrite."""

    cue: str  # the main clause's negation as written: "won't"
    start: int  # character offsets of ``cue`` in the sentence
    end: int
    affirmative: str  # the main clause with its negation cues turned positive


def ascii_apostrophes(text: str) -> str:
    """Typographic apostrophes as ASCII; same length, so offsets stay valid."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


def _main_clause(text: str) -> tuple[int, int] | None:
    """Offsets of the main clause: after any lead-in and any leading subordinate clause."""
    start = 0
    if m := _LEAD_IN.match(text):
        start = m.end()
    rest = text[start:]
    if _SUBORDINATE_START.match(rest):
        comma = rest.find(",")
        if comma < 0:
            return None
        start += comma + 1
        start += len(text[start:]) - len(text[start:].lstrip())
    end_match = _CLAUSE_END.search(text, start)
    end = end_match.start() if end_match else len(text)
    return (start, end) if end > start else None


def _cues(text: str) -> list[re.Match[str]]:
    """Negation cues in order, without those inside idioms or already matched as clitics ("'s not")."""
    found = list(_CLITIC.finditer(text))
    spans = [(m.start(), m.end()) for m in [*_IDIOMS.finditer(text), *found]]
    found += [m for m in _CUE.finditer(text) if not any(a < m.end() and m.start() < b for a, b in spans)]
    return sorted(found, key=lambda m: m.start())


def _positive(cue: str) -> str:
    key = re.sub(r"\s+", " ", cue.lower())
    return key.split()[0] if key.startswith("'") else _POSITIVE[key]


def _cased(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if word and like[:1].isupper() else word


def find_negation(sentence: str) -> Negation | None:
    """The negation of ``sentence``'s main clause with its affirmative rewrite, or None when the
    sentence is affirmative or the negation's scope is unclear (see the module docstring)."""
    text = ascii_apostrophes(sentence)
    clause = _main_clause(text)
    if clause is None:
        return None
    cues = _cues(text)
    main = [m for m in cues if clause[0] <= m.start() < clause[1]]
    if not main:
        return None
    first = main[0]
    if first.group(0).lower() == "not" and first.start() == clause[0]:
        return None  # "Not tomorrow, call her today": a contrast, not a negated act
    words_before = len(text[clause[0] : first.start()].split())
    words_after = len(text[first.end() : clause[1]].split())
    if words_before >= _EARLY_WORDS and not (_COPULA.match(first.group(0)) and words_after <= _EARLY_WORDS):
        return None  # deep in the clause, likely inside a relative clause: "items you didn't pay for"
    pieces: list[str] = []
    cursor = clause[0]
    for m in main:
        pieces.append(sentence[cursor : m.start()])
        pieces.append(_cased(_positive(m.group(0)), m.group(0)))
        cursor = m.end()
    pieces.append(sentence[cursor : clause[1]].rstrip(" .!?") + ".")
    affirmative = re.sub(r"\s{2,}", " ", "".join(pieces)).strip()
    affirmative = re.sub(r"\s+([,.;:!?])", r"\1", affirmative)
    affirmative = affirmative[:1].upper() + affirmative[1:]
    return Negation(
        cue=sentence[first.start() : first.end()],
        start=first.start(),
        end=first.end(),
        affirmative=affirmative,
    )


def judged_text(sentence: str) -> tuple[str, bool]:
    """What the judge reads for ``sentence``, and whether its verdict must be reversed."""
    negation = find_negation(sentence)
    return (negation.affirmative, True) if negation is not None else (sentence, False)
