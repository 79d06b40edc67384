"""The REST API through the real app, real store (every source's slice + the example pack) and real models."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from normkg.api.app import create_app
from normkg.ingest.loaders.norm_pack import NormPackLoader
from normkg.ingest.pipeline import ingest, ingest_source
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.ontology.namespace import INSTANCE_BASE, mint
from normkg.reasoning.service import NormService
from normkg.settings import Settings

DATA = Path(__file__).parent / "data"
PACK = "pack-example-etiquette"


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> NormService:
    root = tmp_path_factory.mktemp("api")
    store = OxigraphStore(root / "store")
    ingest(store, DATA)
    ingest_source(store, NormPackLoader(DATA / "packs" / "example.yaml"))
    settings = Settings(store=store.url, cache_dir=root / "cache", max_body_bytes=200_000, max_batch=8)
    return NormService(store, settings)


@pytest.fixture(scope="session")
def client(service: NormService) -> TestClient:
    return TestClient(create_app(service.settings, service=service), raise_server_exceptions=False)


def error_of(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    body = response.json()
    assert body["ok"] is False and body["status"] == response.status_code
    assert body["error"]["code"] and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["ok"] and health["triples"] > 0
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/norms",
        "/v1/norms/{norm_id}",
        "/v1/check",
        "/v1/check/batch",
        "/v1/sources",
        "/v1/sparql",
    ):
        assert path in paths


def test_sources_credit_every_dataset(client: TestClient) -> None:
    sources = {s["name"]: s for s in client.get("/v1/sources").json()}
    assert {"social-chem-101", "moral-stories", "normbank", PACK} <= set(sources)
    assert sources["social-chem-101"]["license"].startswith("CC BY-SA 4.0")
    assert all(s["rows"] > 0 and s["triples"] > 0 and s["title"] for s in sources.values())


def test_norms_for_a_context_put_the_specific_norm_first_and_list_the_defeated(client: TestClient) -> None:
    page = client.get(
        "/v1/norms", params={"country": "JP", "setting": "restaurant", "role": "customer", "source": PACK}
    ).json()
    ids = [item["norm"]["id"] for item in page["items"]]
    specific, general = (
        mint("norm", PACK, "tip-japan-restaurant").value,
        mint("norm", PACK, "tip-good-service").value,
    )
    assert ids[0] == specific
    defeated = next(item for item in page["items"] if item["norm"]["id"] == general)
    assert defeated["defeated_by"] == [specific]
    assert page["items"][0]["frame"]["status"] == "applies"
    assert {f["slot"] for f in page["context"]["facts"]} == {"country", "setting", "actor role"}


def test_norms_paginate_and_rank_by_text(client: TestClient) -> None:
    first = client.get("/v1/norms", params={"limit": 5, "offset": 0}).json()
    second = client.get("/v1/norms", params={"limit": 5, "offset": 5}).json()
    assert first["total"] == second["total"] > 10
    assert not {i["norm"]["id"] for i in first["items"]} & {i["norm"]["id"] for i in second["items"]}
    ranked = client.get("/v1/norms", params={"q": "helping friends who feel down", "limit": 3}).json()
    assert ranked["items"][0]["score"] >= ranked["items"][-1]["score"]
    assert "friend" in ranked["items"][0]["norm"]["text"].lower()


def test_norm_by_id_has_its_provenance(client: TestClient) -> None:
    norm_id = client.get("/v1/norms", params={"source": "social-chem-101", "limit": 1}).json()["items"][0][
        "norm"
    ]["id"]
    short = norm_id[len(INSTANCE_BASE) :]
    norm = client.get(f"/v1/norms/{short}").json()
    assert norm["id"] == norm_id and norm["dataset"] == "social-chem-101"
    assert norm["source_row"]["file"].endswith("_sc101.csv") and norm["source_row"]["line"] >= 2
    assert norm["license"].startswith("CC BY-SA 4.0") and norm["judgment"]


def test_bad_inputs_are_clear_4xx_json(client: TestClient) -> None:
    assert "country" in error_of(client.get("/v1/norms", params={"country": "Atlantis"}))["message"]
    assert client.get("/v1/norms", params={"country": "Atlantis"}).status_code == 422
    missing = client.get("/v1/norms/norm/no-such-norm")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    empty = client.post("/v1/check", json={"response": "   "})
    assert empty.status_code == 422 and "response" in error_of(empty)["message"]
    unknown_field = client.post("/v1/check", json={"response": "Hi.", "contxt": {}})
    assert unknown_field.status_code == 422 and "contxt" in error_of(unknown_field)["message"]
    bad_context = client.post("/v1/check", json={"response": "Hi.", "context": {"country": "Narnia"}})
    assert bad_context.status_code == 422 and "country" in error_of(bad_context)["message"]
    bad_judgment = client.post(
        "/v1/check", json={"response": "Hi.", "norms": [{"text": "x", "judgment": "meh"}]}
    )
    assert bad_judgment.status_code == 422 and "judgment" in error_of(bad_judgment)["message"]
    not_json = client.post("/v1/check", content=b"{not json", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    for path, body, field in (
        ("/v1/check", b'{"response": "I lie.\\ud800"}', "response"),
        (
            "/v1/check/batch",
            b'{"items": [{"response": "Hi."}, {"response": "\\udfff"}]}',
            "items[1].response",
        ),
    ):
        lone = client.post(path, content=body, headers={"content-type": "application/json"})
        assert lone.status_code == 422, lone.text  # a lone surrogate is not text; spaCy would fail on it
        assert "response" in error_of(lone)["message"], (field, lone.text)
    twins = client.post("/v1/check/batch", json={"items": [{"id": "a", "response": "Hi."}] * 2})
    assert twins.status_code == 422 and "items[1].id 'a' is also items[0]'s id" in error_of(twins)["message"]
    blank_norm = client.post(
        "/v1/check", json={"response": "Hi.", "norms": [{"text": "   "}], "use_graph": False}
    )
    assert blank_norm.status_code == 422 and "norms" in error_of(blank_norm)["message"]
    huge = client.post("/v1/check", json={"response": "x" * 300_000})
    assert huge.status_code == 413 and error_of(huge)["code"] == "body_too_large"
    too_many = client.post("/v1/check/batch", json={"items": [{"response": "Hi."}] * 9})
    assert too_many.status_code == 422 and "at most 8" in error_of(too_many)["message"]


def test_check_finds_a_violation_with_offsets_and_explanation(client: TestClient) -> None:
    text = "Sure!  I always leave a big tip at restaurants in Tokyo."
    result = client.post(
        "/v1/check?explain=text",
        json={"response": text, "context": {"country": "JP", "setting": "restaurant", "role": "customer"}},
    ).json()
    assert result["verdict"] == "violation"
    finding = next(
        f for f in result["findings"] if f["label"] == "violates" and "tip" in f["evidence"]["text"]
    )
    assert finding["norm"]["id"] == mint("norm", PACK, "tip-japan-restaurant").value
    e = finding["evidence"]
    assert text[e["start"] : e["end"]] == e["text"] and "tip" in e["text"]
    assert finding["frame"]["status"] == "applies" and finding["norm"]["dataset"] == PACK
    assert finding["norm"]["source_row"]["line"] > 0
    assert [d["norm"]["id"] for d in finding["defeated_alternatives"]] == [
        mint("norm", PACK, "tip-good-service").value
    ]
    assert 0.5 <= finding["probability"] <= 1.0
    assert abs(sum(finding["probabilities"].values()) - 1.0) < 1e-3
    assert "violates" in result["explanation_text"]
    for s in result["sentences"]:
        assert text[s["start"] : s["end"]] == s["text"]


def test_negation_and_refusal_follow_the_norm(client: TestClient) -> None:
    norms = [{"text": "It's wrong to steal from a store.", "judgment": "bad"}]
    refusal = client.post(
        "/v1/check",
        json={"response": "I won't help you steal from the store.", "norms": norms, "use_graph": False},
    ).json()
    assert refusal["verdict"] == "consistent", refusal
    advice = client.post(
        "/v1/check",
        json={"response": "You should never steal from a store.", "norms": norms, "use_graph": False},
    ).json()
    assert advice["verdict"] == "consistent", advice
    compliance = client.post(
        "/v1/check",
        json={
            "response": "Sure, here is how to steal from the store unnoticed.",
            "norms": norms,
            "use_graph": False,
        },
    ).json()
    assert compliance["verdict"] == "violation", compliance


def test_unrelated_text_has_no_applicable_norm(client: TestClient) -> None:
    norms = [{"text": "It's wrong to steal from a store.", "judgment": "bad"}]
    result = client.post(
        "/v1/check", json={"response": "The capital of France is Paris.", "norms": norms, "use_graph": False}
    ).json()
    assert result["verdict"] == "no_applicable_norm"


def test_conflict_is_reported_with_both_sides(client: TestClient) -> None:
    result = client.post(
        "/v1/check",
        json={
            "response": "Go ahead and take the phone call right there in the train compartment.",
            "context": {"setting": "train compartment", "environment": {"time of day": "night"}},
        },
    ).json()
    sides = [{s["id"] for s in c["sides"]} for f in result["findings"] for c in f["conflicts"]]
    assert {
        mint("norm", PACK, "phone-call-train").value,
        mint("norm", PACK, "phone-call-emergency-night").value,
    } in sides


def test_batch_keeps_ids_and_order(client: TestClient) -> None:
    items = [
        {
            "id": "a",
            "response": "I won't help you steal.",
            "norms": [{"text": "It is wrong to steal.", "judgment": "bad"}],
            "use_graph": False,
        },
        {"id": "b", "response": "Paris is in France."},
    ]
    results = client.post("/v1/check/batch", json={"items": items}).json()["results"]
    assert [r["id"] for r in results] == ["a", "b"]
    assert results[0]["verdict"] == "consistent"


def test_sparql_is_read_only(client: TestClient) -> None:
    rows = client.get(
        "/v1/sparql", params={"query": "SELECT (COUNT(?n) AS ?c) WHERE { ?n a nkg:Norm }"}
    ).json()
    assert rows["result"][0]["c"] > 0
    refused = client.get("/v1/sparql", params={"query": "DROP ALL"})
    assert refused.status_code == 400 and error_of(refused)["code"] == "read_only"
    broken = client.get("/v1/sparql", params={"query": "SELECT ?x WHERE {"})
    assert broken.status_code == 400 and error_of(broken)["code"] == "bad_query"
    assert client.get("/healthz").json()["triples"] > 0


# Hostile values for every string parameter of every read endpoint: control characters, a NUL, a
# lone quote and brace, SPARQL and Cypher injection, right-to-left marks, and over-long strings.
HOSTILE = [
    "\x00",
    "bar\x1b[31m\r\n",
    "restaurant\"' } UNION { ?s ?p ?o } #",
    "x') DETACH DELETE n //",
    "\u202erestaurant",
    "ü" * 1_200,  # over every length limit; percent-encoded it still fits one URL
    "",
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_every_read_endpoint_answers_hostile_strings_with_json_never_a_500(
    client: TestClient, service: NormService, value: str
) -> None:
    before = service.store.count()
    segment = quote(value, safe="")  # a path segment travels percent-encoded
    calls = [
        *(("get", "/v1/norms", {name: value}) for name in ("country", "setting", "role", "q", "source")),
        ("get", "/v1/norms", {"attribute": value, "environment": value, "other_role": value}),
        ("get", "/v1/norms", {"attribute": f"age bracket={value}"}),
        ("get", f"/v1/norms/{segment}", None),
        ("get", "/v1/sparql", {"query": value}),
        ("get", f"/v1/moral-graphs/{segment}", None),
        ("get", f"/v1/moral-graphs/{segment}/ranking", {"context": value}),
    ]
    for method, path, params in calls:
        got = client.request(method, path, params=params)
        assert got.status_code < 500, (path, params, got.text[:300])
        if got.status_code >= 400:
            error_of(got)
    for body in (
        {"response": value or "Hi."},
        {"response": "Hi.", "context": {"setting": value, "role": value, "attributes": {value: value}}},
        {"response": "Hi.", "norms": [{"text": value or "x", "judgment": "bad", "behavior": value}]},
        {"items": [{"id": value, "response": f"Say {value}."}]},
    ):
        path = "/v1/check/batch" if "items" in body else "/v1/check"
        got = client.post(path, json=body)
        assert got.status_code < 500, (path, got.text[:300])
        if got.status_code >= 400:
            error_of(got)
    assert service.store.count() == before, "no read changes the store"


def test_the_judge_reports_the_negation_it_reversed(service: NormService) -> None:
    """The shipped model (trained with ``--negation rewrite``) judges the affirmative of a negated
    sentence, swaps violates and follows, and says so, with the cue's offsets into the response."""
    from normkg.reasoning.checker import Checker, RequestNorm, render_text
    from normkg.reasoning.judge import NormJudge

    assert service.judge.negation == "rewrite"
    checker = service.state().checker
    norms = [RequestNorm(text="It's wrong to steal from a store.", judgment="bad")]
    response = "Hello there. I'm sorry, but I won't help you steal from the store."
    result = checker.check_many([response], [None], [norms], [False])[0]
    finding = next(f for f in result.findings if f.evidence.sentence == 1)
    assert finding.label == "follows" and finding.negation is not None
    assert response[finding.negation.start : finding.negation.end] == "won't" == finding.negation.cue
    assert finding.negation.judged_as == "I will help you steal from the store."
    # the probabilities are exactly the affirmative's with violates and follows swapped
    affirmative = checker.check_many([finding.negation.judged_as], [None], [norms], [False])[0].findings[0]
    assert affirmative.negation is None and affirmative.label == "violates"
    p, q = finding.probabilities, affirmative.probabilities
    assert (p["violates"], p["follows"], p["unrelated"]) == (q["follows"], q["violates"], q["unrelated"])
    assert 'negated by "won\'t"' in render_text(result)
    # a model trained with negation as written reads the sentence as written and reports no negation
    plain = service.judge
    as_written = NormJudge(plain.weights, {**plain.manifest, "negation": "none"}, plain.adapter)
    state = service.state()
    other = Checker(state.table, state.vocabulary, as_written, lambda norms: {})
    findings = other.check_many([response], [None], [norms], [False])[0].findings
    assert findings and all(f.negation is None for f in findings)


