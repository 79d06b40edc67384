"""Norm packs: norms that users write themselves, in YAML or CSV, with an optional cultural frame.

A pack becomes its own source (``pack-<name>``), so it can be replaced or dropped without touching
the published datasets. Frame words are mapped onto the NormBank vocabulary's IRIs (the same IRIs
the NormBank loader mints), so a pack's "restaurant" is NormBank's restaurant. Behaviours are minted
from their normalised text, so two norms about "tipping the waiter" -- in one pack or in two, or in a
request -- are about the same behaviour, which is what overrides and conflicts compare.

YAML::

    name: travel-etiquette            # required: lower-case letters, digits and dashes
    title: Travel etiquette           # optional; license and citation too
    license: CC BY 4.0
    norms:
      - id: jp-tipping                # required, unique within the pack
        text: Leaving a tip at a restaurant in Japan can cause confusion.
        judgment: bad                 # very bad, bad, ok, good, very good, expected, okay, unexpected, ...
        behavior: tipping the waiter  # optional: what the norm judges
        frame:                        # optional: where it holds (none: everywhere)
          country: JP
          setting: restaurant
          role: customer
          other_roles: [waiter]
          attributes: {age bracket: adult}
          other_attributes: {}
          environment: {time of day: evening}

CSV: columns ``id,text,judgment,behavior,country,setting,role,other_roles,attributes,environment``
(plus ``name`` on every row, or the file name is the pack name); lists are ``a;b``, maps are
``kind=value;kind=value``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from normkg.errors import InputError, SourceError
from normkg.ingest.base import BadRecord, DatasetInfo, Loader, Record, RowError, RowTriples, read_csv, require
from normkg.ingest.frames import add_frame
from normkg.ingest.judgments import judgment_grade
from normkg.ingest.loaders.normbank import (
    attribute_kind_node,
    attribute_node,
    behavior_node,
    condition_node,
    role_node,
    setting_node,
    slot_node,
)
from normkg.ingest.vocab import add_country
from normkg.ontology.namespace import NKG, SKOS, mint

PACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_FRAME_KEYS = {"country", "setting", "role", "other_roles", "attributes", "other_attributes", "environment"}


def pack_source(name: str) -> str:
    return f"pack-{name}"


def load_packs(paths: Sequence[Path]) -> list[NormPackLoader]:
    """The packs in ``paths``, refused before anything is written if two share a name: the second
    would silently replace the first, as one pack replaces its earlier version."""
    packs: dict[str, NormPackLoader] = {}
    for path in paths:
        pack = NormPackLoader(path)
        if pack.name in packs:
            first = packs[pack.name].path
            raise SourceError(
                f"{path}: pack name {pack.pack_name!r} is also the name of {first}",
                hint="give each pack its own name",
            )
        packs[pack.name] = pack
    return list(packs.values())


def _split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def _split_map(value: str, column: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in _split_list(value):
        key, sep, val = item.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise RowError(f"{column}: expected kind=value, found {item!r}")
        out[key.strip()] = val.strip()
    return out


def _mapping(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RowError(f"{field}: expected a mapping of kind to value")
    return {str(k): str(v) for k, v in value.items()}


class NormPackLoader(Loader):
    """Loads one norm pack file (.yaml/.yml or .csv)."""

    def __init__(self, path: Path, name: str | None = None) -> None:
        """``name`` names a pack whose file names none itself (an upload's); else the file name does."""
        if not path.is_file():
            raise SourceError(f"norm pack {path} not found")
        if path.suffix.lower() not in (".yaml", ".yml", ".csv"):
            raise SourceError(f"norm pack {path}: use a .yaml, .yml or .csv file")
        super().__init__(path.parent)
        self.path = path
        self.inputs = (path.name,)
        header = self._header()
        #: the pack gives its own ``name`` (else the one passed here, or its file name, stands in)
        self.names_itself = bool(header.get("name"))
        name = str(header.get("name") or name or path.stem).strip().lower()
        if not PACK_NAME.match(name):
            line = header.get("line", 1)
            raise SourceError(
                f"{path}:{line}: pack name {name!r} must be lower-case letters, digits and dashes"
            )
        self.pack_name = name  # as the pack file says it; ``name`` is the source, ``pack-<name>``
        self.name = pack_source(name)
        self.dataset = DatasetInfo(
            title=str(header.get("title") or f"Norm pack {name}"),
            citation=str(header.get("citation") or f"User norm pack {name} ({path.name})"),
            license=str(header.get("license") or "not stated by the pack's author"),
        )

    # ---- reading ---------------------------------------------------------------------------
    def _yaml(self) -> tuple[dict[str, Any], list[tuple[int, Any]]]:
        raw = self.path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise SourceError(
                f"{self.path}:{line}: not UTF-8 ({exc.reason})", hint="save the pack as UTF-8"
            ) from None
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            raise SourceError(f"{self.path}:{line}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("norms"), list):
            raise SourceError(f"{self.path}:1: a norm pack is a mapping with a 'norms' list")
        lines: list[int] = []
        for key, value in node.value:  # type: ignore[union-attr]
            if key.value == "norms":
                lines = [item.start_mark.line + 1 for item in value.value]
        return data, list(zip(lines, data["norms"], strict=True))

    def _header(self) -> dict[str, Any]:
        if self.path.suffix.lower() == ".csv":  # the name column, from the first row that has one
            for record in read_csv(self.path, self.root, required=("id", "text", "judgment")):
                if isinstance(record, Record) and record.data.get("name"):
                    return {"name": record.data["name"], "line": record.line}
            return {}
        header, _ = self._yaml()
        return header

    def records(self) -> Iterator[Record | BadRecord]:
        if self.path.suffix.lower() == ".csv":
            for record in read_csv(self.path, self.root, required=("id", "text", "judgment")):
                if isinstance(record, BadRecord):
                    yield record
                    continue
                row = record.data
                if row.get("name") and row["name"].strip().lower() != self.pack_name:
                    yield BadRecord(record.file, record.line, f"name {row['name']!r}: one pack per file")
                    continue
                try:
                    norm = {
                        "id": row.get("id", ""),
                        "text": row.get("text", ""),
                        "judgment": row.get("judgment", ""),
                        "behavior": row.get("behavior") or None,
                        "frame": {
                            "country": row.get("country") or None,
                            "setting": row.get("setting") or None,
                            "role": row.get("role") or None,
                            "other_roles": _split_list(row.get("other_roles", "")),
                            "attributes": _split_map(row.get("attributes", ""), "attributes"),
                            "environment": _split_map(row.get("environment", ""), "environment"),
                        },
                    }
                except RowError as exc:
                    yield BadRecord(record.file, record.line, str(exc))
                    continue
                yield Record(record.file, record.line, norm, str(norm["id"]))
            return
        _, items = self._yaml()
        seen: set[str] = set()
        for line, item in items:
            if not isinstance(item, dict):
                yield BadRecord(self.path.name, line, "a norm must be a mapping with id, text and judgment")
                continue
            norm_id = str(item.get("id", "")).strip()
            if norm_id and norm_id in seen:
                yield BadRecord(self.path.name, line, f"duplicate id {norm_id!r}")
                continue
            seen.add(norm_id)
            yield Record(self.path.name, line, item, norm_id or None)

    # ---- mapping ---------------------------------------------------------------------------
    def map(self, record: Record, out: RowTriples) -> None:
        data = record.data
        norm_id = require(data, "id")
        text = require(data, "text")
        try:
            grade = judgment_grade(require(data, "judgment"))
        except InputError as exc:
            raise RowError(exc.message) from exc
        norm = out.entity(mint("norm", self.name, norm_id), NKG.Norm)
        out.text(norm, NKG.text, text)
        out.add(norm, NKG.judgment, grade)
        out.add(norm, NKG.judgmentText, ox.Literal(str(data["judgment"]), language="en"))
        behavior_text = data.get("behavior")
        if behavior_text:
            behavior = out.entity(behavior_node(str(behavior_text)), NKG.Behavior)
            out.text(behavior, NKG.text, str(behavior_text))
            out.add(norm, NKG.about, behavior)
        frame = data.get("frame") or {}
        if not isinstance(frame, dict):
            raise RowError("frame: expected a mapping")
        unknown = set(frame) - _FRAME_KEYS
        if unknown:
            raise RowError(
                f"frame: unknown key(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(_FRAME_KEYS))}"
            )
        frame_node = add_frame(out, self._constraints(frame, out))
        if frame_node is not None:
            out.add(norm, NKG.hasFrame, frame_node)

    def _constraints(self, frame: dict[str, Any], out: RowTriples) -> list[tuple[ox.NamedNode, ox.NamedNode]]:
        constraints: list[tuple[ox.NamedNode, ox.NamedNode]] = []

        def concept(node: ox.NamedNode, cls: ox.NamedNode, label: str) -> ox.NamedNode:
            out.entity(node, cls)
            out.add(node, SKOS.prefLabel, ox.Literal(label, language="en"))
            return node

        setting = frame.get("setting")
        if frame.get("country"):
            constraints.append((NKG.country, add_country(out, str(frame["country"]))))
        if setting:
            constraints.append((NKG.setting, concept(setting_node(str(setting)), NKG.Setting, str(setting))))
        roles = [("role", NKG.actorRole, frame.get("role"))] + [
            ("other_roles", NKG.otherRole, r) for r in (frame.get("other_roles") or [])
        ]
        for _, prop, role in roles:
            if role:
                constraints.append((prop, concept(role_node(str(role)), NKG.Role, str(role))))
        for key, prop in (("attributes", NKG.actorAttribute), ("other_attributes", NKG.otherAttribute)):
            for kind, value in _mapping(frame.get(key), f"frame.{key}").items():
                node = concept(attribute_node(kind, value), NKG.Attribute, value)
                # the kind tells applicability which slot of the context this constraint is about
                kind_node = concept(attribute_kind_node(kind), NKG.AttributeKind, kind)
                out.add(node, NKG.attributeKind, kind_node)
                constraints.append((prop, node))
        for slot, value in _mapping(frame.get("environment"), "frame.environment").items():
            node = concept(condition_node(slot, value), NKG.EnvironmentCondition, value)
            slot_concept = concept(slot_node(NKG.CategoryEnvironment, slot), NKG.ConstraintSlot, slot)
            out.add(node, NKG.slot, slot_concept)
            constraints.append((NKG.environment, node))
        return constraints
