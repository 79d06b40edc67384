"""Scruples Dilemmas (Lourie, Le Bras, Choi; AAAI 2021): pairs of real actions, one judged less ethical.

Source: shared/data/scruples (SOURCE.txt): ``data.jsonl`` from the upstream HIT definition
``hit-definitions/resource-labeling/``, a tiny real sample. Each line is one HIT,
``{"instances": [{"id", "actions": [{"id", "description"}, {"id", "description"}], "label"}, ...]}``;
the snapshot has a single line holding 20 instances.

What ``label`` means, confirmed in github.com/allenai/scruples (commit c79697e): the Dilemmas ask which of
two actions is less ethical (readme.md, section "Dilemmas": "identify which one was considered less
ethical"); the HIT shows workers both actions and asks them to "pick the more unethical action"
(``hit-definitions/resource-labeling/definition/question.xml.j2``); and the label of an instance is the
index into ``actions`` of the action most annotators picked (``src/scruples/scripts/make/resource/
dataset.py``: ``gold_label = gold_action_idx``; ``src/scruples/dataset/readers.py`` reads ``gold_label``
as ``label``). So ``label`` = index (0 or 1) of the less ethical action -> ``nkg:lessEthicalOption``.

Records: one per instance. All instances of a line share its line number, so the source row is minted
from the instance id as well (``row_node``), keeping rows distinct and deterministic.
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
from normkg.ontology.namespace import DCTERMS, NKG, mint

DATA_FILE = "data.jsonl"


class ScruplesLoader(Loader):
    name = "scruples"
    inputs = (DATA_FILE,)
    dataset = DatasetInfo(
        title="Scruples Dilemmas (20-instance labelling sample)",
        citation="Lourie, Le Bras, Choi (2021). Scruples: A Corpus of Community Ethical Judgments on 32,000 "
        "Real-life Anecdotes. AAAI 2021.",
        license="Apache-2.0 (repository license; check the paper's data page for data-specific terms)",
        license_iri="https://www.apache.org/licenses/LICENSE-2.0",
        homepage="https://github.com/allenai/scruples",
    )

    def records(self) -> Iterator[Record | BadRecord]:
        path = self.require_file(DATA_FILE)
        for record in read_jsonl(path, self.root):
            if isinstance(record, BadRecord):
                yield record
                continue
            instances = record.data.get("instances")
            if not isinstance(instances, list):
                yield BadRecord(record.file, record.line, "expected an 'instances' list")
                continue
            for number, instance in enumerate(instances, start=1):
                if not isinstance(instance, dict):
                    kind = type(instance).__name__
                    yield BadRecord(
                        record.file, record.line, f"instance {number}: expected an object, found {kind}"
                    )
                    continue
                # the position stands in for a missing id so that the row stays distinct
                instance_id = str(instance.get("id") or "").strip() or f"#{number}"
                yield Record(record.file, record.line, instance, instance_id)

    def row_node(self, record: Record) -> ox.NamedNode:
        """One row per instance, though a whole HIT (many instances) sits on one line."""
        return mint("row", self.name, record.file, record.line, record.source_id or "")

    def map(self, record: Record, out: RowTriples) -> None:
        data = record.data
        instance_id = require(data, "id")
        actions = data.get("actions")
        if not isinstance(actions, list) or len(actions) != 2:
            raise RowError("'actions' must be a list of two actions")
        label = data.get("label")
        # bool is an int in Python; a JSON true/false is not an index
        if isinstance(label, bool) or label not in (0, 1):
            raise RowError(f"label must be 0 or 1 (index of the less ethical action), found {label!r}")

        dilemma = out.entity(mint("dilemma", self.name, instance_id), NKG.Dilemma)
        for index, action in enumerate(actions):
            if not isinstance(action, dict):
                raise RowError(f"action {index}: expected an object")
            option = out.entity(mint("option", self.name, instance_id, index), NKG.DilemmaOption)
            out.text(option, NKG.text, require(action, "description"))
            out.add(option, DCTERMS.identifier, ox.Literal(require(action, "id")))
            out.add(dilemma, NKG.option, option)
            if index == label:
                out.add(dilemma, NKG.lessEthicalOption, option)
