"""Pilot report flow: the evaluation report (time saved, risk taken) from the store.

Only wiring around ``taxcheck.report.pilot.write_pilot_report``; the report's path is the task's result.

    python flows/report.py --db sqlite:///out/taxcheck.db --out out/pilot [--config pilot.yaml]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # prefect_env beside this script, however it is loaded
import prefect_env  # noqa: E402

prefect_env.set_defaults()

import argparse  # noqa: E402

from prefect import flow, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402


@task(name="write-pilot-report", persist_result=False, cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def write_report(store_url: str, out: str, config: str | None, metrics_files: list[str]) -> str:
    from taxcheck.report.pilot import write_pilot_report

    return str(write_pilot_report(store_url, out, config=config, metrics_files=metrics_files))


@flow(name="taxcheck-pilot-report", persist_result=False, log_prints=False)
def report_flow(store_url: str, out: str, config: str | None = None, metrics_files: list[str] | None = None) -> str:
    path = write_report(store_url, out, config, list(metrics_files or []))
    create_markdown_artifact(f"# taxcheck pilot report\n\nWritten to `{path}`.\n", key="taxcheck-pilot-report",
                             description="Where the pilot report was written")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="store URL")
    ap.add_argument("--out", required=True)
    ap.add_argument("--config", default=None)
    ap.add_argument("--metrics", nargs="*", default=[], help="metrics.json files of the runs to include")
    args = ap.parse_args(argv)
    print(f"wrote {report_flow(args.db, args.out, args.config, args.metrics)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
