"""The context a norm is asked about, and its normalisation onto the graph's vocabulary.

A context is what the user knows about the situation: country, setting, the actor's role, other
people's roles, personal attributes (NormBank's kinds: age bracket, gender, religion, ...),
environment conditions (NormBank's constraint slots: time of day, ...) and a free-text situation.
Countries are normalised with pycountry (an unknown country is an error: a wrong country would give
wrong norms); the other words are mapped onto the graph (see ``vocabulary``) and every mapping is
reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pycountry
import pyoxigraph as ox
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from normkg.errors import InputError
from normkg.ingest.vocab import CountryMatch, resolve_country
from normkg.ontology.namespace import NKG
from normkg.reasoning.vocabulary import Mapping, MatchMethod, Term, Vocabulary, VocabularyKind

_MAX_TERM = 200


class Context(BaseModel):
    """What is known about the situation. Every field is optional."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    country: str | None = Field(None, max_length=100, description="ISO 3166 code (JP, JPN) or name (Japan).")
    setting: str | None = Field(
        None, max_length=_MAX_TERM, description="Where it happens (restaurant, temple)."
    )
    role: str | None = Field(None, max_length=_MAX_TERM, description="The actor's role (customer, guest).")
    other_roles: list[str] = Field(
        default_factory=list, max_length=20, description="Roles of others present."
    )
    attributes: dict[str, str] = Field(
        default_factory=dict, description="The actor's attributes by kind, e.g. {'age bracket': 'teenager'}."
    )
    other_attributes: dict[str, str] = Field(
        default_factory=dict, description="Attributes of others present."
    )
    environment: dict[str, str] = Field(
        default_factory=dict, description="Environment conditions by slot, e.g. {'time of day': 'night'}."
    )
    situation: str | None = Field(
        None, max_length=2000, description="Free-text description of the situation."
    )

    @field_validator("country", "setting", "role", "situation")
    @classmethod
    def _blank_is_unsaid(cls, value: str | None) -> str | None:
        # "  " says nothing: read as a fact it would exclude every norm framed on the slot
        return value if value is None or value.strip() else None

    @field_validator("other_roles")
    @classmethod
    def _short_roles(cls, roles: list[str]) -> list[str]:
        for role in roles:
            if len(role) > _MAX_TERM:
                raise ValueError(f"a role may have at most {_MAX_TERM} characters")
        return [role for role in roles if role.strip()]

    @field_validator("attributes", "other_attributes", "environment")
    @classmethod
    def _small_maps(cls, values: dict[str, str]) -> dict[str, str]:
        if len(values) > 20:
            raise ValueError("at most 20 entries")
        for key, value in values.items():
            if len(key) > _MAX_TERM or len(value) > _MAX_TERM:
                raise ValueError(f"keys and values may have at most {_MAX_TERM} characters")
        return {key: value for key, value in values.items() if key.strip() and value.strip()}

    def is_empty(self) -> bool:
        return not (
            self.country
            or self.setting
            or self.role
            or self.other_roles
            or self.attributes
            or self.other_attributes
            or self.environment
            or self.situation
        )


def parse_pairs(values: Sequence[str], name: str) -> dict[str, str]:
    """``kind=value`` strings (query parameters, CLI options) as a map; InputError naming ``name``."""
    out: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise InputError(f"{name}: expected kind=value, found {value!r}")
        out[key.strip()] = val.strip()
    return out


