"""The store interface every backend implements (embedded Oxigraph, remote SPARQL, Neo4j).

Like RDFLib's ``Store``, one small protocol with capability flags instead of ``isinstance`` checks.
A *source graph* is the named graph of one source (its logical name, e.g. ``social-chem-101``);
``replace`` swaps a source's whole content in one atomic step, so readers see the old graph or the
new one, never half of each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO, Protocol, runtime_checkable

from normkg.kg.terms import Bindings, Row, Triple


class ExportFormat(StrEnum):
    TURTLE = "ttl"
    NQUADS = "nq"
    NTRIPLES = "nt"
    JSONLD = "jsonld"


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do natively; callers branch on these, never on the class."""

    sparql: bool = True
    cypher: bool = False
    transactional_replace: bool = True
    persistent: bool = True


@dataclass(frozen=True)
class GraphInfo:
    """One live source graph: its name, content key and counts as recorded at ingest."""

    source: str
    triples: int
    content_key: str = ""
    rows_read: int = 0
    rows_rejected: int = 0
    extra: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplaceResult:
    source: str
    triples: int
    unchanged: bool


@runtime_checkable
class GraphStore(Protocol):
    """What reasoning, ingest and the API may ask of a store."""

    url: str
    capabilities: Capabilities

    def replace(
        self,
        source: str,
        triples: Iterable[Triple],
        *,
        content_key: str = "",
        rows_read: int = 0,
        rows_rejected: int = 0,
        skip_if_unchanged: bool = True,
    ) -> ReplaceResult:
        """Make ``triples`` the whole content of ``source``'s graph, atomically.

        With ``skip_if_unchanged`` and a ``content_key`` equal to the live one, nothing is written.
        """
        ...

    def add(self, source: str, triples: Iterable[Triple]) -> int:
        """Add a batch of triples to ``source``'s graph (creating it); returns how many were given."""
        ...

    def drop(self, source: str) -> None: ...

    def sources(self) -> dict[str, GraphInfo]:
        """The live source graphs."""
        ...

    def query(self, name: str, params: Bindings | None = None) -> list[Row]:
        """Run the named query ``name`` (kg/queries/NAME.rq or NAME.cypher) with bound ``params``.

        This is what reasoning and the API use, so that they never depend on a query language:
        every backend returns the same rows (variable -> RDF term) for the same named query.
        """
        ...

    def select(self, query: str, bindings: Bindings | None = None, *, limit: int | None = None) -> list[Row]:
        """Run a SPARQL SELECT over the union of live source graphs; ``bindings`` are bound, never pasted.

        ``limit`` keeps the first rows only, and where the backend streams, stops reading there (so
        a user's unbounded query cannot fill the memory).
        """
        ...

    def ask(self, query: str, bindings: Bindings | None = None) -> bool: ...

    def construct(
        self, query: str, bindings: Bindings | None = None, *, limit: int | None = None
    ) -> list[Triple]: ...

    def count(self, source: str | None = None) -> int: ...

    def triples(self, source: str) -> Iterable[Triple]:
        """Every triple of one source graph (for export, validation, copying)."""
        ...

    def export(self, out: BinaryIO, fmt: ExportFormat, sources: list[str] | None = None) -> int:
        """Write the live graphs (all, or the named sources) to ``out``; returns the number of triples."""
        ...

    def reader_url(self) -> str | None:
        """A store URL another process can open to read this store while this one keeps it open, or
        None. Why: a user's SPARQL query cannot be interrupted inside a backend, only its process can
        be killed, so the API runs those queries in a worker process that opens this URL."""
        ...

    def close(self) -> None: ...
