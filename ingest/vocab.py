"""Vocabulary nodes several loaders share: countries (ISO 3166 via pycountry) and moral foundations.

Why here: a country or a foundation must get the same IRI whichever source mentions it, or the graph
splits one concept into several.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache

import pycountry
import pyoxigraph as ox

from normkg.ingest.base import RowError, RowTriples
from normkg.ontology.namespace import NKG, SKOS, mint

# Names the sources use that pycountry does not resolve by itself.
_COUNTRY_ALIASES = {
    "uk": "GB",
    "united kingdom": "GB",
    "england": "GB",
    "us": "US",
    "usa": "US",
    "united states": "US",
    "united states of america": "US",
    "north korea": "KP",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "iran": "IR",
    "vietnam": "VN",
    "syria": "SY",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "taiwan": "TW",
    "moldova": "MD",
    "macedonia": "MK",
    "czech republic": "CZ",
    "ivory coast": "CI",
    "cape verde": "CV",
    "the bahamas": "BS",
    "the gambia": "GM",
    "brunei": "BN",
    "palestine": "PS",
    "vatican city": "VA",
    "east timor": "TL",
    "swaziland": "SZ",
    "burma": "MM",
    "micronesia": "FM",
    "democratic republic of the congo": "CD",
    "republic of the congo": "CG",
    "congo": "CG",
    "turkey": "TR",
    "great britain": "GB",
    "britain": "GB",
    "holland": "NL",
    "uae": "AE",
    "dr congo": "CD",
    "drc": "CD",
    "macau": "MO",
    "republic of korea": "KR",  # pycountry's fuzzy search finds the Democratic People's Republic first
    "u.s.": "US",
    "u.s.a.": "US",
    "vatican": "VA",
}


class CountryMatch(StrEnum):
    """How a country name was resolved; the context reports it, so a guess is never silent."""

    CODE = "code"  # an ISO 3166 alpha-2 or alpha-3 code
    NAME = "name"  # an ISO name, official or common name ("Viet Nam", "Türkiye")
    ALIAS = "alias"  # a name the sources use that ISO does not ("UK", "Turkey", "Ivory Coast")
    FUZZY = "fuzzy"  # pycountry's fuzzy search, which also matches regions and cities


def resolve_country(name: str, *, fuzzy: bool) -> tuple[str, CountryMatch] | None:
    """The ISO 3166-1 alpha-2 code ``name`` stands for and how it was found; None if nothing matches.

    ``fuzzy`` is for the sources' own spellings at ingest. A user's context never goes through it:
    it maps "Texas" to US, but also "Java" to Georgia.
    """
    text = " ".join(name.strip().split())
    key = text.lower()
    if not key:
        return None
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key], CountryMatch.ALIAS
    if len(key) in (2, 3):
        code = key.upper()
        found = (
            pycountry.countries.get(alpha_2=code) if len(key) == 2 else pycountry.countries.get(alpha_3=code)
        )
        if found is not None:
            return str(found.alpha_2), CountryMatch.CODE
    for candidate in (text, text[4:] if key.startswith("the ") else ""):
        try:
            return str(pycountry.countries.lookup(candidate).alpha_2), CountryMatch.NAME
        except LookupError:
            continue
    if fuzzy:
        try:
            matches = pycountry.countries.search_fuzzy(text)
        except LookupError:
            matches = []
        if matches:
            return str(matches[0].alpha_2), CountryMatch.FUZZY
    return None


@cache
def country_code(name: str) -> str:
    """ISO 3166-1 alpha-2 code for a country name or code in a source; RowError if unknown."""
    if not name.strip():
        raise RowError("empty country")
    found = resolve_country(name, fuzzy=True)
    if found is None:
        raise RowError(f"unknown country {name!r}")
    return found[0]


def country_node(code: str) -> ox.NamedNode:
    return mint("country", code)


def add_country(out: RowTriples, name: str) -> ox.NamedNode:
    """The country node for ``name``, typed and labelled (ISO name, alpha-2 notation) on this row."""
    code = country_code(name)
    node = country_node(code)
    country = pycountry.countries.get(alpha_2=code)
    out.entity(node, NKG.Country)
    out.add(node, SKOS.notation, ox.Literal(code))
    if country is not None:
        out.add(node, SKOS.prefLabel, ox.Literal(country.name, language="en"))
    return node


FOUNDATIONS: dict[str, ox.NamedNode] = {
    "care": NKG.Care,
    "harm": NKG.Care,
    "fairness": NKG.Fairness,
    "cheating": NKG.Fairness,
    "loyalty": NKG.Loyalty,
    "betrayal": NKG.Loyalty,
    "authority": NKG.Authority,
    "subversion": NKG.Authority,
    "sanctity": NKG.Sanctity,
    "purity": NKG.Sanctity,
    "degradation": NKG.Sanctity,
    "liberty": NKG.Liberty,
    "oppression": NKG.Liberty,
    "moral": NKG.GeneralMorality,
    "moralitygeneral": NKG.GeneralMorality,
}


def foundation(name: str) -> ox.NamedNode:
    """The moral foundation named by ``name`` ('care-harm', 'Care', 'fairness.virtue', 'HarmVirtue', ...)."""
    key = name.strip().lower()
    for sep in ("-", ".", "_", "/"):
        key = key.split(sep)[0]
    for suffix in ("virtue", "vice"):
        if key.endswith(suffix) and key != suffix:
            key = key[: -len(suffix)]
    node = FOUNDATIONS.get(key)
    if node is None:
        raise RowError(f"unknown moral foundation {name!r}")
    return node
