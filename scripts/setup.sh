#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian machine (as root): apt packages, then the Python package in .venv.
# Sourced by run.sh and test.sh; safe to run again: it skips what is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APT_PACKAGES=(tesseract-ocr tesseract-ocr-jpn tesseract-ocr-osd fonts-ipafont-gothic fonts-ipafont-mincho fonts-dejavu-core poppler-utils postgresql)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "taxcheck setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  echo "taxcheck setup: creating $ROOT/.venv" >&2
  "$PY" -m venv "$ROOT/.venv"
fi
stamp="$ROOT/.venv/.taxcheck-installed"
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "taxcheck setup: installing the Python package (editable) into .venv" >&2
  "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check -U pip >/dev/null
  "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check -e "$ROOT[dev]"
  echo "$want" > "$stamp"
fi
