"""The NormBank taxonomy loader on a real slice (tests/data/normbank, the upstream layout and file names).

The slice: four settings of settings.txt (bar, barber shop, basement, pub) with their role lists, the
item lists of bar, barber shop and cockpit (a setting that settings.txt does not list), the role-item
files of barber shop and basement (basement_electrician.txt names a role that basement's role list
spells "an electrician"), five attribute files cut short (country.txt and country-subset.txt spell
three countries differently), the behaviours of bar and of "jail or prison" (not in settings.txt)
cut short, and constraint_dict.json cut to the same settings, kinds and behaviours (the real file's
'condition or state' slot lists 'mad', which the attribute file does not).

Expected values come from reading those files here, with plain Python, and from the upstream
README / build_constraint_dict.py (slot names are "<setting> role" and "<setting> behavior").
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from graph_queries import count, memory_store, one, values

from normkg.errors import SourceError
from normkg.ingest.base import LoadResult
from normkg.ingest.loaders.normbank import (
    NormBankLoader,
    attribute_node,
    behavior_node,
    condition_node,
    item_node,
    role_node,
    setting_node,
    slot_node,
)
from normkg.kg.store import GraphStore
from normkg.ontology.namespace import NKG, SKOS, ontology_text

SLICE = Path(__file__).parent / "data" / "normbank"
RAW = SLICE / "data" / "raw"
ENVIRONMENT = "the environment"
ROLE_CATEGORIES = ("the PERSON PERFORMING BEHAVIOR's role", "some OTHER PERSON's role")
ATTRIBUTE_CATEGORIES = ("the PERSON PERFORMING BEHAVIOR's attribute", "some OTHER PERSON's attribute")
ALSO_DOING = "the PERSON PERFORMING BEHAVIOR is also doing"
# Read off the two country files by eye: the subset spells these three countries its own way.
SUBSET_SPELLING = {
    "the United States": "the United States of America",
    "Netherlands": "the Netherlands",
    "Dominican Republic": "the Dominican Republic",
}


def key(text: str) -> str:
    return " ".join(text.split()).casefold()


def lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the non-blank lines of a taxonomy file."""
    text = path.read_text(encoding="utf-8")
    return [(n, line.strip()) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]


def texts(path: Path) -> list[str]:
    return [t for _, t in lines(path)]


def constraints() -> dict[str, dict[str, list[str]]]:
    data: dict[str, dict[str, list[str]]] = json.loads((SLICE / "constraint_dict.json").read_text("utf-8"))
    return data


def slot_positions() -> dict[tuple[str, str], int]:
    """(category, slot) -> its 1-based position in the file, the record number the loader promises."""
    positions = [(c, s) for c, slots in constraints().items() for s in slots]
    return {pair: n for n, pair in enumerate(positions, start=1)}


@pytest.fixture(scope="module")
def result() -> LoadResult:
    return NormBankLoader(SLICE).run()


@pytest.fixture(scope="module")
def store(result: LoadResult) -> GraphStore:
    s = memory_store("normbank", result.triples)
    ontology = [
        (t.subject, t.predicate, t.object) for t in ox.parse(ontology_text().encode(), ox.RdfFormat.TURTLE)
    ]
    s.replace("_ontology", ontology)
    return s


def origins(store: GraphStore, node: ox.NamedNode) -> set[tuple[str, int]]:
    """(file, line) of every row the node is derived from."""
    rows = store.select(
        "SELECT ?f ?l WHERE { ?n prov:wasDerivedFrom ?r . ?r nkg:sourceFile ?f ; nkg:sourceLine ?l }",
        {"n": node},
    )
    return {(r["f"].value, int(r["l"].value)) for r in rows}


def en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


def line_of(path: Path, text: str) -> int:
    return next(n for n, t in lines(path) if t == text)


def rel(path: Path) -> str:
    return str(path.relative_to(SLICE))


# ---- counts --------------------------------------------------------------------------------------------


