#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite with real Tesseract, real files and a real PostgreSQL.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
if [ -x "$ROOT/scripts/pg.sh" ]; then
  eval "$("$ROOT/scripts/pg.sh")"   # starts a throw-away PostgreSQL and exports TAXCHECK_TEST_PG_URL
fi
cd "$ROOT"
export OMP_THREAD_LIMIT=1
exec "$ROOT/.venv/bin/python" -m pytest -q "$@"
