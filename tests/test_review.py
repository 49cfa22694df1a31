"""Importing a reviewed exceptions.xlsx back into the store: validation, rejections, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from reportfactory import MY_NUMBER_A, MY_NUMBER_B, income_finding, make_form, my_number_finding, page_image, store_row
from typer.testing import CliRunner

from taxcheck.records import Decision
from taxcheck.report.exceptions import SHEET_INFO, SHEET_ROWS, rows_from_store, write_exception_reports
from taxcheck.report.crops import crop_boxes
from taxcheck.report.review import ReviewFormatError, import_review, validate_correction
from taxcheck.store import begin_run, open_store, save_document, staff_decisions

BAD_MY_NUMBER = "621498320258"  # MY_NUMBER_A with a wrong check digit


@pytest.fixture
def report(tmp_path):
    return _make_report(f"sqlite:///{tmp_path / 'taxcheck.db'}", tmp_path)


def _make_report(url: str, tmp_path: Path):
    """A store with three flagged forms (and one cleared) and the exceptions.xlsx written from it."""
    store = open_store(url)
    run = begin_run(store, out_dir=str(tmp_path))
    a = make_form(1, "山田 太郎", MY_NUMBER_A)
    b = make_form(2, "佐藤 花子", MY_NUMBER_B)
    c = make_form(3, "鈴木 一郎", "111111111118")
    d = make_form(4, "田中 次郎", MY_NUMBER_B)
    crops = {k: str(Path(v).relative_to(tmp_path))
             for k, v in crop_boxes(page_image(), a, ["employment_income"], tmp_path / "crops").items()}
    save_document(store, sha256="a" * 64, source=a.source, status="done", run_id=run, form_rows=[
        store_row(a, [income_finding()], Decision(0.9, True, ["income_arithmetic"]), crops),
        store_row(b, [my_number_finding(MY_NUMBER_B)], Decision(0.8, True, ["my_number_check_digit"])),
        store_row(c, [], Decision(0.7, True, ["model", "low_confidence:birth_date"])),
        store_row(d, [], Decision(0.1, False, [])),
    ])
    paths = write_exception_reports(rows_from_store(url, tmp_path, run), tmp_path)
    return url, paths["xlsx"], (a, b, c)


def _fill(xlsx: Path, out: Path, edits: dict[tuple[str, str], dict[str, object]]) -> Path:
    """Fill in the reviewer columns of the rows keyed (form_key, column); a "form_key" entry overwrites the key."""
    wb = load_workbook(xlsx)
    ws = wb[SHEET_ROWS]
    headers = {c.value: c.column for c in ws[1]}
    for r in range(2, ws.max_row + 1):
        key = (ws.cell(r, headers["form_key"]).value, ws.cell(r, headers["column"]).value or "")
        for header, value in edits.get(key, {}).items():
            ws.cell(r, headers[header]).value = value
    wb.save(out)
    return out


def test_good_sheet_is_stored_once(report, tmp_path):
    url, xlsx, (a, b, c) = report
    filled = _fill(xlsx, tmp_path / "reviewed.xlsx", {
        (a.key, "employment_income"): {"判断": "要修正", "修正後の値": "3,010,000円", "所要時間（分）": 4.5},
        (b.key, "recipient_my_number"): {"判断": "要修正", "修正後の値": "6214 9832 0257"},
        (c.key, "birth_date"): {"判断": "要修正", "修正後の値": "昭和55年4月12日", "担当者": "suzuki"},
    })
    outcome = import_review(filled, url, reviewer="tanaka")
    assert outcome.rejected == [] and len(outcome.stored) == 3
    got = {(d["form_key"], d["column"]): d for d in staff_decisions(url)}
    assert got[(a.key, "employment_income")]["corrected_value"] == "3010000"
    assert got[(a.key, "employment_income")]["minutes"] == pytest.approx(4.5)
    assert got[(a.key, "employment_income")]["reviewer"] == "tanaka"  # from --reviewer
    assert got[(b.key, "recipient_my_number")]["corrected_value"] == MY_NUMBER_A  # the store holds full values
    assert got[(c.key, "birth_date")] | {} and got[(c.key, "birth_date")]["corrected_value"] == "1980-04-12"
    assert got[(c.key, "birth_date")]["reviewer"] == "suzuki"  # the row's 担当者 wins
    assert MY_NUMBER_A not in outcome.describe()

    again = import_review(filled, url, reviewer="tanaka")
    assert again.stored == [] and again.unchanged == 3 and again.rejected == []
    assert len(staff_decisions(url)) == 3

    # the reviewer changes one decision: replaced, not added
    changed = _fill(filled, tmp_path / "reviewed2.xlsx",
                    {(a.key, "employment_income"): {"判断": "修正不要", "修正後の値": None}})
    third = import_review(changed, url, reviewer="tanaka")
    assert len(third.stored) == 1 and third.unchanged == 2
    rows = staff_decisions(url)
    assert len(rows) == 3
    assert {d["decision"] for d in rows if d["form_key"] == a.key} == {"修正不要"}


def test_bad_rows_are_rejected_and_good_rows_kept(report, tmp_path):
    url, xlsx, (a, b, c) = report
    wb = load_workbook(xlsx)
    wb[SHEET_INFO]["B4"] = "yamada"  # the 担当者 of the sheet
    wb.save(tmp_path / "named.xlsx")
    filled = _fill(tmp_path / "named.xlsx", tmp_path / "bad.xlsx", {
        (a.key, "employment_income"): {"判断": "たぶん"},
        (b.key, "recipient_my_number"): {"判断": "要修正", "修正後の値": BAD_MY_NUMBER},
        (c.key, "birth_date"): {"判断": "要修正", "修正後の値": "平成31年2月30日"},
        (c.key, ""): {"判断": "修正不要", "form_key": "nowhere.pdf#p9s9"},
    })
    # one good row: the model row of form c
    wb = load_workbook(filled)
    ws = wb[SHEET_ROWS]
    headers = {cell.value: cell.column for cell in ws[1]}
    ws.cell(ws.max_row + 1, headers["判断"]).value = "修正不要"
    ws.cell(ws.max_row, headers["form_key"]).value = c.key
    ws.cell(ws.max_row, headers["column"]).value = ""
    wb.save(filled)

    outcome = import_review(filled, url)
    assert [d.form_key for d in outcome.stored] == [c.key]
    assert outcome.stored[0].reviewer == "yamada"
    reasons = {r.row: r for r in outcome.rejected}
    assert len(reasons) == 4
    text = outcome.describe()
    assert "「要修正」か「修正不要」" in text and "decision must be" in text
    assert "検査用数字" in text and "check digit" in text
    assert "日付として読めません" in text
    assert "データベースにありません" in text and "not found in the store" in text
    assert BAD_MY_NUMBER not in text and "********0258" in text
    assert all(f"行 {r.row}" in r.describe() for r in outcome.rejected)
    assert [d["form_key"] for d in staff_decisions(url)] == [c.key]


def test_cli_review_import_exit_code(report, tmp_path):
    from taxcheck.cli import app

    url, xlsx, (a, b, c) = report
    good = _fill(xlsx, tmp_path / "g.xlsx", {(a.key, "employment_income"): {"判断": "修正不要"}})
    res = CliRunner().invoke(app, ["review", "import", str(good), "--db", url, "--reviewer", "r"])
    assert res.exit_code == 0, res.output
    assert "取り込み 1 件" in res.output
    bad = _fill(xlsx, tmp_path / "b.xlsx", {(a.key, "employment_income"): {"判断": "?"}})
    res = CliRunner().invoke(app, ["review", "import", str(bad), "--db", url])
    assert res.exit_code == 1 and "却下 1 件" in res.output


@pytest.mark.parametrize("column,raw,ok,value", [
    ("payment_amount", "1,234,000", True, "1234000"),
    ("payment_amount", "12a00", False, None),
    ("dependents_other", "２", True, "2"),
    ("birth_date", "1980-04-12", True, "1980-04-12"),
    ("birth_date", "令和元年5月1日", True, "2019-05-01"),
    ("birth_date", "2019-13-01", False, None),
    ("recipient_my_number", MY_NUMBER_A, True, MY_NUMBER_A),
    ("recipient_my_number", BAD_MY_NUMBER, False, None),
    ("payer_number", "7000012050002", True, "7000012050002"),
    ("payer_number", "7000012050003", False, None),
    ("recipient_name", "山田　太郎", True, "山田 太郎"),  # CONTRACT: white space folded to one ASCII space
])
def test_correction_validation(column, raw, ok, value):
    got, ja, en = validate_correction(column, raw)
    assert (got is not None) == ok and got == value
    assert (ja != "" and en != "") == (not ok)
    assert BAD_MY_NUMBER not in ja + en


def test_not_an_exception_report(tmp_path):
    from openpyxl import Workbook

    Workbook().save(tmp_path / "other.xlsx")
    with pytest.raises(ReviewFormatError):
        import_review(tmp_path / "other.xlsx", f"sqlite:///{tmp_path / 'x.db'}")


def test_cli_refuses_a_file_that_is_no_workbook_in_one_line(tmp_path):
    """A CSV saved under .xlsx (or any non-zip file): one clear line and exit 2, no traceback."""
    from taxcheck.cli import app

    fake = tmp_path / "exceptions.xlsx"
    fake.write_text("氏名,判断\n山田 太郎,修正不要\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["review", "import", str(fake), "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "xlsx" in res.output and len(res.output.strip().splitlines()) == 1


@pytest.mark.postgres
def test_review_import_on_postgres(pg_url, tmp_path):
    url, xlsx, (a, b, c) = _make_report(pg_url, tmp_path)
    filled = _fill(xlsx, tmp_path / "pg.xlsx", {
        (a.key, "employment_income"): {"判断": "要修正", "修正後の値": "3010000", "所要時間（分）": 2},
        (c.key, ""): {"判断": "修正不要"},
    })
    assert len(import_review(filled, url, reviewer="pg").stored) == 2
    again = import_review(filled, url, reviewer="pg")
    assert again.stored == [] and again.unchanged == 2 and len(staff_decisions(url)) == 2