def test_counts_match_the_slice(result: LoadResult, store: GraphStore) -> None:
    data = constraints()
    setting_names = {t.removesuffix(".txt") for t in texts(RAW / "settings.txt")}
    for folder in ("Settings-Roles", "Settings-Items", "Behaviors-All-Hand-Filtered"):
        setting_names |= {p.stem for p in (RAW / folder).glob("*.txt")}
    setting_names |= {p.name for p in (RAW / "Settings-Roles-Items").iterdir()}
    setting_names |= {s.removesuffix(" role") for c in ROLE_CATEGORIES for s in data[c]}
    setting_names |= {s.removesuffix(" behavior") for s in data[ALSO_DOING]}

    roles = {key(t) for p in (RAW / "Settings-Roles").glob("*.txt") for t in texts(p)}
    roles |= {key(p.stem.split("_", 1)[1]) for p in (RAW / "Settings-Roles-Items").glob("*/*.txt")}
    roles |= {key(v) for c in ROLE_CATEGORIES for vs in data[c].values() for v in vs}

    items = {(key(p.stem), key(t)) for p in (RAW / "Settings-Items").glob("*.txt") for t in texts(p)}
    items |= {
        (key(p.parent.name), key(t)) for p in (RAW / "Settings-Roles-Items").glob("*/*.txt") for t in texts(p)
    }

    attributes = set()
    for path in (RAW / "Attributes").glob("*.txt"):
        kind = path.stem.removesuffix("-subset")
        attributes |= {(kind, key(SUBSET_SPELLING.get(t, t))) for t in texts(path)}
    attributes |= {(kind, key(v)) for c in ATTRIBUTE_CATEGORIES for kind, vs in data[c].items() for v in vs}
    kinds = {kind for kind, _ in attributes}

    behaviors = {key(t) for p in (RAW / "Behaviors-All-Hand-Filtered").glob("*.txt") for t in texts(p)}
    behaviors |= {key(v) for vs in data[ALSO_DOING].values() for v in vs}

    slots = sum(len(slots) for slots in data.values())
    conditions = sum(len(set(vs)) for vs in data[ENVIRONMENT].values())
    text_lines = sum(len(lines(p)) for p in RAW.rglob("*.txt"))

    assert result.issues == []
    assert result.rows_read == text_lines + slots
    assert count(store, "?x a nkg:SourceRow") == text_lines + slots
    assert count(store, "?x a nkg:Setting") == len({key(s) for s in setting_names}) == 6
    assert count(store, "?x a nkg:Role") == len(roles)
    assert count(store, "?x a nkg:Item") == len(items)
    assert count(store, "?x a nkg:Attribute") == len(attributes)
    assert count(store, "?x a nkg:AttributeKind") == len(kinds)
    assert count(store, "?x a nkg:Behavior") == len(behaviors)
    assert count(store, "?x a nkg:ConstraintSlot") == slots
    assert count(store, "?x a nkg:EnvironmentCondition") == conditions
    # one label per concept, in English
    for cls in ("Setting", "Role", "Item", "Attribute", "EnvironmentCondition", "ConstraintSlot"):
        assert count(store, f"?x a nkg:{cls} ; skos:prefLabel ?l") == count(store, f"?x a nkg:{cls}")
        assert not store.select(
            f"SELECT ?x WHERE {{ ?x a nkg:{cls} ; skos:prefLabel ?a, ?b FILTER(?a != ?b) }}"
        ), cls


# ---- one concept of each kind, by hand ------------------------------------------------------------------


def test_a_role_in_two_settings_is_one_concept(store: GraphStore) -> None:
    customer = role_node("customer")
    barber, pub = RAW / "Settings-Roles" / "barber shop.txt", RAW / "Settings-Roles" / "pub.txt"
    assert "customer" in texts(barber) and "customer" in texts(pub)
    assert values(store, customer, NKG.roleIn) == {setting_node("barber shop"), setting_node("pub")}
    assert values(store, customer, SKOS.prefLabel) == {en("customer")}
    assert values(store, customer, SKOS.inScheme) == {NKG.NormBankRoles}
    positions = slot_positions()
    slots = {(c, f"{s} role") for c in ROLE_CATEGORIES for s in ("barber shop", "pub")}
    assert origins(store, customer) == {
        (rel(barber), line_of(barber, "customer")),
        (rel(pub), line_of(pub, "customer")),
    } | {("constraint_dict.json", positions[s]) for s in slots}
    assert values(store, customer, NKG.slot) == {
        slot_node(NKG[cat], name) for cat, name in _categories(slots)
    }
    # the items a customer carries at the barber shop (barber shop_customer.txt)
    items_file = RAW / "Settings-Roles-Items" / "barber shop" / "barber shop_customer.txt"
    rows = store.select("SELECT ?i WHERE { ?i nkg:itemOf ?r ; nkg:itemIn ?s }", {"r": customer})
    assert {r["i"] for r in rows} == {item_node("barber shop", t) for t in texts(items_file)}


