"""A store on any SPARQL 1.1 server (Oxigraph server, Fuseki, GraphDB, Virtuoso, Neptune) over HTTP.

It speaks the three W3C protocols every such server implements: SPARQL 1.1 Query and Update
(``/query``, ``/update``) and the Graph Store HTTP Protocol (``/store``) for bulk uploads. The
store URL names the server and, as query parameters, the endpoint paths where they differ from
Oxigraph's layout::

    sparql+http://localhost:7878                       (Oxigraph: /query, /update, /store)
    sparql+http://localhost:3030/ds?store=/data        (Fuseki dataset "ds")
    sparql+http://host:8890?query=/sparql&update=/sparql-auth&store=/sparql-graph-crud-auth&auth=digest
                                                       (Virtuoso; its -auth endpoints want HTTP Digest)
    sparql+https://host:8182?query=/sparql&update=/sparql&store=    (no Graph Store: uploads by UPDATE)

Keeping paths in the URL (not in settings) means one string says everything about the backend,
as ``NORMKG_STORE`` and ``--store`` already do; credentials are the one thing kept out of it
(``NORMKG_STORE_USER`` / ``NORMKG_STORE_PASSWORD``), because store URLs get printed.

Atomic replace is the embedded store's design (see :mod:`normkg.kg.oxigraph_store`): triples go
into a fresh *version* graph, then ONE SPARQL update operation (a single DELETE/INSERT, which
servers apply all-or-nothing even when they split multi-operation requests) points the catalog
entry at it. Versions are recorded in the catalog before they are loaded, so the next replace of
the source finds and drops a load that failed half-way without listing the server's graphs.

Reads name the live versions with the protocol's ``default-graph-uri`` and
``named-graph-uri`` parameters rather than FROM clauses: the query text is sent as written (no
rewriting of user SPARQL, which may carry its own dataset clause, subqueries or comments), and
the protocol parameters have the very semantics of pyoxigraph's ``default_graph``/``named_graphs``
used by the embedded store, so both backends answer the same query over the same dataset.

A read takes two requests (catalog, then query), and a replace drops the old version right after
the swap, so a reader could see a version half-dropped; each read therefore checks afterwards
that the live versions did not change (every replace makes a fresh UUID version) and runs again
if they did. Every write normkg sends is idempotent (set semantics), which is what makes it safe
to retry requests after connection errors and 5xx answers.

Tested against Oxigraph server and Virtuoso 7.2 (tests/test_store_contract.py); the few Virtuoso
quirks met are handled where they occur (see ``_LONG_LITERAL``, ``ask``, ``_point_catalog``).
"""

from __future__ import annotations

import io
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar
from urllib.parse import parse_qsl, urlsplit

import httpx
import pyoxigraph as ox

from normkg.errors import ConfigError, QueryError, StoreError
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
from normkg.ontology.namespace import CATALOG_GRAPH, PREFIXES, PROV, mint, source_graph
from normkg.settings import Settings

_COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
# Version graphs being loaded or live, recorded in the catalog as specialisations of their source
# graph: found without listing the server's graphs (which not every server can do cheaply).
_VERSIONS_QUERY = "SELECT ?v WHERE { GRAPH ?catalog { ?v prov:specializationOf ?g } }"
# What each query form asks for: a server may answer any form in any format it offers first
# (Virtuoso sends CONSTRUCT results as a JSON table when JSON results come first).
_ACCEPT_RESULTS = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
_ACCEPT_TRIPLES = "application/n-triples, text/turtle;q=0.9"
_PROLOGUE = "".join(f"PREFIX {prefix}: <{ns}>\n" for prefix, ns in sorted(PREFIXES.items()))
_URL_PARAMETERS = ("query", "update", "store", "auth")
_RETRY_STATUS = frozenset({500, 502, 503, 504})
_READ_ATTEMPTS = 20
# Literals longer than this go by SPARQL UPDATE even where the Graph Store endpoint is used:
# Virtuoso 7's refuses a line over 64 KiB (a 1 MB description, a long dilemma text).
_LONG_LITERAL = 60_000
_EMPTY_GRAPH = mint("graph", "_empty")

T = TypeVar("T")
Result = ox.QuerySolutions | ox.QueryBoolean | list[Triple]


