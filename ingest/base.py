"""What every loader shares: the Loader contract, records, row-level error reporting, provenance.

A loader streams *records* (one per source row, with file and line) and maps each one to triples.
A record that cannot be mapped is reported (file:line, reason) and its partial triples are thrown
away; the other rows go on. That is pySHACL's lesson: bad data gives a report, not an exception.
Every node a row asserts is tied to that row by ``prov:wasDerivedFrom``, and the row to its dataset.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import io
import json
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pyoxigraph as ox

from normkg.errors import SourceError
from normkg.kg.terms import Subject, Term, Triple
from normkg.ontology.namespace import DCTERMS, NKG, PROV, RDF, RDFS, SKOS, mint, ontology_text

csv.field_size_limit(16 * 1024 * 1024)


class RowError(ValueError):
    """Raised by a loader's ``map`` when a row is malformed; the row is reported and skipped."""


@dataclass(frozen=True)
class Record:
    """One source row: where it is (file relative to the dataset folder, 1-based line) and its data."""

    file: str
    line: int
    data: Any
    source_id: str | None = None


@dataclass(frozen=True)
class BadRecord:
    """A row that could not even be parsed (broken JSON, wrong number of columns, bad encoding)."""

    file: str
    line: int
    reason: str


@dataclass(frozen=True)
class RowIssue:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class DatasetInfo:
    """Who published a source and under which terms (shown in the README, the API and the graph)."""

    title: str
    citation: str
    license: str
    license_iri: str | None = None
    homepage: str | None = None


class RowTriples:
    """The triples of one row, committed only if the whole row maps without error."""

    def __init__(self, row: ox.NamedNode) -> None:
        self.row = row
        self.triples: list[Triple] = []

    def add(self, s: Subject, p: ox.NamedNode, o: Term | None) -> None:
        """Add a triple; ``None`` objects (missing optional values) are skipped."""
        if o is not None:
            self.triples.append((s, p, o))

    def entity(self, node: ox.NamedNode, cls: ox.NamedNode) -> ox.NamedNode:
        """Assert ``node`` as an instance of ``cls`` derived from this row."""
        self.triples.append((node, RDF.type, cls))
        self.triples.append((node, PROV.wasDerivedFrom, self.row))
        return node

    def text(self, s: Subject, p: ox.NamedNode, value: str | None, lang: str | None = "en") -> None:
        """Add a text literal; empty or missing text is skipped."""
        if value is None:
            return
        value = value.strip()
        if value:
            self.triples.append((s, p, ox.Literal(value, language=lang) if lang else ox.Literal(value)))

    def number(self, s: Subject, p: ox.NamedNode, value: int | float | None) -> None:
        if value is not None:
            self.triples.append((s, p, ox.Literal(value)))

    def label(self, s: Subject, value: str, lang: str = "en") -> None:
        self.triples.append((s, SKOS.prefLabel, ox.Literal(value, language=lang)))
        self.triples.append((s, RDFS.label, ox.Literal(value, language=lang)))


@dataclass
class LoadResult:
    """What one loader produced: triples, counts and the rows it rejected."""

    source: str
    triples: list[Triple] = field(default_factory=list)
    rows_read: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    content_key: str = ""

    @property
    def rows_rejected(self) -> int:
        return len(self.issues)


class Loader(ABC):
    """One loader per source. The list of loader classes in ``normkg.ingest.registry`` is the registry.

    Subclasses set ``name`` (the source name and, by default, its folder under the data dir),
    ``dataset`` (credits and license), and implement ``records`` and ``map``.
    """

    #: the source name (also its folder under the data dir); norm packs set it per instance
    name: str
    folder: ClassVar[str | None] = None
    dataset: DatasetInfo
    #: files (glob patterns relative to the folder) whose bytes decide whether re-ingest is needed
    inputs: tuple[str, ...] = ("**/*",)

    def __init__(self, root: Path) -> None:
        """``root`` is the dataset's own folder (e.g. ``shared/data/social-chem-101``)."""
        if not root.is_dir():
            raise SourceError(f"{self.name}: folder {root} not found")
        self.root = root

    @classmethod
    def folder_name(cls) -> str:
        return cls.folder or cls.name

    @abstractmethod
    def records(self) -> Iterator[Record | BadRecord]:
        """Stream the source's rows, in a deterministic order."""

    @abstractmethod
    def map(self, record: Record, out: RowTriples) -> None:
        """Map one record to triples on ``out``; raise :class:`RowError` (or KeyError/ValueError) if bad."""

    # ---- provided ----------------------------------------------------------------------
    @property
    def dataset_node(self) -> ox.NamedNode:
        return mint("dataset", self.name)

    def row_node(self, record: Record) -> ox.NamedNode:
        return mint("row", self.name, record.file, record.line)

    def require_file(self, relative: str | Path) -> Path:
        """The path of an input file the source cannot be read without; SourceError if it is missing."""
        path = self.root / relative
        if not path.is_file():
            raise SourceError(f"{self.name}: {path} not found")
        return path

    def input_files(self) -> list[Path]:
        files: set[Path] = set()
        for pattern in self.inputs:
            files.update(p for p in self.root.glob(pattern) if p.is_file())
        return sorted(files)

    def content_key(self) -> str:
        """Hash of the input files, this loader's code and the ontology: same key, same triples."""
        digest = hashlib.sha256()
        for path in self.input_files():
            digest.update(str(path.relative_to(self.root)).encode())
            digest.update(path.read_bytes())
        # the loader's whole module (its mapping helpers too) and this module's shared code
        digest.update(inspect.getsource(sys.modules[type(self).__module__]).encode())
        digest.update(inspect.getsource(sys.modules[__name__]).encode())
        digest.update(ontology_text().encode())
        return digest.hexdigest()

    def dataset_triples(self) -> list[Triple]:
        d = self.dataset_node
        info = self.dataset
        triples: list[Triple] = [
            (d, RDF.type, NKG.Dataset),
            (d, NKG.sourceName, ox.Literal(self.name)),
            (d, DCTERMS.title, ox.Literal(info.title)),
            (d, NKG.citation, ox.Literal(info.citation)),
            (d, NKG.licenseNote, ox.Literal(info.license)),
        ]
        if info.license_iri:
            triples.append((d, DCTERMS.license, ox.NamedNode(info.license_iri)))
        if info.homepage:
            triples.append((d, DCTERMS.source, ox.NamedNode(info.homepage)))
        return triples

    def run(self) -> LoadResult:
        """Read every record and map it; bad rows are reported, good rows kept."""
        result = LoadResult(self.name, content_key=self.content_key())
        result.triples.extend(self.dataset_triples())
        dataset = self.dataset_node
        for record in self.records():
            result.rows_read += 1
            if isinstance(record, BadRecord):
                result.issues.append(RowIssue(record.file, record.line, record.reason))
                continue
            row = self.row_node(record)
            out = RowTriples(row)
            try:
                self.map(record, out)
            except (RowError, KeyError, ValueError, TypeError, IndexError) as exc:
                reason = str(exc) if isinstance(exc, RowError) else f"{type(exc).__name__}: {exc}"
                result.issues.append(RowIssue(record.file, record.line, reason))
                continue
            if not out.triples:
                continue
            result.triples.extend(out.triples)
            result.triples.append((row, RDF.type, NKG.SourceRow))
            result.triples.append((row, NKG.inDataset, dataset))
            result.triples.append((row, NKG.sourceFile, ox.Literal(record.file)))
            result.triples.append((row, NKG.sourceLine, ox.Literal(record.line)))
            if record.source_id is not None:
                result.triples.append((row, NKG.sourceId, ox.Literal(record.source_id)))
        return result