def _categories(slots: set[tuple[str, str]]) -> set[tuple[str, str]]:
    local = {ROLE_CATEGORIES[0]: "CategoryActorRole", ROLE_CATEGORIES[1]: "CategoryOtherRole"}
    return {(local[c], s) for c, s in slots}


def test_settings_named_only_by_a_file_are_declared_there(store: GraphStore) -> None:
    assert "cockpit.txt" not in texts(RAW / "settings.txt")
    cockpit = setting_node("cockpit")
    assert origins(store, cockpit) == {("data/raw/Settings-Items/cockpit.txt", 1)}
    assert values(store, cockpit, SKOS.prefLabel) == {en("cockpit")}
    jail = setting_node("jail or prison")
    assert origins(store, jail) == {("data/raw/Behaviors-All-Hand-Filtered/jail or prison.txt", 1)}
    assert values(store, jail, SKOS.inScheme) == {NKG.NormBankSettings}
    bar = setting_node("bar")
    assert origins(store, bar) == {("data/raw/settings.txt", line_of(RAW / "settings.txt", "bar.txt"))}


def test_a_role_only_an_item_file_names(store: GraphStore) -> None:
    """basement_electrician.txt: the basement's role list says 'an electrician', not 'electrician'."""
    assert "electrician" not in texts(RAW / "Settings-Roles" / "basement.txt")
    electrician = role_node("electrician")
    path = RAW / "Settings-Roles-Items" / "basement" / "basement_electrician.txt"
    assert values(store, electrician, NKG.roleIn) == {setting_node("basement")}
    assert origins(store, electrician) == {(rel(path), 1)}
    rows = store.select("SELECT ?i WHERE { ?i nkg:itemOf ?r }", {"r": electrician})
    assert {r["i"] for r in rows} == {item_node("basement", t) for t in texts(path)}


def test_country_attributes_link_the_iso_country_and_the_subset(store: GraphStore) -> None:
    netherlands = attribute_node("country", "the Netherlands")
    assert attribute_node("country", "Netherlands") == netherlands  # the subset's spelling
    assert values(store, netherlands, SKOS.prefLabel) == {en("the Netherlands")}
    country = one(store.select("SELECT ?c WHERE { ?a nkg:country ?c }", {"a": netherlands}))["c"]
    assert isinstance(country, ox.NamedNode)
    assert values(store, country, SKOS.notation) == {ox.Literal("NL")}
    members = {r["m"] for r in store.select("SELECT ?m WHERE { nkg:NormBankCountrySubset skos:member ?m }")}
    subset = texts(RAW / "Attributes" / "country-subset.txt")
    assert members == {attribute_node("country", t) for t in subset} and len(members) == len(subset)
    # every country of country.txt resolves in this slice (they are ordinary ISO names)
    listed = texts(RAW / "Attributes" / "country.txt")
    assert count(store, "?x a nkg:Attribute ; nkg:attributeKind ?k ; nkg:country ?c") == len(listed)
    kind = one(store.select("SELECT ?k WHERE { ?a nkg:attributeKind ?k }", {"a": netherlands}))["k"]
    assert isinstance(kind, ox.NamedNode)
    assert values(store, netherlands, SKOS.inScheme) == {kind}
    assert (
        one(store.select("SELECT ?k WHERE { ?k a nkg:AttributeKind ; skos:prefLabel 'country'@en }"))["k"]
        == kind
    )


