"""The CLI's errors: each is one ``error:`` line (exit 2) that names what the user typed (the option,
the environment variable, the batch file and line), never a traceback, and a failed run leaves an
existing --out file as it was. Real stores and the real judge; nothing mocked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from normkg.api.cli import app
from normkg.kg.oxigraph_store import OxigraphStore
from normkg.settings import get_settings

runner = CliRunner()
NORMS = [{"text": "It's wrong to steal from a store.", "judgment": "bad"}]


def said(result: Result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def refused(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    flat = "".join(result.output.split())  # rich may wrap a line anywhere, even inside a long path
    for word in words:
        assert "".join(word.split()) in flat, result.output


def write_batch(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def steal(n: int, **extra: object) -> dict[str, object]:
    """A line that needs no graph: it brings its own norm."""
    return {"id": str(n), "response": "Here is how to steal.", "norms": NORMS, "use_graph": False, **extra}


@pytest.fixture
def empty_store(tmp_path: Path) -> str:
    """A store that exists (as `normkg serve` makes one) with nothing in it."""
    OxigraphStore(tmp_path / "empty-store").close()
    return f"oxigraph:{tmp_path / 'empty-store'}"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """Settings are read once per process; these tests change the environment, so read them anew."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# ---- check --batch: errors found at check time, and the --out file ----------------------------------


def test_a_line_refused_at_check_time_is_named_and_an_existing_out_is_kept(tmp_path: Path) -> None:
    """Line 34 is in the second chunk the service checks: the first chunk's results must not reach
    the out file, and the error must name the line, not only the field."""
    lines = [steal(n) for n in range(1, 36)]
    lines[33] = steal(34, context={"country": "Narnia"})
    batch = write_batch(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    out.write_text("mine\nalso mine\n", encoding="utf-8")
    result = runner.invoke(app, ["check", "--batch", str(batch), "--out", str(out)])
    refused(result, "in.jsonl:34: context.country: unknown country 'Narnia'")
    assert out.read_text(encoding="utf-8") == "mine\nalso mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no temporary left


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            {"id": "2", "response": "   ", "norms": NORMS, "use_graph": False},
            "in.jsonl:2: response: is empty",
        ),
        (
            steal(2, norms=[{"text": "Stealing is wrong.", "judgment": "nonsense"}]),
            "in.jsonl:2: norms[0].judgment: unknown judgment 'nonsense'",
        ),
    ],
)
def test_every_error_a_line_causes_names_file_and_line(
    line: dict[str, object], error: str, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "in.jsonl", [steal(1), line, steal(3)])
    out = tmp_path / "out.jsonl"
    refused(runner.invoke(app, ["check", "--batch", str(batch), "--out", str(out)]), error)
    assert not out.exists()


def test_batch_out_in_a_folder_not_there_yet_is_made(tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "in.jsonl", [steal(1), steal(2)])
    out = tmp_path / "new" / "folder" / "out.jsonl"
    result = runner.invoke(app, ["check", "--batch", str(batch), "--out", str(out)])
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [a["id"] for a in answers] == ["1", "2"] and answers[0]["verdict"] == "violation"
    assert [p.name for p in out.parent.iterdir()] == ["out.jsonl"]


def test_an_out_that_cannot_be_written_is_a_clear_error(tmp_path: Path, empty_store: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    batch = write_batch(tmp_path / "in.jsonl", [steal(1)])
    refused(
        runner.invoke(app, ["check", "--batch", str(batch), "--out", str(blocker / "out.jsonl")]),
        f"--out {blocker / 'out.jsonl'}: cannot be written",
    )
    refused(
        runner.invoke(app, ["export", "--out", str(blocker / "x.ttl"), "--store", empty_store]),
        f"--out {blocker / 'x.ttl'}: cannot be written",
    )
    pairs = Path(__file__).parent / "data" / "moral-stories" / "dev.jsonl"
    refused(
        runner.invoke(app, ["evaluate", str(pairs), "--out", str(blocker / "pred.jsonl")]),
        f"--out {blocker / 'pred.jsonl'}: cannot be written",
    )


def test_export_into_a_folder_not_there_yet_makes_it(tmp_path: Path, empty_store: str) -> None:
    out = tmp_path / "new" / "folder" / "graph.ttl"
    result = runner.invoke(app, ["export", "--format", "ttl", "--out", str(out), "--store", empty_store])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.parent.iterdir()] == ["graph.ttl"]


