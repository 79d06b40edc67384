"""DailyDilemmas loader on a real slice: values and their theory mappings, dilemmas, options, principles."""

from __future__ import annotations

import ast
import csv
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from normkg.ingest.base import LoadResult
from normkg.ingest.loaders.daily_dilemmas import DailyDilemmasLoader
from normkg.ingest.registry import loader_class
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.kg.terms import Row
from normkg.ontology.namespace import NKG

SLICE = Path(__file__).parent / "data" / "daily-dilemmas"
ACTIONS = "dilemmas_with_detail_by_action_test.csv"


def rows(name: str, root: Path = SLICE) -> list[dict[str, str]]:
    with (root / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def result() -> LoadResult:
    return DailyDilemmasLoader(SLICE).run()


@pytest.fixture(scope="module")
def store(result: LoadResult) -> OxigraphStore:
    s = OxigraphStore(None)
    s.replace("daily-dilemmas", result.triples)
    return s


def count(store: OxigraphStore, cls: str) -> int:
    found = store.select(f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a {cls} }}")
    return int(found[0]["n"].value)


def test_registry_names_this_loader() -> None:
    assert loader_class("daily-dilemmas") is DailyDilemmasLoader


def test_counts_by_class_match_the_slice(result: LoadResult, store: OxigraphStore) -> None:
    values, dilemmas, actions = rows("values.csv"), rows("dilemma.csv"), rows(ACTIONS)
    principles = rows("principle_openai.csv") + rows("principle_claude.csv")
    assert result.issues == []
    assert result.rows_read == len(values) + len(dilemmas) + len(actions) + len(principles)
    # the per-action sample names dilemmas that dilemma.csv also holds
    assert count(store, "nkg:Dilemma") == len({r["idx"] for r in dilemmas} | {r["idx"] for r in actions})
    assert count(store, "nkg:DilemmaOption") == len(actions)
    assert count(store, "nkg:Principle") == len(principles)
    in_taxonomy = store.select(
        "SELECT (COUNT(DISTINCT ?v) AS ?n) WHERE { ?v a nkg:Value ; skos:inScheme ?s . ?s skos:prefLabel ?l "
        'FILTER(STR(?l) = "DailyDilemmas values (301)") }'
    )
    assert int(in_taxonomy[0]["n"].value) == len(values)
    # one concept per distinct label of each theory column
    for column, scheme in (
        ("WVS", "World Values"),
        ("Virtue", "virtues"),
        ("Emotion", "emotions"),
        ("Maslow", "needs"),
    ):
        labels = {r[column] for r in values if r[column]}
        found = store.select(
            "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c skos:inScheme ?s . ?s skos:prefLabel ?l "
            f'FILTER(CONTAINS(STR(?l), "{scheme}")) }}'
        )
        assert int(found[0]["n"].value) == len(labels), column


FOUNDATIONS = {
    NKG.Care,
    NKG.Fairness,
    NKG.Loyalty,
    NKG.Authority,
    NKG.Sanctity,
    NKG.Liberty,
    NKG.GeneralMorality,
}


def targets_of(store: OxigraphStore, value: str) -> list[Row]:
    """The relatedMatch targets of a value, with their label and scheme label where the graph has them."""
    found = store.select(
        "SELECT ?t ?label ?scheme WHERE { ?v a nkg:Value ; skos:prefLabel ?l ; skos:relatedMatch ?t . "
        "OPTIONAL { ?t skos:prefLabel ?label } OPTIONAL { ?t skos:inScheme ?s . ?s skos:prefLabel ?scheme } "
        "FILTER(STR(?l) = ?name) }",
        {"name": ox.Literal(value)},
    )
    return found


def test_mft_column_maps_onto_the_shared_foundations(store: OxigraphStore) -> None:
    # Purity is MFT's older name of Sanctity (Graham et al. 2009)
    expected = {
        "Care": NKG.Care,
        "Fairness": NKG.Fairness,
        "Loyalty": NKG.Loyalty,
        "Authority": NKG.Authority,
        "Purity": NKG.Sanctity,
    }
    for row in rows("values.csv"):
        targets = {r["t"] for r in targets_of(store, row["value"]) if r["t"] in FOUNDATIONS}
        assert targets == ({expected[row["MFT"]]} if row["MFT"] else set()), row["value"]