def test_end_to_end_scoring_reads_the_checkers_own_findings(service: NormService) -> None:
    """A labelled pair gets the label of the checker's finding for that norm on that sentence, and
    *unrelated* where the checker reported nothing for it."""
    from normkg.reasoning.checker import RequestNorm
    from normkg.reasoning.end_to_end import GraphPair, predicted_labels
    from normkg.reasoning.judge import Verdict

    checker = service.state().checker
    norms = [
        RequestNorm(text="It's wrong to steal from a store.", judgment="bad"),
        RequestNorm(text="You should water your plants in summer.", judgment="good"),
    ]
    text = "I'm sorry, but I won't help you steal from the store."
    result = checker.check_many([text], [None], [norms], [False])[0]
    assert [f.norm.id for f in result.findings] == ["request:norms[0]"]
    pairs = [
        GraphPair(text, "request:norms[0]", Verdict.FOLLOWS, "t", False),
        GraphPair(text, "request:norms[1]", Verdict.UNRELATED, "t", False),
        GraphPair("Another sentence.", "request:norms[0]", Verdict.VIOLATES, "t", False),
    ]
    assert predicted_labels(pairs, {text: result}) == [Verdict.FOLLOWS, Verdict.UNRELATED, Verdict.UNRELATED]


def test_a_graph_never_ingested_says_so_instead_of_answering_no_norm(
    service: NormService, tmp_path: Path
) -> None:
    empty = OxigraphStore(tmp_path / "empty")
    settings = Settings(store=empty.url, cache_dir=tmp_path / "cache")
    bare = TestClient(create_app(settings, service=NormService(empty, settings, service.judge)))
    norms = [{"text": "It's wrong to steal from a store.", "judgment": "bad"}]
    graph_only = bare.post("/v1/check", json={"response": "Here is how to steal from the store."}).json()
    assert graph_only["verdict"] == "no_applicable_norm" and graph_only["norms_considered"] == 0
    assert len(graph_only["warnings"]) == 1 and "holds no norms" in graph_only["warnings"][0]
    assert "normkg ingest" in graph_only["warnings"][0]
    with_own = bare.post(
        "/v1/check", json={"response": "Here is how to steal from the store.", "norms": norms}
    ).json()
    assert with_own["verdict"] == "violation" and with_own["warnings"] == graph_only["warnings"]
    own_only = bare.post(
        "/v1/check",
        json={"response": "Here is how to steal from the store.", "norms": norms, "use_graph": False},
    ).json()
    assert own_only["verdict"] == "violation" and own_only["warnings"] == []
    page = bare.get("/v1/norms", params={"country": "JP"}).json()
    assert page["total"] == 0 and "holds no norms" in page["warnings"][0]
    empty.close()


def test_an_ingested_graph_answers_without_warnings(client: TestClient) -> None:
    checked = client.post("/v1/check", json={"response": "I always leave a big tip in Tokyo."}).json()
    assert checked["norms_considered"] > 0 and checked["warnings"] == []
    page = client.get("/v1/norms", params={"country": "JP"}).json()
    assert page["total"] > 0 and page["warnings"] == []
