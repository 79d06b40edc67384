"""Real store servers for the store tests: an Oxigraph server per session, Neo4j when configured.

Loaded by the store test modules with ``pytest_plugins = ["conftest_stores"]`` (so the server is
started once per session however many modules use it). Nothing here fakes a store: the SPARQL
tests talk HTTP to the same ``oxigraph`` server binary users run.

Neo4j cannot be started from here; set ``NEO4J_URI`` (and ``NEO4J_USER``/``NEO4J_PASSWORD``) to a
*throwaway* database, e.g. the one from ``docker compose -f docker-compose.neo4j.yml up``: the
tests delete every normkg node in it before each test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from normkg.settings import Settings

NEO4J_SKIP = (
    "NEO4J_URI not set: Neo4j contract tests skipped "
    "(start one with docker compose -f docker-compose.neo4j.yml up)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def oxigraph_binary() -> Path | None:
    """The ``oxigraph`` CLI from the PyPI package ``oxigraph`` (a dev dependency), beside this Python."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.exists():
        return beside
    found = shutil.which("oxigraph")
    return Path(found) if found else None


@dataclass
class OxigraphServer:
    """One running ``oxigraph serve`` process on a free local port."""

    http_url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def store_url(self) -> str:
        return "sparql+" + self.http_url

    def wipe(self) -> None:
        """Empty the whole server, so each test starts from an empty store."""
        response = httpx.post(self.http_url + "/update", data={"update": "DROP SILENT ALL"}, timeout=30)
        response.raise_for_status()


def start_oxigraph(location: Path, log: Path, timeout_s: float = 30.0) -> OxigraphServer:
    binary = oxigraph_binary()
    if binary is None:
        pytest.fail("the oxigraph CLI is missing: install the dev extras (pip install -e '.[dev]')")
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = OxigraphServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"oxigraph serve exited with {process.returncode}: {log.read_text()}")
        try:
            httpx.get(server.http_url + "/query", params={"query": "ASK {}"}, timeout=1).raise_for_status()
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    stop_process(process)
    pytest.fail(f"oxigraph serve did not answer within {timeout_s} s: {log.read_text()}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def unused_port() -> int:
    """A local port where nothing listens."""
    return free_port()


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    folder = tmp_path_factory.mktemp("oxigraph-server")
    server = start_oxigraph(folder / "db", folder / "server.log")
    yield server
    stop_process(server.process)


VIRTUOSO_SKIP = (
    "Virtuoso is not installed, so the SparqlStore contract runs against the Oxigraph server only "
    "(Virtuoso is a second, optional SPARQL server: scripts/test.sh installs it with "
    "scripts/install_virtuoso.sh where root and apt are available; see var/install_virtuoso.log)"
)
_VIRTUOSO_INI = """
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = ., {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
ServerThreads = 10
MaxClientConnections = 10
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
"""
# The anonymous SPARQL user may update (a throwaway test instance on 127.0.0.1 only).
_VIRTUOSO_GRANTS = 'GRANT SPARQL_UPDATE TO "SPARQL";'


@dataclass
class VirtuosoServer:
    """One ``virtuoso-t`` process with a database of its own (Debian's virtuoso-opensource 7)."""

    http_url: str
    process: subprocess.Popen[bytes]

    @property
    def store_url(self) -> str:
        return "sparql+" + self.http_url + "?query=/sparql&update=/sparql&store=/sparql-graph-crud"

    def wipe(self) -> None:
        """Drop normkg's graphs only: Virtuoso keeps its own system graphs in the same store."""
        from normkg.ontology.namespace import mint

        prefix = mint("graph", "x").value[: -len("x")]
        query = (
            f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{prefix}")) }}'
        )
        response = httpx.post(
            self.http_url + "/sparql",
            data={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
        response.raise_for_status()
        for binding in response.json()["results"]["bindings"]:
            drop = {"update": f"DROP SILENT GRAPH <{binding['g']['value']}>"}
            httpx.post(self.http_url + "/sparql", data=drop, timeout=60).raise_for_status()


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if binary is None or isql is None:
        pytest.skip(VIRTUOSO_SKIP)
    folder = tmp_path_factory.mktemp("virtuoso")
    sql_port, http_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(_VIRTUOSO_INI.format(dir=folder, sql_port=sql_port, http_port=http_port))
    with (folder / "out.log").open("wb") as out:
        process = subprocess.Popen(
            [binary, "+configfile", str(ini), "+foreground"], cwd=folder, stdout=out, stderr=subprocess.STDOUT
        )
    server = VirtuosoServer(f"http://127.0.0.1:{http_port}", process)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            log = folder / "virtuoso.log"
            pytest.fail(f"virtuoso-t did not start: {log.read_text() if log.exists() else ''}")
        try:
            httpx.get(server.http_url + "/sparql", params={"query": "ASK {}"}, timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    subprocess.run(
        [isql, str(sql_port), "dba", "dba", f"exec={_VIRTUOSO_GRANTS}"], check=True, capture_output=True
    )
    yield server
    stop_process(process)


@dataclass(frozen=True)
class Neo4jTarget:
    url: str
    settings: Settings

    def wipe(self) -> None:
        """Delete normkg's nodes (data, catalog, prefixes) so each test starts from an empty store."""
        import neo4j

        password = self.settings.store_password.get_secret_value() if self.settings.store_password else ""
        with neo4j.GraphDatabase.driver(
            self.url, auth=(self.settings.store_user or "neo4j", password)
        ) as driver:
            driver.execute_query(
                "MATCH (n) WHERE n:Resource OR n:_NkgCatalog OR n:_NsPrefDef DETACH DELETE n"
            )


@pytest.fixture(scope="session")
def neo4j_target() -> Neo4jTarget:
    url = os.environ.get("NEO4J_URI")
    if not url:
        pytest.skip(NEO4J_SKIP)
    settings = Settings.model_validate(
        {
            "store": url,
            "store_user": os.environ.get("NEO4J_USER", "neo4j"),
            "store_password": os.environ.get("NEO4J_PASSWORD"),
        }
    )
    return Neo4jTarget(url, settings)
