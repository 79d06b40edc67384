"""NormBank (Ziems et al., ACL 2023): the SCENE taxonomy that its situational norms are framed with.

Source: shared/data/normbank (SOURCE.txt), SALT-NLP/normbank at 31a63dd: ``data/raw/**`` and
``constraint_dict.json`` (upstream ``src/constraint_dict.json``). The labelled norms (NormBank.csv) are
not in the repository, so this loader builds only the vocabulary that frames are made of and states no
norm and no judgment.

What each file becomes:

- ``data/raw/settings.txt`` (one file name per line, ``bar.txt``): ``nkg:Setting`` concepts in
  ``nkg:NormBankSettings``. A setting that only a file name mentions (``Settings-Items/cockpit.txt``,
  ``Behaviors-All-Hand-Filtered/jail or prison.txt``) is declared by that file's first line.
- ``Settings-Roles/<setting>.txt``: ``nkg:Role`` concepts, ``nkg:roleIn`` the setting.
- ``Settings-Items/<setting>.txt`` and ``Settings-Roles-Items/<setting>/<setting>_<role>.txt``:
  ``nkg:Item`` concepts, ``nkg:itemIn`` the setting and ``nkg:itemOf`` the role.
- ``Attributes/<kind>.txt``: ``nkg:Attribute`` values in the ``nkg:AttributeKind`` scheme of the kind.
  Country values also point (``nkg:country``) at the ISO 3166 country node where pycountry resolves
  them; one it cannot resolve is kept without that link. ``country-subset.txt`` is not a kind of its
  own: upstream skips ``*-subset`` files when it builds the constraint slots and uses this one only to
  choose the countries it generated behaviours for. Its lines name the same country attributes and
  make them ``skos:member`` of ``nkg:NormBankCountrySubset``.
- ``Behaviors-All-Hand-Filtered/<setting>.txt``: ``nkg:Behavior`` (``nkg:text``), ``nkg:inSetting``.
- ``constraint_dict.json``: one ``nkg:ConstraintSlot`` per (category, slot), with its
  ``nkg:constraintCategory``. Each preset value points at its slot with ``nkg:slot``. Environment
  values are ``nkg:EnvironmentCondition`` concepts in the slot's scheme. Role, attribute and also-doing
  values are the Role, Attribute and Behavior nodes that the raw files already made (same IRI). The slot
  declares one itself only when no raw file named it (e.g. the attribute 'mad' of 'condition or state').

Identity: the public ``*_node`` helpers below are also what norm packs and context matching call to
mint IRIs. Names are compared after one normalisation, :func:`name_key` (whitespace collapsed, case
folded).

- A role is one concept per role name, not one per (setting, role): "customer" in a bar and in a
  barber shop is one concept, ``nkg:roleIn`` both. Every NormBank frame already states its setting as a
  separate constraint, so a per-setting role would only repeat it. It would also leave a context that
  names a role without a setting ("I am the customer") matching no node, or many by label. A name that
  means different things in different settings ("server" at an altar and in a restaurant) is told
  apart by the frame's setting constraint, as in NormBank's own frames.
- An item is one concept per (setting, item): items are not frame constraints, and keeping the setting
  in the item's identity keeps the raw files' (setting, role, item) facts intact.
- A behaviour is one node per text ("cry" is one behaviour, ``nkg:inSetting`` every setting that lists
  it), so an also-doing constraint names the same node whichever setting's list it came from.
- A country attribute is keyed by its ISO code when pycountry resolves it, so "the Netherlands"
  (country.txt) and "Netherlands" (country-subset.txt) are one attribute.

A concept is declared (typed, labelled, put in its scheme), and its link to a setting stated, by the
first line that names it, in the order the files are read (raw files first, then the slots). Later lines
type it again with their own ``prov:wasDerivedFrom`` and add only what is new: an item's role, a
slot's ``nkg:slot``, a subset membership. This keeps one label per concept, and the constraint slots
link the raw files' concepts instead of restating them.

Record numbering: text files are numbered by line. ``constraint_dict.json`` is a single line of JSON,
so its records are numbered by the slot's position in the file (1-based, counted across the categories
in file order), and each record's source id is "<category> / <slot>".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from normkg.ingest.base import (
    BadRecord,
    DatasetInfo,
    Loader,
    Record,
    RowError,
    RowTriples,
    parse_json_file,
    read_lines,
)
from normkg.ingest.vocab import add_country, country_code
from normkg.ontology.namespace import NKG, SKOS, mint

SETTINGS_FILE = "data/raw/settings.txt"
CONSTRAINTS_FILE = "constraint_dict.json"
RAW = "data/raw"
SETTINGS = "settings"
ROLES = "Settings-Roles"
ITEMS = "Settings-Items"
ROLE_ITEMS = "Settings-Roles-Items"
ATTRIBUTES = "Attributes"
BEHAVIORS = "Behaviors-All-Hand-Filtered"
SUBSET = "-subset"

#: constraint_dict.json's six category keys, as the ontology's ConstraintCategory labels spell them
CATEGORIES: dict[str, ox.NamedNode] = {
    "the environment": NKG.CategoryEnvironment,
    "the PERSON PERFORMING BEHAVIOR's role": NKG.CategoryActorRole,
    "some OTHER PERSON's role": NKG.CategoryOtherRole,
    "the PERSON PERFORMING BEHAVIOR's attribute": NKG.CategoryActorAttribute,
    "some OTHER PERSON's attribute": NKG.CategoryOtherAttribute,
    "the PERSON PERFORMING BEHAVIOR is also doing": NKG.CategoryActorAlsoDoing,
}
_ROLE_CATEGORIES = {NKG.CategoryActorRole, NKG.CategoryOtherRole}
_ATTRIBUTE_CATEGORIES = {NKG.CategoryActorAttribute, NKG.CategoryOtherAttribute}
#: slot names of role and also-doing categories are "<setting> role" and "<setting> behavior"
_SLOT_SUFFIX = {NKG.CategoryActorAlsoDoing: " behavior"} | {c: " role" for c in _ROLE_CATEGORIES}


# ---- names and IRIs (shared with norm packs and context matching) ------------------------------------


def clean(name: str) -> str:
    """A name as shown: inner whitespace collapsed, ends stripped, case kept."""
    return " ".join(name.split())


def name_key(name: str) -> str:
    """The one normalisation under which two names are the same concept: whitespace and case ignored."""
    return clean(name).casefold()


def setting_node(name: str) -> ox.NamedNode:
    return mint("setting", name_key(name))


def role_node(role: str) -> ox.NamedNode:
    """One role concept per name, whatever the setting (see the module docstring for why)."""
    return mint("role", name_key(role))


def item_node(setting: str, item: str) -> ox.NamedNode:
    return mint("item", name_key(setting), name_key(item))


def attribute_kind_node(kind: str) -> ox.NamedNode:
    return mint("attribute-kind", name_key(kind))


def attribute_country(kind: str, value: str) -> str | None:
    """The ISO 3166-1 code a 'country' attribute names; None for other kinds or names pycountry misses."""
    if name_key(kind) != "country":
        return None
    name = clean(value)
    if name.casefold().startswith("the "):
        name = name[4:]  # "the United Kingdom", "the Netherlands"
    try:
        return country_code(name)
    except RowError:
        return None


def attribute_node(kind: str, value: str) -> ox.NamedNode:
    """An attribute value of a kind; a country is keyed by its ISO code so spellings of it coincide."""
    return mint("attribute", name_key(kind), attribute_country(kind, value) or name_key(value))


def condition_node(slot: str, value: str) -> ox.NamedNode:
    """A value of an environment slot, e.g. ``condition_node("time of day", "night")``."""
    return mint("condition", name_key(slot), name_key(value))


def slot_node(category: ox.NamedNode, slot: str) -> ox.NamedNode:
    """A constraint slot; the same slot name under two categories (actor's / other's role) is two slots."""
    return mint("slot", NKG.local_name(category), name_key(slot))


def behavior_node(text: str) -> ox.NamedNode:
    """A behaviour by its text: NormBank's, norm packs' and requests' behaviours of one text coincide."""
    return mint("behavior", "text", name_key(text))


