"""Moral Stories (Emelin et al., EMNLP 2021): norms with one moral and one immoral action.

Source: shared/data/moral-stories (SOURCE.txt): the norm-distance split, action+norm setting, dev
split; each line is ``{"ID", "norm", "moral_action" | "immoral_action", "label"}``. Two lines share a
norm text and differ in the last character of their ID; the norm IRI is minted from the ID without
that character, so both actions attach to one norm.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox

from normkg.ingest.base import (
    BadRecord,
    DatasetInfo,
    Loader,
    Record,
    RowError,
    RowTriples,
    read_jsonl,
    require,
)
from normkg.ontology.namespace import NKG, mint


class MoralStoriesLoader(Loader):
    name = "moral-stories"
    inputs = ("dev.jsonl",)
    dataset = DatasetInfo(
        title="Moral Stories (norm-distance split, action+norm, dev)",
        citation="Emelin, Le Bras, Hwang, Forbes, Choi (2021). Moral Stories: Situated Reasoning about "
        "Norms, "
        "Intents, Actions, and their Consequences. EMNLP 2021.",
        license="MIT",
        license_iri="https://opensource.org/licenses/MIT",
        homepage="https://github.com/demelin/moral_stories",
    )

    def records(self) -> Iterator[Record | BadRecord]:
        for record in read_jsonl(self.root / "dev.jsonl", self.root):
            if isinstance(record, Record):
                yield Record(record.file, record.line, record.data, str(record.data.get("ID", "")) or None)
            else:
                yield record

    def map(self, record: Record, out: RowTriples) -> None:
        data = record.data
        story_id = require(data, "ID")
        norm_text = require(data, "norm")
        label = str(data.get("label", "")).strip()
        if label == "1":
            action_text, prop, judgment = require(data, "moral_action"), NKG.moralAction, NKG.Moral
        elif label == "0":
            action_text, prop, judgment = require(data, "immoral_action"), NKG.immoralAction, NKG.Immoral
        else:
            raise RowError(f"label must be '0' or '1', found {label!r}")
        norm = out.entity(mint("norm", self.name, story_id[:-1]), NKG.Norm)
        out.text(norm, NKG.text, norm_text)
        action = out.entity(mint("behavior", self.name, story_id), NKG.Behavior)
        out.text(action, NKG.text, action_text)
        out.add(action, NKG.judgment, judgment)
        out.add(norm, prop, action)
        out.add(action, NKG.split, ox.Literal("dev"))
