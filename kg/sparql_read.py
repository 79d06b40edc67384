"""Read-only SPARQL for users (``normkg sparql``, ``GET /v1/sparql``).

Why a separate entry point: user queries must never write. Updates are refused before they reach a
store (a SPARQL update is not a query, and is rejected by form, not by keyword search), and results
are returned as plain JSON values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from normkg.errors import QueryError, ReadOnlyError
from normkg.kg.store import GraphStore
from normkg.kg.terms import to_python

_FORM = re.compile(
    r"^\s*(?:(?:PREFIX\s+[^\s:]*:\s*<[^>]*>|BASE\s+<[^>]*>)\s*)*(SELECT|ASK|CONSTRUCT|DESCRIBE|\w+)",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"^\s*#[^\n]*\n", re.MULTILINE)


def query_form(query: str) -> str:
    text = query
    while True:
        stripped = _COMMENT.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    match = _FORM.match(text)
    return match.group(1).upper() if match else ""


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
    raise ReadOnlyError(
        "only SELECT, ASK, CONSTRUCT and DESCRIBE queries are allowed here",
        hint="updates (INSERT, DELETE, LOAD, CLEAR, DROP, ...) are refused",
    )
