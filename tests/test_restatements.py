"""One rule written in several rows is judged and reported once, with the other rows listed.

Social-Chem-101 annotates the same rule of thumb in several rows and Moral Stories reuses its rules, so
without grouping one rule can fill every candidate slot of a sentence.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from normkg.ingest.loaders.norm_pack import NormPackLoader
from normkg.ingest.pipeline import ingest_source, load_ontology
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.reasoning.checker import FETCH_K, MIN_SIMILARITY, TOP_K, _top_groups
from normkg.reasoning.context import Context
from normkg.reasoning.judge import Deontic
from normkg.reasoning.norm_index import IndexedNorm, restatement_groups, wording_key
from normkg.reasoning.service import NormService
from normkg.settings import Settings

LIE = "It's wrong to lie to your friends."
PACK = f"""
name: restated
title: Restated rules (test)
license: CC0-1.0
citation: normkg tests
norms:
  - {{id: lie-1, text: "{LIE}", judgment: bad}}
  - {{id: lie-2, text: "it's wrong to lie to your friends", judgment: bad}}
  - {{id: lie-3, text: "It\u2019s   wrong to lie to your friends!", judgment: bad}}
  - {{id: lie-japan, text: "{LIE}", judgment: bad, frame: {{country: JP}}}}
  - {{id: lie-ok, text: "{LIE}", judgment: okay}}
  - {{id: promises, text: "You should keep the promises you make to your friends.", judgment: good}}
  - {{id: gossip, text: "It's wrong to gossip about your friends behind their backs.", judgment: bad}}
