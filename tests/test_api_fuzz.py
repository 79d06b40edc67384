"""Schemathesis over the whole OpenAPI schema against the real app: no 5xx, responses match the schema.

Bounded for CI: a few examples per operation, no shrinking, and a deadline per example.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from normkg.api.app import create_app
from normkg.ingest.loaders.norm_pack import NormPackLoader
from normkg.ingest.pipeline import ingest, ingest_source
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.reasoning.service import NormService
from normkg.settings import Settings

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def fuzz_schema(tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    root = tmp_path_factory.mktemp("fuzz")
    store = OxigraphStore(root / "store")
    ingest(store, DATA, ["cvc", "moral-stories", "scruples"])
    ingest_source(store, NormPackLoader(DATA / "packs" / "example.yaml"))
    app_settings = Settings(store=store.url, cache_dir=root / "cache", max_batch=4, sparql_timeout_s=2)
    app = create_app(app_settings, service=NormService(store, app_settings))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_responses_match_the_schema(case: schemathesis.Case) -> None:
    case.call_and_validate()
