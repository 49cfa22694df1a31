"""The ``taxcheck`` command line: thin wrappers that parse options and call library functions.

Each command imports its stage lazily so that ``taxcheck --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="taxcheck: 給与支払報告書・確定申告書の点検バッチ", no_args_is_help=True, add_completion=False)
review_app = typer.Typer(help="Staff decisions on the exception report (職員の判断の取り込み).", no_args_is_help=True)
app.add_typer(review_app, name="review")


@app.command()
def samples(
    out: Path = typer.Option(..., help="Folder to write the documents and truth.json into."),
    n: int = typer.Option(40, help="Number of forms to generate."),
    seed: int = typer.Option(0, help="Random seed; the same seed gives the same documents and truth."),
    stress: bool = typer.Option(False, "--stress", help="Robustness set: another vendor's layout and scanner quirks."),
) -> None:
    """Generate sample documents (all renderings) with their ground truth."""
    if stress:
        from taxcheck.samples.stress import generate_stress

        typer.echo(f"wrote {generate_stress(out, n=n, seed=seed)}")
        return
    from taxcheck.samples import generate

    truth = generate(out, n=n, seed=seed)
    typer.echo(f"wrote {truth}")


@app.command()
def run(
    input: Path = typer.Option(..., "--input", exists=True, file_okay=False, help="Folder of documents (walked recursively)."),
    out: Path = typer.Option(..., "--out", help="Folder for results.csv, exceptions.*, quarantine.csv, metrics.json."),
    model: Optional[Path] = typer.Option(None, help="Model folder (default: the bundled models/default)."),
    year_hint: Optional[int] = typer.Option(None, help="Tax year to assume when a title cannot be read."),
    truth: Optional[Path] = typer.Option(None, help="Ground-truth JSON: adds accuracy and flag precision/recall to metrics.json."),
    db: Optional[str] = typer.Option(None, help="Store URL (default: sqlite file in --out)."),
    workers: int = typer.Option(2, help="Parallel OCR workers (one per core)."),
) -> None:
    """Run the whole pipeline once over a folder (no Prefect; the nightly flow wraps the same functions)."""
    from taxcheck.pipeline import BatchError, run_batch

    try:
        summary = run_batch(input, out, model_dir=model, year_hint=year_hint, truth=truth, store_url=db, workers=workers)
    except BatchError as exc:  # the batch cannot run at all (no OCR engine, out dir not writable)
        typer.echo(f"taxcheck: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(summary.describe())


@app.command()
def evaluate(
    results: Path = typer.Option(..., help="results.csv written by `taxcheck run`."),
    truth: Path = typer.Option(..., help="truth.json written by `taxcheck samples`."),
    quarantine: Optional[Path] = typer.Option(None, help="quarantine.csv (default: beside results.csv)."),
) -> None:
    """Score a run against ground truth: forms found, per-field exact-match accuracy, quarantine."""
    import json

    from taxcheck.evaluate import score

    typer.echo(json.dumps(score(results, truth, quarantine), ensure_ascii=False, indent=2))


@app.command()
def train(
    data: list[Path] = typer.Option(..., help="Labelled runs: folders holding results.csv (+ findings) and truth.json."),
    out: Path = typer.Option(Path("models/default"), help="Where to write the model and metadata.json."),
    target_recall: float = typer.Option(0.99, help="Recall the threshold is chosen for on held-out data."),
    db: Optional[str] = typer.Option(None, help="Store URL holding staff decisions to learn from as well."),
) -> None:
    """Fit, calibrate and save the flagging classifier."""
    from taxcheck.classify.train import train_model

    meta = train_model(data, out, target_recall=target_recall, store_url=db)
    typer.echo(f"model written to {out} (threshold {meta['threshold']:.4f})")


@review_app.command("import")
def review_import(
    file: Path = typer.Argument(..., exists=True, help="exceptions.xlsx filled in by a reviewer."),
    db: str = typer.Option(..., help="Store URL of the run the sheet came from."),
    reviewer: Optional[str] = typer.Option(None, help="Reviewer id when the sheet does not name one."),
) -> None:
    """Validate a filled-in exception report and store its decisions as labels."""
    from taxcheck.report.review import import_review

    outcome = import_review(file, db, reviewer=reviewer)
    typer.echo(outcome.describe())
    if outcome.rejected:
        raise typer.Exit(code=1)


@app.command()
def report(
    db: str = typer.Option(..., help="Store URL."),
    out: Path = typer.Option(..., help="Folder for pilot_report.html."),
    config: Optional[Path] = typer.Option(None, help="Pilot parameters (minutes per form, audit rate)."),
) -> None:
    """Write the pilot evaluation report (time saved, risk taken) from the store."""
    from taxcheck.report.pilot import write_pilot_report

    path = write_pilot_report(db, out, config=config)
    typer.echo(f"wrote {path}")


if __name__ == "__main__":
    app()
