"""Nightly flow: inbox folder → new files → chunks read in parallel → store → reports in out/YYYY-MM-DD/.

Only wiring: every step is a function of ``taxcheck.pipeline`` (which works without Prefect). Tasks
return counts and paths, never images or field values; results are not persisted and nothing is
cached. Retries only on the I/O steps (finding files, writing outputs); a file that fails to read
is recorded as ``failed`` in the store and retried by the next run instead.

    python flows/nightly.py once --inbox sample_docs --out out     # one run now (local, ephemeral Prefect)
    python flows/nightly.py once ... --dask tcp://host:8786         # the same, chunks on a Dask cluster
    python flows/nightly.py serve --inbox /srv/inbox --out /srv/out # every night at 02:00 Asia/Tokyo
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # prefect_env beside this script, however it is loaded
import prefect_env  # noqa: E402

prefect_env.set_defaults()

import argparse  # noqa: E402
from datetime import datetime  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from prefect import flow, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.futures import as_completed  # noqa: E402
from prefect.schedules import Cron  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from taxcheck import pipeline  # noqa: E402
from taxcheck.store import (  # noqa: E402
    begin_run,
    default_url,
    document_statuses,
    documents_info,
    finish_run,
    open_store,
    run_ids_with_label,
)

if __name__ != "__main__":  # imported (tests, dask): ship this module's tasks to workers by value
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])

TIMEZONE = "Asia/Tokyo"
NIGHTLY_CRON = "0 2 * * *"  # 02:00 Tokyo time, after the day's scans have landed in the inbox
DEFAULT_CHUNK_FILES = pipeline.READ_TOGETHER  # files per task: one lot, whose boxes share Tesseract's runs
DEFAULT_PARALLEL_CHUNKS = 2  # one per core
TASK = dict(persist_result=False, cache_policy=NO_CACHE, log_prints=False)
IO_RETRIES = dict(retries=2, retry_delay_seconds=10)


def today() -> str:
    return datetime.now(ZoneInfo(TIMEZONE)).date().isoformat()


@task(name="find-new-files", **TASK, **IO_RETRIES)
def find_new_files(inbox: str, store_url: str, out_day: str, truth: str | None = None) -> pipeline.Plan:
    store = open_store(store_url)
    try:
        files = pipeline.discover(inbox, exclude=[Path(out_day).parent] + ([truth] if truth else []))
        known = {d["sha256"]: d["source"] for d in documents_info(store, shas=[f.sha256 for f in files])}
        return pipeline.plan(files, document_statuses(store), known)
    finally:
        store.close()


@task(name="start-run", **TASK, **IO_RETRIES)
def start_run(store_url: str, label: str, inbox: str, out_day: str, model: str) -> int:
    store = open_store(store_url)
    try:
        return begin_run(store, label=label, input_dir=inbox, out_dir=out_day, model_version=model)
    finally:
        store.close()


@task(name="read-check-score", **TASK)
def read_chunk(files: list, settings: pipeline.Settings, store_url: str, run_id: int) -> dict:
    """Read, check and score a chunk of files into the store; counts only come back."""
    return pipeline.process_chunk(files, settings, store_url, run_id, workers=1)


@task(name="cross-form-checks", **TASK)
def cross_form_checks(store_url: str, label: str, model_dir: str | None, inbox: str, out_day: str) -> int:
    store = open_store(store_url)
    try:
        return pipeline.apply_batch_checks(store, _shas_of_day(store, label), model_dir, inbox, out_day)
    finally:
        store.close()


@task(name="write-reports", **TASK, **IO_RETRIES)
def write_reports(store_url: str, label: str, out_day: str, duplicates: list, metrics: dict, truth: str | None) -> dict:
    store = open_store(store_url)
    try:
        res = pipeline.write_outputs(store, out_day, _shas_of_day(store, label), duplicates=duplicates,
                                     metrics=metrics, truth=truth)
        return {"paths": {k: str(v) for k, v in res["paths"].items()}, "metrics": res["metrics"]}
    finally:
        store.close()


@task(name="audit-sample", **TASK, **IO_RETRIES)
def audit_sample(store_url: str, label: str, out_day: str) -> str | None:
    """audit.xlsx: a seeded sample of the night's cleared forms for staff to check (residual error rate)."""
    from taxcheck.report.pilot import write_audit_sample
    from taxcheck.store import forms_for_run

    store = open_store(store_url)
    try:
        path = write_audit_sample(forms_for_run(store, shas=_shas_of_day(store, label)), out_day, seed=label)
    finally:
        store.close()
    return str(path) if path else None


@task(name="pilot-report", **TASK, **IO_RETRIES)
def pilot_report(store_url: str, out_day: str) -> str:
    from taxcheck.report.pilot import write_pilot_report

    return str(write_pilot_report(store_url, out_day, metrics_files=[Path(out_day) / "metrics.json"]))