# ---- check --batch: a line means what it means to POST /v1/check/batch -------------------------------


def test_a_batch_line_is_read_as_the_api_reads_it(tmp_path: Path) -> None:
    """``"use_graph": "false"`` is false (so no store is needed), as pydantic reads it for the API."""
    missing = tmp_path / "not-ingested"
    batch = write_batch(tmp_path / "in.jsonl", [steal(1, use_graph="false")])
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["check", "--batch", str(batch), "--out", str(out), "--store", f"oxigraph:{missing}"]
    )
    assert result.exit_code == 0, result.output
    [answer] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert answer["id"] == "1" and answer["verdict"] == "violation"
    assert not missing.exists()


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (steal(1) | {"id": 7}, "in.jsonl:1: id: Input should be a valid string"),
        (steal(1) | {"id": {"a": 1}}, "in.jsonl:1: id: Input should be a valid string"),
        (steal(1, colour="red"), "in.jsonl:1: colour: Extra inputs are not permitted"),
        (steal(1, use_graph="maybe"), "in.jsonl:1: use_graph: Input should be a valid boolean"),
        ({"id": "1", "norms": NORMS}, "in.jsonl:1: response: Field required"),
    ],
)
def test_a_batch_line_the_api_refuses_is_refused_with_its_place(
    line: dict[str, object], error: str, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "in.jsonl", [line])
    refused(runner.invoke(app, ["check", "--no-graph", "--batch", str(batch)]), error)


def test_two_batch_lines_with_one_id_are_refused(tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "in.jsonl", [steal(1), steal(2), steal(1)])
    refused(runner.invoke(app, ["check", "--no-graph", "--batch", str(batch)]), "in.jsonl:3: id '1' is also")


# ---- check: the options the user typed --------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--norm", ""], "--norm 1: text: String should have at least 1 character"),
        (["--norm", "x" * 3000], "--norm 1: text: String should have at most 1000 characters"),
        (["--norm", "Lying is wrong.|bad", "--norm", "Lies hurt.|nonsense"], "--norm 2: judgment: unknown"),
    ],
)
def test_a_bad_norm_option_is_named(args: list[str], error: str) -> None:
    refused(runner.invoke(app, ["check", "--no-graph", *args, "I lie."]), error)


def test_no_graph_without_norms_names_the_cli_options() -> None:
    result = runner.invoke(app, ["check", "--no-graph", "I lie."])
    refused(result, "--no-graph", "--norm")
    assert "items[0]" not in said(result) and "send norms" not in said(result)


def test_an_unknown_source_points_at_the_cli(empty_store: str, tmp_path: Path) -> None:
    for args in (["norms", "--source", "nope"], ["export", "--source", "nope", "--out", str(tmp_path / "x")]):
        result = runner.invoke(app, [*args, "--store", empty_store])
        refused(result, "no source 'nope'", "normkg stats")
        assert "/v1/" not in said(result)


# ---- settings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"NORMKG_SOURCE_PRIORITY": "notjson"}, "NORMKG_SOURCE_PRIORITY: not a JSON list"),
        ({"NORMKG_MAX_BATCH": "abc"}, "NORMKG_MAX_BATCH: Input should be a valid integer"),
        ({"NORMKG_LOG_LEVEL": "LOUD"}, "NORMKG_LOG_LEVEL=LOUD: not a logging level"),
    ],
)
@pytest.mark.usefixtures("fresh_settings")
def test_a_malformed_setting_is_one_error_line_naming_the_variable(
    env: dict[str, str], error: str, empty_store: str
) -> None:
    for command in (
        ["stats", "--store", empty_store],
        ["check", "--no-graph", "--norm", "Lying is wrong.", "I lie."],
    ):
        refused(runner.invoke(app, command, env=env), error)


def test_a_bad_log_level_option_is_named() -> None:
    refused(runner.invoke(app, ["--log-level", "LOUD", "stats"]), "--log-level LOUD: not a logging level")


def test_a_response_that_is_not_text_is_an_error_not_a_traceback() -> None:
    # a byte that is not UTF-8 on the command line reaches Python as a lone surrogate
    result = runner.invoke(
        app, ["check", "--no-graph", "--norm", "Lying is wrong.|bad", "I lie \udcff to him."]
    )
    refused(result, "response: character 6 (U+DCFF) is a lone surrogate")
