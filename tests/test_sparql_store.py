"""SparqlStore beyond the shared contract: URLs, HTTP failures, batching, the catalog on a server.

Everything runs against a real ``oxigraph serve`` (tests/conftest_stores.py). Failures a healthy
server cannot produce come from real sockets: a port where nothing listens, a listener that never
answers, and a small forwarding proxy in front of the real server that answers 503 a given number
of times. The one exception is the Authorization header check, made on an httpx MockTransport,
because the Oxigraph server has no authentication to test it against.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import httpx
import pyoxigraph as ox
import pytest

from normkg.errors import ConfigError, QueryError, StoreError
from normkg.kg.open import open_store
from normkg.kg.sparql_store import SparqlStore
from normkg.kg.terms import Triple
from normkg.ontology.namespace import RDF, RDFS
from normkg.settings import Settings

if TYPE_CHECKING:
    from conftest_stores import OxigraphServer, VirtuosoServer

pytest_plugins = ["conftest_stores"]

EX = "http://example.org/"


def ex(name: str) -> ox.NamedNode:
    return ox.NamedNode(EX + name)


@pytest.fixture
def server(oxigraph_server: OxigraphServer) -> OxigraphServer:
    oxigraph_server.wipe()
    return oxigraph_server


def named_graphs(server: OxigraphServer) -> set[str]:
    response = httpx.post(
        server.http_url + "/query",
        data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    response.raise_for_status()
    return {b["g"]["value"] for b in response.json()["results"]["bindings"]}


class FlakyProxy:
    """Forwards to the real server; answers 503 to the next ``fail`` requests; logs every request."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.fail = 0
        self.log: list[tuple[str, str, int]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class name
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.fail > 0:
                    proxy.fail -= 1
                    proxy.log.append((self.command, self.path, 503))
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                answer = httpx.request(
                    self.command, proxy.upstream + self.path, content=body, headers=headers
                )
                proxy.log.append((self.command, self.path, answer.status_code))
                self.send_response(answer.status_code)
                for key in ("Content-Type",):
                    if key in answer.headers:
                        self.send_header(key, answer.headers[key])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = _forward  # noqa: N815 - http.server's method names
            do_POST = _forward  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def proxy(server: OxigraphServer) -> Iterator[FlakyProxy]:
    flaky = FlakyProxy(server.http_url)
    yield flaky
    flaky.close()


# ---- URLs ---------------------------------------------------------------------------------------


def test_store_url_names_the_server_and_its_endpoint_paths() -> None:
    settings = Settings.model_validate({})
    store = SparqlStore.from_url(
        "sparql+https://db.example:8443/ds?query=/sparql&update=/sparql/update&store=/rdf-graphs", settings
    )
    assert (store.query_url, store.update_url, store.store_url) == (
        "https://db.example:8443/ds/sparql",
        "https://db.example:8443/ds/sparql/update",
        "https://db.example:8443/ds/rdf-graphs",
    )
    assert store.url.startswith("sparql+https://db.example:8443/ds?")
    plain = SparqlStore.from_url("sparql+http://localhost:7878", settings)
    assert (plain.query_url, plain.update_url, plain.store_url) == (
        "http://localhost:7878/query",
        "http://localhost:7878/update",
        "http://localhost:7878/store",
    )
    assert SparqlStore.from_url("sparql+http://h:1?store=", settings).store_url is None
    elsewhere = SparqlStore.from_url("sparql+http://h:1?update=http://other:2/u", settings)
    assert elsewhere.update_url == "http://other:2/u"
    with pytest.raises(ConfigError, match="unknown parameter"):
        SparqlStore.from_url("sparql+http://h:1?querry=/q", settings)
    with pytest.raises(ConfigError, match="auth="):
        SparqlStore.from_url("sparql+http://h:1?auth=kerberos", settings)
    with pytest.raises(ConfigError, match="credentials"):
        SparqlStore.from_url("sparql+http://alice:secret@h:1", settings)
    assert isinstance(open_store("sparql+http://localhost:7878", settings), SparqlStore)


# ---- HTTP failures ------------------------------------------------------------------------------


def test_nothing_listening_is_retried_with_backoff_then_a_clear_store_error(unused_port: int) -> None:
    store = SparqlStore(f"http://127.0.0.1:{unused_port}", retries=2, backoff_s=0.05)
    start = time.monotonic()
    with pytest.raises(StoreError, match="cannot reach the SPARQL server .* after 3 attempts") as info:
        store.sources()
    assert time.monotonic() - start >= 0.05 + 0.1  # two waits, the second twice the first
    assert info.value.hint and "server running" in info.value.hint


def test_a_server_that_never_answers_times_out_without_retrying() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        store = SparqlStore(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_s=0.3, retries=3)
        start = time.monotonic()
        with pytest.raises(StoreError, match="did not answer within 0.3 s"):
            store.count()
        assert time.monotonic() - start < 1.5
        assert len(accepted) == 1  # a slow query is not sent again
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def test_5xx_answers_are_retried_and_4xx_answers_are_not(proxy: FlakyProxy) -> None:
    store = SparqlStore(proxy.url, retries=3, backoff_s=0.01)
    store.replace("s", [(ex("a"), RDFS.label, ox.Literal("a"))])
    proxy.log.clear()
    proxy.fail = 2
    assert store.count("s") == 1
    assert [status for _, _, status in proxy.log] == [503, 503, 200]
    proxy.log.clear()
    with pytest.raises(QueryError, match="400"):
        store.select("SELEC ?x WHERE { ?x ?p ?o }")
    assert [status for _, _, status in proxy.log if status >= 400] == [400]
    proxy.fail = 10
    with pytest.raises(StoreError, match="503"):
        store.count()


def test_credentials_from_settings_are_sent_basic_or_digest() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        empty = {"head": {"vars": ["name"]}, "results": {"bindings": []}}
        return httpx.Response(200, json=empty, headers={"Content-Type": "application/sparql-results+json"})

    settings = Settings.model_validate({"store_user": "alice", "store_password": "s3cret é"})
    store = SparqlStore.from_url("sparql+http://db.example", settings, transport=httpx.MockTransport(handler))
    assert store.sources() == {}
    assert seen == ["Basic " + base64.b64encode("alice:s3cret é".encode()).decode()]
    digest_seen: list[str | None] = []

    def digest_handler(request: httpx.Request) -> httpx.Response:
        digest_seen.append(request.headers.get("Authorization"))
        if "Authorization" not in request.headers:
            challenge = 'Digest realm="SPARQL", nonce="abc123", qop="auth", algorithm=MD5'
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return handler(request)

    digest = SparqlStore.from_url(
        "sparql+http://db.example?auth=digest", settings, transport=httpx.MockTransport(digest_handler)
    )
    assert digest.sources() == {}
    assert digest_seen[0] is None and (digest_seen[1] or "").startswith(
        'Digest username="alice", realm="SPARQL"'
    )
    anonymous = SparqlStore.from_url(
        "sparql+http://db.example", Settings.model_validate({}), transport=httpx.MockTransport(handler)
    )
    anonymous.sources()
    assert seen[-1] is None


def test_a_wrong_endpoint_path_says_which_and_how_to_set_it(server: OxigraphServer) -> None:
    store = open_store(server.store_url + "?query=/nowhere", Settings.model_validate({}))
    with pytest.raises(StoreError, match="no SPARQL endpoint at POST .*/nowhere") as info:
        store.sources()
    assert info.value.hint and "?query=" in info.value.hint


def test_malformed_sparql_is_a_query_error_with_the_servers_message(server: OxigraphServer) -> None:
    store = open_store(server.store_url, Settings.model_validate({}))
    with pytest.raises(QueryError, match="refused the request \\(400\\).*error"):
        store.select("SELEC ?x WHERE { ?x ?p ?o }")
    with pytest.raises(QueryError):
        store.select("DELETE WHERE { ?s ?p ?o }")  # an update sent as a query is refused, not run


# ---- writes -------------------------------------------------------------------------------------


def test_uploads_are_batched_and_blank_nodes_stay_whole(proxy: FlakyProxy) -> None:
    store = SparqlStore(proxy.url, batch_size=7)
    blank = ox.BlankNode("shared")
    triples: list[Triple] = [(ex(f"n{i}"), RDFS.label, ox.Literal(f"n{i}")) for i in range(50)]
    triples += [
        (blank, RDFS.label, ox.Literal("inner")),
        (ex("n0"), ex("part"), blank),
        (blank, RDF.type, ex("Part")),
    ]
    proxy.log.clear()
    assert store.replace("s", triples).triples == 53
    uploads = [path for method, path, _ in proxy.log if method == "POST" and path.startswith("/store")]
    assert len(uploads) == 8 + 1  # ceil(50 / 7) batches, then the blank-node triples together
    stored = list(store.triples("s"))
    blanks = {t for triple in stored for t in (triple[0], triple[2]) if isinstance(t, ox.BlankNode)}
    assert len(blanks) == 1


def test_without_a_graph_store_endpoint_uploads_go_through_update(proxy: FlakyProxy) -> None:
    store = open_store("sparql+" + proxy.url + "?store=", Settings.model_validate({}))
    texts = ['quote " brace } hash # ', "new\nline", "規範 🏠", "x' DETACH DELETE n //", "\\u0022 }"]
    triples: list[Triple] = [(ex(f"t{i}"), RDFS.label, ox.Literal(text)) for i, text in enumerate(texts)]
    proxy.log.clear()
    store.replace("s", triples)
    assert not [path for _, path, _ in proxy.log if path.startswith("/store")]
    assert set(store.triples("s")) == set(triples)


class LoaderCrash(Exception):
    pass


def crashing(triples: list[Triple], after: int) -> Iterator[Triple]:
    """The triples of a loader that fails part-way, after some batches were uploaded."""
    yield from triples[:after]
    raise LoaderCrash


def test_a_failed_load_of_a_source_is_removed_by_its_next_replace(server: OxigraphServer) -> None:
    store = SparqlStore(server.http_url, batch_size=3)
    store.replace("s", [(ex("a"), RDFS.label, ox.Literal("old"))])
    before = named_graphs(server)
    half = [(ex(f"n{i}"), RDFS.label, ox.Literal(f"n{i}")) for i in range(10)]
    for source in ("s", "t"):
        with pytest.raises(LoaderCrash):
            store.replace(source, crashing(half, 7))
    leftovers = named_graphs(server) - before
    s_half = {g for g in leftovers if "/graph/s/v/" in g}
    t_half = {g for g in leftovers if "/graph/t/v/" in g}
    assert len(s_half) == len(t_half) == 1  # a half-loaded version graph of each source, never made live
    assert set(store.triples("s")) == {(ex("a"), RDFS.label, ox.Literal("old"))}
    assert store.count() == 1
    store.replace("s", [(ex("a"), RDFS.label, ox.Literal("new"))])
    after = named_graphs(server)
    assert not s_half & after  # s's failed load is gone with s's next replace...
    assert t_half <= after  # ...while t's is left to t's (another process may still be loading it)
    assert set(store.triples("s")) == {(ex("a"), RDFS.label, ox.Literal("new"))}
    store.replace("t", half)
    assert not t_half & named_graphs(server)


def test_reads_see_only_the_live_versions_not_the_rest_of_the_server(server: OxigraphServer) -> None:
    store = open_store(server.store_url, Settings.model_validate({}))
    store.replace("s", [(ex("a"), RDF.type, ex("Live"))])
    stray = f"{ex('x')} {RDF.type} {ex('Stray')}"
    update = f"INSERT DATA {{ {stray} . GRAPH {ex('g')} {{ {stray} }} }}"
    httpx.post(server.http_url + "/update", data={"update": update}).raise_for_status()
    assert store.query("class_counts") == [{"class": ex("Live"), "n": ox.Literal(1)}]
    assert store.select("SELECT ?s WHERE { GRAPH ?g { ?s a ?c } }") == [{"s": ex("a")}]
    assert store.count() == 1


def test_virtuoso_authenticated_endpoints_take_digest_credentials(virtuoso_server: VirtuosoServer) -> None:
    virtuoso_server.wipe()
    url = (
        "sparql+"
        + virtuoso_server.http_url
        + "?query=/sparql&update=/sparql-auth&store=/sparql-graph-crud-auth"
    )
    good = Settings.model_validate({"store_user": "dba", "store_password": "dba"})  # a fresh instance's admin
    store = open_store(url + "&auth=digest", good)
    assert store.replace("s", [(ex("a"), RDFS.label, ox.Literal("a"))]).triples == 1
    assert store.count() == 1
    wrong = Settings.model_validate({"store_user": "dba", "store_password": "wrong"})
    with pytest.raises(StoreError, match="refused the credentials"):
        open_store(url + "&auth=digest", wrong).replace("t", [(ex("b"), RDFS.label, ox.Literal("b"))])
