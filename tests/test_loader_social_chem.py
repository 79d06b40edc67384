"""The Social-Chem-101 loader on real rows (tests/data/social-chem-101: 20 rows copied from each file).

Expected values come from the CSV text, read here with the csv module, and from the upstream README
(README.v1.0.md: action-moral-judgment buckets -2..2 are very bad, bad, expected/OK, good, very good)
and Kiehne et al. 2022 (judgments 1 and 2 are obligatory, 0 optional), never from the loader's output.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from graph_queries import count, one, values

from normkg.errors import SourceError
from normkg.ingest.base import LoadResult
from normkg.ingest.loaders.social_chem import SocialChemLoader
from normkg.kg.open import open_store
from normkg.kg.store import GraphStore
from normkg.kg.validate import validate_triples
from normkg.ontology.namespace import NKG

SLICE = Path(__file__).parent / "data" / "social-chem-101"
FILES = ("obligatory_sc101.csv", "optional_sc101.csv")

GRADE = {-2: NKG.VeryBad, -1: NKG.Bad, 0: NKG.Expected, 1: NKG.Good, 2: NKG.VeryGood}
DEONTIC = {-2: NKG.Prohibited, -1: NKG.Prohibited, 0: NKG.Permitted, 1: NKG.Obligatory, 2: NKG.Obligatory}
FOUNDATION = {
    "care-harm": NKG.Care,
    "fairness-cheating": NKG.Fairness,
    "loyalty-betrayal": NKG.Loyalty,
    "authority-subversion": NKG.Authority,
    "sanctity-degradation": NKG.Sanctity,
}

ROW_QUERY = """
SELECT ?norm ?action ?row ?file ?line ?dataset WHERE {
  ?row a nkg:SourceRow ; nkg:sourceId ?id ; nkg:sourceFile ?file ; nkg:sourceLine ?line ;
       nkg:inDataset ?dataset .
  ?norm a nkg:Norm ; prov:wasDerivedFrom ?row ; nkg:about ?action .
  ?action a nkg:Behavior ; prov:wasDerivedFrom ?row .
}
"""


def slice_rows(folder: Path = SLICE) -> Iterator[tuple[str, int, dict[str, str]]]:
    for name in FILES:
        with (folder / name).open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                yield name, reader.line_num, row


@pytest.fixture(scope="module")
def result() -> LoadResult:
    return SocialChemLoader(SLICE).run()


@pytest.fixture(scope="module")
def store(result: LoadResult) -> GraphStore:
    s = open_store("oxigraph:memory")
    s.replace("social-chem-101", result.triples)
    return s


def notations(store: GraphStore, subject: ox.NamedNode, prop: ox.NamedNode) -> set[str]:
    rows = store.select("SELECT ?n WHERE { ?s ?p ?c . ?c skos:notation ?n }", {"s": subject, "p": prop})
    return {r["n"].value for r in rows}


def en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


def whole(text: str) -> int:
    return int(float(text))


def test_counts_match_the_slice(result: LoadResult, store: GraphStore) -> None:
    rows = list(slice_rows())
    assert result.rows_read == len(rows) == 40
    assert result.issues == []
    assert count(store, "?x a nkg:Norm") == len({r["rot-id"] for _, _, r in rows})
    assert count(store, "?x a nkg:Behavior") == len({(r["rot-id"], r["action"]) for _, _, r in rows})
    assert count(store, "?x a nkg:SourceRow") == len(rows)
    assert count(store, "?n a nkg:Norm ; nkg:about ?x") == len(rows)


def test_first_obligatory_row_by_hand(store: GraphStore) -> None:
    """Line 2 of obligatory_sc101.csv, read by eye: "It's good to help your friends when ..." """
    rot_id = "rot/reddit/amitheasshole/b4t08v/36H9ULYP659MXOGEIKMFK1UCU98JF8/127/1"
    hit = one(store.select(ROW_QUERY, {"id": ox.Literal(rot_id)}))
    norm, action, row = hit["norm"], hit["action"], hit["row"]
    assert (
        isinstance(norm, ox.NamedNode) and isinstance(action, ox.NamedNode) and isinstance(row, ox.NamedNode)
    )
    assert hit["file"] == ox.Literal("obligatory_sc101.csv")
    assert hit["line"] == ox.Literal(2)
    assert values(store, norm, NKG.text) == {en("It's good to help your friends when they're feeling down.")}
    assert values(store, norm, NKG.judgmentText) == {en("It's good")}
    assert values(store, action, NKG.text) == {en("helping your friends when they're feeling down.")}
    assert values(store, action, NKG.judgment) == {NKG.Good}  # action-moral-judgment 1.0
    assert values(store, norm, NKG.deonticStatus) == {NKG.Obligatory}
    assert values(store, norm, NKG.moralFoundation) == {NKG.Care, NKG.Loyalty}
    assert notations(store, norm, NKG.category) == {"morality-ethics", "social-norms"}
    assert notations(store, action, NKG.legality) == {"legal"}
    assert values(store, norm, NKG.agreement) == {ox.Literal(4)}
    assert values(store, action, NKG.actionAgreement) == {ox.Literal(4)}
    assert values(store, action, NKG.culturalPressure) == {ox.Literal(1)}
    assert values(store, norm, NKG.flaggedBad) == {ox.Literal(False)}
    assert values(store, norm, NKG.characters) == {en("narrator"), en("my friend")}
    assert values(store, norm, NKG.characterCount) == {ox.Literal(2)}
    assert values(store, norm, NKG.characterTargeting) == {ox.Literal("char-0")}
    assert values(store, norm, NKG.targetedCharacter) == {en("narrator")}
    assert values(store, action, NKG.involvedCharacter) == {en("narrator")}
    assert values(store, action, NKG.agency) == {ox.Literal("agency")}
    assert values(store, action, NKG.hypothetical) == {ox.Literal("explicit")}
    assert values(store, norm, NKG.situation) == {en("making a video trying to cheer up my friend")}
    assert values(store, norm, NKG.situationId) == {ox.Literal("reddit/amitheasshole/b4t08v")}
    assert values(store, norm, NKG.sourceArea) == {ox.Literal("amitheasshole")}
    assert values(store, norm, NKG.split) == {ox.Literal("train")}
    assert values(store, norm, NKG.breakdownCount) == {ox.Literal(1)}
    assert values(store, row, NKG.workerId) == {ox.Literal("127"), ox.Literal("106")}
    assert values(store, row, NKG.rotWorkerId) == {ox.Literal("127")}
    assert values(store, row, NKG.breakdownWorkerId) == {ox.Literal("106")}


@pytest.mark.parametrize(("file", "line", "data"), list(slice_rows()), ids=lambda v: str(v)[:24])
def test_every_slice_row_against_its_csv_text(
    store: GraphStore, file: str, line: int, data: dict[str, str]
) -> None:
    hit = one(store.select(ROW_QUERY, {"id": ox.Literal(data["rot-id"])}))
    norm, action = hit["norm"], hit["action"]
    assert isinstance(norm, ox.NamedNode) and isinstance(action, ox.NamedNode)
    assert (hit["file"], hit["line"]) == (ox.Literal(file), ox.Literal(line))
    judgment = whole(data["action-moral-judgment"])
    assert values(store, action, NKG.judgment) == {GRADE[judgment]}
    assert values(store, norm, NKG.deonticStatus) == {DEONTIC[judgment]}
    # Kiehne et al. chose the rows of each file by their deontic operator.
    assert DEONTIC[judgment] == (NKG.Obligatory if file.startswith("obligatory") else NKG.Permitted)
    foundations = {FOUNDATION[f] for f in data["rot-moral-foundations"].split("|") if f}
    assert values(store, norm, NKG.moralFoundation) == foundations
    assert notations(store, norm, NKG.category) == set(data["rot-categorization"].split("|"))
    assert notations(store, action, NKG.legality) == (
        {data["action-legal"]} if data["action-legal"] else set()
    )
    agree = {ox.Literal(whole(data["action-agree"]))} if data["action-agree"] else set()
    assert values(store, action, NKG.actionAgreement) == agree
    pressure = {ox.Literal(whole(data["action-pressure"]))} if data["action-pressure"] else set()
    assert values(store, action, NKG.culturalPressure) == pressure
    assert values(store, norm, NKG.characters) == {en(c) for c in data["characters"].split("|")}
    assert values(store, norm, NKG.characterCount) == {ox.Literal(int(data["n-characters"]))}
    cue = {ox.Literal(data["stripped"])} if "stripped" in data else set()
    assert values(store, norm, NKG.permissionCue) == cue


def test_char_index_beyond_the_listed_characters_is_kept_unresolved(store: GraphStore) -> None:
    """Source line 1285 of obligatory_sc101.csv (12 in the slice): two characters listed, char-3 targeted."""
    file, line, data = next(r for r in slice_rows() if r[2]["characters"] == "narrator|my dad")
    assert (file, line, data["rot-char-targeting"]) == ("obligatory_sc101.csv", 12, "char-3")
    norm = one(store.select(ROW_QUERY, {"id": ox.Literal(data["rot-id"])}))["norm"]
    assert isinstance(norm, ox.NamedNode)
    assert values(store, norm, NKG.characterTargeting) == {ox.Literal("char-3")}
    assert values(store, norm, NKG.targetedCharacter) == set()


def test_concepts_sit_in_their_schemes(store: GraphStore) -> None:
    in_scheme = "SELECT ?n WHERE { ?x ?p ?c . ?c skos:inScheme ?scheme ; skos:notation ?n }"
    rows = store.select(in_scheme, {"p": NKG.category, "scheme": NKG.SocialChemCategories})
    assert {r["n"].value for r in rows} == {
        c for _, _, d in slice_rows() for c in d["rot-categorization"].split("|")
    }
    rows = store.select(in_scheme, {"p": NKG.legality, "scheme": NKG.Legality})
    assert {r["n"].value for r in rows} == {
        d["action-legal"] for _, _, d in slice_rows() if d["action-legal"]
    }


def test_two_runs_give_the_same_triples(result: LoadResult) -> None:
    again = SocialChemLoader(SLICE).run()
    assert set(again.triples) == set(result.triples)


def csv_line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    return out.getvalue()


def _lines(name: str) -> list[str]:
    return (SLICE / name).read_text(encoding="utf-8").splitlines(keepends=True)


def test_malformed_rows_are_reported_and_good_rows_kept(tmp_path: Path) -> None:
    obligatory, optional = _lines(FILES[0]), _lines(FILES[1])
    header = next(csv.reader([obligatory[0]]))

    def edited(line: str, column: str, value: str) -> str:
        fields = next(csv.reader([line]))
        fields[header.index(column)] = value
        return csv_line(fields)

    obligatory[3] = edited(obligatory[3], "action-moral-judgment", "very good")  # line 4
    obligatory[5] = obligatory[5].rstrip("\n") + ",extra\n"  # line 6: 26 fields
    obligatory[7] = edited(obligatory[7], "rot", "  ")  # line 8: no rule-of-thumb
    obligatory[9] = edited(obligatory[9], "action-legal", "sort of")  # line 10
    optional[2] = edited(optional[2], "action-moral-judgment", "3.0")  # line 3: off the -2..2 scale
    optional[20] = optional[20].replace(",legal,", ',"legal,', 1)  # line 21, the last: quote never closed
    (tmp_path / FILES[0]).write_text("".join(obligatory), encoding="utf-8")
    (tmp_path / FILES[1]).write_text("".join(optional), encoding="utf-8")

    result = SocialChemLoader(tmp_path).run()

    issues = {(i.file, i.line): i.reason for i in result.issues}
    assert set(issues) == {
        (FILES[0], 4),
        (FILES[0], 6),
        (FILES[0], 8),
        (FILES[0], 10),
        (FILES[1], 3),
        (FILES[1], 21),
    }
    assert "action-moral-judgment" in issues[(FILES[0], 4)] and "'very good'" in issues[(FILES[0], 4)]
    assert "expected 25 fields, found 26" in issues[(FILES[0], 6)]
    assert "'rot'" in issues[(FILES[0], 8)]
    assert "action-legal" in issues[(FILES[0], 10)] and "'sort of'" in issues[(FILES[0], 10)]
    assert "action-moral-judgment" in issues[(FILES[1], 3)] and "'3.0'" in issues[(FILES[1], 3)]
    assert "fields" in issues[(FILES[1], 21)]
    assert str(result.issues[0]).startswith(f"{FILES[0]}:4: ")

    s = open_store("oxigraph:memory")
    s.replace("social-chem-101", result.triples)
    assert count(s, "?x a nkg:Norm") == 40 - 6
    lines = {
        (r["f"].value, int(r["l"].value))
        for r in s.select("SELECT ?f ?l WHERE { ?r nkg:sourceFile ?f ; nkg:sourceLine ?l }")
    }
    assert len(lines) == 34 and not lines & set(issues)
    assert (FILES[0], 5) in lines and (FILES[1], 20) in lines  # the neighbours of bad rows survive


def test_empty_answers_are_left_out_not_guessed(tmp_path: Path) -> None:
    obligatory = _lines(FILES[0])
    header = next(csv.reader([obligatory[0]]))
    fields = next(csv.reader([obligatory[1]]))
    for column in ("action-moral-judgment", "rot-agree", "action-legal", "rot-char-targeting"):
        fields[header.index(column)] = ""
    (tmp_path / FILES[0]).write_text(obligatory[0] + csv_line(fields), encoding="utf-8")
    shutil.copy(SLICE / FILES[1], tmp_path / FILES[1])

    result = SocialChemLoader(tmp_path).run()
    assert result.issues == []
    s = open_store("oxigraph:memory")
    s.replace("social-chem-101", result.triples)
    hit = one(s.select(ROW_QUERY, {"id": ox.Literal(fields[header.index("rot-id")])}))
    norm, action = hit["norm"], hit["action"]
    assert isinstance(norm, ox.NamedNode) and isinstance(action, ox.NamedNode)
    for subject, prop in (
        (action, NKG.judgment),
        (norm, NKG.deonticStatus),
        (norm, NKG.agreement),
        (action, NKG.legality),
        (norm, NKG.characterTargeting),
        (norm, NKG.targetedCharacter),
    ):
        assert values(s, subject, prop) == set(), prop


def test_missing_column_and_missing_file(tmp_path: Path) -> None:
    obligatory = _lines(FILES[0])
    (tmp_path / FILES[0]).write_text(obligatory[0].replace("rot-id,", "rotid,"), encoding="utf-8")
    with pytest.raises(SourceError, match=FILES[1]):
        SocialChemLoader(tmp_path).run()
    shutil.copy(SLICE / FILES[1], tmp_path / FILES[1])
    result = SocialChemLoader(tmp_path).run()
    assert [(i.file, i.line) for i in result.issues] == [(FILES[0], 1)]
    assert "rot-id" in result.issues[0].reason


def test_slice_conforms_to_the_shapes(result: LoadResult) -> None:
    report = validate_triples("social-chem-101", result.triples)
    assert report.violations == []
