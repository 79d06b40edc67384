"""Moral foundations dictionaries on real slices: LIWC .dic entries, stems, eMFD scores, read_mfd2."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from normkg.errors import SourceError
from normkg.ingest.base import LoadResult
from normkg.ingest.loaders.moral_foundations import MoralFoundationsLoader, read_mfd2
from normkg.ingest.registry import loader_class
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.ontology.namespace import NKG, XSD

SLICE = Path(__file__).parent / "data" / "moral-foundations-dictionary"
DIC_FILES = ("mfd2.0.dic", "mft_original.dic")


def dic_body(name: str, root: Path = SLICE) -> list[tuple[int, str, list[int]]]:
    """(line, word, category ids) of each word line: the lines after the second '%', split on whitespace."""
    lines = (root / name).read_text(encoding="utf-8").split("\n")
    second = [n for n, line in enumerate(lines, 1) if line.strip() == "%"][1]
    body = []
    for number, line in enumerate(lines[second:], second + 1):
        fields = line.split()
        if fields:
            ids = [int(f) for f in fields if f.isdigit()]
            body.append((number, " ".join(f for f in fields if not f.isdigit()), ids))
    return body


def emfd_rows(root: Path = SLICE) -> list[dict[str, str]]:
    with (root / "emfd_scoring.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def result() -> LoadResult:
    return MoralFoundationsLoader(SLICE).run()


@pytest.fixture(scope="module")
def store(result: LoadResult) -> OxigraphStore:
    s = OxigraphStore(None)
    s.replace("moral-foundations-dictionary", result.triples)
    return s


def entries(store: OxigraphStore, lexicon_label: str) -> int:
    found = store.select(
        "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a nkg:LexiconEntry ; nkg:inLexicon ?l . "
        "?l rdfs:label ?t FILTER(STR(?t) = ?want) }",
        {"want": ox.Literal(lexicon_label)},
    )
    return int(found[0]["n"].value)


def word_entries(store: OxigraphStore, word: str, lexicon_label: str) -> list[dict[str, str]]:
    found = store.select(
        "SELECT ?f ?stem ?pol ?p ?s ?file ?line WHERE { ?e a nkg:LexiconEntry ; nkg:word ?w ; "
        "nkg:isStem ?stem ; nkg:moralFoundation ?f ; nkg:inLexicon ?l ; prov:wasDerivedFrom ?r . "
        "?l rdfs:label ?t . "
        "?r nkg:sourceFile ?file ; nkg:sourceLine ?line . OPTIONAL { ?e nkg:polarityLabel ?pol } "
        "OPTIONAL { ?e nkg:probability ?p ; nkg:sentiment ?s } FILTER(STR(?w) = ?word && STR(?t) = ?lex) }",
        {"word": ox.Literal(word), "lex": ox.Literal(lexicon_label)},
    )
    return [{k: v.value for k, v in r.items()} for r in found]


def test_registry_names_this_loader() -> None:
    assert loader_class("moral-foundations-dictionary") is MoralFoundationsLoader


def test_counts_by_class_match_the_slices(result: LoadResult, store: OxigraphStore) -> None:
    assert result.issues == []
    lines = {name: dic_body(name) for name in DIC_FILES}
    assert result.rows_read == sum(len(body) for body in lines.values()) + len(emfd_rows())
    pairs = {name: {(word, i) for _, word, ids in body for i in ids} for name, body in lines.items()}
    assert entries(store, "Moral Foundations Dictionary 2.0") == len(pairs["mfd2.0.dic"])
    assert entries(store, "Moral Foundations Dictionary (original)") == len(pairs["mft_original.dic"])
    assert entries(store, "extended Moral Foundations Dictionary (eMFD)") == 5 * len(emfd_rows())
    lexicons = store.select("SELECT (COUNT(?l) AS ?n) WHERE { ?l a nkg:Lexicon }")
    assert int(lexicons[0]["n"].value) == 3
    stems = store.select("SELECT (COUNT(?e) AS ?n) WHERE { ?e nkg:isStem true }")
    assert int(stems[0]["n"].value) == len({p for p in pairs["mft_original.dic"] if p[0].endswith("*")})


def test_original_mfd_stem_and_multi_category_line(store: OxigraphStore) -> None:
    body = {word: (line, ids) for line, word, ids in dic_body("mft_original.dic")}
    # header: 01 care.virtue, 07 authority.virtue, 09 sanctity.virtue, 11 moral
    assert body["preserve"][1] == [1, 7, 9]
    found = word_entries(store, "preserve", "Moral Foundations Dictionary (original)")
    assert {(r["f"], r["pol"]) for r in found} == {
        (NKG.Care.value, "virtue"),
        (NKG.Authority.value, "virtue"),
        (NKG.Sanctity.value, "virtue"),
    }
    assert {(r["stem"], r["file"], int(r["line"])) for r in found} == {
        ("false", "mft_original.dic", body["preserve"][0])
    }

    safe = word_entries(store, "safe", "Moral Foundations Dictionary (original)")
    assert [(r["f"], r["pol"], r["stem"], r["file"], int(r["line"])) for r in safe] == [
        (NKG.Care.value, "virtue", "true", "mft_original.dic", body["safe*"][0])
    ]
    moral_word = next(word for _, word, ids in dic_body("mft_original.dic") if ids == [11])
    general = word_entries(store, moral_word.rstrip("*"), "Moral Foundations Dictionary (original)")
    assert [(r["f"], "pol" in r) for r in general] == [(NKG.GeneralMorality.value, False)]


def test_mfd2_phrase_and_vice_entry(store: OxigraphStore) -> None:
    body = dic_body("mfd2.0.dic")
    phrase = next((line, word, ids) for line, word, ids in body if " " in word)
    found = word_entries(store, phrase[1], "Moral Foundations Dictionary 2.0")
    assert [(r["file"], int(r["line"])) for r in found] == [("mfd2.0.dic", phrase[0])]
    vice = next((line, word) for line, word, ids in body if ids == [10])  # 10 sanctity.vice
    found = word_entries(store, vice[1], "Moral Foundations Dictionary 2.0")
    assert [(r["f"], r["pol"], int(r["line"])) for r in found] == [(NKG.Sanctity.value, "vice", vice[0])]


def test_emfd_row_scores(store: OxigraphStore) -> None:
    row = emfd_rows()[0]
    assert row["word"] == "brought"
    found = word_entries(store, "brought", "extended Moral Foundations Dictionary (eMFD)")
    scores = {r["f"]: (Decimal(r["p"]), Decimal(r["s"])) for r in found}
    names = {"care": NKG.Care, "fairness": NKG.Fairness, "loyalty": NKG.Loyalty, "authority": NKG.Authority}
    names["sanctity"] = NKG.Sanctity
    assert scores == {
        node.value: (Decimal(row[f"{name}_p"]), Decimal(row[f"{name}_sent"])) for name, node in names.items()
    }
    assert {(r["file"], int(r["line"])) for r in found} == {("emfd_scoring.csv", 2)}
    datatypes = store.select("SELECT DISTINCT ?d WHERE { ?e nkg:probability ?p BIND(DATATYPE(?p) AS ?d) }")
    assert [r["d"].value for r in datatypes] == [XSD.decimal.value]


def test_unknown_category_and_bad_numbers_are_reported_and_good_rows_kept(tmp_path: Path) -> None:
    for source in SLICE.iterdir():
        shutil.copy(source, tmp_path / source.name)
    mfd2 = (tmp_path / "mfd2.0.dic").read_text(encoding="utf-8")
    bad_line = len(mfd2.rstrip("\n").split("\n")) + 1
    (tmp_path / "mfd2.0.dic").write_text(mfd2.rstrip("\n") + "\nnotaword\t42\n", encoding="utf-8")
    emfd = (tmp_path / "emfd_scoring.csv").read_text(encoding="utf-8")
    emfd_bad = len(emfd.rstrip("\n").split("\n")) + 1
    (tmp_path / "emfd_scoring.csv").write_text(
        emfd + "oops,0.1,0.2,zero,0.1,0.1,0,0,0,0,0\n", encoding="utf-8"
    )

    result = MoralFoundationsLoader(tmp_path).run()
    issues = {(i.file, i.line): i.reason for i in result.issues}
    assert set(issues) == {("mfd2.0.dic", bad_line), ("emfd_scoring.csv", emfd_bad)}
    assert "unknown category id(s) 42" in issues[("mfd2.0.dic", bad_line)]
    assert "loyalty_p" in issues[("emfd_scoring.csv", emfd_bad)]
    store = OxigraphStore(None)
    store.replace("moral-foundations-dictionary", result.triples)
    good = {(word, i) for _, word, ids in dic_body("mfd2.0.dic") for i in ids}
    assert entries(store, "Moral Foundations Dictionary 2.0") == len(good)
    assert entries(store, "extended Moral Foundations Dictionary (eMFD)") == 5 * len(emfd_rows())
    assert not store.select('SELECT ?e WHERE { ?e nkg:word "oops" }')


def test_duplicate_dic_lines_keep_runs_identical(tmp_path: Path) -> None:
    for source in SLICE.iterdir():
        shutil.copy(source, tmp_path / source.name)
    text = (tmp_path / "mfd2.0.dic").read_text(encoding="utf-8")
    line, word, ids = dic_body("mfd2.0.dic")[0]
    duplicate = text.split("\n")[line - 1]
    (tmp_path / "mfd2.0.dic").write_text(text.rstrip("\n") + "\n" + duplicate + "\n", encoding="utf-8")

    first, second = MoralFoundationsLoader(tmp_path).run(), MoralFoundationsLoader(tmp_path).run()
    assert first.issues == [] and first.triples == second.triples
    store = OxigraphStore(None)
    store.replace("moral-foundations-dictionary", first.triples)
    assert entries(store, "Moral Foundations Dictionary 2.0") == len(
        {(w, i) for _, w, ids_ in dic_body("mfd2.0.dic") for i in ids_}
    )
    # the one entry is derived from both lines
    rows = word_entries(store, word, "Moral Foundations Dictionary 2.0")
    assert sorted(int(r["line"]) for r in rows) == [line, len(text.rstrip("\n").split("\n")) + 1]


def test_two_runs_produce_identical_triples() -> None:
    assert MoralFoundationsLoader(SLICE).run().triples == MoralFoundationsLoader(SLICE).run().triples


def test_read_mfd2_returns_plain_word_foundation_polarity() -> None:
    lexicon = read_mfd2(SLICE / "mfd2.0.dic")
    body = dic_body("mfd2.0.dic")
    assert set(lexicon) == {word for _, word, _ in body}
    # header of mfd2.0.dic: 1 care.virtue ... 10 sanctity.vice, foundations in this order, virtue then vice
    order = ["Care", "Fairness", "Loyalty", "Authority", "Sanctity"]
    for _, word, ids in body:
        for i in ids:
            assert (order[(i - 1) // 2], "virtue" if i % 2 else "vice") in lexicon[word]
    assert sum(len(pairs) for pairs in lexicon.values()) == len({(w, i) for _, w, ids in body for i in ids})


def test_read_mfd2_names_file_and_line_of_a_bad_line(tmp_path: Path) -> None:
    text = (SLICE / "mfd2.0.dic").read_text(encoding="utf-8").rstrip("\n")
    (tmp_path / "mfd2.0.dic").write_text(text + "\nnotaword\t99\n", encoding="utf-8")
    with pytest.raises(SourceError, match=rf"mfd2\.0\.dic:{len(text.split(chr(10))) + 1}: unknown category"):
        read_mfd2(tmp_path / "mfd2.0.dic")
