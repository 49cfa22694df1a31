"""The batch: a run killed part-way and rerun stores and reports every form exactly once; outputs keep the contract."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taxcheck.forms import result_columns
from taxcheck import pipeline
from taxcheck.pipeline import InputFile, discover, plan, run_batch, safe_error, unreadable_id
from taxcheck.privacy import mask_digit_runs
from taxcheck.store import document_statuses, forms_for_run, open_store, run_stats

ROOT = Path(__file__).resolve().parents[1]
TAXCHECK = [sys.executable, "-m", "taxcheck.cli"]


def _csv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode()), f"{path.name} has no BOM"
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def _done_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("select count(*) from documents where status='done'").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_rerun_after_kill_stores_every_form_once(tmp_path, born_digital_pdfs):
    n = pipeline.READ_TOGETHER + 2  # two lots: the kill lands after the first is stored
    born_digital_pdfs(tmp_path / "in", n, seed=7)
    out = tmp_path / "out"
    db = out / "taxcheck.db"
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    proc = subprocess.Popen([*TAXCHECK, "run", "--input", str(tmp_path / "in"), "--out", str(out), "--workers", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while _done_count(db) < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its workers, mid-batch
    finally:
        proc.wait(timeout=30)
    done_before = _done_count(db)
    assert 1 <= done_before < n, f"the kill should land part-way ({done_before} of {n} done)"
    assert not (out / "results.csv").exists()  # written only at the end, atomically

    summary = run_batch(tmp_path / "in", out, workers=2, progress=False)
    assert summary.processed == n - done_before and summary.skipped == done_before

    store = open_store(db)
    stored = forms_for_run(store)
    keys = [r["key"] for r in stored]
    assert len(keys) == n and len(set(keys)) == n
    assert set(document_statuses(store).values()) == {"done"}
    runs = run_stats(store)["runs"]
    assert [r["status"] for r in runs] == ["running", "finished"]  # the killed run never finished
    store.close()

    rows = _csv(out / "results.csv")
    assert list(rows[0]) == result_columns()
    assert sorted((r["source"], r["page"], r["slot"]) for r in rows) == sorted(
        (f"doc{i:02d}.pdf", "1", "1") for i in range(n))
    assert stat.S_IMODE((out / "results.csv").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "forms.jsonl").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "quarantine.csv").stat().st_mode) == 0o600  # file names may name a person
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    lines = (out / "forms.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(x)["key"] for x in lines) == sorted(keys)

    # a third run with nothing new reads nothing and rewrites the same outputs
    again = run_batch(tmp_path / "in", out, workers=1, progress=False)
    assert again.processed == 0 and len(_csv(out / "results.csv")) == n


def test_outputs_quarantine_and_exit_code(tmp_path, born_digital_pdfs):
    src = tmp_path / "in"
    pdf = born_digital_pdfs(src / "sub", 1, seed=3)[0]
    (src / "notes.txt").write_text("not a form", encoding="utf-8")
    (src / "broken.pdf").write_bytes(pdf.read_bytes()[:300])  # truncated download
    (src / "copy.pdf").write_bytes(pdf.read_bytes())  # the same content under another name
    out = tmp_path / "out"
    res = subprocess.run([*TAXCHECK, "run", "--input", str(src), "--out", str(out), "--workers", "1"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Traceback" not in res.stderr

    rows = _csv(out / "results.csv")
    assert len(rows) == 1
    kept = rows[0]["source"]
    assert kept in ("copy.pdf", "sub/doc00.pdf")
    q = {r["source"]: r for r in _csv(out / "quarantine.csv")}
    assert set(q) == {"notes.txt", "broken.pdf", ({"copy.pdf", "sub/doc00.pdf"} - {kept}).pop()}
    assert all(r["reason"] for r in q.values())
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["forms"] == 1 and metrics["documents"]["quarantined"] == 2 and metrics["documents"]["duplicates"] == 1
    for name in ("exceptions.csv", "exceptions.xlsx", "exceptions.html"):
        assert (out / name).exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # no temp files left behind


def test_form_flagged_only_across_forms_gets_its_crop(tmp_path, born_digital_pdfs):
    """A resubmitted form (same person and payer, other bytes) is flagged by the cross-form check after
    the page images are gone: its page is rendered again from the file for the crop of the flagged box."""
    from PIL import Image

    pdf = born_digital_pdfs(tmp_path / "in", 1, seed=21)[0]
    (tmp_path / "in" / "resent.pdf").write_bytes(pdf.read_bytes() + b"\n% resent\n")  # other sha, same form
    out = tmp_path / "out"
    run_batch(tmp_path / "in", out, workers=1, progress=False)
    store = open_store(out / "taxcheck.db")
    rows = {r["source"]: r for r in forms_for_run(store)}
    store.close()
    codes = {src: {f["code"] for f in r["findings"]} for src, r in rows.items()}
    assert "duplicate_resubmission" not in codes["doc00.pdf"]
    late = rows["resent.pdf"]
    assert "duplicate_resubmission" in codes["resent.pdf"] and late["flagged"]
    crop = out / late["crops"]["recipient_name"]
    assert crop.is_file() and crop.parent == out / "crops"
    with Image.open(crop) as img:  # the name box: wider than high, and ink on it
        assert img.width > img.height > 5 and img.convert("L").getextrema()[0] < 128
    assert crop.name in (out / "exceptions.csv").read_text(encoding="utf-8-sig")


def test_batch_that_cannot_run_exits_non_zero(tmp_path, born_digital_pdfs):
    born_digital_pdfs(tmp_path / "in", 1)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = subprocess.run([*TAXCHECK, "run", "--input", str(tmp_path / "in"), "--out", str(blocker / "out")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    no_ocr = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # tesseract is not on this PATH
    res = subprocess.run([*TAXCHECK, "run", "--input", str(tmp_path / "in"), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120, env=no_ocr)
    assert res.returncode == 2 and "tesseract" in res.stderr


def test_missing_input_folder_is_an_error_not_an_empty_night(tmp_path):
    """A mistyped or unmounted inbox must not pass for "no forms today" (CLI and library, which the flow uses)."""
    from typer.testing import CliRunner

    from taxcheck.cli import app
    from taxcheck.pipeline import BatchError

    res = CliRunner().invoke(app, ["run", "--input", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "nope" in res.output and "Traceback" not in res.output
    with pytest.raises(BatchError, match="input folder not found"):
        run_batch(tmp_path / "nope", tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "results.csv").exists()


def test_plan_skips_done_and_retries_failed(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.pdf").write_bytes(b"one")
    (tmp_path / "y.png").write_bytes(b"two")
    (tmp_path / "z.tif").write_bytes(b"one")
    files = discover(tmp_path)
    assert [f.source for f in files] == ["a/x.pdf", "y.png", "z.tif"]
    sha = {f.source: f.sha256 for f in files}
    p = plan(files, {sha["a/x.pdf"]: "done", sha["y.png"]: "failed"})
    assert [f.source for f in p.done] == ["a/x.pdf"]
    assert [f.source for f in p.todo] == ["y.png"]
    assert [(f.source, other) for f, other in p.duplicates] == [("z.tif", "a/x.pdf")]
    # the same content already stored under another name is a duplicate, not a skip
    moved = plan([InputFile("/p", "new.pdf", sha["a/x.pdf"], 3)], {sha["a/x.pdf"]: "done"}, {sha["a/x.pdf"]: "a/x.pdf"})
    assert moved.done == [] and moved.duplicates[0][1] == "a/x.pdf"


def test_file_the_reader_cannot_read_is_failed_with_a_reason_and_retried(tmp_path):
    """A file gone between discovery and reading (or any crash while reading) is not a verdict on the file:
    it is recorded as failed, shown in quarantine.csv with a reason, and read again by the next run."""
    from taxcheck.pipeline import Settings, process_file, save_outcome, write_outputs

    (tmp_path / "in").mkdir()
    gone = InputFile(str(tmp_path / "in" / "gone.pdf"), "gone.pdf", "0" * 64, 10)
    outcome = process_file(gone, Settings(str(tmp_path / "in"), str(tmp_path / "out")))
    assert outcome.status == "failed" and outcome.reason
    store = open_store(tmp_path / "out" / "taxcheck.db")
    try:
        save_outcome(store, outcome, None)
        assert [f.source for f in plan([gone], document_statuses(store)).todo] == ["gone.pdf"]
        write_outputs(store, tmp_path / "out", [gone.sha256])
    finally:
        store.close()
    q = _csv(tmp_path / "out" / "quarantine.csv")
    assert [(r["source"], r["reason"] == outcome.reason) for r in q] == [("gone.pdf", True)]


def test_files_that_cannot_be_hashed_keep_apart_and_fit_the_store():
    a, b = unreadable_id("a/scan.pdf"), unreadable_id("b/scan.pdf")
    assert a != b and len(a) == len(b) == 64  # documents.sha256 is String(64): PostgreSQL enforces it
    assert plan([InputFile("/a", "a/scan.pdf", a, 0), InputFile("/b", "b/scan.pdf", b, 0)], {}).duplicates == []


def test_unexpected_cli_error_exits_1_with_the_message_masked(tmp_path):
    """A corrupt file or a bug: where it happened is shown, the message (which may quote a value) is masked."""
    from typer.testing import CliRunner

    from taxcheck.cli import app

    (tmp_path / "results.csv").write_text("source,page,slot\na.pdf,621498320257x,1\n", encoding="utf-8")
    (tmp_path / "truth.json").write_text('{"forms": [{"source": "a.pdf", "page": 1, "slot": 1, "fields": {}}]}',
                                         encoding="utf-8")
    res = CliRunner().invoke(app, ["evaluate", "--results", str(tmp_path / "results.csv"),
                                   "--truth", str(tmp_path / "truth.json")])
    assert res.exit_code == 1 and "unexpected error: ValueError" in res.output
    assert "621498320257" not in res.output and "********0257" in res.output and "evaluate.py" in res.output


def test_error_messages_lose_personal_numbers():
    msg = safe_error(ValueError("invalid literal for int(): '621498320257'"))
    assert "621498320257" not in msg and msg.endswith("0257'") and msg.startswith("ValueError")
    assert mask_digit_runs("scans/621498320257.pdf#p1s1") == "scans/********0257.pdf#p1s1"  # file names in log lines


@pytest.mark.postgres
def test_run_into_postgres_store(tmp_path, born_digital_pdfs, pg_url):
    born_digital_pdfs(tmp_path / "in", 2, seed=5)
    first = run_batch(tmp_path / "in", tmp_path / "out", store_url=pg_url, workers=1, progress=False)
    again = run_batch(tmp_path / "in", tmp_path / "out2", store_url=pg_url, workers=1, progress=False)
    assert (first.processed, again.processed, again.skipped) == (2, 0, 2)
    store = open_store(pg_url)
    assert len(forms_for_run(store)) == 2 and run_stats(store)["documents"]["done"] == 2
    store.close()
    assert len(_csv(tmp_path / "out2" / "results.csv")) == 2  # outputs come from the store, not from this run
    assert not (tmp_path / "out" / "taxcheck.db").exists()
