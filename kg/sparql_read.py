"""Read-only SPARQL for users (``normkg sparql``, ``GET /v1/sparql``).

Why a separate entry point: user queries must never write. Updates are refused before they reach a
store (a SPARQL update is not a query, and is rejected by form, not by keyword search), and results
are returned as plain JSON values.
"""

from __future__ import annotations

import re
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


def run_read_only(store: GraphStore, query: str) -> list[dict[str, Any]] | bool | list[list[str]]:
    """Run a user query; SELECT → rows of plain values, ASK → bool, CONSTRUCT/DESCRIBE → triples."""
    if not store.capabilities.sparql:
        raise QueryError(f"the store {store.url} does not speak SPARQL", hint="use the named-query API")
    form = query_form(query)
    if form == "SELECT":
        return [{k: to_python(v) for k, v in row.items()} for row in store.select(query)]
    if form == "ASK":
        return store.ask(query)
    if form in ("CONSTRUCT", "DESCRIBE"):
        return [[str(s), str(p), str(o)] for s, p, o in store.construct(query)]
    raise ReadOnlyError(
        "only SELECT, ASK, CONSTRUCT and DESCRIBE queries are allowed here",
        hint="updates (INSERT, DELETE, LOAD, CLEAR, DROP, ...) are refused",
    )
