"""The exception report (csv/xlsx/html, crops, masking) and the pilot evaluation report."""

from __future__ import annotations

import csv
import dataclasses
import stat
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from PIL import Image, ImageDraw, ImageFont
from reportfactory import (
    BOXES,
    FONT,
    MY_NUMBER_A,
    MY_NUMBER_B,
    PAYER_PERSONAL,
    exception_row,
    income_finding,
    make_form,
    my_number_finding,
    page_image,
    store_row,
)

from taxcheck.privacy import mask_long_digit_runs, mask_my_number, scrub
from taxcheck.records import BBox, Decision, FieldValue
from taxcheck.report.crops import MARGIN_FRACTION, MARGIN_PX, PERSONAL_PAD_PX, crop_boxes
from taxcheck.report.exceptions import (
    COLUMNS,
    SHEET_ROWS,
    SHEET_SUMMARY,
    rows_from_store,
    write_exception_reports,
)
from taxcheck.report.pilot import (
    PilotConfig,
    load_pilot_config,
    pilot_summary,
    summary_markdown,
    time_saved,
    wilson_interval,
    write_pilot_report,
)

FULL_NUMBERS = (MY_NUMBER_A, MY_NUMBER_B, PAYER_PERSONAL, "6214 9832 0257")


def _rows(tmp_path: Path):
    """Three forms: A (always-error, low risk), B (model + low confidence, high risk), C (cleared)."""
    image = page_image()
    a = make_form(1, "山田 太郎", MY_NUMBER_A, payer=PAYER_PERSONAL)
    b = make_form(2, "佐藤 花子", MY_NUMBER_B)
    c = make_form(3, "鈴木 一郎", "111111111118")
    fa = [income_finding(), my_number_finding(MY_NUMBER_A)]
    da = Decision(0.35, True, ["income_arithmetic", "my_number_check_digit"])
    db = Decision(0.92, True, ["model", "low_confidence:payment_amount"], drivers=["支払金額の残差"])
    dc = Decision(0.03, False, [])
    crops = tmp_path / "out" / "crops"
    return [
        exception_row(a, fa, da, image=image, crops_dir=crops),
        exception_row(b, [], db, image=image, crops_dir=crops),
        exception_row(c, [], dc, image=image, crops_dir=crops),
    ]


def _no_full_numbers(text: str) -> None:
    for n in FULL_NUMBERS:
        assert n not in text


def test_masking_helpers():
    assert mask_my_number(MY_NUMBER_A) == "********0257"
    assert mask_my_number("6214-9832-0257") == "********0257"
    assert scrub(f"番号 {MY_NUMBER_A} と ６２１４９８３２０２５７") == "番号 ********0257 と ********0257"
    assert scrub("法人番号 7000012050002 金額 4500000") == "法人番号 7000012050002 金額 4500000"
    # a page-pass reading whose box caught a 個人番号 row: masked whole, run-on digits and spaced ones alike
    caught = mask_long_digit_runs(f"{MY_NUMBER_A}{MY_NUMBER_A}|東京都中央区日本橋1-5-1 6214 9832 0257")
    assert "0257" not in caught and "|東京都中央区日本橋" in caught  # the block number run on into it goes too
    assert mask_long_digit_runs("西新宿1-12-16 ビル7階") == "西新宿1-12-16 ビル7階"


