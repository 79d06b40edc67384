"""``copy_store``: embedded in memory -> a real Oxigraph server -> embedded on disk, and back checks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
import pytest

from normkg.errors import StoreError
from normkg.kg.copy import copy_store
from normkg.kg.open import open_store
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.kg.store import GraphStore
from normkg.kg.terms import Triple
from normkg.ontology.namespace import NKG, RDF, RDFS
from normkg.settings import Settings

if TYPE_CHECKING:
    from conftest_stores import OxigraphServer

pytest_plugins = ["conftest_stores"]

EX = "http://example.org/"


def ex(name: str) -> ox.NamedNode:
    return ox.NamedNode(EX + name)


def _sources() -> dict[str, list[Triple]]:
    blank = ox.BlankNode("b")
    norms: list[Triple] = [(ex(f"norm/{i}"), RDF.type, NKG.Norm) for i in range(30)]
    norms += [(ex(f"norm/{i}"), NKG.text, ox.Literal(f"norm {i} 規範", language="en")) for i in range(30)]
    norms += [(ex("norm/0"), ex("part"), blank), (blank, RDFS.label, ox.Literal("inner"))]
    return {
        "alpha": norms,
        "beta": [
            (ex("c/FR"), RDF.type, NKG.Country),
            (ex("c/FR"), RDFS.label, ox.Literal("France", language="fr")),
        ],
        "empty": [],
    }


def _canonical(store: GraphStore, name: str) -> set[ox.Quad]:
    dataset = ox.Dataset(ox.Quad(s, p, o, ox.DefaultGraph()) for s, p, o in store.triples(name))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


@pytest.fixture
def server(oxigraph_server: OxigraphServer) -> OxigraphServer:
    oxigraph_server.wipe()
    return oxigraph_server


def test_copy_memory_to_server_to_disk_keeps_every_source(server: OxigraphServer, tmp_path: Path) -> None:
    memory = OxigraphStore(None)
    for i, (name, triples) in enumerate(_sources().items()):
        memory.replace(name, triples, content_key=f"key-{name}", rows_read=10 * i, rows_rejected=i)
    remote = open_store(server.store_url, Settings.model_validate({}))
    disk = OxigraphStore(tmp_path / "copy")
    calls: list[tuple[str, int, int]] = []

    assert copy_store(memory, remote, lambda *args: calls.append(args)) == {
        "alpha": 62,
        "beta": 2,
        "empty": 0,
    }
    assert copy_store(remote, disk) == {"alpha": 62, "beta": 2, "empty": 0}

    for store in (remote, disk):
        assert store.sources() == memory.sources()  # counts, content keys, rows read and rejected
        for name in _sources():
            assert _canonical(store, name) == _canonical(memory, name)
    assert ("alpha", 62, 62) in calls and ("beta", 2, 2) in calls and ("empty", 0, 0) in calls

    # Run again: every source is already there under its content key, so nothing is read or sent.
    calls.clear()
    assert copy_store(memory, remote, lambda *args: calls.append(args)) == {
        "alpha": 62,
        "beta": 2,
        "empty": 0,
    }
    assert calls == [("alpha", 62, 62), ("beta", 2, 2), ("empty", 0, 0)]
    disk.close()


def test_a_target_that_holds_different_data_under_the_same_key_fails_the_count_check(
    server: OxigraphServer,
) -> None:
    memory = OxigraphStore(None)
    memory.replace("alpha", _sources()["alpha"], content_key="k")
    remote = open_store(server.store_url, Settings.model_validate({}))
    remote.replace("alpha", _sources()["alpha"][:5], content_key="k")  # a stale copy with the same key
    with pytest.raises(StoreError, match="alpha is incomplete: the source has 62 triples.* holds 5"):
        copy_store(memory, remote)
    assert copy_store(memory, remote, force=True) == {"alpha": 62}
