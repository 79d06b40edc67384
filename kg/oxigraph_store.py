"""The embedded store: pyoxigraph on disk (default) or in memory. No server.

How ``replace`` stays atomic on a store that has no multi-call transactions: each load goes into a
fresh *version* graph (bulk-loaded, which is fast but not transactional), and only then does one
SPARQL update, which pyoxigraph applies all-or-nothing, point the source's catalog entry at it.
Readers only ever query the version graphs the catalog points at, so a crash mid-load leaves the
previous version live; the orphaned half-load is removed by the next write. Dropping the old
version afterwards is slow in Oxigraph (~36k deletions/s), which is why an unchanged source (same
content key) is not reloaded at all.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from normkg.errors import QueryError, StoreError, StoreNotFound
from normkg.kg.binding import bind
from normkg.kg.shared import (
    CATALOG_QUERY,
    CatalogEntry,
    CatalogStore,
    catalog_entry,
    catalog_facts,
    expect_boolean,
    unchanged,
)
from normkg.kg.store import Capabilities, GraphInfo, ReplaceResult
from normkg.kg.terms import Bindings, Row, Triple
from normkg.ontology.namespace import CATALOG_GRAPH, PREFIXES, mint, source_graph


def _wrap(exc: Exception) -> Exception:
    if isinstance(exc, SyntaxError):
        return QueryError(f"malformed SPARQL: {exc}")
    if isinstance(exc, ValueError):
        return QueryError(f"invalid query or term: {exc}")
    if isinstance(exc, OSError):
        return StoreError(
            f"the embedded store failed: {exc}",
            hint="is another normkg process (ingest or serve) using the same store folder?",
        )
    return StoreError(f"the embedded store failed: {exc}")


def _open_read_only(path: str, attempts: int = 5) -> ox.Store:
    """A read-only view of the store at ``path``. Why the retries: opened while the writing process
    compacts, the view can list a file that is deleted before it is read ("Corruption: ... No such
    file"); a view opened after that compaction is whole. Data is never read half-written."""
    for attempt in range(attempts):
        try:
            return ox.Store.read_only(path)
        except (OSError, RuntimeError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


#: the URL scheme of a read-only view of an on-disk store (see ``reader_url``)
READ_ONLY_SCHEME = "oxigraph-readonly"


#: the file RocksDB, under every on-disk Oxigraph store, writes when it creates a database
_STORE_MARKER = "CURRENT"


def _require_store(path: Path) -> None:
    """Refuse a folder that holds no store: missing, empty (created by hand or by a failed run), or
    holding other files. Opening it would create an empty store there, and every answer would then
    look like "no norm applies here"."""
    hint = "run `normkg ingest` first (it creates the store), or point NORMKG_STORE or --store at one"
    try:
        if not path.is_dir():
            raise StoreNotFound(f"no store at {path}", hint=hint)
        if not (path / _STORE_MARKER).is_file():
            what = "an empty folder" if not any(path.iterdir()) else "a folder of other files"
            raise StoreNotFound(f"no store at {path} ({what}, not an Oxigraph store)", hint=hint)
    except OSError as exc:
        raise StoreError(f"cannot read the store folder {path}: {exc.strerror}") from exc


class OxigraphStore(CatalogStore):
    """A :class:`~normkg.kg.store.GraphStore` on pyoxigraph."""

    def __init__(self, path: Path | None = None, *, read_only: bool = False, create: bool = True) -> None:
        """Open the store in folder ``path`` (None: in memory). ``read_only`` opens a folder that
        another process may hold open for writing; it sees the data committed before it was opened,
        and any write fails. ``create=False`` is for commands that only read: a mistyped path or a
        store not ingested yet is an error there, not a new empty store that answers "no norms"."""
        self.path = path
        self.read_only = read_only
        if read_only and path is None:
            raise StoreError("an in-memory store cannot be opened read-only from elsewhere")
        if path is not None and (read_only or not create):
            _require_store(path)
        scheme = READ_ONLY_SCHEME if read_only else "oxigraph"
        self.url = f"{scheme}:{path}" if path is not None else "oxigraph:memory"
        self.capabilities = Capabilities(sparql=True, transactional_replace=True, persistent=path is not None)
        self._write_lock = threading.Lock()
        try:
            if read_only:
                self._store = _open_read_only(str(path))
            elif path is not None:
                path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
            else:
                self._store = ox.Store()
        except (OSError, RuntimeError) as exc:
            raise _wrap(exc) from exc

    # ---- catalog -------------------------------------------------------------------------
    def _catalog(self) -> dict[str, CatalogEntry]:
        entries: dict[str, CatalogEntry] = {}
        try:
            solutions = self._store.query(bind(CATALOG_QUERY, {"catalog": CATALOG_GRAPH}), prefixes=PREFIXES)
            assert isinstance(solutions, ox.QuerySolutions)
            for s in solutions:
                row = {v.value: s[v] for v in solutions.variables if s[v] is not None}
                name, info, version = catalog_entry(row)
                entries[name] = CatalogEntry(info, version)
        except (SyntaxError, ValueError, OSError, RuntimeError) as exc:
            raise _wrap(exc) from exc
        return entries

    def _live_versions(self) -> list[ox.NamedNode]:
        return [entry.version for entry in self._catalog().values()]

    def _point_catalog(self, source: str, version: ox.NamedNode, info: GraphInfo) -> None:
        """Swap the catalog entry of ``source`` to ``version`` in one transaction."""
        g = source_graph(source)
        cat = CATALOG_GRAPH
        insert = catalog_facts(source, version, info)
        update = (
            f"DELETE {{ GRAPH {cat} {{ {g} ?p ?o }} }} WHERE {{ GRAPH {cat} {{ {g} ?p ?o }} }} ;\n"
            f"INSERT DATA {{ GRAPH {cat} {{ {insert} }} }}"
        )
        self._store.update(update)

    def _collect_garbage(self) -> None:
        """Remove version graphs no catalog entry points at (left by a crash or a replace)."""
        live = {v.value for v in self._live_versions()} | {CATALOG_GRAPH.value}
        version_prefix = mint("graph", "x").value[: -len("x")]
        for graph in list(self._store.named_graphs()):
            stale = isinstance(graph, ox.NamedNode) and graph.value.startswith(version_prefix)
            if stale and graph.value not in live:
                self._store.remove_graph(graph)

    # ---- writes --------------------------------------------------------------------------
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
        with self._write_lock:
            try:
                catalog = self._catalog()
                old = catalog.get(source)
                skipped = unchanged(source, old.info if old else None, content_key, skip_if_unchanged)
                if skipped is not None:
                    return skipped
                self._collect_garbage()
                version = mint("graph", source, "v", uuid.uuid4().hex)
                self._store.bulk_extend(ox.Quad(s, p, o, version) for s, p, o in triples)
                count = self._graph_size(version)
                info = GraphInfo(source, count, content_key, rows_read, rows_rejected)
                self._point_catalog(source, version, info)
                if old is not None:
                    self._store.remove_graph(old.version)
                return ReplaceResult(source, count, unchanged=False)
            except (SyntaxError, ValueError, OSError, RuntimeError) as exc:
                raise _wrap(exc) from exc

    def add(self, source: str, triples: Iterable[Triple]) -> int:
        with self._write_lock:
            try:
                entry = self._catalog().get(source)
                version = entry.version if entry else mint("graph", source, "v", uuid.uuid4().hex)
                before = entry.info.triples if entry else 0
                self._store.extend([ox.Quad(s, p, o, version) for s, p, o in triples])
                count = self._graph_size(version)
                old = entry.info if entry else GraphInfo(source, 0)
                self._point_catalog(
                    source, version, GraphInfo(source, count, "", old.rows_read, old.rows_rejected)
                )
                return count - before
            except (SyntaxError, ValueError, OSError, RuntimeError) as exc:
                raise _wrap(exc) from exc

    def drop(self, source: str) -> None:
        with self._write_lock:
            entry = self._catalog().get(source)
            if entry is None:
                return
            g = source_graph(source)
            self._store.update(f"DELETE WHERE {{ GRAPH {CATALOG_GRAPH} {{ {g} ?p ?o }} }}")
            self._store.remove_graph(entry.version)

    def _graph_size(self, graph: ox.NamedNode) -> int:
        result = self._store.query(
            bind("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": graph})
        )
        assert isinstance(result, ox.QuerySolutions)
        return int(next(iter(result))["n"].value)

    # ---- reads ---------------------------------------------------------------------------
    def _query(self, query: str, bindings: Bindings | None) -> object:
        """Query the live versions. A replace may swap and drop a version between reading the catalog
        and querying; the query's snapshot is taken when it starts, so if the catalog is the same
        after the call, the snapshot saw exactly those versions; otherwise ask again."""
        text = bind(query, bindings)
        try:
            versions = self._live_versions()
            for _ in range(20):
                graphs: list[ox.NamedNode | ox.BlankNode] = list(versions) or [mint("graph", "_empty")]
                result = self._store.query(
                    text, prefixes=PREFIXES, default_graph=list[Any](graphs), named_graphs=graphs
                )
                after = self._live_versions()
                if after == versions:
                    return result
                versions = after
        except (SyntaxError, ValueError, OSError, RuntimeError) as exc:
            raise _wrap(exc) from exc
        raise StoreError("the store kept changing while it was read", hint="retry the request")

    def select(self, query: str, bindings: Bindings | None = None, *, limit: int | None = None) -> list[Row]:
        result = self._query(query, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        names = [v.value for v in result.variables]
        rows: list[Row] = []
        try:
            for solution in itertools.islice(result, limit):  # solutions are computed as they are read
                row: Row = {}
                for name in names:
                    value = solution[name]
                    if value is not None:
                        row[name] = value
                rows.append(row)
        except (OSError, RuntimeError, ValueError) as exc:
            raise _wrap(exc) from exc
        return rows

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return expect_boolean(self._query(query, bindings))

    def construct(
        self, query: str, bindings: Bindings | None = None, *, limit: int | None = None
    ) -> list[Triple]:
        result = self._query(query, bindings)
        if not isinstance(result, ox.QueryTriples):
            raise QueryError("expected a CONSTRUCT or DESCRIBE query")
        try:
            return [(t.subject, t.predicate, t.object) for t in itertools.islice(result, limit)]
        except (OSError, RuntimeError, ValueError) as exc:
            raise _wrap(exc) from exc

    def triples(self, source: str) -> Iterator[Triple]:
        entry = self._catalog().get(source)
        if entry is None:
            return
        for quad in self._store.quads_for_pattern(None, None, None, entry.version):
            yield quad.subject, quad.predicate, quad.object  # type: ignore[misc]

    def optimize(self) -> None:
        self._store.optimize()

    def reader_url(self) -> str | None:
        return f"{READ_ONLY_SCHEME}:{self.path}" if self.path is not None else None

    def close(self) -> None:
        if not self.read_only:
            self._store.flush()
        del self._store