def test_slot_values_link_the_raw_concepts_and_declare_new_ones(store: GraphStore) -> None:
    positions = slot_positions()
    mad = attribute_node("condition or state", "mad")
    assert "mad" not in texts(RAW / "Attributes" / "condition or state.txt")
    assert origins(store, mad) == {
        ("constraint_dict.json", positions[(c, "condition or state")]) for c in ATTRIBUTE_CATEGORIES
    }
    assert values(store, mad, SKOS.prefLabel) == {en("mad")}
    alert = attribute_node("condition or state", "alert")  # in both the file and the slot
    path = RAW / "Attributes" / "condition or state.txt"
    assert (rel(path), line_of(path, "alert")) in origins(store, alert)
    assert values(store, alert, NKG.slot) == {
        slot_node(NKG.CategoryActorAttribute, "condition or state"),
        slot_node(NKG.CategoryOtherAttribute, "condition or state"),
    }
    beg = behavior_node("beg")
    assert values(store, beg, NKG.inSetting) == {setting_node("bar"), setting_node("jail or prison")}
    assert values(store, beg, NKG.text) == {en("beg")}
    assert values(store, beg, NKG.slot) == {
        slot_node(NKG.CategoryActorAlsoDoing, "bar behavior"),
        slot_node(NKG.CategoryActorAlsoDoing, "jail or prison behavior"),
    }


def test_environment_slots_and_categories(store: GraphStore) -> None:
    data = constraints()
    night = condition_node("time of day", "night")
    slot = slot_node(NKG.CategoryEnvironment, "time of day")
    assert values(store, night, NKG.slot) == {slot}
    assert values(store, night, SKOS.inScheme) == {slot}
    assert origins(store, night) == {("constraint_dict.json", slot_positions()[(ENVIRONMENT, "time of day")])}
    in_slot = store.select("SELECT ?l WHERE { ?c skos:inScheme ?s ; skos:prefLabel ?l }", {"s": slot})
    assert {r["l"] for r in in_slot} == {en(v) for v in data[ENVIRONMENT]["time of day"]}
    row = one(store.select("SELECT ?r WHERE { ?s prov:wasDerivedFrom ?r }", {"s": slot}))["r"]
    assert isinstance(row, ox.NamedNode)
    assert values(store, row, NKG.sourceId) == {ox.Literal("the environment / time of day")}
    # each slot's category is the ontology's ConstraintCategory whose label is the file's category key
    rows = store.select(
        "SELECT ?id ?label WHERE { ?s nkg:constraintCategory ?c ; prov:wasDerivedFrom ?r . "
        "?r nkg:sourceId ?id . ?c a nkg:ConstraintCategory ; skos:prefLabel ?label }"
    )
    assert len(rows) == sum(len(s) for s in data.values())
    assert all(r["id"].value.startswith(r["label"].value + " / ") for r in rows)


def test_helpers_normalise_case_and_whitespace() -> None:
    assert role_node("  Customer ") == role_node("customer")
    assert setting_node("Barber   shop") == setting_node("barber shop")
    assert attribute_node("Country", "ITALY") == attribute_node("country", "Italy")
    assert attribute_node("age bracket", "Teen") == attribute_node("age bracket", "teen")
    assert attribute_node("country", "the United States") == attribute_node(
        "country", "the United States of America"
    )
    assert attribute_node("country", "Atlantis") != attribute_node("country", "Italy")
    assert condition_node("Time of day", "NIGHT") == condition_node("time of day", "night")
    assert role_node("customer") != role_node("customers")


# ---- bad input -----------------------------------------------------------------------------------------


def copy_slice(tmp_path: Path) -> Path:
    root = tmp_path / "normbank"
    shutil.copytree(SLICE, root)
    return root