"""


def norm(text: str, frame: str | None = None, polarity: int | None = None) -> IndexedNorm:
    return IndexedNorm(
        norm=f"n:{text}:{frame}:{polarity}",
        text=text,
        frame=frame,
        polarity=polarity,
        behavior=None,
        source="t",
    )


def test_the_wording_key_ignores_case_spacing_quotes_and_final_punctuation_only() -> None:
    assert wording_key("It\u2019s  wrong to LIE.") == wording_key("it's wrong to lie") == "it's wrong to lie"
    assert wording_key("It's wrong to lie?!") == "it's wrong to lie"
    assert wording_key("It's wrong to lie, mostly.") != wording_key("It's wrong to lie")
    assert wording_key("It's wrong to lie") != wording_key("It's wrong not to lie")


def test_groups_join_the_same_wording_frame_and_kind_and_nothing_else() -> None:
    norms = [
        norm(LIE),
        norm("it's wrong to lie to your friends"),
        norm(LIE, "frame:jp"),
        norm(LIE),
        norm("Other."),
    ]
    ban, duty = Deontic.PROSCRIBE, Deontic.PRESCRIBE
    kinds = [ban, ban, ban, duty, ban]  # the fourth is read with another kind (a graph judgment)
    assert restatement_groups(norms, kinds).tolist() == [0, 0, 2, 3, 4]
    # a wording the judge cannot read has no kind: the sign of the graph's judgment tells rules apart
    unread = [
        norm("Dog fighting.", polarity=1),
        norm("dog fighting", polarity=2),
        norm("Dog fighting.", polarity=-1),
    ]
    assert restatement_groups(unread, [None, None, None]).tolist() == [0, 0, 2]


def test_top_groups_keep_one_norm_per_group_and_fill_the_slots_with_others() -> None:
    rng = np.random.default_rng(5)
    n = 60
    sims = rng.uniform(MIN_SIMILARITY, 0.6, n)
    groups = np.arange(n)
    twins = np.arange(10, 10 + TOP_K + 2)  # one rule written TOP_K + 2 times, the most similar of all
    sims[twins] = 0.9
    groups[twins] = twins[0]
    picked = _top_groups(sims, groups)
    assert len(picked) == TOP_K and picked[0] == twins[0]  # ties go to the first row
    assert len({int(groups[p]) for p in picked}) == TOP_K
    others = np.setdiff1d(np.arange(n), twins)
    best_others = others[np.argsort(-sims[others])][: TOP_K - 1]
    assert picked[1:] == best_others.tolist()
    # below the similarity floor nothing is picked; a request norm (past the graph) is its own group
    assert _top_groups(np.full(n, MIN_SIMILARITY / 2), groups) == []
    with_request = np.append(sims, 0.95)
    assert _top_groups(with_request, groups)[:2] == [n, twins[0]]


def test_a_rule_written_more_often_than_the_window_still_leaves_room_for_others() -> None:
    n = 200
    sims = np.linspace(0.3, 0.5, n)
    groups = np.arange(n)
    many = np.arange(FETCH_K * 3)  # one rule written three windows' worth of times, the most similar
    sims[many] = 0.9
    groups[many] = 0
    picked = _top_groups(sims, groups)
    assert picked[0] == 0 and len(picked) == TOP_K
    assert picked[1:] == list(range(n - 1, n - TOP_K, -1))  # then the most similar other norms


def pack_service(root: Path, name: str, pack_text: str) -> NormService:
    """A service over a fresh store holding only the norm pack ``pack_text``."""
    pack = root / f"{name}.yaml"
    pack.write_text(pack_text, encoding="utf-8")
    store = OxigraphStore(root / "store")
    load_ontology(store)
    ingest_source(store, NormPackLoader(pack))
    return NormService(store, Settings(store=store.url, cache_dir=root / "cache"))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> NormService:
    return pack_service(tmp_path_factory.mktemp("restated"), "restated", PACK)


def ids(refs: list) -> set[str]:  # type: ignore[type-arg]
    return {r.id.rsplit("/", 1)[-1] for r in refs}


def test_a_rule_written_three_times_is_one_finding_that_lists_the_other_rows(service: NormService) -> None:
    result = service.check("Always lie to your friends, it keeps things simple.")
    lie = [f for f in result.findings if "lie" in f.norm.text.lower()]
    # the three restated rows are one finding; "lie-ok" (judged okay: another kind) and "lie-japan"
    # (another frame, conditionally applicable without a country) are other rules
    assert len(lie) == 3, [f.norm.text for f in result.findings]
    restated = next(f for f in lie if f.restatements)
    assert ids([restated.norm, *restated.restatements]) == {"lie-1", "lie-2", "lie-3"}
    assert restated.label == "violates"
    for r in restated.restatements:  # each listed row keeps its own provenance
        assert r.dataset == "pack-restated" and r.source_row is not None
    others = {ids([f.norm]).pop(): f for f in lie if not f.restatements}
    assert set(others) == {"lie-ok", "lie-japan"}
    assert others["lie-japan"].frame.status == "conditional"
    assert "also stated in: pack-restated" in service_text(service, "Always lie to your friends.")


def test_a_framed_copy_is_a_different_norm_with_its_own_finding(service: NormService) -> None:
    result = service.check("Always lie to your friends.", Context(country="JP"))
    findings = [f for f in result.findings if "lie" in f.norm.text.lower() and f.label == "violates"]
    framed = [f for f in findings if ids([f.norm]) == {"lie-japan"}]
    assert len(framed) == 1 and framed[0].restatements == []
    assert framed[0].frame.status == "applies"
    # the general rows are still one finding, with two restatements
    general = [f for f in findings if f.restatements]
    assert len(general) == 1 and len(general[0].restatements) == 2


def service_text(service: NormService, response: str) -> str:
    from normkg.reasoning.checker import render_text

    return render_text(service.check(response))


def test_end_to_end_scoring_credits_a_finding_to_its_restatements(
    service: NormService, tmp_path: Path
) -> None:
    from normkg.reasoning.end_to_end import GraphPair, predicted_labels
    from normkg.reasoning.judge import Verdict

    text = "Always lie to your friends."
    result = service.check(text)
    finding = next(f for f in result.findings if f.restatements)
    pairs = [
        GraphPair(text, r.id, Verdict.VIOLATES, "t", False) for r in [finding.norm, *finding.restatements]
    ]
    assert predicted_labels(pairs, {text: result}) == [Verdict(finding.label)] * 3


DEFEAT_PACK = """
name: defeat
title: A restated rule, one row of which is defeated (test)
license: CC0-1.0
citation: normkg tests
norms:
  - {id: a-lie, text: "It's wrong to lie to your friends.", judgment: bad, behavior: lying to friends}
  - {id: b-lie, text: "It's wrong to lie to your friends.", judgment: bad}
  - {id: c-ok, text: "It's fine to lie to your friends in Japan.", judgment: okay, behavior: lying to friends,
     frame: {country: JP}}
  - {id: promises, text: "You should keep the promises you make to your friends.", judgment: good}
