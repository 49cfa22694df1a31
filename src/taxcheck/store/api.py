"""Reading and writing the store: runs, documents with their forms, and staff decisions.

Writes are upserts keyed by content (document sha256; form = sha + page + slot), each document in
one transaction, so a run killed half-way leaves whole documents behind and a rerun replaces
rather than duplicates. Rows handed out are plain dicts shaped like ``form_to_dict`` plus
``findings``, ``risk``, ``flagged``, ``reasons``, ``drivers`` and ``crops`` — what the reports need.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from taxcheck.store.db import Store, StoreError, open_store
from taxcheck.store.schema import (
    DOCUMENT_STATUSES,
    STAFF_DECISIONS,
    decisions,
    documents,
    field_values,
    findings,
    forms,
    runs,
    staff_decisions as staff_table,
)

IN_CLAUSE_MAX = 5000  # bound parameters per IN list (SQLite allows 32766)
FIELD_KEYS = ("raw", "value", "confidence", "bbox", "source", "as_read", "as_read_confidence", "page_read")
# Keys a field carries only when set: on a value its payer's other forms settled, on a text box the page pass read
OPTIONAL_KEYS = ("as_read", "as_read_confidence", "page_read")
FINDING_KEYS = ("code", "column", "box", "read", "expected", "message", "severity", "always_error", "residual")


def now() -> datetime:
    return datetime.now(timezone.utc)


def _insert(conn: Connection, table):
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _upsert(conn: Connection, table, values: dict, keys: list[str]) -> None:
    stmt = _insert(conn, table).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={k: v for k, v in values.items() if k not in keys})
    conn.execute(stmt)


# ---------------------------------------------------------------- runs


def begin_run(store: Store, *, label: str | None = None, input_dir: str | None = None, out_dir: str | None = None,
              model_version: str | None = None) -> int:
    """Record the start of a run and return its id."""
    with store.engine.begin() as conn:
        res = conn.execute(runs.insert().values(label=label, started_at=now(), status="running", input_dir=input_dir,
                                                out_dir=out_dir, model_version=model_version))
        return int(res.inserted_primary_key[0])


def finish_run(store: Store, run_id: int, counts: Mapping[str, Any]) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(finished_at=now(), status="finished", counts=dict(counts)))


def run_ids_with_label(store: Store, label: str) -> list[int]:
    with store.engine.connect() as conn:
        return [r[0] for r in conn.execute(select(runs.c.id).where(runs.c.label == label).order_by(runs.c.id))]


# ---------------------------------------------------------------- documents


def document_statuses(store: Store) -> dict[str, str]:
    """{sha256: status} of every document the store holds."""
    with store.engine.connect() as conn:
        return {sha: status for sha, status in conn.execute(select(documents.c.sha256, documents.c.status))}


def documents_info(store: Store, shas: Iterable[str] | None = None, run_ids: Iterable[int] | None = None) -> list[dict]:
    """Document rows (source, status, code, reason, ...), optionally only the given shas or runs."""
    q = select(documents).order_by(documents.c.source)
    if run_ids is not None:
        q = q.where(documents.c.run_id.in_(list(run_ids)))
    with store.engine.connect() as conn:
        if shas is None:
            return [dict(r._mapping) for r in conn.execute(q)]
        out = [dict(r._mapping) for part in _parts(list(shas)) for r in conn.execute(q.where(documents.c.sha256.in_(part)))]
    return sorted(out, key=lambda d: d["source"])


def save_document(store: Store, *, sha256: str, source: str, status: str, run_id: int | None,
                  form_rows: Iterable[Mapping[str, Any]] = (), pages: int | None = None, code: str | None = None,
                  reason: str | None = None, error: str | None = None, seconds: float | None = None) -> list[int]:
    """Write one document and all its forms in one transaction; return the form ids.

    ``form_rows`` are ``form_to_dict`` dicts with ``findings`` (dicts) and the decision keys
    (``risk``, ``flagged``, ``reasons``, ``drivers``, ``crops``, ``model_version``). Forms of this
    document that are no longer produced are removed.
    """
    if status not in DOCUMENT_STATUSES:
        raise StoreError(f"unknown document status {status!r}")
    form_rows = list(form_rows)
    with store.engine.begin() as conn:
        _upsert(conn, documents, dict(sha256=sha256, source=source, status=status, run_id=run_id, pages=pages,
                                      code=code, reason=reason, error=error, seconds=seconds, processed_at=now()),
                ["sha256"])
        ids = [_save_form(conn, sha256, row, run_id) for row in form_rows]
        stale = select(forms.c.id).where(forms.c.document_sha256 == sha256, forms.c.id.not_in(ids or [-1]))
        stale_ids = [r[0] for r in conn.execute(stale)]
        if stale_ids:
            _delete_children(conn, stale_ids)
            conn.execute(delete(forms).where(forms.c.id.in_(stale_ids)))
        return ids


def _delete_children(conn: Connection, form_ids: list[int]) -> None:
    for t in (field_values, findings, decisions):
        conn.execute(delete(t).where(t.c.form_id.in_(form_ids)))
    conn.execute(update(staff_table).where(staff_table.c.form_id.in_(form_ids)).values(form_id=None))


def _save_form(conn: Connection, sha256: str, row: Mapping[str, Any], run_id: int | None) -> int:
    key = dict(document_sha256=sha256, page=int(row["page"]), slot=int(row["slot"]))
    _upsert(conn, forms, dict(**key, form_key=row.get("key") or f"{row['source']}#p{row['page']}s{row['slot']}",
                              source=row["source"], form_type=row["form"], tax_year=row.get("tax_year"),
                              layout_version=row.get("layout_version", ""), rotation=int(row.get("rotation") or 0),
                              bbox=row.get("bbox"), run_id=run_id),
            ["document_sha256", "page", "slot"])
    form_id = conn.execute(select(forms.c.id).where(*(forms.c[k] == v for k, v in key.items()))).scalar_one()
    _write_fields(conn, form_id, row.get("fields") or {})
    _write_assessment(conn, form_id, row)
    return form_id


def _write_fields(conn: Connection, form_id: int, fields: Mapping[str, Mapping[str, Any]]) -> None:
    conn.execute(delete(field_values).where(field_values.c.form_id == form_id))
    if fields:
        conn.execute(field_values.insert(), [
            dict(form_id=form_id, name=name, **{k: f.get(k) for k in FIELD_KEYS}) for name, f in fields.items()
        ])


def _write_assessment(conn: Connection, form_id: int, row: Mapping[str, Any]) -> None:
    conn.execute(delete(findings).where(findings.c.form_id == form_id))
    fnd = row.get("findings") or []
    if fnd:
        conn.execute(findings.insert(), [dict(form_id=form_id, **{k: f.get(k) for k in FINDING_KEYS}) for f in fnd])
    if row.get("risk") is not None:
        _upsert(conn, decisions, dict(form_id=form_id, risk=float(row["risk"]), flagged=bool(row.get("flagged")),
                                      reasons=list(row.get("reasons") or []), drivers=list(row.get("drivers") or []),
                                      crops=dict(row.get("crops") or {}), model_version=row.get("model_version")),
                ["form_id"])


def save_assessment(store: Store, form_id: int, row: Mapping[str, Any]) -> None:
    """Replace a form's findings and decision (after batch-level checks); fields stay."""
    with store.engine.begin() as conn:
        _write_assessment(conn, form_id, row)