# ---- readers shared by loaders ---------------------------------------------------------------


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root))


def read_csv(path: Path, root: Path, *, required: tuple[str, ...] = ()) -> Iterator[Record | BadRecord]:
    """CSV rows as dicts, one record per row, with the line the row starts on.

    A row with the wrong number of fields, or a file missing a required column, is a BadRecord;
    undecodable bytes are replaced and reported.
    """
    rel = _rel(path, root)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield BadRecord(
            rel, raw[: exc.start].count(b"\n") + 1, f"not UTF-8 ({exc.reason}); bad bytes replaced"
        )
        text = raw.decode("utf-8-sig", errors="replace")
    if not text.strip():
        yield BadRecord(rel, 1, "empty file")
        return
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except csv.Error as exc:
        yield BadRecord(rel, 1, f"unreadable header: {exc}")
        return
    missing = [c for c in required if c not in header]
    if missing:
        yield BadRecord(rel, 1, f"missing column(s): {', '.join(missing)}")
        return
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield BadRecord(rel, line, f"broken CSV: {exc}")
            break
        if values and len(values) != len(header):
            yield BadRecord(rel, line, f"expected {len(header)} fields, found {len(values)}")
        elif values:
            yield Record(rel, line, dict(zip(header, values, strict=True)))
        line = reader.line_num + 1


def read_jsonl(path: Path, root: Path) -> Iterator[Record | BadRecord]:
    """JSON lines, one record per non-blank line; an invalid line is a BadRecord."""
    rel = _rel(path, root)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield BadRecord(rel, number, f"not UTF-8: {exc.reason}")
                continue
            except json.JSONDecodeError as exc:
                yield BadRecord(rel, number, f"invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(data, dict):
                yield BadRecord(rel, number, f"expected a JSON object, found {type(data).__name__}")
                continue
            yield Record(rel, number, data)


def parse_json_file(path: Path, rel: str) -> tuple[Any, BadRecord | None]:
    """A whole JSON document, or the BadRecord saying where (``rel``, line) it is broken."""
    try:
        return json.loads(path.read_bytes().decode("utf-8")), None
    except UnicodeDecodeError as exc:
        return None, BadRecord(rel, 1, f"not UTF-8: {exc.reason}")
    except json.JSONDecodeError as exc:
        message = f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        return None, BadRecord(rel, exc.lineno, message)


def read_json_array(path: Path, root: Path) -> Iterator[Record | BadRecord]:
    """A JSON array of objects: record number N is the N-th element (1-based), as its 'line'."""
    rel = _rel(path, root)
    data, broken = parse_json_file(path, rel)
    if broken is not None:
        yield broken
        return
    if not isinstance(data, list):
        yield BadRecord(rel, 1, f"expected a JSON array, found {type(data).__name__}")
        return
    for number, item in enumerate(data, start=1):
        if isinstance(item, dict):
            yield Record(rel, number, item)
        else:
            yield BadRecord(rel, number, f"expected a JSON object, found {type(item).__name__}")


def read_lines(path: Path, root: Path) -> Iterator[Record | BadRecord]:
    """Plain text, one record per non-blank line (the NormBank taxonomy files)."""
    rel = _rel(path, root)
    raw = path.read_bytes()
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield BadRecord(rel, number, f"not UTF-8: {exc.reason}")
            continue
        if text:
            yield Record(rel, number, text)


def require(data: dict[str, Any], key: str) -> str:
    """A required non-empty text field, or a RowError naming it."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowError(f"missing {key!r}")
    return str(value).strip()