def context_from_flat(
    *,
    country: str | None = None,
    setting: str | None = None,
    role: str | None = None,
    other_roles: Sequence[str] = (),
    attributes: Sequence[str] = (),
    environment: Sequence[str] = (),
    names: tuple[str, str] = ("attribute", "environment"),
) -> Context:
    """A context from flat fields, as ``GET /v1/norms`` and the CLI take them (maps as kind=value).

    Why here: the API and the CLI build contexts the same way, and a value the model refuses (too
    long, too many) must be the same 422 for both, not a validation traceback.
    """
    try:
        return Context(
            country=country,
            setting=setting,
            role=role,
            other_roles=list(other_roles),
            attributes=parse_pairs(attributes, names[0]),
            environment=parse_pairs(environment, names[1]),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InputError(f"{where}: {first.get('msg', 'invalid')}") from None


@dataclass(frozen=True)
class Fact:
    """One known fact of the normalised context: a frame property and the graph term it has."""

    property: ox.NamedNode
    value: ox.NamedNode
    label: str
    slot: (
        str  # what the fact is about: 'country', 'setting', 'actor role', 'actor attribute: age bracket', ...
    )


@dataclass
class NormalizedContext:
    facts: list[Fact] = field(default_factory=list)
    mappings: list[Mapping] = field(default_factory=list)
    #: the slots the context says something about (a frame constraint on another slot is 'unknown')
    known_slots: set[str] = field(default_factory=set)
    situation: str | None = None
    country_code: str | None = None

    def values(self) -> set[str]:
        return {f.value.value for f in self.facts}


def match_country(given: str, where: str = "context") -> tuple[str, CountryMatch]:
    """ISO 3166-1 alpha-2 for a code, a name or a known alias, and how it matched; InputError otherwise.

    No fuzzy matching: pycountry's fuzzy search takes cities and regions for countries ("Java" ->
    Georgia), and a wrong country silently gives wrong norms.
    """
    found = resolve_country(given, fuzzy=False)
    if found is None:
        raise InputError(
            f"{where}.country: unknown country {given!r}",
            hint="give an ISO 3166 code (JP, JPN) or an English country name (Japan), not a city or region",
        )
    return found


def _country_fact(code: str) -> Fact:
    from normkg.ontology.namespace import mint

    country = pycountry.countries.get(alpha_2=code)
    return Fact(NKG.country, mint("country", code), country.name if country else code, "country")


def normalize(context: Context, vocabulary: Vocabulary, where: str = "context") -> NormalizedContext:
    """Map ``context`` onto graph terms. Unknown countries raise; other unmatched words are reported."""
    out = NormalizedContext(situation=context.situation)
    if context.country:
        code, how = match_country(context.country, where)
        out.country_code = code
        fact = _country_fact(code)
        out.facts.append(fact)
        out.known_slots.add("country")
        method = MatchMethod.EXACT if how in (CountryMatch.CODE, CountryMatch.NAME) else MatchMethod.ALIAS
        term = Term(fact.value.value, VocabularyKind.COUNTRY, fact.label)
        out.mappings.append(Mapping("country", context.country, method, 1.0, term))
    setting_iri: str | None = None
    if context.setting:
        out.known_slots.add("setting")
        m = vocabulary.match("setting", context.setting, VocabularyKind.SETTING)
        out.mappings.append(m)
        if m.term:
            setting_iri = m.term.iri
            out.facts.append(Fact(NKG.setting, ox.NamedNode(m.term.iri), m.term.label, "setting"))
    if context.role:
        out.known_slots.add("actor role")
        m = vocabulary.match("role", context.role, VocabularyKind.ROLE, group=setting_iri)
        out.mappings.append(m)
        if m.term:
            out.facts.append(Fact(NKG.actorRole, ox.NamedNode(m.term.iri), m.term.label, "actor role"))
    if context.other_roles:
        out.known_slots.add("other role")
    for i, role in enumerate(context.other_roles):
        m = vocabulary.match(f"other_roles[{i}]", role, VocabularyKind.ROLE, group=setting_iri)
        out.mappings.append(m)
        if m.term:
            out.facts.append(Fact(NKG.otherRole, ox.NamedNode(m.term.iri), m.term.label, "other role"))
    for field_name, prop, who, values in (
        ("attributes", NKG.actorAttribute, "actor attribute", context.attributes),
        ("other_attributes", NKG.otherAttribute, "other attribute", context.other_attributes),
    ):
        for kind, value in values.items():
            slot = f"{who}: {kind.strip().lower()}"
            out.known_slots.add(slot)
            m = vocabulary.match(f"{field_name}.{kind}", value, VocabularyKind.ATTRIBUTE, group_label=kind)
            out.mappings.append(m)
            if m.term:
                out.facts.append(Fact(prop, ox.NamedNode(m.term.iri), m.term.label, slot))
    for slot_name, value in context.environment.items():
        slot = f"environment: {slot_name.strip().lower()}"
        out.known_slots.add(slot)
        m = vocabulary.match(
            f"environment.{slot_name}", value, VocabularyKind.CONDITION, group_label=slot_name
        )
        out.mappings.append(m)
        if m.term:
            out.facts.append(Fact(NKG.environment, ox.NamedNode(m.term.iri), m.term.label, slot))
    return out


def unmatched(mappings: list[Mapping]) -> list[Mapping]:
    return [m for m in mappings if m.method is MatchMethod.UNMATCHED]