def save_assessments(store: Store, items: Iterable[tuple[int, Mapping[str, Any]]]) -> int:
    """:func:`save_assessment` for many forms in one transaction (the batch's final scoring), and their
    fields where a row carries them (values the batch settled); returns the count."""
    items = list(items)
    if items:
        with store.engine.begin() as conn:
            for form_id, row in items:
                if "fields" in row:
                    _write_fields(conn, form_id, row["fields"])
                _write_assessment(conn, form_id, row)
    return len(items)


# ---------------------------------------------------------------- forms


def _form_rows(conn: Connection, where) -> list[dict]:
    q = (select(forms, decisions.c.risk, decisions.c.flagged, decisions.c.reasons, decisions.c.drivers,
                decisions.c.crops, decisions.c.model_version)
         .select_from(forms.outerjoin(decisions, decisions.c.form_id == forms.c.id))
         .order_by(forms.c.source, forms.c.page, forms.c.slot))
    if where is not None:
        q = q.where(where)
    rows: dict[int, dict] = {}
    for r in conn.execute(q):
        m = r._mapping
        rows[m["id"]] = {
            "id": m["id"], "key": m["form_key"], "document_sha256": m["document_sha256"], "run_id": m["run_id"],
            "source": m["source"], "page": m["page"], "slot": m["slot"], "form": m["form_type"],
            "tax_year": m["tax_year"], "layout_version": m["layout_version"] or "", "rotation": m["rotation"] or 0,
            "bbox": m["bbox"], "fields": {}, "findings": [],
            "risk": m["risk"], "flagged": bool(m["flagged"]) if m["flagged"] is not None else None,
            "reasons": m["reasons"] or [], "drivers": m["drivers"] or [], "crops": m["crops"] or {},
            "model_version": m["model_version"],
        }
    if not rows:
        return []
    for chunk in _parts(list(rows), 500):
        for r in conn.execute(select(field_values).where(field_values.c.form_id.in_(chunk)).order_by(field_values.c.id)):
            m = r._mapping
            rows[m["form_id"]]["fields"][m["name"]] = {
                k: m[k] for k in FIELD_KEYS if m[k] is not None or k not in OPTIONAL_KEYS}
        for r in conn.execute(select(findings).where(findings.c.form_id.in_(chunk)).order_by(findings.c.id)):
            m = r._mapping
            rows[m["form_id"]]["findings"].append({k: m[k] for k in FINDING_KEYS})
    return list(rows.values())


