"""Norm pack files: each is named once, by itself or its file, and two packs never share a name."""

from __future__ import annotations

from pathlib import Path

import pytest

from normkg.errors import SourceError
from normkg.ingest.base import BadRecord, Record
from normkg.ingest.loaders.norm_pack import NormPackLoader, load_packs

YAML = "name: {name}\nnorms:\n  - id: a\n    text: Greet your hosts.\n    judgment: good\n"


def test_two_packs_with_one_name_are_refused_before_anything_is_read(tmp_path: Path) -> None:
    first, second, other = tmp_path / "one.yaml", tmp_path / "two.yaml", tmp_path / "three.yaml"
    first.write_text(YAML.format(name="shared"), encoding="utf-8")
    second.write_text(YAML.format(name="shared"), encoding="utf-8")
    other.write_text(YAML.format(name="other"), encoding="utf-8")
    assert [p.name for p in load_packs([first, other])] == ["pack-shared", "pack-other"]
    with pytest.raises(SourceError) as refused:
        load_packs([first, other, second])
    assert str(second) in refused.value.message and str(first) in refused.value.message


def test_a_csv_pack_is_named_by_its_name_column_and_rows_of_another_pack_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "file-name.csv"
    path.write_text(
        "name,id,text,judgment\ncolumn-name,a,Greet your hosts.,good\nother,b,Be on time.,good\n"
        ",c,Bring a gift.,good\n",
        encoding="utf-8",
    )
    pack = NormPackLoader(path)
    assert pack.name == "pack-column-name" and pack.names_itself
    records = list(pack.records())
    assert [r.source_id for r in records if isinstance(r, Record)] == ["a", "c"]
    [bad] = [r for r in records if isinstance(r, BadRecord)]
    assert bad.line == 3 and "other" in bad.reason


def test_a_yaml_pack_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(YAML.format(name="latin").replace("hosts", "h\xf4tes").encode("latin-1"))
    with pytest.raises(SourceError, match=rf"{path}:4: not UTF-8"):
        NormPackLoader(path)