class _ChunkReader(io.RawIOBase):
    """A file-like view of an HTTP response body, so pyoxigraph parses it while it downloads."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _ntriples(triples: Iterable[Triple]) -> bytes:
    return ox.serialize((ox.Triple(s, p, o) for s, p, o in triples), format=ox.RdfFormat.N_TRIPLES) or b""


class SparqlStore(CatalogStore):
    """A :class:`~normkg.kg.store.GraphStore` on a remote SPARQL 1.1 server."""

    def __init__(
        self,
        base_url: str,
        *,
        query_path: str = "/query",
        update_path: str = "/update",
        store_path: str | None = "/store",
        user: str | None = None,
        password: str | None = None,
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 0.25,
        batch_size: int = 50_000,
        digest: bool = False,
        url: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.url = url or "sparql+" + self.base_url
        self.query_url = self._endpoint(query_path)
        self.update_url = self._endpoint(update_path)
        self.store_url = self._endpoint(store_path) if store_path else None
        self.capabilities = Capabilities(sparql=True, transactional_replace=True, persistent=True)
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.batch_size = batch_size
        self._write_lock = threading.Lock()
        auth: httpx.Auth | None = None
        if user:
            auth = httpx.DigestAuth(user, password or "") if digest else httpx.BasicAuth(user, password or "")
        self._client = httpx.Client(auth=auth, timeout=timeout_s, transport=transport, follow_redirects=False)

    @classmethod
    def from_url(
        cls, url: str, settings: Settings, *, transport: httpx.BaseTransport | None = None
    ) -> SparqlStore:
        """Build a store from ``sparql+http(s)://HOST:PORT[/PATH][?query=..&update=..&store=..]``."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("sparql+http", "sparql+https") or not parts.hostname:
            raise ConfigError(f"not a SPARQL store URL: {url!r}", hint="use sparql+http://HOST:PORT[/PATH]")
        if parts.username or parts.password:
            raise ConfigError(
                "credentials in the store URL are not accepted (store URLs get printed and logged)",
                hint="set NORMKG_STORE_USER and NORMKG_STORE_PASSWORD instead",
            )
        paths: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key not in _URL_PARAMETERS:
                raise ConfigError(
                    f"unknown parameter {key!r} in store URL {url!r}",
                    hint="the store URL accepts query=, update= and store= (endpoint paths) and auth=digest",
                )
            paths[key] = value
        if paths.get("auth", "basic") not in ("basic", "digest"):
            raise ConfigError(
                f"auth={paths['auth']!r} in store URL {url!r}", hint="use auth=basic or auth=digest"
            )
        base = f"{scheme.removeprefix('sparql+')}://{parts.netloc}{parts.path}"
        password = settings.store_password.get_secret_value() if settings.store_password else None
        return cls(
            base,
            query_path=paths.get("query", "/query"),
            update_path=paths.get("update", "/update"),
            store_path=paths.get("store", "/store") or None,
            user=settings.store_user,
            password=password,
            timeout_s=settings.store_timeout_s,
            digest=paths.get("auth") == "digest",
            url=url,
            transport=transport,
        )

    def _endpoint(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + "/" + path.lstrip("/")

    # ---- HTTP --------------------------------------------------------------------------
    def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Send with retries on connection errors and 5xx; map failures to normkg errors."""
        delay = self.backoff_s
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._client.send(request, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
                if attempt == attempts:
                    raise StoreError(
                        f"cannot reach the SPARQL server at {request.url} after {attempts} attempts: {exc}",
                        hint="is the server running, and is the store URL right?",
                    ) from exc
            except httpx.TimeoutException as exc:
                raise StoreError(
                    f"the SPARQL server at {request.url} did not answer within {self.timeout_s:g} s",
                    hint="raise NORMKG_STORE_TIMEOUT_S, or check the server's load",
                ) from exc
            except httpx.TransportError as exc:
                raise StoreError(f"request to the SPARQL server at {request.url} failed: {exc}") from exc
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in _RETRY_STATUS or attempt == attempts:
                    raise self._http_error(request, response)
                response.close()
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _http_error(self, request: httpx.Request, response: httpx.Response) -> StoreError:
        response.read()
        body = response.text.strip()[:500]
        status = response.status_code
        where = f"{request.method} {request.url.copy_with(query=None)}"
        if status in (401, 403):
            return StoreError(
                f"the SPARQL server refused the credentials ({status}) for {where}",
                hint="set NORMKG_STORE_USER and NORMKG_STORE_PASSWORD",
            )
        if status == 404:
            return StoreError(
                f"no SPARQL endpoint at {where} (404)",
                hint="set the endpoint paths in the store URL: ?query=...&update=...&store=...",
            )
        if status == 413:
            return StoreError(f"the SPARQL server refused a request as too large (413) at {where}: {body}")
        if 400 <= status < 500:
            return QueryError(f"the SPARQL server refused the request ({status}) at {where}: {body}")
        return StoreError(f"the SPARQL server failed ({status}) at {where}: {body}")

    def _post_query(
        self,
        query: str,
        *,
        default_graphs: list[ox.NamedNode] | None,
        named_graphs: list[ox.NamedNode] | None,
        accept: str = _ACCEPT_RESULTS,
        stream: bool = False,
    ) -> httpx.Response:
        form: dict[str, str | list[str]] = {"query": _PROLOGUE + query}
        if default_graphs is not None:
            form["default-graph-uri"] = [g.value for g in default_graphs or [_EMPTY_GRAPH]]
        if named_graphs is not None:
            form["named-graph-uri"] = [g.value for g in named_graphs or [_EMPTY_GRAPH]]
        request = self._client.build_request("POST", self.query_url, data=form, headers={"Accept": accept})
        return self._send(request, stream=stream)

    def _update(self, update: str) -> None:
        request = self._client.build_request("POST", self.update_url, data={"update": _PROLOGUE + update})
        self._send(request).close()

    @staticmethod
    def _parse(response: httpx.Response) -> Result:
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if media in ("application/sparql-results+json", "application/json"):
                return ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
            if media == "application/sparql-results+xml":
                return ox.parse_query_results(response.content, ox.QueryResultsFormat.XML)
            rdf_format = (
                ox.RdfFormat.N_TRIPLES if media == "text/plain" else ox.RdfFormat.from_media_type(media)
            )
            if rdf_format is None:
                raise StoreError(f"the SPARQL server answered with an unexpected media type {media!r}")
            return [(t.subject, t.predicate, t.object) for t in ox.parse(response.content, rdf_format)]
        except (SyntaxError, ValueError) as exc:
            raise StoreError(f"the SPARQL server sent an answer that cannot be parsed: {exc}") from exc

    def _select_rows(self, result: Result, limit: int | None = None) -> list[Row]:
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        names = [v.value for v in result.variables]
        rows: list[Row] = []
        for solution in itertools.islice(result, limit):
            row: Row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = value
            rows.append(row)
        return rows

    # ---- catalog -------------------------------------------------------------------------
    def _catalog(self) -> dict[str, CatalogEntry]:
        query = bind(CATALOG_QUERY, {"catalog": CATALOG_GRAPH})
        response = self._post_query(query, default_graphs=[CATALOG_GRAPH], named_graphs=[CATALOG_GRAPH])
        entries: dict[str, CatalogEntry] = {}
        for s in self._select_rows(self._parse(response)):
            name, info, version = catalog_entry(s)
            entries[name] = CatalogEntry(info, version)
        return entries

    def _versions(self) -> dict[str, ox.NamedNode]:
        return {name: entry.version for name, entry in self._catalog().items()}

    def _point_catalog(self, source: str, version: ox.NamedNode, info: GraphInfo, *, exists: bool) -> None:
        """Swap the catalog entry of ``source`` to ``version`` in one update operation.

        An existing entry is swapped by one DELETE/INSERT (atomic even where a server applies the
        operations of a request one by one); a new one is one INSERT DATA. (One DELETE/INSERT with
        an OPTIONAL for both cases would be neater, but Virtuoso 7 finds no solution for an
        OPTIONAL-only WHERE that matches nothing, and so inserts nothing.) The entry is read back,
        so a server that silently did nothing is an error, not a lost write.
        """
        g = source_graph(source)
        cat = CATALOG_GRAPH
        insert = catalog_facts(source, version, info)
        if exists:
            self._update(
                f"DELETE {{ GRAPH {cat} {{ {g} ?p ?o }} }} INSERT {{ GRAPH {cat} {{ {insert} }} }} "
                f"WHERE {{ GRAPH {cat} {{ {g} ?p ?o }} }}"
            )
        else:
            self._update(f"INSERT DATA {{ GRAPH {cat} {{ {insert} }} }}")
        entry = self._catalog().get(source)
        if entry is None or entry.version != version or entry.info != info:
            raise StoreError(
                f"the SPARQL server accepted the catalog update of {source} but did not apply it",
                hint="was the source dropped or replaced by another process meanwhile?",
            )

    def _new_version(self, source: str) -> ox.NamedNode:
        """A fresh version graph of ``source``, recorded before anything is loaded into it."""
        version = mint("graph", source, "v", uuid.uuid4().hex)
        record = f"{version} {PROV.specializationOf} {source_graph(source)}"
        self._update(f"INSERT DATA {{ GRAPH {CATALOG_GRAPH} {{ {record} }} }}")
        return version

    def _drop_versions(self, source: str, versions: Iterable[ox.NamedNode]) -> None:
        g, cat = source_graph(source), CATALOG_GRAPH
        operations = []
        for v in versions:
            operations += [
                f"DROP SILENT GRAPH {v}",
                f"DELETE DATA {{ GRAPH {cat} {{ {v} {PROV.specializationOf} {g} }} }}",
            ]
        if operations:
            self._update(" ;\n".join(operations))

    def _collect_garbage(self, source: str, live: ox.NamedNode | None) -> None:
        """Drop the versions of ``source`` the catalog does not point at (left by a failed load)."""
        query = bind(_VERSIONS_QUERY, {"catalog": CATALOG_GRAPH, "g": source_graph(source)})
        response = self._post_query(query, default_graphs=[CATALOG_GRAPH], named_graphs=[CATALOG_GRAPH])
        stale = [row["v"] for row in self._select_rows(self._parse(response)) if row["v"] != live]
        self._drop_versions(source, [v for v in stale if isinstance(v, ox.NamedNode)])

    def _graph_size(self, graph: ox.NamedNode) -> int:
        query = bind(_COUNT_QUERY, {"g": graph})
        rows = self._select_rows(
            self._parse(self._post_query(query, default_graphs=None, named_graphs=[graph]))
        )
        return int(rows[0]["n"].value)

    # ---- writes --------------------------------------------------------------------------
    def _upload(self, graph: ox.NamedNode, triples: Iterable[Triple]) -> None:
        """Append ``triples`` to ``graph`` in batches; triples with blank nodes go in one last request.

        A blank node label is scoped to one request (one document), so splitting a blank node's
        triples over two requests would make two nodes of it. Very long literals go one by one
        by UPDATE (see ``_LONG_LITERAL``).
        """
        batch: list[Triple] = []
        with_blank: list[Triple] = []
        for triple in triples:
            s, _, o = triple
            if isinstance(s, ox.BlankNode) or isinstance(o, ox.BlankNode):
                with_blank.append(triple)
                continue
            if isinstance(o, ox.Literal) and len(o.value) > _LONG_LITERAL:
                self._insert_data(graph, [triple])
                continue
            batch.append(triple)
            if len(batch) >= self.batch_size:
                self._post_triples(graph, batch)
                batch = []
        if batch:
            self._post_triples(graph, batch)
        if with_blank:
            self._post_triples(graph, with_blank)

    def _insert_data(self, graph: ox.NamedNode, triples: list[Triple]) -> None:
        body = _ntriples(triples).decode("utf-8")
        self._update(f"INSERT DATA {{ GRAPH {graph} {{\n{body}\n}} }}")

    def _post_triples(self, graph: ox.NamedNode, triples: list[Triple]) -> None:
        body = _ntriples(triples)
        if self.store_url is not None:
            request = self._client.build_request(
                "POST",
                self.store_url,
                params={"graph": graph.value},
                content=body,
                headers={"Content-Type": "application/n-triples"},
            )
            self._send(request).close()
        else:
            self._insert_data(graph, triples)

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
            old = self._catalog().get(source)
            skipped = unchanged(source, old.info if old else None, content_key, skip_if_unchanged)
            if skipped is not None:
                return skipped
            self._collect_garbage(source, old.version if old else None)
            version = self._new_version(source)
            self._upload(version, triples)
            count = self._graph_size(version)
            info = GraphInfo(source, count, content_key, rows_read, rows_rejected)
            self._point_catalog(source, version, info, exists=old is not None)
            if old is not None:
                self._drop_versions(source, [old.version])
            return ReplaceResult(source, count, unchanged=False)

    def add(self, source: str, triples: Iterable[Triple]) -> int:
        """Append to the live version; unlike ``replace``, readers may see the batches arrive."""
        with self._write_lock:
            entry = self._catalog().get(source)
            version = entry.version if entry else self._new_version(source)
            before = entry.info.triples if entry else 0
            self._upload(version, triples)
            count = self._graph_size(version)
            old = entry.info if entry else GraphInfo(source, 0)
            info = GraphInfo(source, count, "", old.rows_read, old.rows_rejected)
            self._point_catalog(source, version, info, exists=entry is not None)
            return count - before

    def drop(self, source: str) -> None:
        with self._write_lock:
            entry = self._catalog().get(source)
            if entry is None:
                return
            g = source_graph(source)
            self._update(f"DELETE WHERE {{ GRAPH {CATALOG_GRAPH} {{ {g} ?p ?o }} }}")
            self._drop_versions(source, [entry.version])

    # ---- reads ---------------------------------------------------------------------------
    def _consistent(self, read: Callable[[list[ox.NamedNode]], T]) -> T:
        """Run ``read`` on the live versions, again if a write swapped a version meanwhile.

        Old versions are dropped only after the swap, so if the versions are the same before and
        after the read, none of them was touched while it ran. (``add`` appends to a live version
        in place and is allowed to be seen batch by batch, so counts are not compared.)
        """
        versions = self._versions()
        for attempt in range(_READ_ATTEMPTS):
            result = read(list(versions.values()))
            after = self._versions()
            if after == versions:
                return result
            versions = after
            time.sleep(0.01 * attempt)
        raise StoreError(
            f"the store kept changing during {_READ_ATTEMPTS} attempts to read it",
            hint="a writer is replacing sources continuously; retry when the ingest is done",
        )

    def _query(self, query: str, bindings: Bindings | None, accept: str = _ACCEPT_RESULTS) -> Result:
        text = bind(query, bindings)

        def read(versions: list[ox.NamedNode]) -> Result:
            response = self._post_query(text, default_graphs=versions, named_graphs=versions, accept=accept)
            return self._parse(response)

        return self._consistent(read)

    def select(self, query: str, bindings: Bindings | None = None, *, limit: int | None = None) -> list[Row]:
        return self._select_rows(self._query(query, bindings), limit)

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        result = self._query(query, bindings)
        if isinstance(result, ox.QuerySolutions) and [v.value for v in result.variables] == ["__ASK_RETVAL"]:
            # Virtuoso 7 answers some ASK queries as a one-row SELECT of __ASK_RETVAL (1 or 0).
            return any(row["__ASK_RETVAL"].value not in ("0", "false") for row in self._select_rows(result))
        return expect_boolean(result)

    def construct(
        self, query: str, bindings: Bindings | None = None, *, limit: int | None = None
    ) -> list[Triple]:
        result = self._query(query, bindings, _ACCEPT_TRIPLES)
        if not isinstance(result, list):
            raise QueryError("expected a CONSTRUCT or DESCRIBE query")
        return result[:limit]

    def reader_url(self) -> str | None:
        return self.url  # another process reaches the same server (credentials come from its settings)

    def triples(self, source: str) -> Iterator[Triple]:
        """Stream one source graph; fails if a write swaps the source away while it streams."""
        entry = self._catalog().get(source)
        if entry is None:
            return
        response = self._post_query(
            "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
            default_graphs=[entry.version],
            named_graphs=[],
            accept="application/n-triples",
            stream=True,
        )
        streamed = 0
        try:
            reader = io.BufferedReader(_ChunkReader(response.iter_bytes()))
            for t in ox.parse(reader, ox.RdfFormat.N_TRIPLES):
                streamed += 1
                yield t.subject, t.predicate, t.object
        except (SyntaxError, ValueError) as exc:
            raise StoreError(f"the SPARQL server sent triples that cannot be parsed: {exc}") from exc
        except httpx.HTTPError as exc:
            raise StoreError(f"reading {source} from the SPARQL server failed: {exc}") from exc
        finally:
            response.close()
        now = self._catalog().get(source)
        if now is None or now.version != entry.version:
            raise StoreError(
                f"{source} was replaced or dropped while it was being read", hint="read it again"
            )
        if streamed != entry.info.triples:
            raise StoreError(
                f"the SPARQL server returned {streamed} of the {entry.info.triples} triples of {source}",
                hint="does the server cap result sizes (Virtuoso: ResultSetMaxRows in [SPARQL])?",
            )

    def close(self) -> None:
        self._client.close()
