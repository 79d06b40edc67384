"""Auth and write endpoints: keys for writes (and optionally reads), bad uploads change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from normkg.api.app import create_app
from normkg.ingest.pipeline import load_ontology
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.reasoning.service import NormService
from normkg.settings import Settings

PACK = (Path(__file__).parent / "data" / "packs" / "example.yaml").read_bytes()
KEY = "s3cret-key"


def make_client(tmp_path: Path, **overrides: object) -> tuple[TestClient, OxigraphStore]:
    store = OxigraphStore(None)
    load_ontology(store)
    settings = Settings(store="oxigraph:memory", cache_dir=tmp_path, **overrides)  # type: ignore[arg-type]
    app = create_app(settings, service=NormService(store, settings))
    return TestClient(app, raise_server_exceptions=False), store


def test_writes_are_disabled_without_a_configured_key(tmp_path: Path) -> None:
    client, store = make_client(tmp_path)
    response = client.post("/v1/norm-packs", content=PACK, headers={"content-type": "application/yaml"})
    assert response.status_code == 401
    assert "NORMKG_API_KEY" in response.json()["error"]["hint"]
    assert "pack-example-etiquette" not in store.sources()


def test_writes_need_the_right_key(tmp_path: Path) -> None:
    client, store = make_client(tmp_path, api_key=SecretStr(KEY))
    for headers in ({}, {"x-api-key": "wrong"}, {"x-api-key": KEY + "x"}):
        response = client.post("/v1/norm-packs", content=PACK, headers=headers)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert "pack-example-etiquette" not in store.sources()
    ok = client.post("/v1/norm-packs", content=PACK, headers={"x-api-key": KEY})
    assert ok.status_code == 201, ok.json()
    body = ok.json()
    assert (
        body["source"] == "pack-example-etiquette" and body["rows_read"] == 6 and body["rows_rejected"] == 0
    )
    assert store.count("pack-example-etiquette") == body["triples"] > 0
    # reads stay open by default
    assert client.get("/v1/sources").status_code == 200


def test_reads_can_be_locked(tmp_path: Path) -> None:
    client, _ = make_client(tmp_path, api_key=SecretStr(KEY), lock_reads=True)
    assert client.get("/v1/sources").status_code == 401
    assert client.get("/v1/sources", headers={"x-api-key": KEY}).status_code == 200
    assert client.get("/healthz").status_code == 200  # health stays open for load balancers


def test_a_bad_pack_is_refused_and_nothing_stored_is_lost(tmp_path: Path) -> None:
    client, store = make_client(tmp_path, api_key=SecretStr(KEY))
    assert client.post("/v1/norm-packs", content=PACK, headers={"x-api-key": KEY}).status_code == 201
    before = store.count("pack-example-etiquette")
    broken = PACK.replace(b"norms:", b"norms: [unclosed")
    response = client.post("/v1/norm-packs", content=broken, headers={"x-api-key": KEY})
    assert response.status_code == 422
    assert (
        "invalid YAML" in response.json()["error"]["message"]
        and "body:" in response.json()["error"]["message"]
    )
    assert store.count("pack-example-etiquette") == before
    empty = client.post("/v1/norm-packs", content=b"  ", headers={"x-api-key": KEY})
    assert empty.status_code == 422


def test_a_pack_with_some_bad_norms_keeps_the_good_ones(tmp_path: Path) -> None:
    client, store = make_client(tmp_path, api_key=SecretStr(KEY))
    pack = (
        b"name: mixed\nnorms:\n  - id: ok\n    text: Be kind.\n    judgment: good\n"
        b"  - id: bad\n    text: x\n    judgment: meh\n"
    )
    response = client.post("/v1/norm-packs", content=pack, headers={"x-api-key": KEY})
    assert response.status_code == 201
    body = response.json()
    assert body["rows_read"] == 2 and body["rows_rejected"] == 1
    assert body["rejected"][0].startswith("pack.yaml:6:") and "meh" in body["rejected"][0]


@pytest.mark.parametrize("origin_setting, expect_cors", [([], False), (["https://app.example"], True)])
def test_cors_is_off_unless_configured(tmp_path: Path, origin_setting: list[str], expect_cors: bool) -> None:
    client, _ = make_client(tmp_path, cors_origins=origin_setting)
    response = client.get("/healthz", headers={"origin": "https://app.example"})
    assert ("access-control-allow-origin" in response.headers) is expect_cors