def test_skos_mappings_of_the_honesty_row(store: OxigraphStore) -> None:
    # values.csv: ",honesty,,Fairness,Truthfulness,trust,self-esteem" (no WVS dimension)
    row = next(r for r in rows("values.csv") if r["value"] == "honesty")
    assert (row["WVS"], row["MFT"], row["Virtue"], row["Emotion"], row["Maslow"]) == (
        "",
        "Fairness",
        "Truthfulness",
        "trust",
        "self-esteem",
    )
    found = targets_of(store, "honesty")
    assert {r["t"] for r in found if r["t"] in FOUNDATIONS} == {NKG.Fairness}
    by_scheme = {r["scheme"].value: r["label"].value for r in found if "scheme" in r}
    assert by_scheme == {
        "Aristotle's virtues (DailyDilemmas mapping)": "Truthfulness",
        "Plutchik's emotions (DailyDilemmas mapping)": "trust",
        "Maslow's hierarchy of needs (DailyDilemmas mapping)": "self-esteem",
    }
    assert len(found) == 4
    provenance = store.select(
        'SELECT ?file ?line ?id WHERE { ?v skos:prefLabel "honesty"@en ; a nkg:Value ; '
        "prov:wasDerivedFrom ?r . ?r nkg:sourceFile ?file ; nkg:sourceLine ?line ; nkg:sourceId ?id }"
    )
    lines = (SLICE / "values.csv").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if ",honesty," in text)
    assert [(r["file"].value, int(r["line"].value), r["id"].value) for r in provenance] == [
        ("values.csv", line, "honesty")
    ]


def test_dilemma_55_and_its_report_option(store: OxigraphStore) -> None:
    dilemma = store.select(
        "SELECT ?d ?basic ?situation ?file ?line WHERE { ?d a nkg:Dilemma ; nkg:basicSituation ?basic ; "
        'nkg:situation ?situation ; prov:wasDerivedFrom ?r . ?r nkg:sourceId "55" ; nkg:sourceFile ?file ; '
        "nkg:sourceLine ?line }"
    )
    assert len(dilemma) == 1
    assert dilemma[0]["basic"].value == "taking initiative."
    assert dilemma[0]["situation"].value.startswith("You're a project manager in a marketing firm.")
    # the ontology's ranges: situation is language-tagged text, basic situation a plain string
    assert (dilemma[0]["situation"].language, dilemma[0]["basic"].language) == ("en", None)
    assert (dilemma[0]["file"].value, int(dilemma[0]["line"].value)) == ("dilemma.csv", 2)
    d = dilemma[0]["d"]

    options = store.select(
        "SELECT ?o ?text ?type WHERE { ?d nkg:option ?o . ?o a nkg:DilemmaOption ; nkg:text ?text ; "
        "nkg:actionType ?type }",
        {"d": d},
    )
    assert {(r["text"].value, r["type"].value) for r in options} == {
        ("Report the colleague", "to_do"),
        ("Not report the colleague", "not_to_do"),
    }
    report = next(r["o"] for r in options if r["type"].value == "to_do")
    row = next(r for r in rows(ACTIONS) if r["idx"] == "55" and r["action_type"] == "to_do")

    def objects(prop: str) -> set[str]:
        found = store.select(f"SELECT ?x WHERE {{ ?o {prop} ?x }}", {"o": report})
        return {r["x"].value for r in found}

    assert objects("nkg:consequence") == {row["negative_consequence"]}
    parties = ast.literal_eval(row["parties_direct"]) + ast.literal_eval(row["parties_indirect"])
    assert objects("nkg:party") == set(parties)
    # upstream values_names lists exactly the action's values that are among the 301 (case-insensitively)
    linked = store.select(
        "SELECT ?l WHERE { ?o nkg:value ?v . ?v a nkg:Value ; skos:prefLabel ?l }", {"o": report}
    )
    assert {r["l"].value for r in linked} == set(ast.literal_eval(row["values_names"]))
    written = ast.literal_eval(row["values_direct"]) + ast.literal_eval(row["values_indirect"])
    names = {r["value"].lower() for r in rows("values.csv")}
    assert (
        objects("nkg:valueName")
        == {v for v in written if v.lower() not in names}
        == {"Respect for resources"}
    )
    topic = store.select(
        "SELECT ?n ?g WHERE { ?o nkg:topic ?t . ?t skos:notation ?n ; skos:broader ?b . "
        "?b skos:prefLabel ?g }",
        {"o": report},
    )
    assert (
        [(r["n"].value, r["g"].value) for r in topic]
        == [(row["topic"], row["topic_group"])]
        == [("11", "workplace")]
    )
    provenance = store.select(
        "SELECT ?file ?line ?id WHERE { ?o prov:wasDerivedFrom ?r . ?r a nkg:SourceRow ; "
        "nkg:sourceFile ?file ; nkg:sourceLine ?line ; nkg:sourceId ?id }",
        {"o": report},
    )
    assert [(r["file"].value, int(r["line"].value), r["id"].value) for r in provenance] == [
        (ACTIONS, 2, "55/to_do")
    ]


