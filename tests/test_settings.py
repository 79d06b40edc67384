"""Settings: one object, every field documented in the README, data dir resolution with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from normkg.errors import DataDirNotFound
from normkg.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        f"NORMKG_{name.upper()}" for name in Settings.model_fields if f"NORMKG_{name.upper()}" not in text
    ]
    assert missing == []


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NORMKG_STORE", "oxigraph:memory")
    monkeypatch.setenv("NORMKG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NORMKG_SOURCE_PRIORITY", '["pack-a", "social-chem-101"]')
    settings = Settings()
    assert settings.store == "oxigraph:memory"
    assert settings.resolve_data_dir() == tmp_path
    assert settings.source_priority == ["pack-a", "social-chem-101"]


def test_a_missing_data_dir_says_where_to_put_the_files(tmp_path: Path) -> None:
    with pytest.raises(DataDirNotFound, match="not a folder") as info:
        Settings(data_dir=tmp_path / "nowhere").resolve_data_dir()
    assert "NORMKG_DATA_DIR" in str(info.value) or "normbank" in str(info.value)


def test_default_data_dir_is_shared_data_beside_the_checkout() -> None:
    found = Settings().resolve_data_dir()
    assert found.name == "data" and found.parent.name == "shared"
    assert (found / "normbank").is_dir()
