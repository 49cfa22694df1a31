"""The results store: idempotent writes, round trips and staff decisions, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import stat
from datetime import datetime, timezone

import pytest
from formfactory import consistent_fields, make_form

from taxcheck.records import Finding, form_from_dict, form_to_dict
from taxcheck.store import (
    StoreError,
    add_staff_decisions,
    begin_run,
    document_statuses,
    finish_run,
    forms_for_run,
    get_form,
    open_store,
    run_stats,
    save_document,
    staff_decisions,
)


def _row(form, risk: float, flagged: bool, findings=()):
    d = form_to_dict(form)
    d.update(findings=[f.to_dict() for f in findings], risk=risk, flagged=flagged,
             reasons=[f.code for f in findings] + (["model"] if flagged else []), drivers=[], crops={})
    return d


def _document(seed: int, n_forms: int = 2, source: str = "a/doc.pdf"):
    rng = random.Random(seed)
    forms = [make_form(consistent_fields(rng), key=i + 1, source=source) for i in range(n_forms)]
    bad = Finding("employment_income_mismatch", "employment_income", "給与所得控除後の金額", "1", "2", "不一致", residual=0.5)
    return [_row(forms[0], 0.9, True, [bad])] + [_row(f, 0.1, False) for f in forms[1:]]


def _exercise(url: str) -> None:
    store = open_store(url)
    run1 = begin_run(store, label="2026-11-26", input_dir="in", out_dir="out")
    rows = _document(1)
    save_document(store, sha256="a" * 64, source="a/doc.pdf", status="done", run_id=run1, form_rows=rows, pages=1)
    save_document(store, sha256="b" * 64, source="junk.txt", status="quarantined", run_id=run1,
                  code="unsupported", reason="対応していない形式です")
    # the same document again (a rerun): replaced, not duplicated; a changed value wins
    rows[1]["fields"]["payment_amount"]["value"] = "1234567"
    run2 = begin_run(store, label="2026-11-26")
    save_document(store, sha256="a" * 64, source="a/doc.pdf", status="done", run_id=run2, form_rows=rows, pages=1)
    finish_run(store, run2, {"forms": 2})

    stored = forms_for_run(store)
    assert [(r["page"], r["slot"]) for r in stored] == [(1, 1), (1, 2)]
    assert stored[1]["fields"]["payment_amount"]["value"] == "1234567"
    assert forms_for_run(store, run1) == [] and len(forms_for_run(store, run2)) == 2
    assert document_statuses(store) == {"a" * 64: "done", "b" * 64: "quarantined"}

    # a row read back is a Form again, with its findings and decision
    first = get_form(store, rows[0]["key"])
    assert first is not None and first["flagged"] is True and first["risk"] == pytest.approx(0.9)
    assert [f["code"] for f in first["findings"]] == ["employment_income_mismatch"]
    assert first["findings"][0]["residual"] == pytest.approx(0.5)
    again = form_from_dict(first)
    assert again.key == rows[0]["key"]
    assert again.value("recipient_my_number") == rows[0]["fields"]["recipient_my_number"]["value"]  # full value kept
    assert get_form(store, "nope#p1s1") is None

    # staff decisions: re-importing the same sheet replaces, a second reviewer adds
    when = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
    item = dict(form_key=rows[0]["key"], column="employment_income", decision="要修正", corrected_value="2",
                reviewer="r1", decided_at=when, minutes=3.5)
    add_staff_decisions(store, [item])
    add_staff_decisions(store, [dict(item, minutes=4.0)])
    add_staff_decisions(store, [dict(item, reviewer="r2", decision="修正不要", minutes=1.0)])
    got = staff_decisions(store)
    assert sorted((d["reviewer"], d["decision"], d["minutes"]) for d in got) == [("r1", "要修正", 4.0), ("r2", "修正不要", 1.0)]
    assert all(d["flagged"] is True for d in got)
    with pytest.raises(StoreError):
        add_staff_decisions(store, [dict(item, decision="たぶん")])
    with pytest.raises(StoreError):
        add_staff_decisions(store, [dict(item, form_key="missing.pdf#p1s1")])

    # a document whose re-read yields fewer forms loses the stale one; staff decisions survive unlinked
    save_document(store, sha256="a" * 64, source="a/doc.pdf", status="done", run_id=run2, form_rows=rows[1:], pages=1)
    assert [r["slot"] for r in forms_for_run(store)] == [2]
    assert len(staff_decisions(store)) == 2

    stats = run_stats(store)
    assert stats["documents"] == {"done": 1, "quarantined": 1, "failed": 0}
    assert stats["forms"] == 1 and stats["flagged"] == 0
    assert stats["staff_decisions"] == {"要修正": 1, "修正不要": 1} and stats["staff_minutes"] == pytest.approx(5.0)
    assert [r["status"] for r in stats["runs"]] == ["running", "finished"]
    store.close()


def test_sqlite_store_is_idempotent_and_private(tmp_path):
    path = tmp_path / "out" / "taxcheck.db"
    _exercise(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.postgres
def test_postgres_store_round_trip(pg_url):
    _exercise(pg_url)


def test_unknown_status_is_refused(tmp_path):
    store = open_store(tmp_path / "s.db")
    with pytest.raises(StoreError):
        save_document(store, sha256="c" * 64, source="x", status="maybe", run_id=None)


def test_store_errors_do_not_quote_statement_parameters(tmp_path):
    """A failed statement's error (shown in tracebacks and flow logs) must not carry the values it wrote."""
    from sqlalchemy import text

    store = open_store(tmp_path / "s.db")
    try:
        with pytest.raises(Exception) as info, store.engine.begin() as conn:
            conn.execute(text("insert into no_such_table values (:v)"), {"v": "621498320257"})
        assert "no_such_table" in str(info.value) and "621498320257" not in str(info.value)
    finally:
        store.close()


def test_reading_commands_refuse_a_missing_sqlite_store(tmp_path):
    """`taxcheck report` / `review import` with a mistyped --db: a clear error, no empty store left behind."""
    from taxcheck.report.pilot import write_pilot_report

    missing = tmp_path / "typo" / "taxcheck.db"
    with pytest.raises(StoreError, match="no store at"):
        open_store(missing, create=False)
    with pytest.raises(StoreError, match="no store at"):
        write_pilot_report(str(missing), tmp_path / "report")
    assert not missing.exists()
