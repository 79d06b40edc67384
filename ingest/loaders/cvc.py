"""CVC (Beijing-AISI, 2025): the value taxonomy of the Chinese Value Rule Corpus, as a SKOS scheme.

Source: shared/data/cvc (SOURCE.txt). The corpus itself (CVC.jsonl) is not in the repository snapshot;
the one file here, ``DERIVED_cvc_value_taxonomy.json``, is NOT an original CVC file. It was
hand-transcribed from the string literals of CVC's labelling prompt
(rule_generation/rot_attribute_segmentation.py) and the English names in data_control/value_classify.py,
which is why the dataset's title says "derived".

The taxonomy becomes ``nkg:CvcValues`` (a ``nkg:ValueTaxonomy``) with three levels of ``nkg:Value``:
the 3 dimensions (层面: national, social, personal) as top concepts, 12 core values with ``skos:broader``
to their dimension, and 50 derived values with ``skos:broader`` to their core value. Each entry is
written "<Chinese> <English>" ("富强 Prosperity"); the two parts become separate ``skos:prefLabel``s
tagged ``zh`` and ``en``. A value's IRI is minted from its Chinese name, the name the labelling prompt
and its worked examples use.

The file also has the prompt's two worked examples: a rule of thumb in Chinese, labelled with the
dimensions, core values and derived values it touches. They map naturally: each becomes a ``nkg:Norm``
(``nkg:text`` in ``zh``, ``rdfs:comment`` saying it is a prompt example) with ``nkg:value`` to every
value it is labelled with. No judgment is given, because the source gives none apart from the rule's
own wording. A label that is not in the taxonomy, or a lower-level label outside the example's chosen
upper-level ones (the prompt's own rule), rejects the example.
``labelling_rules_from_prompt`` are instructions to an LLM and are not loaded.

Record numbering: one record per taxonomy entry in document order (a dimension, then its core values,
each followed by its derived values), then one per example, counted from 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from normkg.ingest.base import BadRecord, DatasetInfo, Loader, Record, RowError, RowTriples, parse_json_file
from normkg.ontology.namespace import NKG, RDFS, SKOS, mint

FILE = "DERIVED_cvc_value_taxonomy.json"
DIMENSION, CORE, DERIVED = 1, 2, 3
#: the keys of a worked example that hold its labels, by level
EXAMPLE_LEVELS = {"level": DIMENSION, "core": CORE, "derived": DERIVED}


def split_label(label: str) -> tuple[str, str]:
    """("富强", "Prosperity") from "富强 Prosperity"; RowError if either part is missing."""
    parts = label.split(maxsplit=1)
    if len(parts) != 2 or parts[0].isascii() or not parts[1].strip():
        raise RowError(f"expected '<Chinese name> <English name>', found {label!r}")
    return parts[0], " ".join(parts[1].split())


def value_node(chinese: str) -> ox.NamedNode:
    return mint("value", "cvc", chinese.strip())


@dataclass(frozen=True)
class Entry:
    """One taxonomy entry: its level, its label and its parent's label ("" for a dimension)."""

    level: int
    label: str
    parent: str = ""


@dataclass(frozen=True)
class Example:
    """One worked example, with the taxonomy's Chinese names -> (level, parent's Chinese name)."""

    number: int
    data: dict[str, Any]
    taxonomy: dict[str, tuple[int, str]] = field(default_factory=dict)


