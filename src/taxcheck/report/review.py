"""Staff decisions back from the exception report: ``taxcheck review import FILE.xlsx --db URL``.

A reviewer fills in 判断 (要修正 / 修正不要) and, where needed, 修正後の値 in exceptions.xlsx.
Each filled-in row is checked (decision word, a correction valid for its box's type — digits for
amounts, a real date in ISO or 和暦, a 個人番号/法人番号 with the right check digit — and a form
key the store knows) and stored as a label (who, when, the correction, minutes when given) for
the classifier and the pilot report. A bad row is rejected with a Japanese + English message that
names the row, and the import goes on. Decisions are keyed by (form, box, reviewer) in the store,
so importing the same sheet twice stores nothing twice.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from taxcheck import store as _store
from taxcheck.forms import box_name, salary_fields
from taxcheck.privacy import is_personal_number_column, mask_my_number, scrub
from taxcheck.report.exceptions import DECISION_NEEDS_FIX, DECISION_NO_FIX, DECISIONS, HEADERS, SHEET_INFO, SHEET_ROWS

MAX_MINUTES = 600.0  # a longer time for one box is a typing error


class ReviewFormatError(ValueError):
    """The workbook is not an exception report taxcheck wrote (sheet or key columns missing)."""


@dataclass(frozen=True)
class Rejection:
    """A row that was not stored, and why (masked: safe to print)."""

    row: int  # the Excel row number the reviewer sees
    form_key: str
    column: str
    reason_ja: str
    reason_en: str

    def describe(self) -> str:
        return f"行 {self.row} / row {self.row}: {self.reason_ja} / {self.reason_en}"


@dataclass
class StaffDecision:
    """One reviewer decision on one box of one form (``column`` "" = the form as a whole)."""

    form_key: str
    column: str
    decision: str  # 要修正 / 修正不要
    corrected_value: str | None
    reviewer: str
    decided_at: datetime
    minutes: float | None = None
    finding_code: str = ""  # the sheet row's reason code, for the record (not a key)

    def to_store(self) -> dict[str, Any]:
        """The columns of the store's staff_decisions table."""
        return {
            "form_key": self.form_key,
            "column": self.column,
            "decision": self.decision,
            "corrected_value": self.corrected_value,
            "reviewer": self.reviewer,
            "decided_at": self.decided_at,
            "minutes": self.minutes,
        }


@dataclass
class ReviewOutcome:
    """What an import did: decisions stored, already there, rows rejected, rows left blank."""

    file: str
    stored: list[StaffDecision] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    blank_rows: int = 0

    def describe(self) -> str:
        lines = [
            f"{self.file}: 取り込み {len(self.stored)} 件 / 既に登録済み {self.unchanged} 件 / "
            f"却下 {len(self.rejected)} 件 / 未記入 {self.blank_rows} 行",
            f"(stored {len(self.stored)}, unchanged {self.unchanged}, rejected {len(self.rejected)}, "
            f"blank {self.blank_rows})",
        ]
        lines += [r.describe() for r in self.rejected]
        return "\n".join(lines)


# ------------------------------------------------------------------------------ validation


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def validate_correction(column: str, raw: str) -> tuple[str | None, str, str]:
    """(normalised value, "", "") when ``raw`` is a valid value for ``column``'s box, else
    (None, Japanese reason, English reason). Reasons never hold a full 個人番号."""
    from taxcheck.normalize import normalize

    spec = salary_fields().get(column)
    if spec is None:
        return raw, "", ""  # a box outside the field list (e.g. a tax_return column): stored as typed
    box = box_name(column)
    shown = mask_my_number(raw) if is_personal_number_column(column, raw) else scrub(raw)
    kind = spec.type
    try:
        result = normalize(kind, raw)
    except Exception:
        result = None
    if kind in ("amount", "count"):
        digits_only = raw.replace(",", "").replace("円", "").replace("人", "").replace(" ", "")
        if result is None or not result.ok or not result.value or not digits_only.isdigit():
            return None, (f"{box} の修正後の値「{shown}」は数字ではありません"), (
                f"correction for {column} must be digits (got {shown!r})")
        return result.value, "", ""
    if kind == "date":
        if result is None or not result.ok or not result.value:
            return None, f"{box} の修正後の値「{shown}」は日付として読めません（例: 2019-04-01 / 平成31年4月1日）", (
                f"correction for {column} is not a date in ISO or Japanese-era form")
        return result.value, "", ""
    if kind == "my_number":
        digits = "".join(c for c in raw if c.isdigit())
        if len(digits) != 12 or result is None or not result.ok:
            return None, f"{box} の修正後の値（{mask_my_number(raw)}）は個人番号の検査用数字が合いません", (
                "corrected 個人番号 fails its check digit (or is not 12 digits)")
        return digits, "", ""
    if kind == "payer_number":
        digits = "".join(c for c in raw if c.isdigit())
        if len(digits) not in (12, 13) or result is None or not result.ok:
            return None, f"{box} の修正後の値（{shown}）は個人番号又は法人番号の検査用数字が合いません", (
                "corrected payer number fails its check digit (12-digit 個人番号 or 13-digit 法人番号)")
        return digits, "", ""
    if kind == "flag":
        if raw not in ("1", "0", "", "有", "無", "○", "✓", "レ"):
            return None, f"{box} の修正後の値「{shown}」は 1（有）か 0（無）で入力してください", (
                f"correction for flag {column} must be 1 or 0")
        return ("1" if raw in ("1", "有", "○", "✓", "レ") else ""), "", ""
    if result is None or not result.ok:
        return None, f"{box} の修正後の値「{shown}」は {kind} として正しくありません", (
            f"correction for {column} is not valid {kind}")
    return result.value, "", ""


