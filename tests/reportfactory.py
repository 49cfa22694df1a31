"""Small forms with boxes on a drawn page image, for the report and review tests (no OCR needed)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from taxcheck.records import BBox, Decision, FieldValue, Finding, Form, form_to_dict
from taxcheck.report.crops import crop_boxes
from taxcheck.report.exceptions import ExceptionRow, build_exception_row, flagged_columns

FONT = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
MY_NUMBER_A = "621498320257"  # valid check digit (DOMAIN.md)
MY_NUMBER_B = "123456789018"  # valid: check digit of 12345678901 is 8
PAYER_PERSONAL = "621498320257"  # a sole proprietor's 個人番号 as 支払者番号
CORPORATE = "7000012050002"

# column → (box on the page, value)
BOXES = {
    "recipient_name": (BBox(40, 30, 260, 70), "山田 太郎"),
    "recipient_my_number": (BBox(300, 30, 560, 70), MY_NUMBER_A),
    "payment_amount": (BBox(40, 110, 240, 150), "4500000"),
    "employment_income": (BBox(300, 110, 500, 150), "3060000"),
    "birth_date": (BBox(40, 190, 240, 230), "1980-04-12"),
    "payer_number": (BBox(300, 190, 560, 230), CORPORATE),
}


def page_image(values: dict[str, str] | None = None) -> np.ndarray:
    """A white 600×260 page with each box outlined and its value printed in it."""
    img = Image.new("RGB", (600, 260), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 22)
    for col, (b, v) in BOXES.items():
        draw.rectangle((b.x0, b.y0, b.x1, b.y1), outline="black")
        draw.text((b.x0 + 6, b.y0 + 8), (values or {}).get(col, v), fill="black", font=font)
    return np.asarray(img)


def make_form(slot: int, name: str, my_number: str, payer: str = CORPORATE, source: str = "batch/scan01.pdf",
              payment: str = "4500000") -> Form:
    fields = {}
    for col, (b, v) in BOXES.items():
        v = {"recipient_name": name, "recipient_my_number": my_number, "payer_number": payer,
             "payment_amount": payment}.get(col, v)
        fields[col] = FieldValue(col, v, v, 0.95, b)
    return Form(source=source, page=1, slot=slot, form="salary_report", tax_year=2024, fields=fields)


def income_finding(read: str = "3060000", expected: str = "3010000") -> Finding:
    return Finding("income_arithmetic", "employment_income", "給与所得控除後の金額（調整控除後）", read, expected,
                   "給与所得控除後の金額が支払金額から計算した額と合いません。", always_error=True, residual=0.1)


def my_number_finding(number: str) -> Finding:
    # As the checks would report it, but with the full number in `read` to prove the report masks it.
    return Finding("my_number_check_digit", "recipient_my_number", "支払を受ける者 個人番号", number, None,
                   f"個人番号の検査用数字が合いません（{number}）。", always_error=True, residual=1.0)


def store_row(form: Form, findings: list[Finding], decision: Decision, crops: dict[str, str] | None = None) -> dict:
    d = form_to_dict(form)
    d.update(findings=[f.to_dict() for f in findings], risk=decision.risk, flagged=decision.flagged,
             reasons=decision.reasons, drivers=decision.drivers, crops=crops or {})
    return d


def exception_row(form: Form, findings: list[Finding], decision: Decision, image: np.ndarray | None = None,
                  crops_dir=None) -> ExceptionRow:
    """A form's exception row, its flagged boxes cropped from ``image`` into ``crops_dir`` first (as the pipeline
    does before it stores the form)."""
    crops: dict[str, str] = {}
    if image is not None and crops_dir is not None and decision.flagged:
        crops = crop_boxes(image, form, flagged_columns(findings, decision), crops_dir)
    return build_exception_row(form, findings, decision, crops)
