"""``normkg train``: train the norm judge (reasoning/judge.py) and print its cross-validation table.

Mount it on the main app with ``app.command("train")(train)``. Training always runs k-fold
cross-validation by norm, because the out-of-fold predictions are what calibrates the probabilities;
``--folds`` only chooses k and asks for the full table with the two baselines.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from normkg.errors import NormkgError
from normkg.reasoning.judge import MODEL_DIR

console = Console()
err_console = Console(stderr=True)

# (metric key, label) rows of the table; baselines have the same keys under "zero_shot." / "lexicon.".
TABLE_ROWS = (
    ("ms_binary_accuracy", "violates vs follows, held-out Moral Stories norms (headline)"),
    ("eval3_accuracy", "3-class accuracy, held-out MS norms + their unrelated pairs"),
    ("eval3_macro_f1", "3-class macro-F1, same pairs"),
    ("all3_accuracy", "3-class accuracy, all held-out pairs (incl. Social-Chem, synthetic)"),
    ("all3_macro_f1", "3-class macro-F1, all held-out pairs"),
    ("ece_all", "ECE (10 bins), all held-out pairs, calibrated"),
    ("ece_all_uncalibrated", "ECE before temperature scaling"),
    ("ece_eval3", "ECE (10 bins), held-out MS + unrelated, calibrated"),
    ("challenge_accuracy", "challenge set, 3-class accuracy"),
    ("challenge_binary_accuracy", "challenge set, violates vs follows on related items"),
    ("challenge_fresh_accuracy", "fresh challenge set (120 items), 3-class accuracy"),
    ("challenge_fresh_binary_accuracy", "fresh challenge set, violates vs follows"),
)


def _cell(metrics: dict[str, dict[str, object]], key: str) -> str:
    value = metrics.get(key)
    if value is None:
        return "-"
    return f"{value['mean']:.3f} ± {value['sd']:.3f}"


def cv_table(report: dict[str, object]) -> Table:
    """The cross-validation report as a table: the judge next to both baselines, mean ± sd over folds."""
    metrics = report["metrics"]
    assert isinstance(metrics, dict)
    table = Table(
        title=f"norm judge, {report['folds']}-fold cross-validation by norm (seed {report['seed']})"
    )
    for column in ("metric", "judge", "zero-shot cosine", "MFD lexicon"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for key, label in TABLE_ROWS:
        table.add_row(
            label, _cell(metrics, key), _cell(metrics, f"zero_shot.{key}"), _cell(metrics, f"lexicon.{key}")
        )
    return table


def train(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for judge.npz, adapter/ and manifest.json.")
    ] = MODEL_DIR,
    seed: Annotated[
        int, typer.Option(help="Random seed (data augmentation, folds, head initialisation).")
    ] = 13,
    folds: Annotated[
        int,
        typer.Option(help="Cross-validation folds to report with the baselines (0: 5 folds, summary only)."),
    ] = 0,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data folder (default: NORMKG_DATA_DIR).")
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir", help="Where plain-encoder text embeddings are cached (default: var/cache)."
        ),
    ] = None,
    adapter_epochs: Annotated[
        int | None,
        typer.Option(help="LoRA adapter epochs (default 0: no adapter, the frozen encoder; judge-2 used 4)."),
    ] = None,
    aboutness_weight: Annotated[
        float | None, typer.Option(help="Weight of the adapter's in-batch contrastive (aboutness) term.")
    ] = None,
    stance_triples: Annotated[
        int | None, typer.Option(help="Templated rule triples added to the adapter's training data.")
    ] = None,
    adapter_advice: Annotated[
        bool | None,
        typer.Option(
            "--adapter-advice/--no-adapter-advice",
            help="Tune the adapter on the advice retellings too (with --adapter-epochs and --advice).",
        ),
    ] = None,
    negation: Annotated[
        str,
        typer.Option(
            help="rewrite: judge a negated sentence as its affirmative and swap violates/follows; "
            "none: judge sentences as written."
        ),
    ] = "rewrite",
    advice: Annotated[
        bool,
        typer.Option(
            "--advice/--no-advice",
            help="Add Moral Stories actions retold as advice to the reader (on by default).",
        ),
    ] = True,
    neutral_near: Annotated[
        int | None,
        typer.Option(
            help="Pair each neutral sentence (unrelated) with its this many closest training norms, "
            "as retrieval pairs a factual sentence in a check.",
            min=0,
        ),
    ] = None,
) -> None:
    """Train the norm judge on Moral Stories + Social-Chem-101 (about 6 minutes on 2 CPU cores).

    With --adapter-epochs > 0 each cross-validation fold also tunes its own LoRA adapter and re-embeds
    every text (about 40 minutes); the same seed gives the same files.
    """
    from normkg.reasoning.training import NEGATION_MODES, HyperParameters
    from normkg.reasoning.training import train as train_judge

    given: dict[str, Any] = {
        "epochs": adapter_epochs,
        "aboutness_weight": aboutness_weight,
        "stance_triples": stance_triples,
        "advice_triples": adapter_advice,
    }
    defaults = HyperParameters()
    adapter = replace(defaults.adapter, **{k: v for k, v in given.items() if v is not None})
    if adapter.advice_triples and (adapter.epochs <= 0 or not advice):
        raise typer.BadParameter("--adapter-advice needs --adapter-epochs above 0 and --advice")
    if negation not in NEGATION_MODES:
        err_console.print(
            f"[red]error:[/red] --negation {negation!r}: use one of {', '.join(NEGATION_MODES)}"
        )
        raise typer.Exit(code=2)
    try:
        with console.status("building pairs, embedding texts, cross-validating by norm, training ..."):
            manifest = train_judge(
                out,
                seed=seed,
                folds=folds or 5,
                data_dir=data_dir,
                cache_dir=cache_dir,
                hp=HyperParameters(
                    adapter=adapter,
                    negation=negation,
                    advice=advice,
                    neutral_near=defaults.neutral_near if neutral_near is None else neutral_near,
                ),
            )
    except NormkgError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    report = manifest["cross_validation"]
    assert isinstance(report, dict)
    metrics = report["metrics"]
    if folds > 0:
        console.print(cv_table(report))
    else:
        console.print(
            f"violates-vs-follows on held-out Moral Stories norms: {_cell(metrics, 'ms_binary_accuracy')}; "
            f"challenge: {_cell(metrics, 'challenge_accuracy')}; ECE: {_cell(metrics, 'ece_all')}"
        )
    console.print(
        f"wrote {out / 'judge.npz'} ({manifest['weights_bytes']} bytes) and {out / 'manifest.json'}"
    )


def evaluate(
    file: Annotated[Path, typer.Argument(help="JSON lines of labelled (norm, text) pairs.")],
    model: Annotated[
        Path | None, typer.Option("--model", help="Model folder (default: the shipped judge).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="JSON lines: each pair with its probabilities.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Score the judge on your labelled pairs (see reasoning/evaluation.py for the two line formats)."""
    import json

    from normkg.reasoning.evaluation import evaluate as evaluate_pairs
    from normkg.reasoning.evaluation import read_labelled_pairs
    from normkg.reasoning.judge import LABELS, NormJudge

    try:
        pairs = read_labelled_pairs(file)
        judge = NormJudge.load(model)
        with console.status(f"judging {len(pairs)} pairs ..."):
            report, probs = evaluate_pairs(judge, pairs, str(file))
    except NormkgError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    if out is not None:
        try:  # the folder is made, as for every command's --out; one that cannot be is an error line
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("w", encoding="utf-8") as handle:
                for pair, row, guess in zip(
                    pairs, probs.tolist(), probs.argmax(axis=1).tolist(), strict=True
                ):
                    record = {
                        "line": pair.line,
                        "label": pair.label.value,
                        "predicted": LABELS[guess].value,
                        "probabilities": {v.value: round(p, 4) for v, p in zip(LABELS, row, strict=True)},
                    }
                    handle.write(json.dumps(record) + "\n")
        except OSError as exc:
            err_console.print(f"[red]error:[/red] --out {out}: cannot be written ({exc.strerror})")
            raise typer.Exit(code=2) from exc
    if as_json:
        console.print_json(report.model_dump_json())
        return
    table = Table(title=f"{report.model_version} on {report.file} ({report.pairs} pairs)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    binary = report.violates_vs_follows_accuracy
    table.add_row("violates vs follows, pairs labelled so", "-" if binary is None else f"{binary:.3f}")
    table.add_row("3-way accuracy", f"{report.accuracy:.3f}")
    table.add_row("3-way macro-F1", f"{report.macro_f1:.3f}")
    table.add_row("ECE (10 bins)", f"{report.ece:.3f}")
    for kind, value in report.by_kind.items():
        table.add_row(f"  kind {kind}", f"{value:.3f}")
    console.print(table)
