"""Training flow: fit the flagging classifier on labelled runs (and, when given, staff decisions in the store).

Only wiring around ``taxcheck.classify.train.train_model``. The model's metadata (threshold, validation
scores; no personal data) becomes a Prefect artifact; the training data never passes through Prefect.

    python flows/train.py --data bench/work/train --out models/default [--db sqlite:///out/taxcheck.db]
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

TASK = dict(persist_result=False, cache_policy=NO_CACHE, log_prints=False)


@task(name="train-model", **TASK)
def train(data: list[str], out: str, target_recall: float, store_url: str | None) -> dict:
    from taxcheck.classify.train import train_model

    meta = train_model([Path(d) for d in data], Path(out), target_recall=target_recall, store_url=store_url)
    v = meta.get("validation", {})
    return {"threshold": meta["threshold"], "n_forms": v.get("n_forms"), "n_positive": v.get("n_positive"),
            "roc_auc": v.get("roc_auc"), "pr_auc": v.get("pr_auc"), "at_threshold": v.get("at_threshold")}


@flow(name="taxcheck-train", persist_result=False, log_prints=False)
def train_flow(data: list[str], out: str = "models/default", target_recall: float = 0.99,
               store_url: str | None = None) -> dict:
    summary = train(data, out, target_recall, store_url)
    rows = "\n".join(f"| {k} | {v} |" for k, v in summary.items())
    create_markdown_artifact(f"# taxcheck model → {out}\n\n| | |\n|---|---|\n{rows}\n", key="taxcheck-train-summary",
                             description="Threshold and validation of the newly trained model")
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="*", default=[], help="labelled run folders (results/forms + truth.json)")
    ap.add_argument("--out", default="models/default")
    ap.add_argument("--target-recall", type=float, default=0.99)
    ap.add_argument("--db", default=None, help="store URL with staff decisions to learn from as well")
    args = ap.parse_args(argv)
    summary = train_flow(args.data, args.out, args.target_recall, args.db)
    print(f"model written to {args.out}: threshold {summary['threshold']:.4f}, "
          f"{summary['n_forms']} forms, ROC AUC {summary['roc_auc']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
