#!/usr/bin/env bash
# The README's main command: set up (idempotent), then run the nightly flow once over sample_docs/ into out/<date>/.
# Running it again reads nothing twice: files already in the store (out/taxcheck.db) are skipped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
export OMP_THREAD_LIMIT=1
if [ ! -d sample_docs ] || [ -z "$(ls -A sample_docs 2>/dev/null)" ]; then
  echo "run.sh: sample_docs/ is empty; generating sample documents" >&2
  .venv/bin/taxcheck samples --out sample_docs
fi
truth=()
[ -f sample_docs/truth.json ] && truth=(--truth sample_docs/truth.json)
model=()
[ -f models/default/metadata.json ] && model=(--model models/default)
exec .venv/bin/python flows/nightly.py once --inbox sample_docs --out out "${truth[@]}" "${model[@]}" "$@"
