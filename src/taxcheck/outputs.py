"""The files of an out dir that the contract names: results.csv, quarantine.csv, forms.jsonl, metrics.json.

All are written from the store (so a rerun after a crash writes every form exactly once) and all
writes are atomic: a temporary file in the same folder, fsync, ``os.replace``. Files holding full
values (results.csv, forms.jsonl) get mode 0600.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from taxcheck.forms import IDENTITY_COLUMNS, result_columns

PRIVATE = 0o600  # files with full 個人番号, names, amounts
SHARED = 0o644  # files without personal data
BOM = "\ufeff"
QUARANTINE_COLUMNS = ["source", "reason", "code"]
REASONS_SEPARATOR = ";"  # results.csv's reasons column (CONTRACT.md)


def atomic_write(path: str | Path, data: bytes | str, mode: int = SHARED) -> Path:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def _csv_text(columns: list[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    buf.write(BOM)
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})
    return buf.getvalue()


def result_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One results.csv row from a store row (full values)."""
    out: dict[str, Any] = {
        "source": row["source"], "page": row["page"], "slot": row["slot"], "form": row["form"],
        "tax_year": row.get("tax_year") or "",
        "flagged": 1 if row.get("flagged") else 0,
        "risk": f"{float(row['risk']):.4f}" if row.get("risk") is not None else "",
        "reasons": REASONS_SEPARATOR.join(row.get("reasons") or []),
    }
    for name, f in (row.get("fields") or {}).items():
        if name not in IDENTITY_COLUMNS:
            out[name] = f.get("value") or ""
    return out


def write_results_csv(rows: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """results.csv: every contract column in order, then any extra field the reader produced."""
    rows = [result_row(r) for r in rows]
    columns = result_columns()
    extra = sorted({k for r in rows for k in r} - set(columns))
    return atomic_write(path, _csv_text(columns + extra, rows), PRIVATE)


def write_quarantine_csv(items: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """quarantine.csv: ``source,reason,code`` for every input that yielded no form. Private: a scanned
    file is often named after the person (``山田太郎_給報.pdf``)."""
    return atomic_write(path, _csv_text(QUARANTINE_COLUMNS, sorted(items, key=lambda r: r["source"])), PRIVATE)


def write_forms_jsonl(rows: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """forms.jsonl: one store row per line (form_to_dict + findings + decision), for training."""
    keep = ("key", "source", "page", "slot", "form", "tax_year", "layout_version", "rotation", "bbox", "fields",
            "findings", "risk", "flagged", "reasons", "drivers", "document_sha256")
    text = "".join(json.dumps({k: r.get(k) for k in keep}, ensure_ascii=False) + "\n" for r in rows)
    return atomic_write(path, text, PRIVATE)


def write_json(obj: Any, path: str | Path) -> Path:
    return atomic_write(path, json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n", SHARED)
