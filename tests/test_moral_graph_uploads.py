"""Uploading moral graphs through the real app and a real store: a bad upload changes nothing stored.

Each test pins a problem a black-box tester found: an upload that replaced the published MGE dataset
source (its name shares the ``moral-graph-`` prefix), a garbage upload that replaced a graph with an
empty one, and server paths of the upload's temporary file in errors and exports.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

import networkx as nx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from normkg.api.app import create_app
from normkg.errors import InputError
from normkg.ingest.pipeline import ingest, load_ontology
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.ontology.namespace import DCTERMS, NKG, RDF, mint
from normkg.reasoning.moral_graph_io import load_moral_graph
from normkg.reasoning.moral_graph_store import save_moral_graph
from normkg.reasoning.service import NormService
from normkg.settings import Settings

DATA = Path(__file__).parent / "data"
EXAMPLE = (DATA / "interviews" / "example.jsonl").read_bytes()
KEY = "s3cret-key"
NDJSON = {"x-api-key": KEY, "content-type": "application/x-ndjson"}
JSON = {"x-api-key": KEY, "content-type": "application/json"}
MGE = "moral-graph-elicitation"


@pytest.fixture
def app(tmp_path: Path) -> tuple[TestClient, OxigraphStore]:
    """The app over an in-memory store holding the ontology and the MGE dataset slice."""
    store = OxigraphStore(None)
    load_ontology(store)
    ingest(store, DATA, [MGE])
    settings = Settings(store="oxigraph:memory", cache_dir=tmp_path, api_key=SecretStr(KEY))
    client = TestClient(
        create_app(settings, service=NormService(store, settings)), raise_server_exceptions=False
    )
    return client, store


def error_of(response: Any) -> dict[str, str]:
    """The error object of the one JSON error shape every failed request answers with."""
    body = response.json()
    assert body["ok"] is False and body["status"] == response.status_code
    error: dict[str, str] = body["error"]
    return error


def test_a_dataset_source_is_neither_listed_nor_replaced_by_an_upload(
    app: tuple[TestClient, OxigraphStore],
) -> None:
    client, store = app
    before = store.sources()[MGE]
    assert client.get("/v1/moral-graphs").json() == []
    assert client.get("/v1/moral-graphs/elicitation").status_code == 404

    refused = client.post("/v1/moral-graphs", params={"id": "elicitation"}, content=EXAMPLE, headers=NDJSON)
    assert refused.status_code == 422
    error = error_of(refused)
    assert error["code"] == "bad_input" and MGE in error["message"] and "dataset" in error["message"]
    assert "another id" in error["hint"]
    assert store.sources()[MGE] == before
    dataset = next(s for s in client.get("/v1/sources").json() if s["name"] == MGE)
    assert dataset["title"] and dataset["citation"]  # the dataset keeps its title and credits

    # the CLI's path (normkg ingest stores the MGE graph with save_moral_graph) is guarded the same way
    graph, report = load_moral_graph(DATA / "interviews" / "example.jsonl", graph_id="elicitation")
    with pytest.raises(InputError, match="is taken"):
        save_moral_graph(store, graph, "elicitation", report)
    assert store.sources()[MGE] == before

    stored = client.post("/v1/moral-graphs", params={"id": "demo"}, content=EXAMPLE, headers=NDJSON)
    assert stored.status_code == 201
    assert client.get("/v1/moral-graphs").json() == ["demo"]
    assert client.get("/v1/moral-graphs/demo").json()["cards"] == 4


def test_a_source_outside_the_registry_that_is_not_a_moral_graph_is_not_replaced(
    app: tuple[TestClient, OxigraphStore],
) -> None:
    client, store = app
    legacy = mint("dataset", "moral-graph-legacy")
    store.replace(
        "moral-graph-legacy", [(legacy, RDF.type, NKG.Dataset), (legacy, DCTERMS.title, ox.Literal("x"))]
    )
    before = store.sources()["moral-graph-legacy"]
    refused = client.post("/v1/moral-graphs", params={"id": "legacy"}, content=EXAMPLE, headers=NDJSON)
    assert refused.status_code == 422 and "is taken" in error_of(refused)["message"]
    assert store.sources()["moral-graph-legacy"] == before
    # a stored moral graph is still replaced by a new upload of the same id
    for _ in range(2):
        again = client.post("/v1/moral-graphs", params={"id": "demo"}, content=EXAMPLE, headers=NDJSON)
        assert again.status_code == 201


def test_an_upload_with_nothing_usable_changes_nothing_stored(app: tuple[TestClient, OxigraphStore]) -> None:
    client, store = app
    assert (
        client.post("/v1/moral-graphs", params={"id": "demo"}, content=EXAMPLE, headers=NDJSON).status_code
        == 201
    )
    before = store.sources()["moral-graph-demo"]

    garbage = client.post("/v1/moral-graphs", params={"id": "demo"}, content=b"oops\n{}\n", headers=NDJSON)
    assert garbage.status_code == 422
    message = error_of(garbage)["message"]
    assert "nothing to store" in message and "body:1:" in message and "invalid JSON" in message
    assert "body:2:" in message  # every rejected line is named (up to three)
    no_values = client.post(
        "/v1/moral-graphs", params={"id": "demo"}, content=b'{"values": [], "edges": []}', headers=JSON
    )
    assert no_values.status_code == 422 and "nothing to store" in error_of(no_values)["message"]

    assert store.sources()["moral-graph-demo"] == before
    assert client.get("/v1/moral-graphs/demo").json()["cards"] == 4

    # as with norm packs, a partly bad upload keeps its good records and names the bad ones
    mixed = client.post(
        "/v1/moral-graphs", params={"id": "demo"}, content=EXAMPLE + b"oops\n", headers=NDJSON
    )
    assert mixed.status_code == 201
    lines = len(EXAMPLE.splitlines())
    assert mixed.json()["cards"] == 4 and mixed.json()["rejected"][0]["where"] == f"body:{lines + 1}"


def test_upload_errors_and_exports_never_show_a_server_path(app: tuple[TestClient, OxigraphStore]) -> None:
    client, _ = app
    tmp = tempfile.gettempdir()
    for body, message in (
        (b"{}", "body holds no votes"),
        (b"oops", "body: not valid JSON"),
        (b"[1]", "body: "),
    ):
        response = client.post("/v1/moral-graphs", params={"id": "demo"}, content=body, headers=JSON)
        assert response.status_code == 422
        error = error_of(response)
        assert error["message"].startswith(message), error
        assert tmp not in json.dumps(error) and "upload." not in json.dumps(error)
        assert "load_moral_graph" not in (error["hint"] or "")

    assert (
        client.post("/v1/moral-graphs", params={"id": "demo"}, content=EXAMPLE, headers=NDJSON).status_code
        == 201
    )
    for fmt in ("graphml", "ttl", "mge-json"):
        exported = client.get("/v1/moral-graphs/demo/export", params={"format": fmt})
        assert exported.status_code == 200 and tmp not in exported.text, fmt
    graphml = client.get("/v1/moral-graphs/demo/export", params={"format": "graphml"}).content
    assert nx.read_graphml(io.BytesIO(graphml)).graph["source_file"] == "body"