# ---- records ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of a raw taxonomy file, with what the file's path says about it.

    ``first`` holds the keys (concept IRIs, and (concept, setting) pairs) that this line is the first to
    name: the line declares those concepts and states those links.
    """

    folder: str
    text: str
    setting: str = ""
    role: str = ""
    kind: str = ""
    subset: bool = False
    first: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Slot:
    """One slot of constraint_dict.json, already checked: a known category and a list of text values."""

    category: ox.NamedNode
    name: str
    values: tuple[str, ...]
    first: frozenset[str] = frozenset()

    @property
    def setting(self) -> str:
        """The setting of a role or also-doing slot ("bar role" -> "bar"); "" for the other slots."""
        suffix = _SLOT_SUFFIX.get(self.category)
        return self.name[: -len(suffix)] if suffix else ""


def _in(node: ox.NamedNode, setting: ox.NamedNode) -> str:
    """The key of the link between a role or behaviour and a setting."""
    return f"{node.value} {setting.value}"


def _line_keys(line: Line) -> list[str]:
    """What a line names: the concepts it would declare and the setting links it would state."""
    text, setting = line.text, setting_node(line.setting)
    if line.folder == SETTINGS:
        return [setting_node(text).value]
    if line.folder == ROLES:
        return [setting.value, role_node(text).value, _in(role_node(text), setting)]
    if line.folder == ITEMS:
        return [setting.value, item_node(line.setting, text).value]
    if line.folder == ROLE_ITEMS:
        role = role_node(line.role)
        return [setting.value, role.value, _in(role, setting), item_node(line.setting, text).value]
    if line.folder == ATTRIBUTES:
        return [attribute_kind_node(line.kind).value, attribute_node(line.kind, text).value]
    return [setting.value, behavior_node(text).value, _in(behavior_node(text), setting)]


def _slot_keys(slot: Slot) -> list[str]:
    if slot.category == NKG.CategoryEnvironment:
        return [condition_node(slot.name, v).value for v in slot.values]
    if slot.category in _ATTRIBUTE_CATEGORIES:
        return [attribute_kind_node(slot.name).value] + [
            attribute_node(slot.name, v).value for v in slot.values
        ]
    setting = setting_node(slot.setting)
    of = role_node if slot.category in _ROLE_CATEGORIES else behavior_node
    return [setting.value] + [k for v in slot.values for k in (of(v).value, _in(of(v), setting))]


def _check_slot(category: str, name: str, values: Any) -> Slot | str:
    """The slot, or why it cannot be read."""
    node = CATEGORIES.get(category)
    if node is None:
        return f"unknown constraint category (expected one of: {'; '.join(CATEGORIES)})"
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return "expected a list of text values"
    suffix = _SLOT_SUFFIX.get(node)
    if suffix and (not name.endswith(suffix) or not name[: -len(suffix)].strip()):
        return f"expected a slot name '<setting>{suffix}'"
    return Slot(node, clean(name), tuple(dict.fromkeys(clean(v) for v in values if v.strip())))


class NormBankLoader(Loader):
    name = "normbank"
    inputs = ("data/raw/**/*.txt", CONSTRAINTS_FILE)
    dataset = DatasetInfo(
        title="NormBank SCENE taxonomy (settings, roles, items, attributes, behaviours, constraint slots; "
        "no labelled norms)",
        citation="Ziems, Dwivedi-Yu, Wang, Halevy, Yang (2023). NormBank: A Knowledge Bank of Situational "
        "Social Norms. ACL 2023. arXiv:2305.17008.",
        license="CC BY-SA 4.0 (share-alike applies to derivatives)",
        license_iri="https://creativecommons.org/licenses/by-sa/4.0/",
        homepage="https://github.com/SALT-NLP/normbank",
    )

    def records(self) -> Iterator[Record | BadRecord]:
        """The raw files, then the constraint slots; each record knows what it is the first to name."""
        for required in (SETTINGS_FILE, CONSTRAINTS_FILE):
            self.require_file(required)
        seen: set[str] = set()

        def first(keys: list[str]) -> frozenset[str]:
            new = frozenset(keys) - seen
            seen.update(new)
            return new

        for record in self._lines():
            if isinstance(record, Record):
                line: Line = record.data
                record = Record(record.file, record.line, replace(line, first=first(_line_keys(line))))
            yield record
        for record in self._slots():
            if isinstance(record, Record):
                slot: Slot = record.data
                record = Record(
                    record.file, record.line, replace(slot, first=first(_slot_keys(slot))), record.source_id
                )
            yield record

    def _lines(self) -> Iterator[Record | BadRecord]:
        raw = self.root / RAW

        def lines(path: Path, folder: str, **where: Any) -> Iterator[Record | BadRecord]:
            for record in read_lines(path, self.root):
                if isinstance(record, Record):
                    text = clean(record.data)
                    if folder == SETTINGS:
                        text = text.removesuffix(".txt").strip()  # settings.txt lists file names
                    record = Record(record.file, record.line, Line(folder, text, **where))
                yield record

        yield from lines(self.root / SETTINGS_FILE, SETTINGS)
        for path in sorted((raw / ROLES).glob("*.txt")):
            yield from lines(path, ROLES, setting=path.stem)
        for path in sorted((raw / ITEMS).glob("*.txt")):
            yield from lines(path, ITEMS, setting=path.stem)
        for folder in sorted(p for p in (raw / ROLE_ITEMS).glob("*") if p.is_dir()):
            for path in sorted(folder.glob("*.txt")):
                role = path.stem.removeprefix(folder.name + "_")
                if role == path.stem or not role.strip():
                    rel = str(path.relative_to(self.root))
                    yield BadRecord(rel, 1, f"file name is not '{folder.name}_<role>.txt'; file skipped")
                else:
                    yield from lines(path, ROLE_ITEMS, setting=folder.name, role=role)
        # a "<kind>-subset.txt" list names values of <kind>: read it after the kind's own file
        for path in sorted((raw / ATTRIBUTES).glob("*.txt"), key=lambda p: (p.stem.endswith(SUBSET), p.name)):
            kind = path.stem.removesuffix(SUBSET)
            yield from lines(path, ATTRIBUTES, kind=kind, subset=kind != path.stem)
        for path in sorted((raw / BEHAVIORS).glob("*.txt")):
            yield from lines(path, BEHAVIORS, setting=path.stem)

    def _slots(self) -> Iterator[Record | BadRecord]:
        """constraint_dict.json, one record per slot, numbered by position (the file is one line)."""
        rel = CONSTRAINTS_FILE
        data, broken = parse_json_file(self.root / rel, rel)
        if broken is not None:
            yield broken
            return
        if not isinstance(data, dict):
            yield BadRecord(rel, 1, f"expected a JSON object of categories, found {type(data).__name__}")
            return
        position = 0
        for category, slots in data.items():
            if not isinstance(slots, dict):
                position += 1
                yield BadRecord(rel, position, f"category {category!r}: expected an object of slots")
                continue
            for name, values in slots.items():
                position += 1
                slot = _check_slot(category, name, values)
                if isinstance(slot, str):
                    yield BadRecord(rel, position, f"slot {category!r} / {name!r}: {slot}")
                else:
                    yield Record(rel, position, slot, f"{category} / {name}")

    def map(self, record: Record, out: RowTriples) -> None:
        data = record.data
        if isinstance(data, Slot):
            _map_slot(data, out)
        elif isinstance(data, Line):
            _map_line(data, out)
        else:
            raise RowError(f"unexpected record {type(data).__name__}")


# ---- mapping --------------------------------------------------------------------------------------------


def _map_line(line: Line, out: RowTriples) -> None:
    text, first = line.text, line.first
    if line.folder == SETTINGS:
        _setting(out, text, first, named=True)
    elif line.folder == ROLES:
        _role(out, text, _setting(out, line.setting, first), first)
    elif line.folder in (ITEMS, ROLE_ITEMS):
        setting = _setting(out, line.setting, first)
        item = _concept(out, item_node(line.setting, text), NKG.Item, text, NKG.NormBankItems, first)
        if item.value in first:
            out.add(item, NKG.itemIn, setting)
        if line.folder == ROLE_ITEMS:
            role = role_node(line.role)
            if role.value in first or _in(role, setting) in first:  # a role its setting's list leaves out
                _role(out, line.role, setting, first)
            out.add(item, NKG.itemOf, role)
    elif line.folder == ATTRIBUTES:
        attribute = _attribute(out, line.kind, text, first)
        if line.subset:
            out.add(NKG.NormBankCountrySubset, SKOS.member, attribute)
    else:
        _behavior(out, text, _setting(out, line.setting, first), first)


def _map_slot(slot: Slot, out: RowTriples) -> None:
    first = slot.first
    node = out.entity(slot_node(slot.category, slot.name), NKG.ConstraintSlot)
    out.label(node, slot.name)
    out.add(node, NKG.constraintCategory, slot.category)
    for value in slot.values:
        if slot.category == NKG.CategoryEnvironment:
            target = _concept(
                out, condition_node(slot.name, value), NKG.EnvironmentCondition, value, node, first
            )
        elif slot.category in _ATTRIBUTE_CATEGORIES:
            target = _attribute(out, slot.name, value, first)
        elif slot.category in _ROLE_CATEGORIES:
            target = _role(out, value, _setting(out, slot.setting, first), first)
        else:
            target = _behavior(out, value, _setting(out, slot.setting, first), first)
        out.add(target, NKG.slot, node)


def _concept(
    out: RowTriples,
    node: ox.NamedNode,
    cls: ox.NamedNode,
    label: str,
    scheme: ox.NamedNode,
    first: frozenset[str],
) -> ox.NamedNode:
    """Type ``node`` on this row; the row that first names it also labels it and puts it in ``scheme``."""
    out.entity(node, cls)
    if node.value in first:
        out.label(node, label)
        out.add(node, SKOS.inScheme, scheme)
    return node


def _setting(out: RowTriples, name: str, first: frozenset[str], *, named: bool = False) -> ox.NamedNode:
    """A setting: declared by the first line naming it, typed again on its own settings.txt line."""
    node = setting_node(name)
    if named or node.value in first:
        _concept(out, node, NKG.Setting, name, NKG.NormBankSettings, first)
    return node


def _role(out: RowTriples, name: str, setting: ox.NamedNode, first: frozenset[str]) -> ox.NamedNode:
    node = _concept(out, role_node(name), NKG.Role, name, NKG.NormBankRoles, first)
    if _in(node, setting) in first:
        out.add(node, NKG.roleIn, setting)
    return node


def _behavior(out: RowTriples, text: str, setting: ox.NamedNode, first: frozenset[str]) -> ox.NamedNode:
    node = out.entity(behavior_node(text), NKG.Behavior)
    if node.value in first:
        out.text(node, NKG.text, text)
    if _in(node, setting) in first:
        out.add(node, NKG.inSetting, setting)
    return node


def _attribute(out: RowTriples, kind: str, value: str, first: frozenset[str]) -> ox.NamedNode:
    kind_node = attribute_kind_node(kind)
    if kind_node.value in first:
        out.entity(kind_node, NKG.AttributeKind)
        out.label(kind_node, clean(kind))
    node = _concept(out, attribute_node(kind, value), NKG.Attribute, value, kind_node, first)
    if node.value in first:
        out.add(node, NKG.attributeKind, kind_node)
        code = attribute_country(kind, value)
        if code is not None:
            out.add(node, NKG.country, add_country(out, code))
    return node