def test_malformed_input_is_reported_and_good_rows_kept(tmp_path: Path) -> None:
    root = copy_slice(tmp_path)
    raw = root / "data" / "raw"
    roles = raw / "Settings-Roles" / "pub.txt"
    roles.write_bytes(roles.read_bytes().replace(b"customer", b"cust\xffomer"))  # line 2 undecodable
    (raw / "Settings-Roles-Items" / "basement" / "cellar_plumber.txt").write_text(
        "a wrench\n", encoding="utf-8"
    )
    with (raw / "Attributes" / "country.txt").open("a", encoding="utf-8") as handle:
        handle.write("Atlantis\n")  # not an ISO country: kept, without the country link
    data: dict[str, Any] = json.loads((root / "constraint_dict.json").read_text(encoding="utf-8"))
    data["the environment"]["privacy"] = "public"  # position 1: not a list
    data["the PERSON PERFORMING BEHAVIOR's role"]["bar"] = ["host"]  # not '<setting> role'
    data["the JUDGE's attribute"] = {"age bracket": ["teen"]}  # unknown category (last position)
    (root / "constraint_dict.json").write_text(json.dumps(data), encoding="utf-8")
    positions = [(c, s) for c, slots in data.items() for s in slots]

    result = NormBankLoader(root).run()

    issues = {(i.file, i.line): i.reason for i in result.issues}
    pub = "data/raw/Settings-Roles/pub.txt"
    bad_name = "data/raw/Settings-Roles-Items/basement/cellar_plumber.txt"
    bar_slot = positions.index(("the PERSON PERFORMING BEHAVIOR's role", "bar")) + 1
    assert set(issues) == {
        (pub, 2),
        (bad_name, 1),
        ("constraint_dict.json", 1),
        ("constraint_dict.json", bar_slot),
        ("constraint_dict.json", len(positions)),
    }
    assert "UTF-8" in issues[(pub, 2)]
    assert "basement_<role>.txt" in issues[(bad_name, 1)]
    assert "privacy" in issues[("constraint_dict.json", 1)] and "list" in issues[("constraint_dict.json", 1)]
    assert "<setting> role" in issues[("constraint_dict.json", bar_slot)]
    assert "unknown constraint category" in issues[("constraint_dict.json", len(positions))]

    s = memory_store("normbank", result.triples)
    atlantis = attribute_node("country", "Atlantis")
    assert values(s, atlantis, SKOS.prefLabel) == {en("Atlantis")}
    assert values(s, atlantis, NKG.country) == set()
    # the neighbours of the bad line and the other slots survive
    assert values(s, role_node("bartender"), NKG.roleIn) == {setting_node("bar"), setting_node("pub")}
    assert values(s, role_node("server"), NKG.roleIn) == {setting_node("bar"), setting_node("pub")}
    assert count(s, "?x a nkg:ConstraintSlot") == len(positions) - 3
    assert count(s, "?x a nkg:EnvironmentCondition") == len(data["the environment"]["time of day"])
    # pub.txt's customer line is lost, but the 'pub role' slot still states that the customer is a pub role
    customer = role_node("customer")
    assert values(s, customer, NKG.roleIn) == {setting_node("barber shop"), setting_node("pub")}
    assert (pub, 2) not in origins(s, customer)
    assert slot_node(NKG.CategoryActorRole, "bar") not in {t[0] for t in result.triples}


def test_broken_constraint_json_keeps_the_raw_files(tmp_path: Path) -> None:
    root = copy_slice(tmp_path)
    (root / "constraint_dict.json").write_text(
        '{"the environment": {"privacy": ["public",\n', encoding="utf-8"
    )
    result = NormBankLoader(root).run()
    assert [(i.file, i.line) for i in result.issues] == [("constraint_dict.json", 2)]
    assert "invalid JSON" in result.issues[0].reason
    s = memory_store("normbank", result.triples)
    assert count(s, "?x a nkg:ConstraintSlot") == 0
    assert count(s, "?x a nkg:Setting") == 6


def test_missing_required_file(tmp_path: Path) -> None:
    root = copy_slice(tmp_path)
    (root / "data" / "raw" / "settings.txt").unlink()
    with pytest.raises(SourceError, match="settings.txt"):
        NormBankLoader(root).run()


def test_two_runs_give_the_same_triples(result: LoadResult) -> None:
    again = NormBankLoader(SLICE).run()
    assert again.triples == result.triples
    assert again.content_key == result.content_key