def _minutes(value: Any) -> tuple[float | None, bool]:
    s = _text(value)
    if not s:
        return None, True
    try:
        m = float(s)
    except ValueError:
        return None, False
    return (m, True) if 0 <= m <= MAX_MINUTES else (None, False)


# ------------------------------------------------------------------------------ reading


def _header_index(ws) -> dict[str, int]:
    by_header = {_text(h): k for k, h in HEADERS.items()}  # both sides NFKC: （分） == (分)
    index: dict[str, int] = {}
    for i, cell in enumerate(next(ws.iter_rows(min_row=1, max_row=1, values_only=True)), start=0):
        key = by_header.get(_text(cell))
        if key:
            index[key] = i
    missing = [HEADERS[k] for k in ("decision", "correction", "form_key", "column") if k not in index]
    if missing:
        raise ReviewFormatError(f"見出しがありません / missing header(s): {', '.join(missing)}")
    return index


def _sheet_reviewer(wb) -> str:
    if SHEET_INFO not in wb.sheetnames:
        return ""
    for row in wb[SHEET_INFO].iter_rows(values_only=True):
        if row and _text(row[0]) == "担当者" and len(row) > 1:
            return _text(row[1])
    return ""


def import_review(xlsx_path: str | Path, store_url, reviewer: str | None = None) -> ReviewOutcome:
    """Validate a filled-in exceptions.xlsx and store its decisions; see the module docstring.

    The reviewer of a row is its 担当者 cell, else the 担当者 of the 情報 sheet, else ``reviewer``,
    else the workbook's last-modified-by property.
    """
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(xlsx_path)
    try:
        wb = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError) as exc:
        raise ReviewFormatError(f"Excel ファイル（.xlsx）として開けません / not an xlsx workbook: {path.name} "
                                f"({type(exc).__name__})") from None
    if SHEET_ROWS not in wb.sheetnames:
        raise ReviewFormatError(f"シート「{SHEET_ROWS}」がありません / sheet {SHEET_ROWS!r} not found in {path.name}")
    ws = wb[SHEET_ROWS]
    idx = _header_index(ws)
    default_reviewer = _sheet_reviewer(wb) or (reviewer or "") or _text(wb.properties.lastModifiedBy)
    store = _store.open_store(store_url, create=False)
    outcome = ReviewOutcome(file=path.name)
    known: dict[str, bool] = {}
    existing = {
        (d["form_key"], d["column"] or "", d["reviewer"] or ""): (d["decision"], d.get("corrected_value"), d.get("minutes"))
        for d in _store.staff_decisions(store)
    }
    chosen: dict[tuple[str, str, str], tuple[int, StaffDecision]] = {}
    decided_at = datetime.now(timezone.utc)

    def cell(row: tuple, key: str) -> Any:
        i = idx.get(key)
        return row[i] if i is not None and i < len(row) else None

    for r, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        decision = _text(cell(row, "decision"))
        correction = _text(cell(row, "correction"))
        form_key = _text(cell(row, "form_key"))
        column = _text(cell(row, "column"))
        if not decision and not correction:
            outcome.blank_rows += 1 if form_key else 0
            continue

        def reject(ja: str, en: str) -> None:
            outcome.rejected.append(Rejection(r, scrub(form_key), column, ja, en))

        if decision not in DECISIONS:
            reject(f"判断「{scrub(decision) or '（空欄）'}」は使えません。「要修正」か「修正不要」を選んでください",
                   "decision must be 要修正 or 修正不要")
            continue
        if not form_key:
            reject("form_key が空欄です（行を追加・編集しないでください）", "form key is empty")
            continue
        if form_key not in known:
            known[form_key] = _store.get_form(store, form_key) is not None
        if not known[form_key]:
            reject(f"帳票 {scrub(form_key)} はデータベースにありません", "form key not found in the store")
            continue
        value: str | None = None
        if decision == DECISION_NO_FIX and correction:
            reject("「修正不要」なのに修正後の値が記入されています", "修正不要 (no fix) given with a corrected value")
            continue
        if decision == DECISION_NEEDS_FIX and correction:
            if not column:
                reject("欄が特定されていない行には修正後の値を記入できません", "a correction needs a box (column is empty)")
                continue
            value, ja, en = validate_correction(column, correction)
            if value is None:
                reject(ja, en)
                continue
        minutes, ok = _minutes(cell(row, "minutes"))
        if not ok:
            reject(f"所要時間（分）「{scrub(_text(cell(row, 'minutes')))}」は 0〜{MAX_MINUTES:.0f} の数字で入力してください",
                   "minutes must be a number between 0 and 600")
            continue
        who = _text(cell(row, "reviewer")) or default_reviewer
        d = StaffDecision(form_key, column, decision, value, who, decided_at, minutes, _text(cell(row, "code")))
        k = (form_key, column, who)
        if k in chosen:
            prev_row, prev = chosen[k]
            if (prev.decision, prev.corrected_value) != (d.decision, d.corrected_value):
                reject(f"同じ帳票・同じ欄の判断が行 {prev_row} と食い違っています",
                       f"conflicts with row {prev_row} on the same form and box")
                continue
            if d.minutes is not None:
                prev.minutes = (prev.minutes or 0) + d.minutes
            continue
        chosen[k] = (r, d)

    new = []
    for k, (_, d) in chosen.items():
        if existing.get(k) == (d.decision, d.corrected_value, d.minutes):
            outcome.unchanged += 1
        else:
            new.append(d)
    if new:
        _store.add_staff_decisions(store, [d.to_store() for d in new])
    outcome.stored = new
    if store is not store_url and hasattr(store, "close"):
        store.close()
    return outcome
