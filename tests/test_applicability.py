"""Applicability, overrides and conflicts on a real store holding the example norm pack."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from normkg.errors import InputError
from normkg.ingest.loaders.norm_pack import NormPackLoader
from normkg.ingest.pipeline import load_ontology
from normkg.ingest.vocab import country_code as vocab_country_code
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.ontology.namespace import mint
from normkg.reasoning.applicability import FrameTable, Status
from normkg.reasoning.context import Context, match_country, normalize
from normkg.reasoning.norm_index import NormIndex
from normkg.reasoning.norms_query import norms_for_context
from normkg.reasoning.overrides import NormTable
from normkg.reasoning.vocabulary import MatchMethod, Vocabulary

PACK = "pack-example-etiquette"


def norm(norm_id: str) -> str:
    return mint("norm", PACK, norm_id).value


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Vocabulary, NormTable]:
    store = OxigraphStore(None)
    load_ontology(store)  # judgment grades and their polarity live in the ontology
    loader = NormPackLoader(Path(__file__).parent / "data" / "packs" / "example.yaml")
    result = loader.run()
    assert result.rows_rejected == 0
    store.replace(loader.name, result.triples)
    vocabulary = Vocabulary.from_store(store)
    frames = FrameTable.from_store(store, vocabulary)
    norms = NormIndex.read_norms(store)
    empty = np.zeros((len(norms), 4), dtype=np.float32)
    return vocabulary, NormTable(NormIndex(norms, empty, empty, "test"), frames)


def answer(world: tuple[Vocabulary, NormTable], context: Context) -> dict[str, object]:
    vocabulary, table = world
    result = norms_for_context(table, normalize(context, vocabulary), limit=100)
    return {"items": {c.norm: c for c in result.items}, "conflicts": result.conflicts, "total": result.total}


def test_complete_context_applies_and_the_specific_norm_defeats_the_general(world) -> None:
    got = answer(world, Context(country="Japan", setting="restaurant", role="customer"))
    items = got["items"]
    specific, general = items[norm("tip-japan-restaurant")], items[norm("tip-good-service")]
    assert specific.match.status is Status.APPLIES
    assert {c.slot for c in specific.match.met} == {"country", "setting", "actor role"}
    assert specific.match.confidence == 1.0
    assert general.match.status is Status.GENERAL
    assert general.defeated_by == [norm("tip-japan-restaurant")]
    assert not specific.defeated
    # the defeated alternative is still in the answer, after the norms that stand
    order = list(items)
    assert order.index(norm("tip-japan-restaurant")) < order.index(norm("tip-good-service"))


def test_partial_context_makes_the_norm_conditional_and_names_what_is_missing(world) -> None:
    got = answer(world, Context(country="JP"))
    tip = got["items"][norm("tip-japan-restaurant")]
    assert tip.match.status is Status.CONDITIONAL
    assert {(c.slot, c.label) for c in tip.match.missing} == {
        ("setting", "restaurant"),
        ("actor role", "customer"),
    }
    assert tip.match.confidence == pytest.approx(0.25)


def test_missing_context_keeps_framed_norms_conditional(world) -> None:
    got = answer(world, Context())
    statuses = {n: c.match.status for n, c in got["items"].items()}
    assert statuses[norm("tip-good-service")] is Status.GENERAL
    assert statuses[norm("shoes-home-japan")] is Status.CONDITIONAL
    assert got["total"] == 6


def test_a_contradicted_slot_excludes_the_norm(world) -> None:
    got = answer(world, Context(country="United States", setting="restaurant", role="customer"))
    assert norm("tip-japan-restaurant") not in got["items"]
    assert not got["items"][norm("tip-good-service")].defeated


def test_opposite_judgments_with_incomparable_frames_are_a_conflict(world) -> None:
    got = answer(world, Context(setting="train compartment", environment={"time of day": "night"}))
    conflicts = got["conflicts"]
    assert len(conflicts) == 1
    assert set(conflicts[0].sides) == {norm("phone-call-train"), norm("phone-call-emergency-night")}
    assert conflicts[0].resolved_by_policy is None
    assert not got["items"][norm("phone-call-train")].defeated


def test_source_priority_breaks_a_tie_and_still_reports_it(tmp_path: Path) -> None:
    store = OxigraphStore(None)
    load_ontology(store)
    other = tmp_path / "other.yaml"
    other.write_text(
        "name: commuters\nnorms:\n  - id: calls-ok\n    text: Short phone calls on a train are fine.\n"
        "    judgment: good\n    behavior: talking on the phone\n    frame: {setting: train compartment}\n"
    )
    for path in (Path(__file__).parent / "data" / "packs" / "example.yaml", other):
        loader = NormPackLoader(path)
        store.replace(loader.name, loader.run().triples)
    vocabulary = Vocabulary.from_store(store)
    frames = FrameTable.from_store(store, vocabulary)
    norms = NormIndex.read_norms(store)
    empty = np.zeros((len(norms), 4), dtype=np.float32)
    table = NormTable(NormIndex(norms, empty, empty, "test"), frames)
    ctx = normalize(Context(setting="train compartment"), vocabulary)
    calls_ok = mint("norm", "pack-commuters", "calls-ok").value
    unresolved = norms_for_context(table, ctx, limit=100)
    # same frame, opposite judgments: a conflict (the night norm, conditional here, conflicts too)
    by_sides = {frozenset(c.sides): c for c in unresolved.conflicts}
    assert by_sides[frozenset({calls_ok, norm("phone-call-train")})].resolved_by_policy is None
    ranked = norms_for_context(table, ctx, source_priority=["pack-commuters", PACK], limit=100)
    by_sides = {frozenset(c.sides): c for c in ranked.conflicts}
    policy = by_sides[frozenset({calls_ok, norm("phone-call-train")})].resolved_by_policy
    assert policy == f"source priority: pack-commuters over {PACK}"
    items = {c.norm: c for c in ranked.items}
    assert items[norm("phone-call-train")].defeated_by == [calls_ok]
    assert not items[calls_ok].defeated


def test_attribute_constraints_use_their_kind(world) -> None:
    teen = answer(world, Context(setting="bar", attributes={"age bracket": "teen"}))["items"]
    adult = answer(world, Context(setting="bar", attributes={"age bracket": "senior citizen"}))["items"]
    assert teen[norm("alcohol-teenager")].match.status is Status.APPLIES
    assert norm("alcohol-teenager") not in adult


def test_fuzzy_words_are_mapped_and_reported(world) -> None:
    vocabulary = world[0]
    ctx = normalize(Context(setting="Restaurants", role="customers"), vocabulary)
    methods = {m.field: (m.method, m.term.label if m.term else None) for m in ctx.mappings}
    assert methods["setting"] == (MatchMethod.LEMMA, "restaurant")
    assert methods["role"] == (MatchMethod.LEMMA, "customer")
    unknown = normalize(Context(setting="quantum chromodynamics seminar"), vocabulary)
    assert unknown.mappings[0].method is MatchMethod.UNMATCHED and unknown.facts == []


def test_countries_are_normalised_and_unknown_ones_refused() -> None:
    assert match_country("JPN")[0] == "JP" == match_country("japan")[0] == match_country("jp")[0]
    with pytest.raises(InputError, match="context.country"):
        match_country("Atlantis")[0]


@pytest.mark.parametrize(
    ("given", "code", "method"),
    [
        ("UK", "GB", "alias"),
        ("Korea", "KR", "alias"),
        ("Türkiye", "TR", "exact"),
        ("the Netherlands", "NL", "exact"),
    ],
)
def test_a_context_reads_countries_as_ingest_does_and_reports_the_mapping(
    world: tuple[Vocabulary, NormTable], given: str, code: str, method: str
) -> None:
    vocabulary = world[0]
    # BLEnD and norm packs write "UK": a context must reach the same country node
    assert vocab_country_code(given) == code
    ctx = normalize(Context(country=given), vocabulary)
    assert ctx.country_code == code
    [mapping] = [m for m in ctx.mappings if m.field == "country"]
    assert (mapping.given, mapping.method.value) == (given, method)
    assert mapping.term is not None and mapping.term.iri == mint("country", code).value


@pytest.mark.parametrize("place", ["Tokyo", "Texas", "Java", "Paris"])
def test_a_city_or_region_is_not_taken_for_a_country(world: tuple[Vocabulary, NormTable], place: str) -> None:
    with pytest.raises(InputError, match="not a city or region"):
        normalize(Context(country=place), world[0])


def test_a_blank_word_says_nothing_about_its_slot(world: tuple[Vocabulary, NormTable]) -> None:
    # "  " read as a setting would make every setting-framed norm contradicted, i.e. excluded
    blank = Context(setting="  ", role="\t", other_roles=[" "], attributes={"age bracket": " "})
    assert blank.is_empty()
    assert answer(world, blank) == answer(world, Context())
    assert normalize(blank, world[0]).known_slots == set()
