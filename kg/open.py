"""Store selection from one URL: the registry of backends.

Like RDFLib's plugin registry, a scheme maps to a factory that is imported only when asked for, so
the embedded default never imports the Neo4j driver or an HTTP client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from normkg.errors import ConfigError, StoreError
from normkg.kg.store import GraphStore
from normkg.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def _oxigraph(url: str, settings: Settings, create: bool) -> GraphStore:
    from normkg.kg.oxigraph_store import OxigraphStore

    location = url.split(":", 1)[1]
    if not location.strip():  # an unset variable in a script, most likely: never a silent in-memory store
        raise ConfigError(
            f"store URL {url!r} names no folder",
            hint="use oxigraph:PATH, or oxigraph:memory for a store in memory",
        )
    if location == "memory":
        return OxigraphStore(None)
    return OxigraphStore(Path(location).expanduser(), create=create)


def _oxigraph_read_only(url: str, settings: Settings, create: bool) -> GraphStore:
    from normkg.kg.oxigraph_store import OxigraphStore

    return OxigraphStore(Path(url.split(":", 1)[1]).expanduser(), read_only=True)


def _sparql(url: str, settings: Settings, create: bool) -> GraphStore:
    from normkg.kg.sparql_store import SparqlStore

    return SparqlStore.from_url(url, settings)


def _neo4j(url: str, settings: Settings, create: bool) -> GraphStore:
    from normkg.kg.neo4j_store import Neo4jStore

    return Neo4jStore.from_url(url, settings)


#: a backend's factory: (URL, settings, create). ``create=False`` asks a backend whose store is a local
#: folder not to make one (servers exist or do not; they ignore it).
StoreFactory = Callable[[str, Settings, bool], GraphStore]

_FACTORIES: dict[str, StoreFactory] = {
    "oxigraph": _oxigraph,
    "oxigraph-readonly": _oxigraph_read_only,
    "sparql+http": _sparql,
    "sparql+https": _sparql,
    "neo4j": _neo4j,
    "neo4j+s": _neo4j,
    "bolt": _neo4j,
}


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Add a backend for URLs starting with ``scheme:``."""
    _FACTORIES[scheme] = factory


def store_schemes() -> list[str]:
    return sorted(_FACTORIES)


def open_store(
    url: str | None = None, settings: Settings | None = None, *, create: bool = True
) -> GraphStore:
    """Open the store named by ``url`` (default: the ``NORMKG_STORE`` setting). Commands that only
    read pass ``create=False``: an embedded store that does not exist is then ``StoreNotFound``."""
    settings = settings or get_settings()
    url = url or settings.store
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    factory = _FACTORIES.get(scheme)
    if factory is None:
        raise ConfigError(
            f"unknown store URL {url!r}",
            hint="use one of: " + ", ".join(f"{s}:..." for s in store_schemes()),
        )
    return factory(url, settings, create)


def open_for_reading(url: str | None = None, settings: Settings | None = None) -> GraphStore:
    """Open a store for a command that only reads. An embedded store held by another process (a
    running ``normkg serve`` or ``ingest``) is opened as a read-only view instead of failing on its
    folder lock: it holds what that process had committed when the view was opened."""
    settings = settings or get_settings()
    url = url or settings.store
    try:
        return open_store(url, settings, create=False)
    except StoreError as exc:
        held = isinstance(exc.__cause__, OSError) and "lock" in str(exc.__cause__).lower()
        if not (held and url.split(":", 1)[0].lower() == "oxigraph"):
            raise
    logger.warning("%s is held by another process: reading a read-only view of it", url)
    return open_store("oxigraph-readonly:" + url.split(":", 1)[1], settings)
