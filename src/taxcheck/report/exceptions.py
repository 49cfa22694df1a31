"""The exception report: flagged forms only, worst first, for the clerks who check them.

Three renderings of the same rows: ``exceptions.csv`` (UTF-8 with BOM, for Excel in Japan),
``exceptions.xlsx`` (filters, frozen header, crops embedded, two reviewer columns that
``taxcheck review import`` reads back) and ``exceptions.html`` (self-contained: crops inlined).

The pipeline stores each form with its crops (``report/crops.py`` cuts them while the page is at hand); the
rows are rebuilt from the store (:func:`rows_from_store`, around :func:`build_exception_row`) and passed to
:func:`write_exception_reports`. Rows hold masked values only: a full 個人番号 never reaches them.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from PIL import Image as PILImage

from taxcheck.classify.decide import LOW_CONFIDENCE_REASON, MODEL_REASON, low_confidence_column, low_confidence_reason
from taxcheck.forms import box_name
from taxcheck.privacy import mask_my_number, safe_value, scrub
from taxcheck.records import Decision, Finding, Form, form_from_dict
from taxcheck.report.labels import SETTLED, driver_label, reason_label
from taxcheck.rules.mend import read_before_mend

REPORT_VERSION = "1"
SHEET_ROWS = "要確認"
SHEET_SUMMARY = "集計"
SHEET_INFO = "情報"
DECISION_NEEDS_FIX = "要修正"
DECISION_NO_FIX = "修正不要"
DECISIONS = (DECISION_NEEDS_FIX, DECISION_NO_FIX)
SEVERITY_JA = {"error": "エラー", "warning": "警告", "info": "参考"}
NAME_COLUMN = "recipient_name"
MY_NUMBER_COLUMN = "recipient_my_number"

# (key, header) of the rows of exceptions.csv / exceptions.xlsx, one row per finding.
# The last three are the keys `taxcheck review import` matches on (hidden in the XLSX).
COLUMNS: list[tuple[str, str]] = [
    ("rank", "順位"),
    ("risk", "リスク"),
    ("always_error", "必ず確認"),
    ("source", "ファイル"),
    ("page", "ページ"),
    ("slot", "位置"),
    ("tax_year", "年分"),
    ("name", "氏名"),
    ("my_number", "個人番号"),
    ("reason", "理由"),
    ("box", "欄"),
    ("read", "読取値"),
    ("expected", "期待値"),
    ("message", "内容"),
    ("severity", "重要度"),
    ("crop", "画像"),
    ("decision", "判断"),
    ("correction", "修正後の値"),
    ("minutes", "所要時間（分）"),
    ("reviewer", "担当者"),
    ("form_key", "form_key"),
    ("code", "finding_code"),
    ("column", "column"),
]
HEADERS = dict(COLUMNS)
KEY_COLUMNS = ("form_key", "code", "column")
REVIEWER_COLUMNS = ("decision", "correction", "minutes", "reviewer")

XLSX_CROP_MAX_PX = (320, 80)  # (width, height) of a crop embedded in a cell
MAX_COLUMN_WIDTH = 60


@dataclass(frozen=True)
class ExceptionItem:
    """One reason a form was flagged: a finding, a low-confidence box or the model's score."""

    code: str
    label: str  # Japanese reason with the box name
    column: str
    box: str
    read: str  # masked when personal
    expected: str
    message: str  # Japanese, scrubbed of 12-digit runs
    severity: str = "error"
    always_error: bool = False
    crop: str | None = None  # path of a PNG crop of the box


@dataclass
class ExceptionRow:
    """One flagged form as the exception report shows it (masked: safe to write anywhere)."""

    form_key: str
    source: str
    page: int
    slot: int
    form_type: str
    tax_year: int | None
    name: str
    my_number: str  # masked: "********1234"
    risk: float
    flagged: bool
    always_error: bool
    reasons: list[str]
    items: list[ExceptionItem] = field(default_factory=list)
    drivers: list[str] = field(default_factory=list)

    def sort_key(self) -> tuple:
        return (not self.always_error, -self.risk, self.source, self.page, self.slot)