@task(name="pilot-artifacts", **TASK)
def pilot_artifacts(store_url: str, out_day: str) -> None:
    """The pilot figures of the whole store as a markdown and a table artifact (figures only, no personal data)."""
    from taxcheck.report.pilot import pilot_summary, summary_markdown, summary_table

    s = pilot_summary(store_url, metrics_files=[Path(out_day) / "metrics.json"])
    create_markdown_artifact(summary_markdown(s), key="taxcheck-pilot-summary",
                             description="Pilot evaluation: time saved, flag rate, residual error (no personal data)")
    create_table_artifact(summary_table(s), key="taxcheck-pilot-figures",
                          description="Pilot key figures (no personal data)")


@task(name="finish-run", **TASK, **IO_RETRIES)
def close_run(store_url: str, run_id: int, counts: dict) -> None:
    store = open_store(store_url)
    try:
        finish_run(store, run_id, counts)
    finally:
        store.close()


def _shas_of_day(store, label: str) -> list[str]:
    """Documents read by any run of this night (a rerun after a crash adds to the same night's report)."""
    return [d["sha256"] for d in documents_info(store, run_ids=run_ids_with_label(store, label))]


def _optional(state):
    """The result of a task whose failure is recorded (its state in the UI) but does not fail the flow."""
    return state.result(raise_on_failure=False) if state.is_completed() else None


def _summary_markdown(label: str, run_id: int, m: dict, plan_counts: dict) -> str:
    d = m.get("documents", {})
    return "\n".join([
        f"# taxcheck nightly {label} (run {run_id})",
        "",
        "| | |", "|---|---|",
        f"| files found | {plan_counts['found']} |",
        f"| read this run | {plan_counts['todo']} |",
        f"| already done | {plan_counts['done']} |",
        f"| forms | {m.get('forms', 0)} |",
        f"| flagged (要確認) | {m.get('flagged', 0)} |",
        f"| quarantined | {d.get('quarantined', 0)} |",
        f"| failed (retried next run) | {d.get('failed', 0)} |",
        f"| duplicates | {d.get('duplicates', 0)} |",
        "",
        "Reports: results.csv, exceptions.xlsx/html/csv, quarantine.csv, metrics.json, pilot_report.html and "
        "audit.xlsx in the dated out folder.",
    ])


@flow(name="taxcheck-nightly", task_runner=ThreadPoolTaskRunner(max_workers=DEFAULT_PARALLEL_CHUNKS),
      persist_result=False, log_prints=False)
def nightly(inbox: str = "inbox", out: str = "out", store_url: str | None = None, model_dir: str | None = None,
            chunk_files: int = DEFAULT_CHUNK_FILES, day: str | None = None, truth: str | None = None,
            year_hint: int | None = None, progress: bool = True) -> dict:
    """One night's batch. The store (default out/taxcheck.db) spans nights; reports go to out/<day>/."""
    label = day or today()
    out_day = str((Path(out) / label).resolve())
    url = store_url or default_url(out)
    pipeline.check_environment(out_day, inbox)
    scorer = pipeline.scorer_for(model_dir)
    plan = find_new_files(str(Path(inbox).resolve()), url, out_day, truth)
    run_id = start_run(url, label, str(inbox), out_day, pipeline.model_version(scorer))
    settings = pipeline.Settings(str(Path(inbox).resolve()), out_day, model_dir, year_hint)
    chunks = pipeline.chunked(plan.todo, chunk_files)

    from rich.console import Console

    counts = []
    with pipeline.progress_bar(Console(stderr=True, quiet=not progress)) as bar:
        bar_task = bar.add_task("読取・点検", total=len(plan.todo))
        futures = {read_chunk.submit(c, settings, url, run_id): len(c) for c in chunks}
        for fut in as_completed(list(futures)):
            counts.append(fut.result())
            bar.advance(bar_task, futures[fut])
    this_run = pipeline.merge_counts(counts)
    changed = cross_form_checks(url, label, model_dir, str(Path(inbox).resolve()), out_day)
    plan_counts = {"found": len(plan.todo) + len(plan.done) + len(plan.duplicates), "todo": len(plan.todo),
                   "done": len(plan.done), "duplicates": len(plan.duplicates)}
    metrics = {"run_id": run_id, "day": label, "model": pipeline.model_version(scorer), "files": plan_counts,
               "this_run": this_run, "batch_check_changes": changed, "chunks": len(chunks)}
    res = write_reports(url, label, out_day, plan.duplicates, metrics, truth)
    # the audit sample and the pilot figures are for the pilot's evaluation: a failure there must not fail the night
    audit = _optional(audit_sample(url, label, out_day, return_state=True))
    pilot = _optional(pilot_report(url, out_day, return_state=True))
    _optional(pilot_artifacts(url, out_day, return_state=True))
    close_run(url, run_id, {**{k: v for k, v in this_run.items() if k != "timings"}, **plan_counts})
    m = res["metrics"]
    create_markdown_artifact(_summary_markdown(label, run_id, m, plan_counts), key="taxcheck-nightly-summary",
                             description="Counts of the nightly run (no personal data)")
    create_table_artifact([{"metric": k, "value": v} for k, v in [
        ("forms", m.get("forms", 0)), ("flagged", m.get("flagged", 0)),
        ("quarantined", m["documents"].get("quarantined", 0)), ("failed", m["documents"].get("failed", 0)),
        ("read_this_run", plan_counts["todo"]), ("already_done", plan_counts["done"]),
        ("pages", m.get("pages", 0)), ("seconds_per_page", m.get("seconds_per_page")),
    ]], key="taxcheck-nightly-counts", description="Nightly counts (no personal data)")
    return {"run_id": run_id, "out": out_day, "metrics": m, "paths": res["paths"], "pilot_report": pilot,
            "audit": audit}


