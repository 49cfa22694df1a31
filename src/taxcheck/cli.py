"""The ``taxcheck`` command line: thin wrappers that parse options and call library functions.

Each command imports its stage lazily so that ``taxcheck --help`` stays fast. Errors a user can fix
(a missing folder, a bad store URL, a tampered model, a malformed sheet) end in one line on stderr and
a non-zero exit, never a traceback. Any other error prints its stack (code lines only: no local
variables, which may hold field values) and its message with digit runs masked, and exits 1.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

import click
import typer

app = typer.Typer(help="taxcheck: 給与支払報告書・確定申告書の点検バッチ", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_show_locals=False)
review_app = typer.Typer(help="Staff decisions on the exception report (職員の判断の取り込み).", no_args_is_help=True)
app.add_typer(review_app, name="review")


def _fail(exc: BaseException, code: int = 2) -> typer.Exit:
    """Print one line for an error the user can fix and return the exit to raise."""
    from taxcheck.pipeline import MAX_ERROR_CHARS
    from taxcheck.privacy import mask_digit_runs

    typer.echo(f"taxcheck: {mask_digit_runs(exc)[:MAX_ERROR_CHARS]}", err=True)
    return typer.Exit(code=code)


def _guarded(command):
    """An unexpected error (a bug, a corrupt file) prints where it happened and its message with digit
    runs masked, then exits 1: the plain traceback would quote the message (a value, a 個人番号) as is."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # noqa: BLE001 - reported, masked, non-zero exit
            import traceback

            from taxcheck.pipeline import safe_error

            stack = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
            typer.echo(f"Traceback (most recent call last, message masked):\n{stack}"
                       f"taxcheck: unexpected error: {safe_error(exc)}", err=True)
            raise typer.Exit(code=1) from None

    return wrapper


@app.command()
@_guarded
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
@_guarded
def run(
    input: Path = typer.Option(..., "--input", exists=True, file_okay=False, help="Folder of documents (walked recursively)."),
    out: Path = typer.Option(..., "--out", help="Folder for results.csv, exceptions.*, quarantine.csv, metrics.json."),
    model: Optional[Path] = typer.Option(None, exists=True, file_okay=False,
                                         help="Model folder (default: the bundled models/default)."),
    year_hint: Optional[int] = typer.Option(None, help="Tax year to assume when a title cannot be read."),
    truth: Optional[Path] = typer.Option(
        None, exists=True, dir_okay=False,
        help="Ground-truth JSON: adds accuracy and flag precision/recall to metrics.json."),
    db: Optional[str] = typer.Option(None, help="Store URL (default: sqlite file in --out)."),
    workers: int = typer.Option(2, help="Parallel OCR workers (one per core)."),
) -> None:
    """Run the whole pipeline once over a folder (no Prefect; the nightly flow wraps the same functions)."""
    from taxcheck.classify.model import ModelIntegrityError
    from taxcheck.pipeline import BatchError, run_batch
    from taxcheck.store import StoreError

    try:
        summary = run_batch(input, out, model_dir=model, year_hint=year_hint, truth=truth, store_url=db, workers=workers)
    except (BatchError, StoreError, ModelIntegrityError) as exc:  # the batch cannot run at all
        raise _fail(exc) from None
    typer.echo(summary.describe())


@app.command()
@_guarded
def evaluate(
    results: Path = typer.Option(..., exists=True, dir_okay=False, help="results.csv written by `taxcheck run`."),
    truth: Path = typer.Option(..., exists=True, dir_okay=False, help="truth.json written by `taxcheck samples`."),
    quarantine: Optional[Path] = typer.Option(None, exists=True, dir_okay=False,
                                              help="quarantine.csv (default: beside results.csv)."),
) -> None:
    """Score a run against ground truth: forms found, per-field exact-match accuracy, quarantine."""
    import json

    from taxcheck.evaluate import score

    typer.echo(json.dumps(score(results, truth, quarantine), ensure_ascii=False, indent=2))


@app.command()
@_guarded
def train(
    data: list[Path] = typer.Option(
        ..., exists=True, file_okay=False,
        help="Labelled runs: folders holding forms.jsonl (from `taxcheck run`) and the generator's truth.json."),
    out: Path = typer.Option(Path("models/default"), help="Where to write the model and metadata.json."),
    target_recall: float = typer.Option(0.99, help="Recall the threshold is chosen for on held-out data."),
    db: Optional[str] = typer.Option(None, help="Store URL holding staff decisions to learn from as well."),
) -> None:
    """Fit, calibrate and save the flagging classifier."""
    from taxcheck.classify.train import train_model

    from taxcheck.store import StoreError

    try:
        meta = train_model(data, out, target_recall=target_recall, store_url=db)
    except (FileNotFoundError, ValueError, StoreError) as exc:  # no truth.json, one class only, bad store URL
        raise _fail(exc) from None
    typer.echo(f"model written to {out} (threshold {meta['threshold']:.4f})")


@review_app.command("import")
@_guarded
def review_import(
    file: Path = typer.Argument(..., exists=True, help="exceptions.xlsx filled in by a reviewer."),
    db: str = typer.Option(..., help="Store URL of the run the sheet came from."),
    reviewer: Optional[str] = typer.Option(None, help="Reviewer id when the sheet does not name one."),
) -> None:
    """Validate a filled-in exception report and store its decisions as labels."""
    from taxcheck.report.review import import_review

    from taxcheck.report.review import ReviewFormatError
    from taxcheck.store import StoreError

    try:
        outcome = import_review(file, db, reviewer=reviewer)
    except (ReviewFormatError, StoreError) as exc:
        raise _fail(exc) from None
    typer.echo(outcome.describe())
    if outcome.rejected:
        raise typer.Exit(code=1)


@app.command()
@_guarded
def report(
    db: str = typer.Option(..., help="Store URL."),
    out: Path = typer.Option(..., help="Folder for pilot_report.html."),
    config: Optional[Path] = typer.Option(None, exists=True, dir_okay=False,
                                          help="Pilot parameters (minutes per form, audit rate)."),
) -> None:
    """Write the pilot evaluation report (time saved, risk taken) from the store."""
    from taxcheck.report.pilot import write_pilot_report

    from taxcheck.report.pilot import PilotConfigError
    from taxcheck.store import StoreError

    try:
        path = write_pilot_report(db, out, config=config)
    except (PilotConfigError, StoreError) as exc:
        raise _fail(exc) from None
    typer.echo(f"wrote {path}")


if __name__ == "__main__":
    app()