def flagged_columns(findings: Iterable[Finding], decision: Decision) -> list[str]:
    """Columns worth a crop: those named by a finding or by a ``low_confidence:<column>`` reason."""
    cols = [f.column for f in findings if f.column]
    cols += [c for r in decision.reasons if (c := low_confidence_column(r)) is not None]
    return list(dict.fromkeys(cols))


def build_exception_row(
    form: Form,
    findings: Sequence[Finding],
    decision: Decision,
    crops: dict[str, str] | None = None,
) -> ExceptionRow:
    """An :class:`ExceptionRow` from what the pipeline holds for a form (crops: column → PNG path)."""
    crops = crops or {}
    items: list[ExceptionItem] = []
    for f in findings:
        items.append(
            ExceptionItem(
                code=f.code,
                label=reason_label(f.code, findings),
                column=f.column or "",
                box=f.box or (box_name(f.column) if f.column else ""),
                read=safe_value(f.column, f.read),
                expected=safe_value(f.column, f.expected),
                message=scrub(f.message),
                severity=f.severity,
                always_error=f.always_error,
                crop=crops.get(f.column),
            )
        )
    covered = {f.code for f in findings}
    for reason in decision.reasons:
        if reason in covered:
            continue
        if (column := low_confidence_column(reason)) is not None:
            fv = form.fields.get(column)
            conf = f"（確信度 {fv.confidence:.2f}）" if fv is not None else ""
            read, expected, mended = fv.value if fv else None, "", ""
            if fv is not None and (before := read_before_mend(column, fv)) is not None:  # rules/mend.py
                read, expected = before, fv.value
                mended = "読取値では報告書内の計算が合わないため、一桁だけ違う計算の合う値を期待値としました。"
            items.append(
                ExceptionItem(
                    code=LOW_CONFIDENCE_REASON, label=reason_label(reason), column=column, box=box_name(column),
                    read=safe_value(column, read), expected=safe_value(column, expected),
                    message=f"{box_name(column)} の読み取りが不確かです{conf}。{mended}原本の画像で確認してください。",
                    severity="warning", crop=crops.get(column),
                )
            )
        elif reason == MODEL_REASON:
            why = "、".join(scrub(driver_label(d)) for d in decision.drivers) or "記載の組合せ"
            items.append(
                ExceptionItem(
                    code=MODEL_REASON, label=reason_label(MODEL_REASON), column="", box="", read="", expected="",
                    message=f"誤りの可能性が高いとモデルが判定しました（主な要因: {why}）。",
                    severity="warning",
                )
            )
        else:
            items.append(
                ExceptionItem(code=reason, label=reason_label(reason, findings), column="", box="", read="",
                              expected="", message=reason_label(reason, findings), severity="warning")
            )
    for column, fv in form.fields.items():
        if fv.as_read is not None:  # normalize/payers.py replaced this form's reading: show what it read
            items.append(ExceptionItem(
                code=SETTLED, label=reason_label(SETTLED), column=column, box=box_name(column),
                read=safe_value(column, fv.as_read), expected=safe_value(column, fv.value),
                message=f"{box_name(column)} はこの報告書からは読取値のとおりに読みましたが、同じ支払者の他の報告書の"
                        "読み取りに合わせて期待値としました。原本の画像で確認してください。",
                severity="info", crop=crops.get(column)))
    if not items and decision.flagged:
        items.append(ExceptionItem(code=MODEL_REASON, label=reason_label(MODEL_REASON), column="", box="", read="",
                                   expected="", message="要確認と判定されました。", severity="warning"))
    return ExceptionRow(
        form_key=form.key,
        source=scrub(form.source),
        page=form.page,
        slot=form.slot,
        form_type=form.form,
        tax_year=form.tax_year,
        name=scrub(form.value(NAME_COLUMN) or ""),
        my_number=mask_my_number(form.value(MY_NUMBER_COLUMN)),
        risk=float(decision.risk),
        flagged=bool(decision.flagged),
        always_error=any(f.always_error for f in findings),
        reasons=list(dict.fromkeys([*decision.reasons, *(f.code for f in findings)])),
        items=items,
        drivers=[scrub(d) for d in decision.drivers],
    )