def test_principles_are_obligatory_with_their_source_and_spec(store: OxigraphStore) -> None:
    first = rows("principle_openai.csv")[0]
    found = store.select(
        "SELECT ?p ?src ?spec ?status ?file ?line WHERE { ?p a nkg:Principle ; nkg:text ?t ; "
        "nkg:principleSource ?src ; nkg:modelSpec ?spec ; nkg:deonticStatus ?status ; "
        "prov:wasDerivedFrom ?r . ?r nkg:sourceFile ?file ; nkg:sourceLine ?line FILTER(STR(?t) = ?want) }",
        {"want": ox.Literal(first["principle"])},
    )
    assert [
        (r["src"].value, r["spec"].value, r["status"], r["file"].value, int(r["line"].value)) for r in found
    ] == [(first["source"], "OpenAI Model Spec", NKG.Obligatory, "principle_openai.csv", 2)]
    statuses = store.select("SELECT DISTINCT ?s WHERE { ?p a nkg:Principle ; nkg:deonticStatus ?s }")
    assert [r["s"] for r in statuses] == [NKG.Obligatory]


def test_malformed_rows_are_reported_and_good_rows_kept(tmp_path: Path) -> None:
    for source in SLICE.iterdir():
        shutil.copy(source, tmp_path / source.name)
    values_text = (tmp_path / "values.csv").read_text()
    values_lines = values_text.splitlines()
    # a row with one field too many, then a row with a foundation MFT does not have
    (tmp_path / "values.csv").write_text(
        values_text + "999,grit,Survival,Care,,,safety,extra\n998,honour,,Honor,,,\n"
    )
    with (tmp_path / ACTIONS).open(newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    header = table[0]
    table[3][header.index("parties_direct")] = "['You', 'The team"  # unterminated literal, on line 4
    with (tmp_path / ACTIONS).open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(table)

    result = DailyDilemmasLoader(tmp_path).run()
    issues = {(i.file, i.line): i.reason for i in result.issues}
    assert set(issues) == {
        ("values.csv", len(values_lines) + 1),
        ("values.csv", len(values_lines) + 2),
        (ACTIONS, 4),
    }
    assert "expected 7 fields, found 8" in issues[("values.csv", len(values_lines) + 1)]
    assert "MFT" in issues[("values.csv", len(values_lines) + 2)]
    assert "parties_direct" in issues[(ACTIONS, 4)]

    store = OxigraphStore(None)
    store.replace("daily-dilemmas", result.triples)
    assert count(store, "nkg:DilemmaOption") == len(rows(ACTIONS)) - 1
    assert count(store, "nkg:Principle") == len(rows("principle_openai.csv")) + len(
        rows("principle_claude.csv")
    )
    assert len(store.select('SELECT ?v WHERE { ?v skos:prefLabel "honesty"@en }')) == 1
    assert not store.select('SELECT ?v WHERE { ?v skos:prefLabel "honour"@en }')


def test_two_runs_produce_identical_triples() -> None:
    first = DailyDilemmasLoader(SLICE).run()
    second = DailyDilemmasLoader(SLICE).run()
    assert first.triples == second.triples
    assert first.content_key == second.content_key
