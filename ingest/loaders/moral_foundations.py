"""Moral foundations dictionaries: MFD 2.0, the original MFD and the extended MFD (eMFD).

Source: shared/data/moral-foundations-dictionary (SOURCE.txt), copied verbatim from
github.com/medianeuroscience/emfdscore (``emfdscore/dictionaries``):

- ``mfd2.0.dic`` (Frimer et al. 2019) and ``mft_original.dic`` (Graham, Haidt, Nosek 2009) are LIWC
  dictionaries: a header between two ``%`` lines numbers the categories (``1 care.virtue`` ...), then each
  line is a word (or phrase, or a ``*`` wildcard stem in the original MFD) followed by its category ids.
- ``emfd_scoring.csv`` (Hopp et al. 2021): per word, the probability that it is annotated with each of
  five foundations (``care_p`` ...) and the mean sentiment of those annotations (``care_sent`` ...).

Every (word, category) pair becomes one ``nkg:LexiconEntry`` tied to the shared foundation concepts
(``nkg:Care`` ...), so the same foundation is one node whichever dictionary or dataset names it. An entry's
IRI is minted from lexicon, word and category: a line repeated in a dictionary yields the same entry
(derived from both lines) rather than a second one, so re-ingest stays deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

from normkg.errors import SourceError
from normkg.ingest.base import (
    BadRecord,
    DatasetInfo,
    Loader,
    Record,
    RowError,
    RowTriples,
    read_csv,
    require,
)
from normkg.ingest.vocab import foundation
from normkg.kg.terms import Triple
from normkg.ontology.namespace import DCTERMS, NKG, PROV, RDF, RDFS, XSD, mint

SOURCE = "moral-foundations-dictionary"


@dataclass(frozen=True)
class Lexicon:
    key: str
    file: str
    title: str
    citation: str


MFD2 = Lexicon(
    "mfd2",
    "mfd2.0.dic",
    "Moral Foundations Dictionary 2.0",
    "Frimer, Boghrati, Haidt, Graham, Dehghani (2019). Moral Foundations Dictionary for Linguistic Analyses "
    "2.0. OSF osf.io/ezn37.",
)
MFD_ORIGINAL = Lexicon(
    "mfd-original",
    "mft_original.dic",
    "Moral Foundations Dictionary (original)",
    "Graham, Haidt, Nosek (2009). Liberals and conservatives rely on different sets of moral foundations. "
    "Journal of Personality and Social Psychology 96(5).",
)
EMFD = Lexicon(
    "emfd",
    "emfd_scoring.csv",
    "extended Moral Foundations Dictionary (eMFD)",
    "Hopp, Fisher, Cornell, Huskey, Weber (2021). The extended Moral Foundations Dictionary (eMFD). "
    "Behavior Research Methods 53.",
)
LEXICONS = (MFD2, MFD_ORIGINAL, EMFD)
DIC_LEXICONS = {lexicon.file: lexicon for lexicon in (MFD2, MFD_ORIGINAL)}

EMFD_FOUNDATIONS = ("care", "fairness", "loyalty", "authority", "sanctity")
EMFD_COLUMNS = ("word", *(f"{f}_p" for f in EMFD_FOUNDATIONS), *(f"{f}_sent" for f in EMFD_FOUNDATIONS))

_CATEGORY_ID = re.compile(r"\d+")


@dataclass(frozen=True)
class DicLine:
    """One body line of a LIWC dictionary: the word as written and the names of its categories."""

    word: str
    categories: tuple[str, ...]


def polarity(category: str) -> str:
    """'virtue' or 'vice' when the category name says so ('care.virtue', 'HarmVice'), else ''."""
    name = category.strip().lower()
    for label in ("virtue", "vice"):
        if name.endswith(label):
            return label
    return ""


def read_dic(path: Path, root: Path) -> Iterator[Record | BadRecord]:
    """A LIWC ``.dic`` file, one record per word line (data: :class:`DicLine`).

    The header between the first two ``%`` lines maps category ids to names; ids are compared as
    numbers, since the original MFD writes ``01`` where MFD 2.0 writes ``1``. A line naming an id the
    header does not declare is a BadRecord. Words may be phrases ('civil rights'), so the category ids
    are the trailing numeric fields and the word is everything before them.
    """
    rel = str(path.relative_to(root))
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        yield BadRecord(rel, 1, f"not UTF-8: {exc.reason}")
        return
    lines = text.split("\n")
    markers = [number for number, line in enumerate(lines, start=1) if line.strip() == "%"]
    if len(markers) < 2:
        yield BadRecord(rel, 1, "no LIWC header: expected two '%' lines around the category list")
        return
    start, end = markers[0], markers[1]
    categories: dict[int, str] = {}
    for number in range(start + 1, end):
        fields = lines[number - 1].split()
        if not fields:
            continue
        if len(fields) != 2 or not _CATEGORY_ID.fullmatch(fields[0]):
            yield BadRecord(rel, number, "header line must be '<id> <category name>'")
        elif int(fields[0]) in categories:
            yield BadRecord(rel, number, f"category id {fields[0]} declared twice")
        else:
            categories[int(fields[0])] = fields[1]
    for number in range(end + 1, len(lines) + 1):
        fields = lines[number - 1].split()
        if not fields:
            continue
        split = len(fields)
        while split > 0 and _CATEGORY_ID.fullmatch(fields[split - 1]):
            split -= 1
        ids = fields[split:]
        if split == 0 or not ids:
            yield BadRecord(rel, number, "expected a word followed by category ids")
            continue
        unknown = [i for i in ids if int(i) not in categories]
        if unknown:
            yield BadRecord(rel, number, f"unknown category id(s) {', '.join(unknown)} (not in the header)")
            continue
        names = tuple(dict.fromkeys(categories[int(i)] for i in ids))
        yield Record(rel, number, DicLine(" ".join(fields[:split]), names))


def read_mfd2(path: Path) -> dict[str, list[tuple[str, str]]]:
    """MFD 2.0 as plain data, for classifiers that need no graph: word -> [(foundation, polarity)].

    The foundation is the local name of its concept ('Care', 'Fairness', ...), the polarity 'virtue',
    'vice' or '' (a category without one). Pairs keep file order; a repeated line adds nothing. Any
    malformed line raises :class:`SourceError` naming file and line: a baseline must not silently
    classify with half a dictionary.
    """
    lexicon: dict[str, list[tuple[str, str]]] = {}
    for record in read_dic(path, path.parent):
        if isinstance(record, BadRecord):
            raise SourceError(f"{record.file}:{record.line}: {record.reason}")
        entry: DicLine = record.data
        pairs = lexicon.setdefault(entry.word, [])
        for category in entry.categories:
            try:
                pair = (NKG.local_name(foundation(category)), polarity(category))
            except RowError as exc:
                raise SourceError(f"{record.file}:{record.line}: {exc}") from None
            if pair not in pairs:
                pairs.append(pair)
    return lexicon


def lexicon_node(key: str) -> ox.NamedNode:
    return mint("lexicon", SOURCE, key)


def _decimal(data: dict[str, str], column: str) -> ox.Literal:
    """An xsd:decimal literal (the ontology's range) in plain notation: decimals have no exponent."""
    cell = require(data, column)
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise RowError(f"{column}: not a number: {cell!r}") from None
    if not value.is_finite():
        raise RowError(f"{column}: not a finite number: {cell!r}")
    return ox.Literal(format(value, "f"), datatype=XSD.decimal)


class MoralFoundationsLoader(Loader):
    name = SOURCE
    inputs = tuple(lexicon.file for lexicon in LEXICONS)
    dataset = DatasetInfo(
        title="Moral Foundations Dictionaries (MFD 2.0, original MFD, eMFD)",
        citation="; ".join(lexicon.citation for lexicon in LEXICONS)
        + " Files from github.com/medianeuroscience/emfdscore.",
        license="GPL-3.0 (emfdscore repository); dictionaries from their authors — confirm terms before "
        "redistribution",
        license_iri="https://www.gnu.org/licenses/gpl-3.0.html",
        homepage="https://github.com/medianeuroscience/emfdscore",
    )

    def records(self) -> Iterator[Record | BadRecord]:
        for lexicon in LEXICONS:
            path = self.require_file(lexicon.file)
            if lexicon is EMFD:
                for record in read_csv(path, self.root, required=EMFD_COLUMNS):
                    if isinstance(record, Record):
                        yield Record(
                            record.file, record.line, record.data, record.data["word"].strip() or None
                        )
                    else:
                        yield record
            else:
                yield from read_dic(path, self.root)

    def dataset_triples(self) -> list[Triple]:
        """The dataset plus its three lexicons, declared once rather than on every entry's row."""
        triples = super().dataset_triples()
        for lexicon in LEXICONS:
            node = lexicon_node(lexicon.key)
            triples += [
                (node, RDF.type, NKG.Lexicon),
                (node, RDFS.label, ox.Literal(lexicon.title, language="en")),
                (node, DCTERMS.bibliographicCitation, ox.Literal(lexicon.citation)),
                (node, PROV.wasDerivedFrom, self.dataset_node),
            ]
        return triples

    def map(self, record: Record, out: RowTriples) -> None:
        if record.file == EMFD.file:
            self._map_emfd(record.data, out)
        elif record.file in DIC_LEXICONS:
            self._map_dic(DIC_LEXICONS[record.file], record.data, out)
        else:
            raise RowError(f"no mapping for file {record.file}")

    def _entry(self, out: RowTriples, lexicon: Lexicon, written: str, category: str) -> ox.NamedNode:
        """A lexicon entry for one (word, category) pair; a trailing '*' marks a wildcard stem."""
        stem = written.endswith("*")
        word = written.rstrip("*")
        if not word:
            raise RowError(f"empty word {written!r}")
        entry = out.entity(mint("lexicon-entry", self.name, lexicon.key, written, category), NKG.LexiconEntry)
        out.add(entry, NKG.word, ox.Literal(word))
        out.add(entry, NKG.isStem, ox.Literal(stem))
        out.add(entry, NKG.moralFoundation, foundation(category))
        out.add(entry, NKG.inLexicon, lexicon_node(lexicon.key))
        return entry

    def _map_dic(self, lexicon: Lexicon, line: DicLine, out: RowTriples) -> None:
        for category in line.categories:
            entry = self._entry(out, lexicon, line.word, category)
            label = polarity(category)
            if label:
                out.add(entry, NKG.polarityLabel, ox.Literal(label))

    def _map_emfd(self, data: dict[str, str], out: RowTriples) -> None:
        word = require(data, "word")
        # parse every number first, so a bad cell rejects the whole row, not part of it
        scores = {f: (_decimal(data, f"{f}_p"), _decimal(data, f"{f}_sent")) for f in EMFD_FOUNDATIONS}
        for name, (probability, sentiment) in scores.items():
            entry = self._entry(out, EMFD, word, name)
            out.add(entry, NKG.probability, probability)
            out.add(entry, NKG.sentiment, sentiment)
