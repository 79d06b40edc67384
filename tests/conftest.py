"""Shared fixtures. Real stores and real models only: nothing here mocks the store or the encoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from normkg.kg.oxigraph_store import OxigraphStore
from normkg.settings import Settings

TEST_DATA = Path(__file__).parent / "data"


@pytest.fixture
def memory_store() -> OxigraphStore:
    return OxigraphStore(None)


@pytest.fixture
def disk_store(tmp_path: Path) -> OxigraphStore:
    return OxigraphStore(tmp_path / "store")


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The real datasets (../shared/data beside the checkout, or NORMKG_DATA_DIR)."""
    return Settings().resolve_data_dir()


@pytest.fixture
def test_data() -> Path:
    return TEST_DATA
