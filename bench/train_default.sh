#!/usr/bin/env bash
# Train models/default on real pipeline output: generate → run (real OCR) → train.
#   bench/train_default.sh                       # 4 runs of 1,500 forms, seeds 121-124 (models/default: session 30, the
#                                                # runs read by the reader of 2848c89; metadata.json names them)
#   N=400 SEEDS="301" OUT=/tmp/m bench/train_default.sh   # a small try
# Each run folder gets forms.jsonl (from `taxcheck run`) and a copy of the generator's truth.json, which is
# what `taxcheck train` reads. Finished steps are skipped on a rerun (delete WORK to start over).
# Benchmark seeds (bench/flag_bench.py, default 9001) must not be among SEEDS.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
N="${N:-1500}"
SEEDS="${SEEDS:-121 122 123 124}"
WORK="${WORK:-/tmp/taxcheck_train}"
OUT="${OUT:-$ROOT/models/default}"
WORKERS="${WORKERS:-2}"
export OMP_THREAD_LIMIT=1
runs=()
for seed in $SEEDS; do
  samples="$WORK/samples_$seed"
  run="$WORK/run_$seed"
  if [ ! -f "$samples/truth.json" ]; then
    "$PY" -m taxcheck.cli samples --out "$samples" --n "$N" --seed "$seed"
  fi
  if [ ! -f "$run/forms.jsonl" ]; then
    # the model used while reading does not matter: training recomputes findings and features
    "$PY" -m taxcheck.cli run --input "$samples" --out "$run" --truth "$samples/truth.json" --workers "$WORKERS"
  fi
  cp "$samples/truth.json" "$run/truth.json"
  runs+=(--data "$run")
done
"$PY" -m taxcheck.cli train "${runs[@]}" --out "$OUT"
echo "trained $OUT on: $SEEDS (N=$N each)"
