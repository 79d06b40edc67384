"""Property-based tests of the context normaliser (countries with pycountry, words onto the vocabulary).

The normaliser sits between every request and every query, so its promises are checked over random
input rather than a few examples: any country code, code or name in any case and spacing gives the
same ISO code; anything else is a 422 naming the field, never another exception; every word given is
reported as one mapping, and only matched words become facts, which are always real vocabulary terms.
The vocabulary is the real one of a store holding the NormBank test slice and the example pack, and
the embedding fallback runs the real MiniLM.
"""

from __future__ import annotations

from pathlib import Path

import pycountry
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normkg.errors import InputError
from normkg.ingest.loaders.norm_pack import NormPackLoader
from normkg.ingest.loaders.normbank import NormBankLoader
from normkg.ingest.pipeline import ingest_source, load_ontology
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.reasoning.context import Context, match_country, normalize
from normkg.reasoning.vocabulary import MatchMethod, Vocabulary, VocabularyKind

DATA = Path(__file__).parent / "data"
COUNTRIES = list(pycountry.countries)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    store = OxigraphStore(None)
    load_ontology(store)
    ingest_source(store, NormBankLoader(DATA / "normbank"))
    ingest_source(store, NormPackLoader(DATA / "packs" / "example.yaml"))
    return Vocabulary.from_store(store)


def _spelled(draw: st.DrawFn) -> tuple[str, str]:
    country = draw(st.sampled_from(COUNTRIES))
    form = draw(st.sampled_from(["alpha_2", "alpha_3", "name"]))
    text = getattr(country, form)
    text = draw(st.sampled_from([text, text.lower(), text.upper()]))
    pad = draw(st.sampled_from(["", " ", "  ", "\t"]))
    return country.alpha_2, f"{pad}{text}{pad}"


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_any_spelling_of_a_country_gives_its_iso_code(data: st.DataObject) -> None:
    expected, spelled = data.draw(st.composite(_spelled)())
    assert match_country(spelled)[0] == expected


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_any_other_country_text_is_a_real_code_or_a_clear_422(text: str) -> None:
    try:
        code = match_country(text)[0]
    except InputError as exc:
        assert exc.http_status == 422
        assert exc.message.startswith("context.country:")
    else:
        assert pycountry.countries.get(alpha_2=code) is not None


words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)


@given(data=st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_word_is_reported_and_only_matches_become_facts(
    vocabulary: Vocabulary, data: st.DataObject
) -> None:
    labels = {kind: [t.label for t in vocabulary.terms(kind)] for kind in VocabularyKind}
    word = st.one_of(words, st.sampled_from(labels[VocabularyKind.SETTING] + labels[VocabularyKind.ROLE]))
    context = Context(
        setting=data.draw(st.none() | word),
        role=data.draw(st.none() | word),
        other_roles=data.draw(st.lists(word, max_size=3)),
        attributes=data.draw(
            st.dictionaries(st.sampled_from(["age", "gender", "religion"]), word, max_size=2)
        ),
    )
    out = normalize(context, vocabulary)
    given_words = (
        [w for w in (context.setting, context.role) if w]
        + context.other_roles
        + list(context.attributes.values())
    )
    assert len(out.mappings) == len(given_words), "every word given is reported, none dropped"
    assert [m.given for m in out.mappings] == given_words
    known_iris = {t.iri for kind in VocabularyKind for t in vocabulary.terms(kind)}
    matched = [m for m in out.mappings if m.method is not MatchMethod.UNMATCHED]
    assert len(out.facts) == len(matched)
    for mapping, fact in zip(matched, out.facts, strict=True):
        assert mapping.term is not None and fact.value.value == mapping.term.iri
        assert fact.value.value in known_iris
        assert 0.0 <= mapping.score <= 1.0
        if mapping.method is MatchMethod.EMBEDDING:
            assert mapping.score < 1.0 or mapping.term.label.lower() != mapping.given.lower()
    for mapping in out.mappings:
        if mapping.method is MatchMethod.UNMATCHED:
            assert mapping.term is None
    assert ("setting" in out.known_slots) == bool(context.setting)
    assert ("actor role" in out.known_slots) == bool(context.role)


@given(st.data())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_vocabulary_label_maps_exactly_onto_a_term_with_that_label(
    vocabulary: Vocabulary, data: st.DataObject
) -> None:
    term = data.draw(st.sampled_from(vocabulary.terms(VocabularyKind.SETTING)))
    spelled = data.draw(st.sampled_from([term.label, term.label.upper(), f"  {term.label} "]))
    out = normalize(Context(setting=spelled), vocabulary)
    (mapping,) = out.mappings
    assert mapping.method is MatchMethod.EXACT and mapping.score == 1.0
    assert mapping.term is not None and mapping.term.label.lower() == term.label.lower()
    assert [f.slot for f in out.facts] == ["setting"]
