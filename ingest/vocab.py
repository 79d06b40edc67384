"""Vocabulary nodes several loaders share: countries (ISO 3166 via pycountry) and moral foundations.

Why here: a country or a foundation must get the same IRI whichever source mentions it, or the graph
splits one concept into several.
"""

from __future__ import annotations

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
}


@cache
def country_code(name: str) -> str:
    """ISO 3166-1 alpha-2 code for a country name or code; RowError if unknown."""
    key = name.strip().lower()
    if not key:
        raise RowError("empty country")
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    country = pycountry.countries.get(alpha_2=key.upper()) if len(key) == 2 else None
    if country is None and len(key) == 3:
        country = pycountry.countries.get(alpha_3=key.upper())
    if country is None:
        country = pycountry.countries.get(name=name.strip())
    if country is None:
        try:
            matches = pycountry.countries.search_fuzzy(name.strip())
        except LookupError:
            matches = []
        if len(matches) >= 1:
            country = matches[0]
    if country is None:
        raise RowError(f"unknown country {name!r}")
    return str(country.alpha_2)


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