def row_from_stored(d: dict[str, Any], out_dir: str | Path | None = None) -> ExceptionRow:
    """An :class:`ExceptionRow` from a form dict of ``taxcheck.store.forms_for_run`` (crops stored
    relative to the run's out dir are resolved against ``out_dir``)."""
    form = form_from_dict(d)
    findings = [Finding(**{k: f.get(k) for k in Finding.__dataclass_fields__ if k in f}) for f in d.get("findings") or []]
    decision = Decision(risk=float(d.get("risk") or 0.0), flagged=bool(d.get("flagged")),
                        reasons=list(d.get("reasons") or []), drivers=list(d.get("drivers") or []))
    crops = {}
    for column, path in (d.get("crops") or {}).items():
        p = Path(path)
        crops[column] = str(p if p.is_absolute() or out_dir is None else Path(out_dir) / p)
    return build_exception_row(form, findings, decision, crops)


def rows_from_store(store_url, out_dir: str | Path | None = None, run_id: int | None = None, *,
                    shas: Iterable[str] | None = None) -> list[ExceptionRow]:
    """Rows of the flagged forms of one run (``run_id``), of some documents (``shas``) or of the whole store.

    ``store_url`` may be an open store (the batch's) or its URL."""
    from taxcheck.store import forms_for_run

    rows = forms_for_run(store_url, run_id, shas=list(shas) if shas is not None else None)
    return [row_from_stored(d, out_dir) for d in rows if d.get("flagged")]


# ----------------------------------------------------------------------------------- summary


def summary_by_reason(rows: Sequence[ExceptionRow]) -> list[dict[str, Any]]:
    """Counts per reason code (forms and findings), most frequent first, with Japanese labels."""
    forms: dict[str, set[str]] = {}
    count: dict[str, int] = {}
    label: dict[str, str] = {}
    for row in rows:
        for item in row.items:
            code = low_confidence_reason(item.column) if item.code == LOW_CONFIDENCE_REASON else item.code
            forms.setdefault(code, set()).add(row.form_key)
            count[code] = count.get(code, 0) + 1
            label.setdefault(code, item.label)
    out = [{"code": c, "label": label[c], "forms": len(forms[c]), "findings": count[c]} for c in forms]
    return sorted(out, key=lambda d: (-d["forms"], -d["findings"], d["code"]))


def _flagged_sorted(rows: Iterable[ExceptionRow]) -> list[ExceptionRow]:
    return sorted((r for r in rows if r.flagged), key=ExceptionRow.sort_key)


def _table(rows: Sequence[ExceptionRow], crop_base: Path | None = None) -> list[dict[str, Any]]:
    """One dict per finding line (keys of COLUMNS); ``crop`` relative to ``crop_base`` when given."""
    lines = []
    for rank, row in enumerate(rows, start=1):
        for item in row.items:
            crop = item.crop or ""
            if crop and crop_base is not None:
                try:
                    crop = os.path.relpath(crop, crop_base)
                except ValueError:
                    pass
            lines.append({
                "rank": rank,
                "risk": round(row.risk, 3),
                "always_error": "○" if item.always_error or row.always_error else "",
                "source": row.source,
                "page": row.page,
                "slot": row.slot,
                "tax_year": row.tax_year or "",
                "name": row.name,
                "my_number": row.my_number,
                "reason": item.label,
                "box": item.box,
                "read": item.read,
                "expected": item.expected,
                "message": item.message,
                "severity": SEVERITY_JA.get(item.severity, item.severity),
                "crop": crop.replace(os.sep, "/"),
                "decision": "",
                "correction": "",
                "minutes": "",
                "reviewer": "",
                "form_key": row.form_key,
                "code": item.code,
                "column": item.column,
                "_crop_path": item.crop,
            })
    return lines


# ----------------------------------------------------------------------------------- writers


REPORT_FILE_MODE = 0o600  # the reports show names and amounts (and embed the 0600 crops), like results.csv


