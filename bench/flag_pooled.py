"""Both benchmark sets pooled: the shipped decision's recall and flag rate, and the flag rate at 99 % recall.

One set's 99 % recall point rests on its two or three lowest-ranked forms needing correction, so it moves by several
points between seeds (38 % on 9001, 47 % on 9002); pooled, the forms of both sets rank together and the point rests
on more of them. This is the figure a model or reader change is judged by (README, "Flagging").

    .venv/bin/python bench/flag_pooled.py /work/benchdata/s32/final_9001 /work/benchdata/s32/final_9002
    .venv/bin/python bench/flag_pooled.py --model /tmp/candidate RUN_DIR RUN_DIR

Each run folder needs forms.jsonl and truth.json, as for bench/flag_bench.py. Prints one line a set and one pooled.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
TARGET_RECALL = 0.99


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="run folders (forms.jsonl + truth.json)")
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "default", help="model folder")
    args = ap.parse_args()

    from taxcheck.classify import Scorer
    from taxcheck.classify.train import choose_threshold, load_run, rates

    scorer = Scorer(args.model, require_model=True)
    print(f"model {args.model} (threshold {scorer.threshold:.4f})")
    pooled: dict[str, list[np.ndarray]] = {"risk": [], "y": [], "always": [], "flagged": []}

    def line(name: str, risk: np.ndarray, y: np.ndarray, always: np.ndarray, flagged: np.ndarray) -> None:
        at = choose_threshold(risk, y, always, TARGET_RECALL)
        point, shipped = rates(always | (risk > at), y), rates(flagged, y)
        print(f"{name}: shipped decision recall {shipped['recall']:.1%}, flagged {shipped['flag_rate']:.1%} | "
              f"at {TARGET_RECALL:.0%} recall: flagged {point['flag_rate']:.1%} | "
              f"ROC-AUC {roc_auc_score(y, risk):.4f} | {int(y.sum())} of {len(y)} need correction")

    for run in args.runs:
        batch = load_run(run, run / "truth.json")
        result = scorer.assess(batch.forms, batch.findings)  # the whole batch, as the pipeline's final scoring
        risk = np.array([result[f.key].decision.risk for f in batch.forms])
        flagged = np.array([result[f.key].decision.flagged for f in batch.forms])
        line(run.name, risk, batch.y, batch.always, flagged)
        for key, value in (("risk", risk), ("y", batch.y), ("always", batch.always), ("flagged", flagged)):
            pooled[key].append(value)
    if len(args.runs) > 1:
        line("pooled", *(np.concatenate(pooled[k]) for k in ("risk", "y", "always", "flagged")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