def forms_for_run(store: Store | str, run_id: int | None = None, *, shas: Iterable[str] | None = None,
                  run_ids: Iterable[int] | None = None) -> list[dict]:
    """Forms with fields, findings and decision: of one run, of some runs, of some documents, or all (None).

    Sorted by source, page, slot.
    """
    store = open_store(store)
    where = None
    if run_id is not None:
        where = forms.c.run_id == run_id
    elif run_ids is not None:
        where = forms.c.run_id.in_(list(run_ids))
    with store.engine.connect() as conn:
        if shas is None:
            return _form_rows(conn, where)
        rows = []
        for part in _parts(list(shas)):
            cond = forms.c.document_sha256.in_(part)
            rows += _form_rows(conn, cond if where is None else where & cond)
    return sorted(rows, key=lambda r: (r["source"], r["page"], r["slot"]))


def _parts(items: list, size: int = IN_CLAUSE_MAX) -> list[list]:
    """Split a long IN list (SQLite caps the number of bound parameters)."""
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def get_form(store: Store | str, form_key: str) -> dict | None:
    """The latest stored form with this key (``source#pNsM``), or None."""
    store = open_store(store)
    with store.engine.connect() as conn:
        fid = conn.execute(select(func.max(forms.c.id)).where(forms.c.form_key == form_key)).scalar()
        if fid is None:
            return None
        rows = _form_rows(conn, forms.c.id == fid)
        return rows[0] if rows else None


# ---------------------------------------------------------------- staff decisions


def add_staff_decisions(store: Store | str, items: Iterable[Mapping[str, Any]]) -> int:
    """Store reviewers' decisions; the same (form, column, reviewer) again replaces the earlier one.

    Each item: ``form_key``, ``column`` ("" for the whole form), ``decision`` (要修正/修正不要),
    optional ``corrected_value``, ``reviewer``, ``decided_at`` (datetime), ``minutes``.
    Raises StoreError for an unknown form or decision; nothing is written then.
    """
    store = open_store(store)
    items = list(items)
    with store.engine.begin() as conn:
        for it in items:
            if it.get("decision") not in STAFF_DECISIONS:
                raise StoreError(f"decision must be one of {STAFF_DECISIONS}, got {it.get('decision')!r}")
            fid = conn.execute(select(func.max(forms.c.id)).where(forms.c.form_key == it["form_key"])).scalar()
            if fid is None:
                raise StoreError(f"no form {it['form_key']!r} in the store")
            minutes = it.get("minutes")
            decided_at = it.get("decided_at") or now()
            if isinstance(decided_at, str):
                decided_at = datetime.fromisoformat(decided_at)
            _upsert(conn, staff_table, dict(
                form_key=it["form_key"], form_id=fid, column=it.get("column") or "", decision=it["decision"],
                corrected_value=it.get("corrected_value"), reviewer=it.get("reviewer") or "",
                decided_at=decided_at, minutes=float(minutes) if minutes not in (None, "") else None,
            ), ["form_key", "column", "reviewer"])
    return len(items)


def staff_decisions(store: Store | str) -> list[dict]:
    """All staff decisions, with the form's risk and flag at the time of asking."""
    store = open_store(store)
    q = (select(staff_table, decisions.c.risk, decisions.c.flagged)
         .select_from(staff_table.outerjoin(decisions, decisions.c.form_id == staff_table.c.form_id))
         .order_by(staff_table.c.id))
    with store.engine.connect() as conn:
        out = []
        for r in conn.execute(q):
            d = dict(r._mapping)
            d["flagged"] = bool(d["flagged"]) if d["flagged"] is not None else None
            out.append(d)
        return out


# ---------------------------------------------------------------- statistics


def run_stats(store: Store | str) -> dict:
    """Counts for the pilot report: runs, documents by status, forms, flags, staff decisions."""
    store = open_store(store)
    with store.engine.connect() as conn:
        run_rows = [dict(r._mapping) for r in conn.execute(select(runs).order_by(runs.c.id))]
        doc_status = Counter({s: n for s, n in conn.execute(select(documents.c.status, func.count()).group_by(documents.c.status))})
        n_forms = conn.execute(select(func.count()).select_from(forms)).scalar_one()
        n_flagged = conn.execute(select(func.count()).select_from(decisions).where(decisions.c.flagged.is_(True))).scalar_one()
        staff = Counter({d: n for d, n in conn.execute(select(staff_table.c.decision, func.count()).group_by(staff_table.c.decision))})
        minutes = conn.execute(select(func.sum(staff_table.c.minutes))).scalar()
    for r in run_rows:
        if r["started_at"] and r["finished_at"]:
            r["seconds"] = (r["finished_at"] - r["started_at"]).total_seconds()
    return {
        "runs": run_rows,
        "documents": {s: doc_status.get(s, 0) for s in DOCUMENT_STATUSES},
        "forms": n_forms,
        "flagged": n_flagged,
        "staff_decisions": {d: staff.get(d, 0) for d in STAFF_DECISIONS},
        "staff_minutes": float(minutes or 0.0),
    }