def _atomic_path(path: Path) -> Path:
    """The temporary name a report is written to before ``os.replace``, created empty with mode 0600
    (writers that open it again keep that mode, so the renamed report has it whatever the umask)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, REPORT_FILE_MODE)
    os.close(fd)
    os.chmod(tmp, REPORT_FILE_MODE)
    return tmp


def _formula_like(value: object) -> bool:
    """True for text Excel would run as a formula (OCR can read ``=`` or ``+`` at the start of a box)."""
    return isinstance(value, str) and (value[:1] in ("=", "+", "@") or (value[:1] == "-" and not value[1:2].isdigit()))


def _write_csv(lines: list[dict[str, Any]], path: Path) -> None:
    tmp = _atomic_path(path)
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([h for _, h in COLUMNS])
        for line in lines:
            w.writerow(["'" + line[k] if _formula_like(line[k]) else line[k] for k, _ in COLUMNS])
    os.replace(tmp, path)


def _display_width(value: object) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(value))


def _xlsx_image(path: str):
    from openpyxl.drawing.image import Image as XLImage

    with PILImage.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail(XLSX_CROP_MAX_PX)
        buf = io.BytesIO()
        im.save(buf, format="PNG")
    buf.seek(0)
    img = XLImage(buf)
    img.width, img.height = im.size
    return img


def _write_xlsx(lines: list[dict[str, Any]], summary: list[dict[str, Any]], n_forms: int, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_ROWS
    keys = [k for k, _ in COLUMNS]
    letter = {k: get_column_letter(i) for i, k in enumerate(keys, start=1)}
    ws.append([h for _, h in COLUMNS])
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    review_fill = PatternFill("solid", fgColor="FFF2CC")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    widths = {k: _display_width(h) for k, h in COLUMNS}
    crop_width = 0
    for r, line in enumerate(lines, start=2):
        ws.append([line[k] if k != "crop" else "" for k in keys])
        for cell in ws[r]:
            if _formula_like(cell.value):
                cell.data_type = "s"  # shown as text, never evaluated
        for k in ("message", "reason"):
            ws[f"{letter[k]}{r}"].alignment = Alignment(wrap_text=True, vertical="top")
        for k in REVIEWER_COLUMNS:
            ws[f"{letter[k]}{r}"].fill = review_fill
        for k in keys:
            if k not in ("crop", "message"):
                widths[k] = max(widths[k], _display_width(line[k]))
        widths["message"] = max(widths["message"], min(_display_width(line["message"]), 50))
        if line["_crop_path"] and os.path.exists(line["_crop_path"]):
            img = _xlsx_image(line["_crop_path"])
            ws.add_image(img, f"{letter['crop']}{r}")
            ws.row_dimensions[r].height = max(18, img.height * 0.75 + 4)  # px → points
            crop_width = max(crop_width, img.width)
    for k in keys:
        ws.column_dimensions[letter[k]].width = min(MAX_COLUMN_WIDTH, widths[k] + 2)
    if crop_width:
        ws.column_dimensions[letter["crop"]].width = crop_width / 7 + 2  # ≈ 7 px per character unit
    for k in KEY_COLUMNS:
        ws.column_dimensions[letter[k]].hidden = True
    last = max(2, len(lines) + 1)
    ws.auto_filter.ref = f"A1:{letter[keys[-1]]}{last}"
    ws.freeze_panes = "A2"
    dv = DataValidation(
        type="list", formula1='"' + ",".join(DECISIONS) + '"', allow_blank=True, showErrorMessage=True,
        errorTitle="判断", error="「要修正」か「修正不要」を選んでください。",
        promptTitle="判断", prompt="要修正 / 修正不要", showInputMessage=True,
    )
    ws.add_data_validation(dv)
    dv.add(f"{letter['decision']}2:{letter['decision']}{last}")
    mv = DataValidation(type="decimal", operator="between", formula1="0", formula2="600", allow_blank=True,
                        showErrorMessage=True, error="分を数字で入力してください。")
    ws.add_data_validation(mv)
    mv.add(f"{letter['minutes']}2:{letter['minutes']}{last}")

    ss = wb.create_sheet(SHEET_SUMMARY)
    ss.append(["理由", "件数（帳票）", "件数（指摘）", "理由コード"])
    for cell in ss[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    for s in summary:
        ss.append([s["label"], s["forms"], s["findings"], s["code"]])
    ss.append([])
    ss.append(["要確認の帳票数", n_forms])
    for col, rows_ in zip("ABCD", zip(*ss.iter_rows(values_only=True))):
        ss.column_dimensions[col].width = min(MAX_COLUMN_WIDTH, max(_display_width(v or "") for v in rows_) + 2)
    ss.freeze_panes = "A2"

    info = wb.create_sheet(SHEET_INFO)
    info.append(["項目", "値"])
    info.append(["作成日時", datetime.now().astimezone().isoformat(timespec="seconds")])
    info.append(["様式の版", REPORT_VERSION])
    info.append(["担当者", ""])
    info.append(["記入方法", "「判断」に 要修正 / 修正不要 を選び、要修正なら「修正後の値」を記入。"
                 "所要時間（分）と担当者は任意。taxcheck review import で取り込みます。"])
    info.column_dimensions["A"].width = 14
    info.column_dimensions["B"].width = 80

    tmp = _atomic_path(path)
    wb.save(tmp)
    os.replace(tmp, path)


def _data_uri(path: str | None) -> str | None:
    if not path or not os.path.exists(path):
        return None
    with open(path, "rb") as fh:
        return "data:image/png;base64," + base64.b64encode(fh.read()).decode("ascii")


def _template_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("taxcheck.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def _write_html(rows: list[ExceptionRow], summary: list[dict[str, Any]], path: Path) -> None:
    forms = []
    for rank, row in enumerate(rows, start=1):
        forms.append({
            "rank": rank,
            "row": row,
            "items": [{"item": it, "img": _data_uri(it.crop)} for it in row.items],
        })
    html = _template_env().get_template("exceptions.html.j2").render(
        forms=forms,
        summary=summary,
        severity=SEVERITY_JA,
        generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"),
    )
    tmp = _atomic_path(path)
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)


AUDIT = "audit"
AUDIT_LABEL = "抜き取り確認（問題なしと判定された帳票）"


def audit_row(form: Form, decision: Decision) -> ExceptionRow:
    """A row for a cleared form drawn for the audit sample: one whole-form line to decide on."""
    row = build_exception_row(form, [], Decision(decision.risk, False, [], []))
    row.items = [ExceptionItem(code=AUDIT, label=AUDIT_LABEL, column="", box="", read="", expected="",
                               message="自動判定では問題なしとされた帳票です。全体を確認してください。", severity="info")]
    return row


def write_audit_workbook(rows: Iterable[ExceptionRow], out_dir: str | Path, name: str = "audit.xlsx") -> Path:
    """The audit sample of cleared forms as a workbook laid out like exceptions.xlsx, so that
    ``taxcheck review import`` reads it back the same way (the store knows these forms are not flagged)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ordered = sorted(rows, key=lambda r: (r.source, r.page, r.slot))
    path = out / name
    _write_xlsx(_table(ordered, crop_base=out), summary_by_reason(ordered), len(ordered), path)
    return path


def write_exception_reports(rows: Iterable[ExceptionRow], out_dir: str | Path) -> dict[str, Path]:
    """Write exceptions.csv, exceptions.xlsx and exceptions.html (flagged rows only, worst first).

    Returns ``{"csv": path, "xlsx": path, "html": path}``. Each file is written to a temporary
    name and renamed, so a reader never sees half a report.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    flagged = _flagged_sorted(rows)
    summary = summary_by_reason(flagged)
    paths = {"csv": out / "exceptions.csv", "xlsx": out / "exceptions.xlsx", "html": out / "exceptions.html"}
    _write_csv(_table(flagged, crop_base=out), paths["csv"])
    _write_xlsx(_table(flagged, crop_base=out), summary, len(flagged), paths["xlsx"])
    _write_html(flagged, summary, paths["html"])
    return paths
