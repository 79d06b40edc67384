"""Named queries, kept as files (``queries/NAME.rq`` beside ``queries/NAME.cypher``).

Why files: each backend's version of a query can be read and reviewed next to the other's, and the
text a store runs is the text a reviewer reads. Prefixes (nkg:, skos:, prov:, ...) come from the
ontology and are added by the store, so a query file never spells out a normkg IRI.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from normkg.errors import QueryError


@cache
def named_query(name: str, language: str = "rq") -> str:
    path = resources.files("normkg.kg").joinpath("queries", f"{name}.{language}")
    if not path.is_file():
        raise QueryError(f"no named query {name}.{language}")
    return path.read_text(encoding="utf-8")


def query_names(language: str = "rq") -> list[str]:
    folder = resources.files("normkg.kg").joinpath("queries")
    return sorted(p.name[: -len(language) - 1] for p in folder.iterdir() if p.name.endswith("." + language))