def describe(result: dict) -> str:
    m = result["metrics"]
    d, f = m.get("documents", {}), m.get("files", {})
    return "\n".join([
        f"nightly run {result['run_id']}: {f.get('found', 0)} files found, {f.get('todo', 0)} read, "
        f"{f.get('done', 0)} already done",
        f"forms {m.get('forms', 0)}, flagged {m.get('flagged', 0)}, quarantined {d.get('quarantined', 0)}, "
        f"failed {d.get('failed', 0)}, duplicates {d.get('duplicates', 0)}",
        f"reports in {result['out']}",
    ])


WORKER_ENV = ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_LOGGING_LEVEL", "PREFECT_LOGGING_INTERNAL_LEVEL",
              "PREFECT_RESULTS_PERSIST_BY_DEFAULT", "OMP_THREAD_LIMIT")


def _set_env(env: dict) -> None:
    os.environ.update(env)


def share_prefect_api(dask_address: str) -> str | None:
    """Point the Dask workers at this process's Prefect API before they run a task.

    Without a configured API (PREFECT_API_URL) each worker would start a temporary server of its own;
    here one temporary server is started and every worker reports to it. Returns the API URL.
    """
    api = os.environ.get("PREFECT_API_URL")
    if not api:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        server.start()
        api = server.api_url
        os.environ["PREFECT_API_URL"] = api
    from distributed import Client

    with Client(dask_address, timeout=30) as client:
        client.run(_set_env, {k: os.environ[k] for k in WORKER_ENV if k in os.environ})
    return api


def with_runner(dask_address: str | None, parallel: int):
    """The flow with its task runner: threads locally, or a Dask cluster given its scheduler address."""
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return nightly.with_options(task_runner=DaskTaskRunner(address=dask_address))
    return nightly.with_options(task_runner=ThreadPoolTaskRunner(max_workers=parallel))


def serve_options(params: dict) -> dict:
    """Deployment options of the nightly schedule (02:00 every day, Tokyo time)."""
    return dict(name="taxcheck-nightly", schedules=[Cron(NIGHTLY_CRON, timezone=TIMEZONE)], parameters=params,
                description="taxcheck nightly batch (02:00 Asia/Tokyo)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["once", "serve"])
    ap.add_argument("--inbox", default="inbox")
    ap.add_argument("--out", default="out")
    ap.add_argument("--db", default=None, help="store URL (default: sqlite file out/taxcheck.db)")
    ap.add_argument("--model", default=None, help="model folder (default: models/default)")
    ap.add_argument("--chunk-files", type=int, default=DEFAULT_CHUNK_FILES)
    ap.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL_CHUNKS, help="chunks at once (threads)")
    ap.add_argument("--dask", default=None, metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786")
    ap.add_argument("--day", default=None, help="the night's label (default: today in Asia/Tokyo)")
    ap.add_argument("--truth", default=None, help="truth.json: adds accuracy and flag precision/recall")
    ap.add_argument("--year-hint", type=int, default=None, help="tax year to assume when a title cannot be read")
    args = ap.parse_args(argv)
    params = dict(inbox=args.inbox, out=args.out, store_url=args.db, model_dir=args.model, chunk_files=args.chunk_files,
                  truth=args.truth, year_hint=args.year_hint)
    flow_ = with_runner(args.dask, args.parallel)
    if args.mode == "serve":
        flow_.serve(**serve_options(params))
        return 0
    try:
        if args.dask:
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings(updates={PREFECT_API_URL: share_prefect_api(args.dask)}):
                result = flow_(day=args.day, **params)
        else:
            result = flow_(day=args.day, **params)
    except pipeline.BatchError as exc:
        print(f"taxcheck: {exc}", file=sys.stderr)
        return 2
    print(describe(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
