"""The Prefect flows as they run at night: a real flow run over a tiny inbox, a rerun on a Dask cluster, the schedule.

The flow runs in a subprocess exactly as ``scripts/run.sh`` starts it (temporary local Prefect server,
PREFECT_HOME inside the test folder), so the console output checked here is what an operator sees.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NIGHTLY = ROOT / "flows" / "nightly.py"
DAY = "2026-01-31"


def _nightly(tmp: Path, inbox: Path, out: Path, *extra: str, home: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_HOME": str(home or tmp / "prefect-home"), "OMP_THREAD_LIMIT": "1"}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([sys.executable, str(NIGHTLY), "once", "--inbox", str(inbox), "--out", str(out),
                           "--day", DAY, "--chunk-files", "1", *extra],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp)


def _results(out: Path) -> list[dict]:
    return list(csv.DictReader((out / DAY / "results.csv").read_text(encoding="utf-8-sig").splitlines()))


def _clean_console(res: subprocess.CompletedProcess) -> None:
    assert res.returncode == 0, res.stderr[-3000:]
    text = res.stdout + res.stderr
    for bad in ("Traceback", "ERROR", "| INFO", "Starting temporary server"):
        assert bad not in text, f"{bad!r} on the console:\n{text[-3000:]}"


@pytest.fixture(scope="module")
def first_night(tmp_path_factory):
    """One nightly run over two forms and a stray file (threads)."""
    from conftest import write_born_digital_pdfs

    tmp = tmp_path_factory.mktemp("night")
    write_born_digital_pdfs(tmp / "inbox", 2, seed=11)
    (tmp / "inbox" / "fax-cover.txt").write_text("cover", encoding="utf-8")
    res = _nightly(tmp, tmp / "inbox", tmp / "out")
    return tmp, res


def test_nightly_flow_once(first_night):
    tmp, res = first_night
    _clean_console(res)
    assert "forms 2" in res.stdout and "読取・点検" in res.stderr  # the summary and the progress bar
    out = tmp / "out"
    assert sorted(r["source"] for r in _results(out)) == ["doc00.pdf", "doc01.pdf"]
    q = list(csv.DictReader((out / DAY / "quarantine.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [r["source"] for r in q] == ["fax-cover.txt"]
    for name in ("exceptions.xlsx", "exceptions.html", "metrics.json", "forms.jsonl", "pilot_report.html"):
        assert (out / DAY / name).exists(), name
    assert (out / "taxcheck.db").exists()  # the store spans nights, outside the dated folder
    forms = [json.loads(x) for x in (out / DAY / "forms.jsonl").read_text(encoding="utf-8").splitlines()]

    # the audit sample: drawn among the night's cleared forms, in the sheet layout `review import` reads
    cleared = {f["key"] for f in forms if not f["flagged"]}
    assert (out / DAY / "audit.xlsx").exists() == bool(cleared)
    if cleared:
        from openpyxl import load_workbook

        from taxcheck.report.exceptions import SHEET_ROWS
        from taxcheck.report.review import _header_index

        ws = load_workbook(out / DAY / "audit.xlsx", read_only=True)[SHEET_ROWS]
        col = _header_index(ws)["form_key"]
        drawn = {r[col] for r in ws.iter_rows(min_row=2, values_only=True) if r[col]}
        assert drawn and drawn <= cleared

    # Prefect recorded the flow and its artifacts; the artifacts hold counts, not personal data
    with sqlite3.connect(tmp / "prefect-home" / "prefect.db") as db:
        states = [r[0] for r in db.execute("select state_type from flow_run")]
        artifacts = dict(db.execute("select key, data from artifact where key is not null"))
    assert states and set(states) == {"COMPLETED"}
    assert {"taxcheck-nightly-summary", "taxcheck-nightly-counts", "taxcheck-pilot-summary",
            "taxcheck-pilot-figures"} <= set(artifacts)
    figures = {r["項目"]: r["値"] for r in json.loads(json.loads(artifacts["taxcheck-pilot-figures"]))}
    assert figures["帳票数"] == 2 and figures["要確認"] == sum(f["flagged"] for f in forms)
    assert "パイロット評価" in json.loads(artifacts["taxcheck-pilot-summary"])
    personal = [f["fields"][c]["value"] for f in forms for c in ("recipient_name", "recipient_my_number")
                if f["fields"].get(c, {}).get("value")]
    assert personal and not any(p in data for p in personal for data in artifacts.values())


def test_second_night_on_dask_reads_only_new_files(first_night, tmp_path):
    """The same flow with DaskTaskRunner on a local two-worker cluster; only the new file is read."""
    from conftest import write_born_digital_pdfs
    from distributed import Client, LocalCluster, get_task_stream

    tmp, res = first_night
    assert res.returncode == 0
    shutil.copytree(tmp / "inbox", tmp_path / "inbox")
    shutil.copytree(tmp / "out", tmp_path / "out")
    new = write_born_digital_pdfs(tmp_path / "new", 1, seed=12)[0]
    shutil.copy(new, tmp_path / "inbox" / "late.pdf")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client, get_task_stream(client) as stream:
        res2 = _nightly(tmp_path, tmp_path / "inbox", tmp_path / "out", "--dask", cluster.scheduler_address,
                        home=tmp / "prefect-home")  # Prefect's database is set up already: a faster start
        workers = set(cluster.scheduler_info["workers"])
    _clean_console(res2)
    assert "1 read, 3 already done" in res2.stdout
    ran = [t for t in stream.data if str(t.get("key", "")).startswith("read_chunk")]
    assert len(ran) == 1 and ran[0]["worker"] in workers and len(workers) == 2
    # the day's report covers both runs of the day: the first night's forms and the late one, once each
    assert sorted(r["source"] for r in _results(tmp_path / "out")) == ["doc00.pdf", "doc01.pdf", "late.pdf"]


def test_nightly_schedule_is_2am_tokyo():
    spec = importlib.util.spec_from_file_location("taxcheck_nightly_flow", NIGHTLY)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    deployment = mod.nightly.to_deployment(**mod.serve_options({"inbox": "inbox", "out": "out"}))
    (sched,) = deployment.schedules
    assert (sched.schedule.cron, sched.schedule.timezone) == ("0 2 * * *", "Asia/Tokyo")
    assert deployment.parameters == {"inbox": "inbox", "out": "out"}