class CvcLoader(Loader):
    name = "cvc"
    inputs = (FILE,)
    dataset = DatasetInfo(
        title="CVC value taxonomy (DERIVED file, not an original CVC file: hand-transcribed from the CVC "
        "repository's labelling prompt; 3 dimensions, 12 core values, 50 derived values)",
        citation="Beijing-AISI (2025). CVC: A Large-Scale Chinese Value Rule Corpus for Cultural Alignment "
        "of Large Language Models. https://github.com/Beijing-AISI/CVC (commit 675836a).",
        license="none stated",
        homepage="https://github.com/Beijing-AISI/CVC",
    )

    def records(self) -> Iterator[Record | BadRecord]:
        path = self.require_file(FILE)
        data, broken = parse_json_file(path, FILE)
        if broken is not None:
            yield broken
            return
        dimensions = data.get("dimensions") if isinstance(data, dict) else None
        if not isinstance(dimensions, dict):
            yield BadRecord(FILE, 1, "expected an object with 'dimensions': {dimension: {core value: [...]}}")
            return

        out: list[Record | BadRecord] = []
        taxonomy: dict[str, tuple[int, str]] = {}

        def entry(level: int, label: str, parent: str = "") -> None:
            out.append(Record(FILE, len(out) + 1, Entry(level, label, parent), label))
            taxonomy.setdefault(_zh(label), (level, _zh(parent)))

        for dimension, cores in dimensions.items():
            entry(DIMENSION, dimension)
            if not isinstance(cores, dict):
                out.append(BadRecord(FILE, len(out) + 1, f"{dimension!r}: expected an object of core values"))
                continue
            for core, derived in cores.items():
                entry(CORE, core, dimension)
                if not isinstance(derived, list) or not all(isinstance(d, str) for d in derived):
                    out.append(BadRecord(FILE, len(out) + 1, f"{core!r}: expected a list of derived values"))
                    continue
                for value in derived:
                    entry(DERIVED, value, core)
        examples = data.get("prompt_examples", [])
        for number, example in enumerate(examples if isinstance(examples, list) else [], start=1):
            line = len(out) + 1
            if isinstance(example, dict):
                out.append(
                    Record(FILE, line, Example(number, example, taxonomy), f"prompt_examples[{number}]")
                )
            else:
                out.append(BadRecord(FILE, line, f"prompt_examples[{number}]: expected an object"))
        yield from out

    def map(self, record: Record, out: RowTriples) -> None:
        data = record.data
        if isinstance(data, Entry):
            self._map_entry(data, out)
        elif isinstance(data, Example):
            self._map_example(data, out)
        else:
            raise RowError(f"unexpected record {type(data).__name__}")

    def _map_entry(self, entry: Entry, out: RowTriples) -> None:
        chinese, english = split_label(entry.label)
        node = out.entity(value_node(chinese), NKG.Value)
        out.label(node, chinese, "zh")
        out.label(node, english, "en")
        out.add(node, SKOS.inScheme, NKG.CvcValues)
        if entry.level == DIMENSION:
            out.add(node, SKOS.topConceptOf, NKG.CvcValues)
        else:
            out.add(node, SKOS.broader, value_node(split_label(entry.parent)[0]))

    def _map_example(self, example: Example, out: RowTriples) -> None:
        rule = example.data.get("rot")
        if not isinstance(rule, str) or not rule.strip():
            raise RowError("missing 'rot'")
        chosen: dict[int, set[str]] = {}
        for key, level in EXAMPLE_LEVELS.items():
            labels = example.data.get(key, [])
            if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
                raise RowError(f"{key!r}: expected a list of value names")
            chosen[level] = {v.strip() for v in labels}
            for label in chosen[level]:
                if example.taxonomy.get(label, (0, ""))[0] != level:
                    raise RowError(f"{key!r}: {label!r} is not a {key} value of the taxonomy")
        for level in (CORE, DERIVED):
            for label in chosen[level]:
                parent = example.taxonomy[label][1]
                if parent not in chosen[level - 1]:
                    raise RowError(f"{label!r} falls under {parent!r}, which the example does not choose")
        norm = out.entity(mint("norm", self.name, "prompt-example", example.number), NKG.Norm)
        out.text(norm, NKG.text, rule, "zh")
        out.text(norm, RDFS.comment, "Worked example from CVC's value-labelling prompt.")
        for level in (DIMENSION, CORE, DERIVED):
            for label in sorted(chosen[level]):
                out.add(norm, NKG.value, value_node(label))


def _zh(label: str) -> str:
    """The Chinese part of "<Chinese> <English>" (the whole label if it has no space)."""
    return label.split(maxsplit=1)[0] if label.strip() else ""