"""


def test_a_defeated_row_does_not_hide_the_rows_that_restate_it(tmp_path: Path) -> None:
    """a-lie and b-lie are one rule, but only a-lie is about the behaviour that the more specific c-ok
    overrides in Japan: the rule is still reported, for b-lie, and a-lie is not listed with it."""
    service = pack_service(tmp_path, "defeat", DEFEAT_PACK)
    result = service.check("Always lie to your friends.", Context(country="JP"))
    restated = [f for f in result.findings if f.norm.text == "It's wrong to lie to your friends."]
    assert len(restated) == 1, [f.norm.id for f in result.findings]
    assert ids([restated[0].norm]) == {"b-lie"} and restated[0].restatements == []
    assert not any(ids([f.norm]) == {"a-lie"} for f in result.findings)


def test_a_check_looks_up_the_provenance_of_every_named_norm_at_once(
    service: NormService, tmp_path: Path
) -> None:
    """Every graph norm the findings name (their norms, restatements, defeated alternatives and
    conflict sides) comes from one store lookup per response, each with its own source row; the
    request's own norms are never looked up."""
    from collections.abc import Sequence

    from normkg.reasoning.checker import Checker, RequestNorm

    def counted(svc: NormService) -> tuple[Checker, list[list[str]]]:
        state = svc.state()
        lookups: list[list[str]] = []

        def lookup(norms: Sequence[str]) -> dict:  # type: ignore[type-arg]
            lookups.append(list(norms))
            return state.refs.get(norms)

        return Checker(state.table, state.vocabulary, svc.judge, lookup), lookups

    checker, lookups = counted(service)
    result = checker.check_many(
        ["Always lie to your friends, it keeps things simple."], [None], [[]], [True]
    )[0]
    named = [r for f in result.findings for r in (f.norm, *f.restatements)]
    assert len(named) >= 5 and len(lookups) == 1
    assert sorted(lookups[0]) == sorted({r.id for r in named})
    assert all(r.dataset == "pack-restated" and r.source_row is not None for r in named)
    assert len({r.source_row.iri for r in named if r.source_row}) == len(named)  # each its own row

    # a context where a specific graph norm (c-ok, Japan) defeats a general one (a-lie) and the
    # request's own norm about the same behaviour
    defeat = pack_service(tmp_path, "defeat", DEFEAT_PACK)
    checker, lookups = counted(defeat)
    mine = RequestNorm(
        text="Never lie to your friends, not even in Japan.", judgment="bad", behavior="lying to friends"
    )
    result = checker.check_many(["Always lie to your friends."], [Context(country="JP")], [[mine]], [True])[0]
    defeated = {d.norm.id for f in result.findings for d in f.defeated_alternatives}
    sides = {n.id for f in result.findings for c in f.conflicts for n in c.sides}
    in_graph = {n for n in defeated | sides if not n.startswith("request:")}
    assert in_graph and len(lookups) == 1
    assert in_graph <= set(lookups[0])
    assert not any(n.startswith("request:") for n in lookups[0])
