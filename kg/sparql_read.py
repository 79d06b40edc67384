"""Read-only SPARQL for users (``normkg sparql``, ``GET /v1/sparql``).

Why a separate entry point: user queries must never write, and must never make the store call other
servers. Each query goes to the store's *query* call, which runs no update; its form (SELECT, ASK,
CONSTRUCT, DESCRIBE) is read from its first keyword after the prologue, so an update is refused with a
clear ``read_only`` before it is sent. A ``SERVICE`` clause would make the store send a request to any
address it names, inside the network too, and return the answer (a server-side request forgery), so
the keyword ``SERVICE`` followed by an address or a variable is refused wherever it appears, even in a
comment or a string. Why not a full parse: a second parser (rdflib's) reads comments and ``\\u``
escapes differently from the store's, so a clause hidden from one is seen by the other (a lone
carriage return ends a comment for Oxigraph only), it recurses per triple pattern (a valid 2 KB query
overflowed it) and it refuses the store's extensions (RDF-star, LATERAL). Syntax errors are the store's
to report. Results are returned as plain JSON values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from normkg.errors import QueryError, ReadOnlyError
from normkg.kg.store import GraphStore
from normkg.kg.terms import to_python

_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_UPDATES = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
_GAP = r"(?:\s|#[^\n\r]*)*"  # white space and comments, which may stand between any two tokens
_PROLOGUE = re.compile(rf"{_GAP}(?:(?:PREFIX{_GAP}[^\s:<]*:{_GAP}|BASE{_GAP})<[^>]*>{_GAP})*", re.IGNORECASE)
_KEYWORD = re.compile(r"[A-Za-z]+")
# SERVICE as a keyword (not part of a name), then SILENT, then an IRI, a variable or a prefixed name
_SERVICE = re.compile(
    rf"(?<![\w:?$])SERVICE{_GAP}(?:SILENT\b{_GAP})?(?:<|[?$]|[^\s<>{{}}#]*:)", re.IGNORECASE
)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescaped(text: str) -> str:
    """``text`` with SPARQL's \\u and \\U escapes expanded, as a server that follows the spec reads it."""

    def expand(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _ESCAPE.sub(expand, text)


def query_form(query: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the keyword after the prologue.

    Raises ReadOnlyError for an update or a SERVICE clause, QueryError for an empty query or one that
    opens with anything else.
    """
    if any(_SERVICE.search(text) for text in (query, _unescaped(query))):
        raise ReadOnlyError(
            "SERVICE clauses are refused: user queries may not make the server call other endpoints",
            hint="query the other endpoint directly, or load its data into a store of your own",
        )
    text = query.lstrip("\ufeff")
    start = _PROLOGUE.match(text)
    keyword = _KEYWORD.match(text, start.end() if start else 0)
    if keyword is None:
        rest = text[start.end() if start else 0 :].strip()
        if not rest:
            raise QueryError("the query is empty", hint="send a SELECT, ASK, CONSTRUCT or DESCRIBE query")
        raise QueryError(
            f"not a query: it opens with {rest[:20]!r}",
            hint="send a SELECT, ASK, CONSTRUCT or DESCRIBE query",
        )
    word = keyword.group(0).upper()
    if word in _FORMS:
        return word
    if word in _UPDATES:
        raise ReadOnlyError(
            "only SELECT, ASK, CONSTRUCT and DESCRIBE queries are allowed here",
            hint="updates (INSERT, DELETE, LOAD, CLEAR, DROP, ...) are refused",
        )
    raise QueryError(
        f"not a query: it opens with {keyword.group(0)!r}",
        hint="a query opens with SELECT, ASK, CONSTRUCT or DESCRIBE (after PREFIX and BASE lines)",
    )


@dataclass(frozen=True)
class ReadAnswer:
    """A user query's answer: rows (SELECT), a boolean (ASK) or triples (CONSTRUCT, DESCRIBE);
    ``truncated`` when there were more rows or triples than the limit."""

    result: list[dict[str, Any]] | bool | list[list[str]]
    truncated: bool = False


def run_read_only(store: GraphStore, query: str, max_rows: int | None = None) -> ReadAnswer:
    """Run a user query; SELECT -> rows of plain values, ASK -> bool, CONSTRUCT/DESCRIBE -> triples,
    at most ``max_rows`` of them (None: all)."""
    if not store.capabilities.sparql:
        raise QueryError(f"the store {store.url} does not speak SPARQL", hint="use the named-query API")
    query = query.lstrip("\ufeff")
    form = query_form(query)
    probe = None if max_rows is None else max_rows + 1  # one more row tells whether there were more
    if form == "SELECT":
        rows = [{k: to_python(v) for k, v in row.items()} for row in store.select(query, limit=probe)]
        return ReadAnswer(rows[:max_rows], len(rows) == probe)
    if form == "ASK":
        return ReadAnswer(store.ask(query))
    if form in ("CONSTRUCT", "DESCRIBE"):
        triples = [[str(s), str(p), str(o)] for s, p, o in store.construct(query, limit=probe)]
        return ReadAnswer(triples[:max_rows], len(triples) == probe)
    raise AssertionError(f"unhandled query form {form}")
