"""Bound parameters for SPARQL text, the same way for every SPARQL backend.

A value never enters a query by string building: it is written as an RDF term by pyoxigraph's
serialiser (which escapes quotes, braces and newlines) inside a ``VALUES`` block placed at the start
of the query's WHERE group, where it binds the variable before any pattern is evaluated.
Remote SPARQL servers have no standard parameter API, and Oxigraph's own substitutions require the
variable to be projected; this works for both.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from normkg.errors import QueryError
from normkg.kg.terms import Bindings, Term

_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def term_text(term: Term) -> str:
    if not isinstance(term, ox.NamedNode | ox.Literal | ox.BlankNode):
        raise QueryError(f"cannot bind {type(term).__name__}: only RDF terms can be bound")
    if isinstance(term, ox.BlankNode):
        raise QueryError("blank nodes cannot be bound")
    return str(term)


def bind(query: str, bindings: Bindings | None) -> str:
    """``query`` with each ``?name`` bound: a term binds it to one value, a list to any of several."""
    if not bindings:
        return query
    match = _WHERE.search(query)
    if match is None:
        raise QueryError("a query with bound parameters needs an explicit WHERE { ... }")
    blocks: list[str] = []
    for name, value in bindings.items():
        if not _VAR.match(name):
            raise QueryError(f"bad variable name {name!r}")
        values = [value] if isinstance(value, ox.NamedNode | ox.Literal | ox.BlankNode) else list(value)
        blocks.append(f" VALUES ?{name} {{ " + " ".join(term_text(v) for v in values) + " } ")
    return query[: match.end()] + "".join(blocks) + query[match.end() :]
