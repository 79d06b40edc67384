"""Auth and write endpoints: keys for writes (and optionally reads), bad uploads change nothing."""

from __future__ import annotations

from collections.abc import Iterator
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


NORMS_LINE = PACK[: PACK.index(b"norms:")].count(b"\n") + 1  # the line a broken "norms:" is on


@pytest.mark.parametrize(
    ("broken", "said"),
    [
        (PACK.replace(b"norms:", b"norms: [unclosed"), "invalid YAML"),
        (PACK.replace(b"norms:", b"# caf\xe9\nnorms:"), f"body:{NORMS_LINE}: not UTF-8"),  # Latin-1
        (b"  ", "body: empty norm pack"),
    ],
)
def test_a_bad_pack_is_refused_and_nothing_stored_is_lost(tmp_path: Path, broken: bytes, said: str) -> None:
    client, store = make_client(tmp_path, api_key=SecretStr(KEY))
    assert client.post("/v1/norm-packs", content=PACK, headers={"x-api-key": KEY}).status_code == 201
    before = store.count("pack-example-etiquette")
    response = client.post("/v1/norm-packs", content=broken, headers={"x-api-key": KEY})
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert said in message and message.startswith("body:")
    assert store.count("pack-example-etiquette") == before


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
    assert body["rejected"][0].startswith("body.yaml:6:") and "meh" in body["rejected"][0]


CSV_PACK = "id,text,judgment\n{id},Greet your hosts.,good\n"


def test_each_csv_upload_is_its_own_pack_named_by_column_or_query(tmp_path: Path) -> None:
    client, store = make_client(tmp_path, api_key=SecretStr(KEY))
    headers = {"x-api-key": KEY, "content-type": "text/csv"}
    unnamed = client.post("/v1/norm-packs", content=CSV_PACK.format(id="a"), headers=headers)
    assert unnamed.status_code == 422 and "name" in unnamed.json()["error"]["hint"]
    before = set(store.sources())
    for name in ("first", "second"):
        made = client.post(f"/v1/norm-packs?name={name}", content=CSV_PACK.format(id=name), headers=headers)
        assert made.status_code == 201 and made.json()["source"] == f"pack-{name}"
    named = client.post(
        "/v1/norm-packs", content="name,id,text,judgment\nthird,c,Be on time.,good\n", headers=headers
    )
    assert named.status_code == 201 and named.json()["source"] == "pack-third"
    assert set(store.sources()) - before == {"pack-first", "pack-second", "pack-third"}
    assert client.get("/v1/norms/norm/pack-first/first").status_code == 200
    clash = client.post("/v1/norm-packs?name=other", content=PACK, headers={"x-api-key": KEY})
    assert clash.status_code == 422 and "example-etiquette" in clash.json()["error"]["message"]
    bad_name = client.post("/v1/norm-packs?name=Bad_Name", content=PACK, headers={"x-api-key": KEY})
    assert bad_name.status_code == 422


def test_an_oversized_body_without_a_length_is_refused_with_413(tmp_path: Path) -> None:
    client, store = make_client(tmp_path, api_key=SecretStr(KEY), max_body_bytes=10_000)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body is sent chunked
        yield b"name: big\nnorms:\n"
        for i in range(400):
            yield f"  - {{id: n{i}, text: Be kind to neighbour {i}., judgment: good}}\n".encode()

    for path in ("/v1/norm-packs", "/v1/check"):
        response = client.post(path, content=chunks(), headers={"x-api-key": KEY})
        assert response.status_code == 413, (path, response.text)
        assert response.json()["error"]["code"] == "body_too_large"
    assert "pack-big" not in store.sources()


@pytest.mark.parametrize("origin_setting, expect_cors", [([], False), (["https://app.example"], True)])
def test_cors_is_off_unless_configured(tmp_path: Path, origin_setting: list[str], expect_cors: bool) -> None:
    client, _ = make_client(tmp_path, cors_origins=origin_setting)
    response = client.get("/healthz", headers={"origin": "https://app.example"})
    assert ("access-control-allow-origin" in response.headers) is expect_cors