def test_crops_are_0600_with_margin_and_never_of_my_number(tmp_path):
    form = make_form(1, "山田 太郎", MY_NUMBER_A, payer=PAYER_PERSONAL)
    crops = crop_boxes(page_image(), form, ["payment_amount", "recipient_my_number", "payer_number", "remarks"],
                       tmp_path)
    assert set(crops) == {"payment_amount"}  # 個人番号 (and a 12-digit 支払者番号) not cropped; no box → none
    path = Path(crops["payment_amount"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MY_NUMBER_A not in path.name
    img = np.asarray(Image.open(path).convert("L"))
    box = BOXES["payment_amount"][0]
    assert img.shape[1] > box.width and img.shape[0] > box.height  # margin around the box
    assert (img < 100).sum() > 50  # the printed amount is in it


def test_crop_of_a_box_next_to_the_my_number_box_does_not_show_its_digits(tmp_path):
    """The margin of a neighbour's crop reaches into the 個人番号 box: those pixels come out white."""
    mine = BOXES["recipient_my_number"][0]
    below = BBox(mine.x0, mine.y1 + 2, mine.x1, mine.y1 + 32)  # like the フリガナ line right under it
    form = make_form(1, "山田 太郎", MY_NUMBER_A)
    form.fields["recipient_kana"] = FieldValue("recipient_kana", "ヤマダ タロウ", "ヤマダ タロウ", 0.95, below)
    image = Image.fromarray(page_image())
    ImageDraw.Draw(image).text((below.x0 + 6, below.y0 + 4), "ヤマダ タロウ", fill="black",
                               font=ImageFont.truetype(FONT, 20))
    path = Path(crop_boxes(np.asarray(image), form, ["recipient_kana"], tmp_path)["recipient_kana"])
    img = np.asarray(Image.open(path).convert("L"))
    top = int(below.y0 - (MARGIN_PX + MARGIN_FRACTION * below.height))  # the crop's first page row
    assert top < mine.y1 - 10  # the margin does reach into the 個人番号 box ...
    rows_in_mine = img[: int(mine.y1) + PERSONAL_PAD_PX - top]
    assert (rows_in_mine < 200).sum() == 0  # ... and shows none of its ink there
    assert (img[int(below.y0) - top:] < 100).sum() > 50  # the フリガナ itself is in the crop


def test_exception_reports_csv_xlsx_html(tmp_path):
    rows = _rows(tmp_path)
    out = tmp_path / "out"
    paths = write_exception_reports(rows, out)
    assert set(paths) == {"csv", "xlsx", "html"}
    for path in paths.values():  # names, amounts and crops: private like results.csv
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # CSV: BOM, Japanese header, flagged forms only, always-error form first although its risk is lower
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    _no_full_numbers(text)
    lines = list(csv.DictReader(text.splitlines()))
    assert [ln["氏名"] for ln in lines] == ["山田 太郎", "山田 太郎", "佐藤 花子", "佐藤 花子"]
    assert {ln["個人番号"] for ln in lines} == {"********0257", "********9018"}
    first = lines[0]
    assert first["欄"] == "給与所得控除後の金額（調整控除後）" and first["読取値"] == "3060000" and first["期待値"] == "3010000"
    assert first["必ず確認"] == "○" and first["finding_code"] == "income_arithmetic"
    assert first["画像"].startswith("crops/") and (out / first["画像"]).is_file()
    my = lines[1]
    assert my["読取値"] == "********0257" and my["画像"] == ""
    assert "鈴木" not in text  # the cleared form is not in the report

    # XLSX
    wb = load_workbook(paths["xlsx"])
    ws = wb[SHEET_ROWS]
    headers = [c.value for c in ws[1]]
    assert headers == [h for _, h in COLUMNS]
    assert ws.auto_filter.ref.startswith("A1:") and ws.auto_filter.ref.endswith(str(len(lines) + 1))
    assert ws.freeze_panes == "A2"
    dvs = ws.data_validations.dataValidation
    decision_col = ws.cell(row=1, column=headers.index("判断") + 1).column_letter
    dv = next(d for d in dvs if d.type == "list")
    assert "要修正" in dv.formula1 and "修正不要" in dv.formula1 and str(dv.sqref).startswith(f"{decision_col}2")
    for key in ("form_key", "finding_code", "column"):
        letter = ws.cell(row=1, column=headers.index(key) + 1).column_letter
        assert ws.column_dimensions[letter].hidden
    name_letter = ws.cell(row=1, column=headers.index("内容") + 1).column_letter
    assert ws.column_dimensions[name_letter].width > 20  # fitted to the messages
    n_crops = sum(1 for r in rows if r.flagged for it in r.items if it.crop)
    assert n_crops == 2 and len(ws._images) == n_crops  # income box of A, payment box of B
    assert ws.cell(row=2, column=headers.index("form_key") + 1).value == rows[0].form_key
    summary = {r[3]: r[1] for r in wb[SHEET_SUMMARY].iter_rows(min_row=2, values_only=True) if r and r[3]}
    assert summary == {"income_arithmetic": 1, "my_number_check_digit": 1, "model": 1,
                       "low_confidence:payment_amount": 1}
    with zipfile.ZipFile(paths["xlsx"]) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                _no_full_numbers(z.read(name).decode("utf-8"))

    # HTML
    html = paths["html"].read_text(encoding="utf-8")
    _no_full_numbers(html)

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.imgs, self.sections, self.summary_rows, self._in_summary = [], [], 0, False

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "img":
                self.imgs.append(a["src"])
            if tag == "section":
                self.sections.append(a["data-form-key"])
            if tag == "table" and a.get("id") == "summary":
                self._in_summary = True
            if tag == "tr" and self._in_summary:
                self.summary_rows += 1

        def handle_endtag(self, tag):
            if tag == "table":
                self._in_summary = False

    p = P()
    p.feed(html)
    assert p.sections == [rows[0].form_key, rows[1].form_key]
    assert len(p.imgs) == 2 and all(s.startswith("data:image/png;base64,") for s in p.imgs)
    assert p.summary_rows == 1 + 4
    assert "********0257" in html and "********9018" in html and "給与所得控除後の金額の計算誤り" in html
    assert "読み取りの確信度が低い（支払金額）" in html


def test_rows_from_store_roundtrip(tmp_path):
    from taxcheck.store import begin_run, open_store, save_document

    url = f"sqlite:///{tmp_path / 't.db'}"
    store = open_store(url)
    run = begin_run(store, out_dir=str(tmp_path))
    a = make_form(1, "山田 太郎", MY_NUMBER_A)
    crops = crop_boxes(page_image(), a, ["employment_income"], tmp_path / "crops")
    rel = {k: str(Path(v).relative_to(tmp_path)) for k, v in crops.items()}
    b = make_form(2, "佐藤 花子", MY_NUMBER_B)
    save_document(store, sha256="a" * 64, source=a.source, status="done", run_id=run, form_rows=[
        store_row(a, [income_finding()], Decision(0.8, True, ["income_arithmetic"]), rel),
        store_row(b, [], Decision(0.1, False, [])),
    ])
    rows = rows_from_store(url, tmp_path, run)
    assert [r.form_key for r in rows] == [a.key]
    assert rows[0].my_number == "********0257" and rows[0].items[0].crop == crops["employment_income"]
    assert rows[0].items[0].label == "給与所得控除後の金額の計算誤り"


def test_an_amount_the_forms_sums_mended_shows_what_was_read_and_what_was_taken():
    # rules/mend.py took 5,439,865 for a 支払金額 read 439,865 unsure: the clerk sees both, and the mark stays
    form = make_form(1, "山田 太郎", MY_NUMBER_A)
    form.fields["payment_amount"] = dataclasses.replace(form.fields["payment_amount"], raw="439,865",
                                                        value="5439865", confidence=0.3)
    form.fields["social_insurance"] = FieldValue("social_insurance", "612 000", "612000", 0.4)  # read so, unsure
    decision = Decision(0.5, True, ["low_confidence:payment_amount", "low_confidence:social_insurance"])
    mended, plain = exception_row(form, [], decision).items
    assert (mended.read, mended.expected) == ("439865", "5439865") and "計算の合う値を期待値" in mended.message
    assert (plain.read, plain.expected) == ("612000", "") and "期待値" not in plain.message


# ------------------------------------------------------------------------------------ pilot


def test_time_saved_arithmetic():
    cfg = load_pilot_config()  # the documented defaults: 3.0 / 4.0 / 3.0 min, 5% audit
    assert (cfg.manual_minutes_per_form, cfg.review_minutes_per_flagged, cfg.audit_minutes_per_form,
            cfg.audit_rate) == (3.0, 4.0, 3.0, 0.05)
    t = time_saved(200, 30, cfg)
    # by hand 200 × 3 = 600 min = 10 h; with taxcheck 30 × 4 = 120 min + ceil(170 × 5%) = 9 × 3 = 27 min → 2.45 h
    assert t["audit_sample"] == 9
    assert t["manual_hours"] == pytest.approx(10.0)
    assert t["with_taxcheck_hours"] == pytest.approx(2.45)
    assert t["saved_hours"] == pytest.approx(7.55)
    assert t["saved_percent"] == pytest.approx(75.5)
    with pytest.raises(ValueError, match="audit_rate"):
        PilotConfig(audit_rate=1.5)


def test_wilson_interval_hand_computed():
    # 2 errors in 50: p = .04, z = 1.96: centre (.04 + 1.9208/50)/(1 + 3.8415/50) = .07282,
    # half 1.96·sqrt(.04·.96/50 + 3.8415/10000)/1.07683 = .06178 → [.01104, .13460]
    lo, hi = wilson_interval(2, 50)
    assert lo == pytest.approx(0.01104, abs=5e-5) and hi == pytest.approx(0.13460, abs=5e-5)
    lo, hi = wilson_interval(0, 20)  # zero errors: lower bound 0, upper z²/(n + z²) = 3.8415/23.8415
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.16113, abs=5e-5)
    assert wilson_interval(0, 0) is None


def _pilot_store(tmp_path: Path, minutes: tuple[float | None, ...] = (None, None)):
    """20 forms (4 flagged; 8 of them, 2 flagged, read from a text layer) in a store; staff decided 2 flagged forms
    and audited 2 cleared ones."""
    from datetime import datetime, timezone

    from taxcheck.store import add_staff_decisions, begin_run, finish_run, open_store, save_document

    url = f"sqlite:///{tmp_path / 'pilot.db'}"
    store = open_store(url)
    run = begin_run(store, out_dir=str(tmp_path / "run"))
    forms, rows = [], []
    for i in range(20):
        f = make_form(i + 1, f"氏名{i}", MY_NUMBER_A, source="batch/p.pdf")
        if i in (0, 1) or 10 <= i < 16:  # 8 forms read from a PDF's text layer, 2 of them flagged
            for fv in f.fields.values():
                fv.source = "text_layer"
        flagged = i < 4
        findings = [income_finding()] if i < 3 else []
        d = Decision(0.95 - i * 0.04, flagged, ["income_arithmetic"] if i < 3 else (["model"] if flagged else []))
        forms.append(f)
        rows.append(store_row(f, findings, d))
    save_document(store, sha256="c" * 64, source="batch/p.pdf", status="done", run_id=run, form_rows=rows)
    finish_run(store, run, {"forms": 20})
    now = datetime.now(timezone.utc)
    add_staff_decisions(store, [
        dict(form_key=forms[0].key, column="employment_income", decision="要修正", corrected_value="3010000",
             reviewer="r1", decided_at=now, minutes=minutes[0]),
        dict(form_key=forms[1].key, column="employment_income", decision="修正不要", reviewer="r1",
             decided_at=now, minutes=minutes[1]),
        dict(form_key=forms[10].key, column="", decision="要修正", reviewer="r1", decided_at=now),
        dict(form_key=forms[11].key, column="", decision="修正不要", reviewer="r1", decided_at=now),
    ])
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.json").write_text('{"flags": {"tp": 3, "fp": 1, "fn": 1, "tn": 15}}')
    return url


def test_pilot_report_from_store(tmp_path):
    url = _pilot_store(tmp_path)
    path = write_pilot_report(url, tmp_path / "report")
    html = path.read_text(encoding="utf-8")
    # 20 forms × 3 min = 1.00 h by hand; 4 flagged × 4 min = 0.2667 h + ceil(16 × 5%) = 1 × 3 min = 0.05 h
    # → 0.3167 h with taxcheck; saved 0.6833 h = 68.3%
    assert 'id="manual-hours">1.00<' in html
    assert 'id="with-hours">0.32<' in html
    assert 'id="saved-hours">0.68（68.3%）' in html
    assert "53.1" in html and "1,450" in html and "680" in html
    assert 'id="residual-truth"' in html and "6.2%" in html
    # residual error of cleared forms: 1 of 2 audited → 50.0%, Wilson 95% [9.5%, 90.5%]
    # (centre .5; half 1.96·sqrt(.125 + 3.8415/16)/2.9207 = .4055)
    assert 'id="residual-rate">50.0%<' in html and 'id="residual-ci">9.5% 〜 90.5%<' in html
    # precision from truth: 3/(3+1) = 75.0%, recall 3/(3+1) = 75.0%; from staff: 1 of 2 reviewed = 50.0%
    assert "75.0%" in html
    assert html.count("data:image/png;base64,") >= 4
    _no_full_numbers(html)
    assert "氏名0" not in html  # no personal data in the pilot report

    s = pilot_summary(url)
    assert s["forms"] == 20 and s["flagged"] == 4 and s["flag_rate"] == pytest.approx(0.2)
    assert s["truth"]["precision"] == pytest.approx(0.75)
    # truth: 1 missed among 1 + 15 cleared = 6.25%; Wilson 1/16: centre (.0625 + .12005)/1.24009 = .14720,
    # half 1.96·sqrt(.0625·.9375/16 + 3.8415/1024)/1.24009 = .13609 → [1.11%, 28.33%]
    assert s["truth"]["residual_rate"] == pytest.approx(1 / 16)
    assert s["truth"]["residual_ci_low"] == pytest.approx(0.0111, abs=2e-4)
    assert s["truth"]["residual_ci_high"] == pytest.approx(0.2833, abs=2e-4)
    assert s["staff"]["precision_recall"]["precision"] == pytest.approx(0.5)
    # recall estimate: caught 0.5 × 4 = 2 over 2 + 0.5 × 16 missed = 0.2
    assert s["staff"]["precision_recall"]["recall"] == pytest.approx(0.2)
    assert {r["code"]: r["forms"] for r in s["by_reason"]} == {"income_arithmetic": 3, "model": 1}
    assert [(r["forms"], r["flagged"]) for r in s["by_run"]] == [(20, 4)]
    assert [(k["input"], k["forms"], k["flagged"]) for k in s["by_input"]] == [("text_layer", 8, 2), ("image", 12, 2)]
    assert "68.3%" in summary_markdown(s) and "（25.0%）" in summary_markdown(s) and "（16.7%）" in summary_markdown(s)
    assert 'id="inputs"' in html and "電子データ" in html and 'alt="入力の種類別の要確認"' in html


def test_measured_review_minutes_replace_the_default(tmp_path):
    url = _pilot_store(tmp_path, minutes=(5.0, 7.0))
    s = pilot_summary(url, config={"min_measured_forms": 2})
    t = s["time"]
    assert t["review_minutes_source"] == "measured" and t["review_minutes_per_flagged"] == pytest.approx(6.0)
    assert t["review_hours"] == pytest.approx(4 * 6.0 / 60)
    assert t["audit_minutes_source"] == "config"  # the audited forms carry no minutes
    s = pilot_summary(url)  # default: 10 timed forms needed
    assert s["time"]["review_minutes_source"] == "config"


def test_audit_sample_and_workbook(tmp_path):
    from taxcheck.report.exceptions import audit_row, write_audit_workbook
    from taxcheck.report.pilot import select_audit_sample

    keys = [f"f{i}.pdf#p1s1" for i in range(45)]
    sample = select_audit_sample(keys, 0.05, seed="2026-11-26")
    assert len(sample) == 3 and set(sample) <= set(keys)  # ceil(45 × 5%) = 3
    assert sample == select_audit_sample(reversed(keys), 0.05, seed="2026-11-26")
    assert sample != select_audit_sample(keys, 0.05, seed="2026-11-27")

    form = make_form(5, "鈴木 一郎", MY_NUMBER_B)
    path = write_audit_workbook([audit_row(form, Decision(0.02, False))], tmp_path)
    ws = load_workbook(path)[SHEET_ROWS]
    headers = [c.value for c in ws[1]]
    assert ws.max_row == 2 and ws.cell(2, headers.index("form_key") + 1).value == form.key
    assert ws.cell(2, headers.index("finding_code") + 1).value == "audit"
    assert ws.cell(2, headers.index("個人番号") + 1).value == "********9018"


def test_audit_sample_from_store_rows_is_importable(tmp_path):
    from taxcheck.report.pilot import write_audit_sample
    from taxcheck.report.review import import_review
    from taxcheck.store import forms_for_run, staff_decisions

    url = _pilot_store(tmp_path)  # 16 cleared forms → ceil(0.8) = 1 drawn at 5%; 4 at 25%
    path = write_audit_sample(forms_for_run(url), tmp_path / "out", seed="night-1", config={"audit_rate": 0.25})
    wb = load_workbook(path)
    ws = wb[SHEET_ROWS]
    headers = [c.value for c in ws[1]]
    keys = [ws.cell(r, headers.index("form_key") + 1).value for r in range(2, ws.max_row + 1)]
    assert len(keys) == 4
    for r in range(2, ws.max_row + 1):
        ws.cell(r, headers.index("判断") + 1).value = "修正不要"
    wb.save(path)
    before = len(staff_decisions(url))
    outcome = import_review(path, url, reviewer="auditor")
    assert outcome.rejected == [] and len(outcome.stored) == 4
    audited = [d for d in staff_decisions(url) if d["reviewer"] == "auditor"]
    assert len(staff_decisions(url)) == before + 4 and all(d["flagged"] is False for d in audited)


def test_every_check_code_has_a_japanese_label():
    from taxcheck.report.labels import reason_label
    from taxcheck.rules.checks import CODES

    for code in CODES:
        label = reason_label(code)
        assert not label.startswith("点検で不一致") and code not in label, code
    assert reason_label("low_confidence:payment_amount") == "読み取りの確信度が低い（支払金額）"


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    form = make_form(1, "=HYPERLINK(\"http://x\")", MY_NUMBER_A)
    row = exception_row(form, [income_finding(read="+1201")], Decision(0.9, True, ["income_arithmetic"]))
    paths = write_exception_reports([row], tmp_path)
    ws = load_workbook(paths["xlsx"])[SHEET_ROWS]
    headers = [c.value for c in ws[1]]
    name = ws.cell(2, headers.index("氏名") + 1)
    assert name.data_type == "s" and name.value.startswith("=HYPERLINK")
    line = next(csv.DictReader(paths["csv"].read_text(encoding="utf-8-sig").splitlines()))
    assert line["氏名"].startswith("'=") and line["読取値"] == "'+1201"


def test_model_drivers_are_named_in_japanese():
    from taxcheck.classify.features import FEATURE_NAMES
    from taxcheck.report.labels import driver_label

    unlabelled = [n for n in FEATURE_NAMES if driver_label(f"{n}=0.5").startswith("その他の特徴")]
    assert not unlabelled, unlabelled  # every feature has a Japanese name
    assert driver_label("new_feature=2") == "その他の特徴（new_feature=2）"
    assert driver_label("conf_payment_amount=0.41") == "支払金額 の読み取り確信度（0.41）"
    form = make_form(1, "山田 太郎", MY_NUMBER_A)
    row = exception_row(form, [], Decision(0.97, True, ["model"], drivers=["resid_tax_mismatch=0.12", "odd_otsu=1"]))
    assert "源泉徴収税額が再計算と合わない（差 0.12）" in row.items[0].message and "乙欄" in row.items[0].message


def test_a_payer_box_settled_by_the_payers_other_forms_shows_both_readings():
    import dataclasses

    form = make_form(1, "山田 太郎", MY_NUMBER_A)
    fv = FieldValue("payer_name", "株式会社大泉食晶", "株式会社大泉食品", 0.93)
    form.fields["payer_name"] = dataclasses.replace(fv, as_read="株式会社大泉食晶", as_read_confidence=0.41)
    row = exception_row(form, [], Decision(0.9, True, ["model"], drivers=["payer_name_settled=1"]))
    settled = [i for i in row.items if i.code == "settled_from_payer"]
    assert len(settled) == 1 and settled[0].box == "支払者 氏名又は名称"
    assert (settled[0].read, settled[0].expected) == ("株式会社大泉食晶", fv.value)
    assert "同じ支払者の他の報告書" in settled[0].message and settled[0].severity == "info"
    assert "同じ支払者の他の報告書の読取りで補正" in "".join(i.message for i in row.items if i.code == "model")
