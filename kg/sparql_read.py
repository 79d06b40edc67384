"""Read-only SPARQL for users (``normkg sparql``, ``GET /v1/sparql``).

Why a separate entry point: user queries must never write, and must never make the store call other
servers. Each query is parsed (rdflib's SPARQL 1.1 grammar) before it reaches a store: an update is
not a query and is refused by its form, not by keyword search; a ``SERVICE`` clause is refused,
because the store would send a request to any address it names (a server-side request forgery) and
return the answer. Results are returned as plain JSON values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from normkg.errors import QueryError, ReadOnlyError
from normkg.kg.store import GraphStore
from normkg.kg.terms import to_python

_FORMS = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
}


def _mentions_service(node: object) -> bool:
    if isinstance(node, CompValue):
        return node.name == "ServiceGraphPattern" or any(_mentions_service(v) for v in node.values())
    if isinstance(node, ParseResults | list | tuple):
        return any(_mentions_service(v) for v in node)
    return False


def query_form(query: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE, from the parsed query.

    Raises ReadOnlyError for an update or a SERVICE clause, QueryError for text that is neither a
    query nor an update (with the parser's line and column).
    """
    text = query.lstrip("\ufeff")
    if not text.strip():
        raise QueryError("the query is empty", hint="send a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    try:
        parsed = parseQuery(text)
    except ParseException as error:
        try:
            parseUpdate(text)
        except ParseException:
            raise QueryError(
                f"not a SPARQL 1.1 query: {error.msg} at line {error.lineno}, column {error.column}",
                hint="send a SELECT, ASK, CONSTRUCT or DESCRIBE query",
            ) from None
        raise ReadOnlyError(
            "only SELECT, ASK, CONSTRUCT and DESCRIBE queries are allowed here",
            hint="updates (INSERT, DELETE, LOAD, CLEAR, DROP, ...) are refused",
        ) from None
    if _mentions_service(parsed):
        raise ReadOnlyError(
            "SERVICE clauses are refused: user queries may not make the server call other endpoints",
            hint="query the other endpoint directly, or load its data into a store of your own",
        )
    return _FORMS[parsed[1].name]


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
