"""The CLI end to end on the real slices of every source: ingest, stats, validate, export, sparql."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from normkg.api.cli import app
from normkg.ingest.registry import LOADERS
from normkg.kg.oxigraph_store import OxigraphStore

runner = CliRunner()


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"oxigraph:{tmp_path_factory.mktemp('cli') / 'store'}"
    data = Path(__file__).parent / "data"
    result = runner.invoke(app, ["ingest", "--data-dir", str(data), "--store", url, "--no-index"])
    assert result.exit_code == 0, result.output
    return url


def test_ingest_loads_every_source_slice(store_url: str) -> None:
    result = runner.invoke(app, ["stats", "--json", "--store", store_url])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    # every loader's source, plus the moral graph built from the MGE slice's votes
    assert set(stats["sources"]) == {entry.name for entry in LOADERS} | {"moral-graph-mge-dft-data"}
    for name, info in stats["sources"].items():
        assert info["rows"] > 0 and info["triples"] > 0, name
        assert info["rejected"] == 0, name
    assert stats["classes"]["WiserThan"] > 0
    assert stats["classes"]["Norm"] > 0 and stats["classes"]["SourceRow"] > 0


def test_second_ingest_changes_nothing(store_url: str) -> None:
    before = json.loads(runner.invoke(app, ["stats", "--json", "--store", store_url]).output)
    data = Path(__file__).parent / "data"
    result = runner.invoke(app, ["ingest", "--data-dir", str(data), "--store", store_url, "--no-index"])
    assert result.exit_code == 0 and "unchanged" in result.output
    after = json.loads(runner.invoke(app, ["stats", "--json", "--store", store_url]).output)
    assert after == before


def test_validate_reports_no_violation_on_real_slices(store_url: str) -> None:
    result = runner.invoke(app, ["validate", "--store", store_url])
    assert result.exit_code == 0, result.output
    assert "0 violations" in result.output


def test_export_round_trips(store_url: str, tmp_path: Path) -> None:
    out = tmp_path / "cvc.nq"
    result = runner.invoke(
        app, ["export", "--format", "nq", "--source", "cvc", "--out", str(out), "--store", store_url]
    )
    assert result.exit_code == 0, result.output
    quads = list(ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS))
    stats = json.loads(runner.invoke(app, ["stats", "--json", "--store", store_url]).output)
    assert len(quads) == stats["sources"]["cvc"]["triples"]
    bad = runner.invoke(
        app, ["export", "--format", "nq", "--source", "nope", "--out", str(out), "--store", store_url]
    )
    assert bad.exit_code == 2 and "no source 'nope'" in bad.output


def test_sparql_reads_and_refuses_updates(store_url: str) -> None:
    result = runner.invoke(
        app, ["sparql", "--json", "--store", store_url, "SELECT (COUNT(?n) AS ?c) WHERE { ?n a nkg:Norm }"]
    )
    assert result.exit_code == 0
    assert json.loads(result.output)[0]["c"] > 0
    refused = runner.invoke(app, ["sparql", "--store", store_url, "DELETE WHERE { ?s ?p ?o }"])
    assert refused.exit_code == 2 and "refused" in refused.output
    query = "SELECT ?n WHERE { ?n a nkg:Norm }"
    everything = runner.invoke(app, ["sparql", "--json", "--store", store_url, query])
    cut = runner.invoke(app, ["sparql", "--json", "--max-rows", "2", "--store", store_url, query])
    assert cut.exit_code == 0 and len(json.loads(cut.stdout)) == 2 < len(json.loads(everything.stdout))
    assert "cut at 2 rows" in cut.stderr


def test_missing_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ingest", "--data-dir", str(tmp_path / "none"), "--store", "oxigraph:memory"]
    )
    assert result.exit_code == 2
    assert "no known source folder" in result.output or "not found" in result.output


def test_copy_moves_every_source_with_equal_counts(store_url: str, tmp_path: Path) -> None:
    target = f"oxigraph:{tmp_path / 'copy'}"
    result = runner.invoke(app, ["copy", "--from", store_url, "--to", target])
    assert result.exit_code == 0, result.output
    assert "counts match" in result.output
    source_stats = json.loads(runner.invoke(app, ["stats", "--json", "--store", store_url]).output)
    target_stats = json.loads(runner.invoke(app, ["stats", "--json", "--store", target]).output)
    assert target_stats == source_stats


def test_norms_refuses_a_bad_context_with_a_clear_error(store_url: str) -> None:
    unpaired = runner.invoke(app, ["norms", "--store", store_url, "--attribute", "teenager"])
    assert unpaired.exit_code == 2 and "--attribute: expected kind=value" in unpaired.output
    too_long = runner.invoke(app, ["norms", "--store", store_url, "--attribute", "age bracket=" + "x" * 300])
    assert too_long.exit_code == 2 and "attributes" in too_long.output and "Traceback" not in too_long.output


def test_train_writes_a_loadable_judge_with_the_options_given(tmp_path: Path) -> None:
    """`normkg train` on a tiny real slice: the adapter options reach the manifest, the files load."""
    from normkg.reasoning.judge import NormJudge

    mini = Path(__file__).parent / "data" / "checker" / "mini"
    out = tmp_path / "model"
    args = ["train", "--out", str(out), "--data-dir", str(mini), "--cache-dir", str(tmp_path / "cache")]
    result = runner.invoke(app, [*args, "--folds", "2", "--adapter-epochs", "1", "--stance-triples", "3"])
    assert result.exit_code == 0, result.output
    assert "MFD lexicon" in result.output  # --folds > 0 prints the table with both baselines
    manifest = json.loads((out / "manifest.json").read_text())
    adapter = manifest["hyperparameters"]["adapter"]
    assert (adapter["epochs"], adapter["stance_triples"], adapter["aboutness_weight"]) == (1, 3, 1.0)
    judge = NormJudge.load(out)
    assert judge.adapter == out / "adapter"
    assert judge.embed_sentences(["I kept my promise."]).shape == (1, 384)

    missing = runner.invoke(app, ["train", "--out", str(out), "--data-dir", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "nowhere" in missing.output


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["validate"],
        ["sparql", "SELECT * WHERE { ?s ?p ?o }"],
        ["norms", "--country", "JP"],
        ["check", "Here is how to steal from the store."],
        ["export", "--out", "{tmp}/graph.nq"],
    ],
)
def test_a_read_command_on_a_store_never_ingested_fails_and_creates_nothing(
    command: list[str], tmp_path: Path
) -> None:
    missing = tmp_path / "not-ingested"
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    result = runner.invoke(app, [*args, "--store", f"oxigraph:{missing}"])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())  # rich wraps long lines
    assert f"no store at {missing}" in said and "normkg ingest" in said
    assert not missing.exists()
    # a folder that exists but holds no store (empty, or other files) is refused too, and left as it was
    missing.mkdir()
    result = runner.invoke(app, [*args, "--store", f"oxigraph:{missing}"])
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and f"no store at {missing} (an empty folder" in said, result.output
    assert list(missing.iterdir()) == []
    (missing / "notes.txt").write_text("mine")
    result = runner.invoke(app, [*args, "--store", f"oxigraph:{missing}"])
    assert result.exit_code == 2 and "a folder of other files" in " ".join(result.output.split())
    assert [p.name for p in missing.iterdir()] == ["notes.txt"]


def test_check_with_only_its_own_norms_needs_no_store(tmp_path: Path) -> None:
    missing = tmp_path / "not-ingested"
    result = runner.invoke(
        app,
        [
            "check",
            "Here is how to steal from the store.",
            "--no-graph",
            "--norm",
            "It's wrong to steal from a store.|bad",
            "--json",
            "--store",
            f"oxigraph:{missing}",
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["verdict"] == "violation" and answer["warnings"] == []
    assert not missing.exists()


def test_a_batch_checked_against_a_store_without_norms_says_so_per_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty-store"
    OxigraphStore(empty).close()  # a store that exists (as `normkg serve` makes one) with nothing in it
    batch = tmp_path / "in.jsonl"
    lines = [
        {"id": "a", "response": "Here is how to steal from the store."},
        {"id": "c", "response": "Here is how to cheat on the exam."},
        {
            "id": "b",
            "response": "Here is how to steal.",
            "norms": [{"text": "It's wrong to steal."}],
            "use_graph": False,
        },
    ]
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["check", "--batch", str(batch), "--out", str(out), "--store", f"oxigraph:{empty}"]
    )
    assert result.exit_code == 0, result.output
    answers = {a["id"]: a for a in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert "holds no norms" in answers["a"]["warnings"][0] and answers["a"]["verdict"] == "no_applicable_norm"
    assert "warnings" not in answers["b"] and answers["b"]["verdict"] == "violation"
    assert "holds no norms" in answers["c"]["warnings"][0]
    assert " ".join(result.output.split()).count("holds no norms") == 1  # said once, not per line


def test_a_no_graph_batch_needs_no_store_and_a_bad_line_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "not-ingested"
    batch = tmp_path / "in.jsonl"
    norms = [{"text": "It's wrong to steal from a store.", "judgment": "bad"}]
    batch.write_text(json.dumps({"id": "1", "response": "Here is how to steal.", "norms": norms}) + "\n")
    out = tmp_path / "out.jsonl"
    args = ["check", "--no-graph", "--batch", str(batch), "--out", str(out), "--store", f"oxigraph:{missing}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    [answer] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert answer["verdict"] == "violation" and "warnings" not in answer
    assert not missing.exists()
    # a line that asks for the graph needs the store: refused before anything is written
    batch.write_text(batch.read_text() + json.dumps({"id": "2", "response": "Hi.", "use_graph": True}) + "\n")
    out.unlink()
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and f"no store at {missing}" in " ".join(refused.output.split())
    assert not out.exists() and not missing.exists()
    # a line that turns the graph off and gives no norms is named by file and line
    batch.write_text(json.dumps({"id": "3", "response": "Hi.", "use_graph": False}) + "\n")
    bad = runner.invoke(app, ["check", "--batch", str(batch), "--store", f"oxigraph:{missing}"])
    assert bad.exit_code == 2 and "in.jsonl:1: use_graph is false" in " ".join(bad.output.split())
    # broken JSON and bytes that are not UTF-8 are named by file and line too, never a traceback
    good = json.dumps({"id": "4", "response": "Hi.", "norms": norms}).encode()
    for line, said in (
        (b'{"id": 5, "response": ', "invalid JSON"),
        (b'{"response": "caf\xe9"}', "not UTF-8"),
    ):
        batch.write_bytes(good + b"\n\n" + line + b"\n")
        bad = runner.invoke(app, ["check", "--no-graph", "--batch", str(batch)])
        assert bad.exit_code == 2 and f"in.jsonl:3: {said}" in " ".join(bad.output.split()), bad.output


def test_copy_from_a_store_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    missing, target = tmp_path / "nowhere", tmp_path / "target"
    result = runner.invoke(app, ["copy", "--from", f"oxigraph:{missing}", "--to", f"oxigraph:{target}"])
    assert result.exit_code == 2 and "no store at" in result.output
    assert not missing.exists()


def test_read_commands_answer_while_another_process_holds_the_store(tmp_path: Path) -> None:
    """`normkg serve` holds the store's folder lock; `norms`, `stats` and `sparql` read a read-only view
    instead of failing on it, and see what the holder had committed."""
    from normkg.ingest.loaders.norm_pack import NormPackLoader
    from normkg.ingest.pipeline import ingest_source, load_ontology
    from normkg.kg.oxigraph_store import OxigraphStore

    path = tmp_path / "held"
    holder = OxigraphStore(path)
    try:
        load_ontology(holder)
        ingest_source(holder, NormPackLoader(Path(__file__).parent / "data" / "packs" / "example.yaml"))
        url = f"oxigraph:{path}"
        stats = CliRunner().invoke(app, ["stats", "--json", "--store", url])
        assert stats.exit_code == 0, stats.output
        assert json.loads(stats.stdout)["sources"]["pack-example-etiquette"]["rows"] == 6
        norms = CliRunner().invoke(
            app, ["norms", "--country", "JP", "--setting", "restaurant", "--json", "--store", url]
        )
        assert norms.exit_code == 0, norms.output
        assert any("Japan" in item["norm"]["text"] for item in json.loads(norms.stdout)["items"])
        holder.replace("pack-example-etiquette", [])  # the holder writes on; the commands never did
        assert holder.count("pack-example-etiquette") == 0
    finally:
        holder.close()
