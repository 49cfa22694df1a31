"""Builds ``forms/salary_report_layout.yaml``: the geometry of the 給与支払報告書（個人別明細書）.

The layout is written by code (rows and columns stated once, in millimetres) and committed as YAML,
because the extractor and the renderer both read the YAML and must agree to the tenth of a millimetre.
Run ``python -m taxcheck.samples.layout_build`` after editing this file; never edit the YAML by hand.

The drawing follows the official 令和 layout (給与所得の源泉徴収票 / 給与支払報告書 個人別明細書), scaled up
so that the printed values are 11 pt in the form's own frame: about 9.3 pt when a form fills half an
A4 sheet (2-up), which keeps 200 dpi scans readable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

WIDTH_MM = 200.0
HEIGHT_MM = 168.0
TITLE = "給与支払報告書（個人別明細書）"
LABEL_PT = 6.0  # ordinary box labels
SMALL_PT = 5.0  # units and sub-labels (内, 千, 円, 人)
VALUE_PT = 11.0  # printed amounts and names: the renderer's default size for values


class _Builder:
    def __init__(self) -> None:
        self.cells: list[list[float]] = []
        self.labels: list[dict[str, Any]] = []
        self.fields: dict[str, dict[str, Any]] = {}

    def cell(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.cells.append([round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2)])

    def label(self, text: str, rect: tuple[float, float, float, float], pt: float = LABEL_PT,
              anchor: bool = False, vertical: bool = False, align: str = "center") -> None:
        d: dict[str, Any] = {"text": text, "rect": [round(v, 2) for v in rect], "pt": pt}
        if anchor:
            d["anchor"] = True
        if vertical:
            d["vertical"] = True
        if align != "center":
            d["align"] = align
        self.labels.append(d)

    def field(self, name: str, rect: tuple[float, float, float, float], anchor: str, align: str = "left",
              **extra: Any) -> None:
        d: dict[str, Any] = {"rect": [round(v, 2) for v in rect], "anchor": anchor, "align": align}
        d.update(extra)
        self.fields[name] = d


def _r(*v: float) -> list[float]:
    return [round(x, 2) for x in v]


def build_version(with_basic_box: bool) -> dict[str, Any]:
    b = _Builder()
    W = WIDTH_MM

    # ---- title row (0–9) ------------------------------------------------------------------------
    b.label(TITLE, (70, 1.5, 150, 8.0), pt=11, anchor=True)
    title = {"text": TITLE, "rect": _r(70, 1.5, 150, 8.0), "year_rect": _r(38, 1.5, 69, 8.0), "pt": 11}

    # ---- 支払を受ける者 (9–33) ------------------------------------------------------------------
    y0, y1 = 9.0, 33.0
    b.cell(0, y0, W, y1)
    b.cell(0, y0, 8, y1)
    b.label("支払を受ける者", (0.5, y0 + 1, 7.5, y1 - 1), pt=LABEL_PT, vertical=True)
    b.cell(8, y0, 20, y1)
    b.label("住所又は居所", (8.5, y0 + 6, 19.5, y1 - 6), pt=LABEL_PT, vertical=True)
    b.field("recipient_address", (21, y0 + 1.5, 109, y1 - 1.5), anchor="住所又は居所", lines=2, pt=10)
    b.cell(110, y0, W, 14)
    b.label("（受給者番号）", (110.5, y0 + 0.5, 127, 13.5), pt=SMALL_PT)
    b.cell(110, 14, W, 20)
    b.label("（個人番号）", (110.5, 14.5, 127, 19.5), pt=SMALL_PT, anchor=True)
    digit_cells = []
    for i in range(12):
        x = 128 + i * 6.0
        b.cell(x, 14, x + 6.0, 20)
        digit_cells.append(_r(x, 14, x + 6.0, 20))
    b.field("recipient_my_number", (128, 14, 200, 20), anchor="（個人番号）", align="cells", cells=digit_cells)
    b.cell(110, 20, W, 25)
    b.label("（フリガナ）", (110.5, 20.3, 127, 24.7), pt=SMALL_PT)
    b.field("recipient_kana", (128, 20.3, 170, 24.7), anchor="（フリガナ）", pt=8, lead_in=1.0)
    b.cell(170, 20, W, 33)
    b.label("（役職名）", (170.5, 20.3, 186, 24.7), pt=SMALL_PT)
    b.label("氏名", (110.5, 26, 127, 32), pt=LABEL_PT)
    b.field("recipient_name", (128, 25.5, 170, 32.5), anchor="氏名", lead_in=1.0)

    # ---- amount row (33–46): 種別 · 支払金額 · 給与所得控除後 · 所得控除合計 · 源泉徴収税額 ----------------
    y0, ym, y1 = 33.0, 38.0, 46.0
    cols = [(0, 28, "種別", None), (28, 71, "支払金額", "payment_amount"),
            (71, 114, "給与所得控除後の金額（調整控除後）", "employment_income"),
            (114, 157, "所得控除の額の合計額", "total_deductions"), (157, W, "源泉徴収税額", "withholding_tax")]
    for x0, x1, text, name in cols:
        b.cell(x0, y0, x1, ym)
        b.cell(x0, ym, x1, y1)
        b.label(text, (x0 + 0.5, y0 + 0.5, x1 - 0.5, ym - 0.5), pt=LABEL_PT, anchor=name is not None)
        if name:
            _amount_marks(b, x0, x1, ym, with_uchi=name in ("payment_amount", "withholding_tax"))
            b.field(name, (x0 + 4, ym + 1.6, x1 - 4.5, y1 - 0.6), anchor=text, align="right",
                    thousand_x=round(x1 - 16.0, 2), yen_x=round(x1 - 4.5, 2))
    b.label("給与・賞与", (1, ym + 1.5, 27, y1 - 1), pt=9)  # pre-printed? no: printed by payer, see renderer

    # ---- 配偶者・扶養 row (46–62) ----------------------------------------------------------------
    y0, ya, yb, yc, y1 = 46.0, 50.0, 53.5, 56.5, 62.0
    # (源泉)控除対象配偶者の有無等
    b.cell(0, y0, 26, yb)
    b.label("（源泉）控除対象", (0.3, y0 + 0.3, 25.7, y0 + 3.6), pt=SMALL_PT)
    b.label("配偶者の有無等", (0.3, y0 + 3.6, 25.7, yb - 0.3), pt=SMALL_PT)
    for x0, x1, t, name in [(0, 9, "有", "spouse_present"), (9, 18, "従有", None), (18, 26, "老人", "spouse_elderly")]:
        b.cell(x0, yb, x1, yc)
        b.label(t, (x0 + 0.3, yb + 0.2, x1 - 0.3, yc - 0.2), pt=SMALL_PT)
        b.cell(x0, yc, x1, y1)
        if name:
            b.field(name, (x0 + 0.5, yc + 0.5, x1 - 0.5, y1 - 0.5), anchor="配偶者の有無等", align="center")
    # 配偶者（特別）控除の額
    b.cell(26, y0, 56, yc)
    b.label("配偶者（特別）", (26.5, y0 + 1.5, 55.5, y0 + 5), pt=LABEL_PT)
    b.label("控除の額", (26.5, y0 + 5, 55.5, yc - 1.5), pt=LABEL_PT)
    b.cell(26, yc, 56, y1)
    b.label("千", (56 - 15.5, yc + 0.2, 56 - 12.5, yc + 2.2), pt=SMALL_PT)
    b.label("円", (56 - 3.5, yc + 0.2, 56 - 0.5, yc + 2.2), pt=SMALL_PT)
    b.field("spouse_deduction", (28, yc + 0.8, 52, y1 - 0.3), anchor="配偶者（特別）", align="right",
            thousand_x=56 - 15.0, yen_x=52.0, pt=10)
    # 控除対象扶養親族の数
    b.cell(56, y0, 128, ya)
    b.label("控除対象扶養親族の数（配偶者を除く）", (56.5, y0 + 0.3, 127.5, ya - 0.3), pt=SMALL_PT, anchor=True)
    groups = [(56, 80, "特定", [("人", "dependents_specific"), ("従人", None)]),
              (80, 104, "老人", [("内", "dependents_elderly_cohabiting"), ("人", "dependents_elderly"), ("従人", None)]),
              (104, 128, "その他", [("人", "dependents_other"), ("従人", None)])]
    for gx0, gx1, gname, subs in groups:
        b.cell(gx0, ya, gx1, yb)
        b.label(gname, (gx0 + 0.5, ya + 0.2, gx1 - 0.5, yb - 0.2), pt=LABEL_PT)
        wsub = (gx1 - gx0) / len(subs)
        for i, (unit, name) in enumerate(subs):
            sx0, sx1 = gx0 + i * wsub, gx0 + (i + 1) * wsub
            b.cell(sx0, yb, sx1, y1)
            b.label(unit, (sx0 + 0.3, yb + 0.2, sx1 - 0.3, yc - 0.2), pt=SMALL_PT,
                    align="left" if unit == "内" else "right")
            if name:
                b.field(name, (sx0 + 0.5, yc + 0.3, sx1 - 0.5, y1 - 0.3), anchor="控除対象扶養親族の数（配偶者を除く）",
                        align="center", pt=10)
    # 16歳未満扶養親族の数
    b.cell(128, y0, 144, yc)
    b.label("16歳未満", (128.3, y0 + 1.5, 143.7, y0 + 4.5), pt=SMALL_PT, anchor=True)
    b.label("扶養親族", (128.3, y0 + 4.5, 143.7, y0 + 7.2), pt=SMALL_PT)
    b.label("の数", (128.3, y0 + 7.2, 143.7, yc - 0.5), pt=SMALL_PT)
    b.cell(128, yc, 144, y1)
    b.field("dependents_under16", (129, yc + 0.3, 143, y1 - 0.3), anchor="16歳未満", align="center", pt=10)
    # 障害者の数（本人を除く）
    b.cell(144, y0, 180, ya)
    b.label("障害者の数（本人を除く）", (144.3, y0 + 0.3, 179.7, ya - 0.3), pt=SMALL_PT)
    b.cell(144, ya, 166, yb)
    b.label("特別", (144.5, ya + 0.2, 165.5, yb - 0.2), pt=LABEL_PT)
    b.cell(166, ya, 180, yb)
    b.label("その他", (166.3, ya + 0.2, 179.7, yb - 0.2), pt=LABEL_PT)
    for sx0, sx1, unit, name in [(144, 155, "内", None), (155, 166, "人", "disabled_special"), (166, 180, "人", "disabled_other")]:
        b.cell(sx0, yb, sx1, y1)
        b.label(unit, (sx0 + 0.3, yb + 0.2, sx1 - 0.3, yc - 0.2), pt=SMALL_PT, align="left" if unit == "内" else "right")
        if name:
            b.field(name, (sx0 + 0.5, yc + 0.3, sx1 - 0.5, y1 - 0.3), anchor="障害者の数（本人を除く）", align="center", pt=10)
    # 非居住者である親族の数
    b.cell(180, y0, W, yc)
    b.label("非居住者", (180.3, y0 + 1.5, 199.7, y0 + 4.5), pt=SMALL_PT)
    b.label("である", (180.3, y0 + 4.5, 199.7, y0 + 7.2), pt=SMALL_PT)
    b.label("親族の数", (180.3, y0 + 7.2, 199.7, yc - 0.5), pt=SMALL_PT)
    b.cell(180, yc, W, y1)

    # ---- 社会保険料等 row (62–73) ----------------------------------------------------------------
    y0, ym, y1 = 62.0, 66.5, 73.0
    cols = [(0, 50, "社会保険料等の金額", "social_insurance"), (50, 100, "生命保険料の控除額", "life_insurance_deduction"),
            (100, 150, "地震保険料の控除額", "earthquake_insurance_deduction"),
            (150, W, "住宅借入金等特別控除の額", "housing_loan_credit")]
    for x0, x1, text, name in cols:
        b.cell(x0, y0, x1, ym)
        b.cell(x0, ym, x1, y1)
        b.label(text, (x0 + 0.5, y0 + 0.4, x1 - 0.5, ym - 0.4), pt=LABEL_PT, anchor=True)
        _amount_marks(b, x0, x1, ym, with_uchi=name == "social_insurance")
        b.field(name, (x0 + 4, ym + 1.4, x1 - 4.5, y1 - 0.4), anchor=text, align="right",
                thousand_x=round(x1 - 16.0, 2), yen_x=round(x1 - 4.5, 2))

    # ---- 摘要 (73–86) ----------------------------------------------------------------------------
    y0, y1 = 73.0, 86.0
    b.cell(0, y0, W, y1)
    b.label("（摘要）", (0.5, y0 + 0.4, 14, y0 + 3.4), pt=LABEL_PT, anchor=True, align="left")
    b.field("remarks", (2, y0 + 3.4, W - 2, y1 - 0.4), anchor="（摘要）", lines=2, pt=9)

    # ---- 生命保険料の金額の内訳 (86–93) --------------------------------------------------------------
    y0, ym, y1 = 86.0, 89.0, 93.0
    b.cell(0, y0, 24, y1)
    b.label("生命保険料の", (0.3, y0 + 0.5, 23.7, y0 + 3.5), pt=SMALL_PT)
    b.label("金額の内訳", (0.3, y0 + 3.5, 23.7, y1 - 0.5), pt=SMALL_PT)
    names = ["新生命保険料の金額", "旧生命保険料の金額", "介護医療保険料の金額", "新個人年金保険料の金額", "旧個人年金保険料の金額"]
    wcol = (W - 24) / 5
    extra_boxes: dict[str, list[float]] = {}
    for i, t in enumerate(names):
        x0 = 24 + i * wcol
        b.cell(x0, y0, x0 + wcol, y1)
        b.label(t, (x0 + 0.3, y0 + 0.2, x0 + wcol - 0.3, ym), pt=SMALL_PT, align="left")
        b.label("円", (x0 + wcol - 3.2, y0 + 0.2, x0 + wcol - 0.3, ym), pt=SMALL_PT)
        extra_boxes[f"life_breakdown_{i + 1}"] = _r(x0 + 1, ym, x0 + wcol - 1, y1 - 0.2)

    # ---- 住宅借入金等特別控除の額の内訳 (93–100) -------------------------------------------------------
    y0, ym, y1 = 93.0, 96.0, 100.0
    b.cell(0, y0, 24, y1)
    b.label("住宅借入金等特別", (0.3, y0 + 0.5, 23.7, y0 + 3.5), pt=SMALL_PT)
    b.label("控除の額の内訳", (0.3, y0 + 3.5, 23.7, y1 - 0.5), pt=SMALL_PT)
    hcols = [(24, 60, "住宅借入金等特別控除適用数"), (60, 112, "居住開始年月日（1回目）"),
             (112, 146, "住宅借入金等特別控除区分（1回目）"), (146, W, "住宅借入金等年末残高（1回目）")]
    for i, (x0, x1, t) in enumerate(hcols):
        b.cell(x0, y0, x1, y1)
        b.label(t, (x0 + 0.3, y0 + 0.2, x1 - 0.3, ym), pt=SMALL_PT, align="left")
        extra_boxes[f"housing_breakdown_{i + 1}"] = _r(x0 + 1, ym, x1 - 1, y1 - 0.2)

    # ---- (源泉・特別)控除対象配偶者 row (100–113) ---------------------------------------------------
    y0, ym, y1 = 100.0, 106.5, 113.0
    b.cell(0, y0, 16, y1)
    b.label("（源泉・特別）", (0.3, y0 + 1.0, 15.7, y0 + 4.2), pt=SMALL_PT)
    b.label("控除対象", (0.3, y0 + 4.2, 15.7, y0 + 7.4), pt=SMALL_PT)
    b.label("配偶者", (0.3, y0 + 7.4, 15.7, y0 + 10.6), pt=SMALL_PT)
    b.cell(16, y0, 64, y1)
    b.label("（フリガナ）", (16.3, y0 + 0.3, 30, y0 + 3.0), pt=SMALL_PT, align="left")
    b.label("氏名", (16.3, y0 + 5.0, 24, y1 - 2.5), pt=SMALL_PT, align="left")
    extra_boxes["spouse_kana"] = _r(30, y0 + 0.3, 63.5, y0 + 4.0)
    extra_boxes["spouse_name"] = _r(24, y0 + 4.2, 63.5, y1 - 0.5)
    b.cell(64, y0, 72, y1)
    b.label("区分", (64.3, y0 + 0.3, 71.7, y0 + 3.2), pt=SMALL_PT)
    extra_boxes["spouse_class"] = _r(64.5, y0 + 3.5, 71.5, y1 - 0.5)
    b.cell(72, y0, 112, y1)
    b.label("個人番号", (72.3, y0 + 0.3, 90, y0 + 3.2), pt=SMALL_PT, align="left")
    extra_boxes["spouse_my_number"] = _r(73, y0 + 4.5, 111, y1 - 1.0)
    right = [(112, 142, "配偶者の合計所得"), (142, 171, "国民年金保険料等の金額"), (171, W, "旧長期損害保険料の金額")]
    for x0, x1, t in right:
        b.cell(x0, y0, x1, ym)
        b.label(t, (x0 + 0.3, y0 + 0.2, x1 - 3.5, y0 + 2.6), pt=SMALL_PT, align="left")
        b.label("円", (x1 - 3.2, y0 + 0.2, x1 - 0.3, y0 + 2.6), pt=SMALL_PT)
    extra_boxes["spouse_income"] = _r(113, y0 + 2.6, 138, ym - 0.2)
    extra_boxes["national_pension"] = _r(143, y0 + 2.6, 167, ym - 0.2)
    extra_boxes["old_longterm_insurance"] = _r(172, y0 + 2.6, 196, ym - 0.2)
    bottom = [(112, 142, "基礎控除の額", "basic_deduction"), (142, 171, "所得金額調整控除額", "income_adjustment"),
              (171, W, None, None)]
    for x0, x1, t, name in bottom:
        b.cell(x0, ym, x1, y1)
        if t and with_basic_box:
            b.label(t, (x0 + 0.3, ym + 0.2, x1 - 3.5, ym + 2.6), pt=SMALL_PT, align="left", anchor=True)
            b.label("円", (x1 - 3.2, ym + 0.2, x1 - 0.3, ym + 2.6), pt=SMALL_PT)
            b.field(name, (x0 + 1, ym + 2.6, x1 - 4, y1 - 0.2), anchor=t, align="right", pt=10)

    # ---- 控除対象扶養親族 1–4 / 16歳未満の扶養親族 1–4 (113–137) -------------------------------------------
    y0, y1 = 113.0, 137.0
    rowh = (y1 - y0) / 4
    for half, (hx0, title_text, field_name, prefix) in enumerate(
            [(0.0, "控除対象扶養親族", "dependents_named", "dependant"),
             (100.0, "16歳未満の扶養親族", "under16_named", "under16")]):
        b.cell(hx0, y0, hx0 + 8, y1)
        b.label(title_text, (hx0 + 0.5, y0 + 0.8, hx0 + 7.5, y1 - 0.8), pt=SMALL_PT, vertical=True,
                anchor=True)
        rows = []
        for i in range(4):
            ry0, ry1 = y0 + i * rowh, y0 + (i + 1) * rowh
            b.cell(hx0 + 8, ry0, hx0 + 12, ry1)
            b.label(str(i + 1), (hx0 + 8.2, ry0 + 0.5, hx0 + 11.8, ry1 - 0.5), pt=LABEL_PT)
            b.cell(hx0 + 12, ry0, hx0 + 58, ry1)
            b.label("（フリガナ）", (hx0 + 12.3, ry0 + 0.2, hx0 + 24, ry0 + 2.4), pt=4.5, align="left")
            b.label("氏名", (hx0 + 12.3, ry0 + 2.8, hx0 + 18, ry1 - 0.3), pt=4.5, align="left")
            b.cell(hx0 + 58, ry0, hx0 + 66, ry1)
            b.label("区分", (hx0 + 58.3, ry0 + 0.2, hx0 + 65.7, ry0 + 2.2), pt=4.5)
            b.cell(hx0 + 66, ry0, hx0 + 100, ry1)
            b.label("個人番号", (hx0 + 66.3, ry0 + 0.2, hx0 + 80, ry0 + 2.2), pt=4.5, align="left")
            rows.append({
                "kana": _r(hx0 + 24, ry0 + 0.2, hx0 + 57.5, ry0 + 2.6),
                "name": _r(hx0 + 18, ry0 + 2.5, hx0 + 57.5, ry1 - 0.2),
                "class": _r(hx0 + 58.5, ry0 + 2.2, hx0 + 65.5, ry1 - 0.2),
                "my_number": _r(hx0 + 67, ry0 + 2.2, hx0 + 99.5, ry1 - 0.2),
            })
        b.field(field_name, (hx0 + 12, y0, hx0 + 100, y1), anchor=title_text, align="rows", rows=rows)
        extra_boxes[f"{prefix}_rows"] = _r(hx0 + 12, y0, hx0 + 100, y1)

    # ---- check-box row (137–149) -----------------------------------------------------------------
    y0, ya, yb, y1 = 137.0, 140.5, 143.5, 149.0
    flag_cols = [(0, 11, "未成年者", None), (11, 22, "外国人", None), (22, 33, "死亡退職", None), (33, 44, "災害者", None),
                 (44, 55, "乙欄", "otsu")]
    for x0, x1, t, name in flag_cols:
        b.cell(x0, y0, x1, yb)
        b.label(t, (x0 + 0.3, y0 + 1.5, x1 - 0.3, yb - 1.5), pt=SMALL_PT, anchor=t == "乙欄")
        b.cell(x0, yb, x1, y1)
        if name:
            b.field(name, (x0 + 0.5, yb + 0.3, x1 - 0.5, y1 - 0.3), anchor=t, align="center")
    b.cell(55, y0, 71, ya)
    b.label("本人が障害者", (55.3, y0 + 0.3, 70.7, ya - 0.3), pt=SMALL_PT)
    for x0, x1, t, name in [(55, 63, "特別", "self_disabled_special"), (63, 71, "その他", "self_disabled_other")]:
        b.cell(x0, ya, x1, yb)
        b.label(t, (x0 + 0.2, ya + 0.2, x1 - 0.2, yb - 0.2), pt=SMALL_PT)
        b.cell(x0, yb, x1, y1)
        b.field(name, (x0 + 0.5, yb + 0.3, x1 - 0.5, y1 - 0.3), anchor="本人が障害者", align="center")
    for x0, x1, t, name in [(71, 80, "寡婦", "widow"), (80, 91, "ひとり親", "single_parent"), (91, 102, "勤労学生", "working_student")]:
        b.cell(x0, y0, x1, yb)
        b.label(t, (x0 + 0.3, y0 + 1.5, x1 - 0.3, yb - 1.5), pt=SMALL_PT, anchor=t == "勤労学生")
        b.cell(x0, yb, x1, y1)
        b.field(name, (x0 + 0.5, yb + 0.3, x1 - 0.5, y1 - 0.3), anchor=t, align="center")
    # 中途就・退職
    b.cell(102, y0, 150, ya)
    b.label("中途就・退職", (102.3, y0 + 0.3, 149.7, ya - 0.3), pt=SMALL_PT, anchor=True)
    sub = [(102, 110, "就職"), (110, 118, "退職"), (118, 129, "年"), (129, 139.5, "月"), (139.5, 150, "日")]
    for x0, x1, t in sub:
        b.cell(x0, ya, x1, yb)
        b.label(t, (x0 + 0.2, ya + 0.2, x1 - 0.2, yb - 0.2), pt=SMALL_PT)
        b.cell(x0, yb, x1, y1)
    date_parts = {"year": _r(118.5, yb + 0.3, 128.5, y1 - 0.3), "month": _r(129.5, yb + 0.3, 139, y1 - 0.3),
                  "day": _r(140, yb + 0.3, 149.5, y1 - 0.3)}
    b.field("hire_date", (102, yb, 150, y1), anchor="中途就・退職", align="date", era="令和",
            mark=_r(102.5, yb + 0.3, 109.5, y1 - 0.3), parts=date_parts)
    b.field("retire_date", (102, yb, 150, y1), anchor="中途就・退職", align="date", era="令和",
            mark=_r(110.5, yb + 0.3, 117.5, y1 - 0.3), parts=date_parts)
    # 受給者生年月日
    b.cell(150, y0, W, ya)
    b.label("受給者生年月日", (150.3, y0 + 0.3, 199.7, ya - 0.3), pt=SMALL_PT, anchor=True)
    eras = {}
    for i, t in enumerate(["明", "大", "昭", "平", "令"]):
        x0 = 150 + i * 4.4
        b.cell(x0, ya, x0 + 4.4, yb)
        b.label(t, (x0 + 0.2, ya + 0.2, x0 + 4.2, yb - 0.2), pt=SMALL_PT)
        b.cell(x0, yb, x0 + 4.4, y1)
        eras[t] = _r(x0 + 0.3, yb + 0.3, x0 + 4.1, y1 - 0.3)
    bparts = {}
    for x0, x1, t, key in [(172, 181.5, "年", "year"), (181.5, 190.5, "月", "month"), (190.5, W, "日", "day")]:
        b.cell(x0, ya, x1, yb)
        b.label(t, (x0 + 0.2, ya + 0.2, x1 - 0.2, yb - 0.2), pt=SMALL_PT)
        b.cell(x0, yb, x1, y1)
        bparts[key] = _r(x0 + 0.4, yb + 0.3, x1 - 0.4, y1 - 0.3)
    b.field("birth_date", (150, yb, W, y1), anchor="受給者生年月日", align="date", era_marks=eras, parts=bparts)

    # ---- 支払者 (149–167) ------------------------------------------------------------------------
    y0, y1 = 149.0, 167.0
    rh = (y1 - y0) / 3
    b.cell(0, y0, W, y1)
    b.cell(0, y0, 10, y1)
    b.label("支払者", (0.5, y0 + 2, 9.5, y1 - 2), pt=LABEL_PT, vertical=True, anchor=True)
    r1, r2, r3 = y0, y0 + rh, y0 + 2 * rh
    b.cell(10, r1, 42, r2)
    b.label("個人番号又は", (10.3, r1 + 0.4, 41.7, r1 + 3.0), pt=SMALL_PT)
    b.label("法人番号", (10.3, r1 + 3.0, 41.7, r2 - 0.4), pt=SMALL_PT, anchor=True)
    pcells = []
    for i in range(13):
        x = 42 + i * 5.2
        b.cell(x, r1, x + 5.2, r2)
        pcells.append(_r(x, r1, x + 5.2, r2))
    b.label("（右詰で記載してください。）", (111.0, r1 + 1.2, 160, r2 - 1.2), pt=SMALL_PT, align="left")
    b.field("payer_number", (42, r1, 42 + 13 * 5.2, r2), anchor="法人番号", align="cells", cells=pcells)
    b.cell(10, r2, 42, r3)
    b.label("住所（居所）", (10.3, r2 + 0.4, 41.7, r2 + 3.0), pt=SMALL_PT)
    b.label("又は所在地", (10.3, r2 + 3.0, 41.7, r3 - 0.4), pt=SMALL_PT)
    b.cell(42, r2, W, r3)
    b.field("payer_address", (43, r2 + 0.6, W - 1, r3 - 0.4), anchor="又は所在地", pt=10)
    b.cell(10, r3, 42, y1)
    b.label("氏名又は名称", (10.3, r3 + 0.5, 41.7, y1 - 0.5), pt=LABEL_PT, anchor=True)
    b.cell(42, r3, 150, y1)
    b.field("payer_name", (43, r3 + 0.6, 149, y1 - 0.4), anchor="氏名又は名称", pt=10)
    b.cell(150, r3, W, y1)
    b.label("（電話）", (150.3, r3 + 0.5, 160, y1 - 0.5), pt=SMALL_PT, align="left")
    extra_boxes["payer_phone"] = _r(161, r3 + 0.6, W - 1, y1 - 0.4)
    extra_boxes["kind"] = _r(1, 39.5, 27, 45.4)
    extra_boxes["recipient_role"] = _r(171, 25.5, 199, 32.5)
    extra_boxes["recipient_number"] = _r(128, 9.5, 199, 13.7)

    # the 種別 value is printed, not pre-printed: drop the placeholder label added above
    b.labels = [lab for lab in b.labels if lab["text"] != "給与・賞与"]
    for f in b.fields.values():  # the label a field hangs off, unambiguous even where a text repeats (氏名)
        f["anchor_rect"] = _nearest_label(b.labels, f["anchor"], f["rect"])
    return {
        "size_mm": [WIDTH_MM, HEIGHT_MM],
        "title": title,
        "value_pt": VALUE_PT,
        "cells": b.cells,
        "labels": b.labels,
        "fields": b.fields,
        "boxes": extra_boxes,
    }


def _nearest_label(labels: list[dict[str, Any]], text: str, rect: list[float]) -> list[float]:
    cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
    found = [lab["rect"] for lab in labels if lab["text"] == text]
    if not found:
        raise ValueError(f"field anchor {text!r} is not a printed label")
    return min(found, key=lambda r: ((r[0] + r[2]) / 2 - cx) ** 2 + ((r[1] + r[3]) / 2 - cy) ** 2)


def _amount_marks(b: _Builder, x0: float, x1: float, y: float, with_uchi: bool) -> None:
    """The small 内 / 千 / 円 marks printed at the top of an amount box."""
    if with_uchi:
        b.label("内", (x0 + 0.5, y + 0.2, x0 + 3.5, y + 2.2), pt=SMALL_PT)
    b.label("千", (x1 - 16.5, y + 0.2, x1 - 13.5, y + 2.2), pt=SMALL_PT)
    b.label("円", (x1 - 3.5, y + 0.2, x1 - 0.5, y + 2.2), pt=SMALL_PT)


def build() -> dict[str, Any]:
    v2019 = build_version(with_basic_box=False)
    v2020 = build_version(with_basic_box=True)
    return {
        "form": "salary_report",
        "units": "mm",
        "origin": "top-left",
        "versions": {
            "2019": {"years": [2019, 2019], **v2019},
            "2020": {"years": [2020, 2025], **v2020},
        },
    }


HEADER = """\
# Geometry of the 給与支払報告書（個人別明細書） (same layout as 給与所得の源泉徴収票), in millimetres in the form's
# own frame (origin top-left, x right, y down). GENERATED by `python -m taxcheck.samples.layout_build`: edit that file.
# versions: "2019" (令和元年分: no 基礎控除の額 / 所得金額調整控除額 boxes) and "2020" (令和2年分 onward).
#   title: the printed title; year_rect is where "令和X年分" is printed, left of the title.
#   cells: ruled frame rectangles [x0, y0, x1, y1].
#   labels: every pre-printed text; anchor: true marks distinctive labels that locate the form; vertical: drawn
#     top-to-bottom; align: left/right when not centred; pt: font size in points at scale 1.
#   fields: one per column of salary_report_fields.yaml present in the version: rect, the label it hangs off
#     (anchor: its text; anchor_rect: that label's rect, as some texts repeat) and align: right (amounts; thousand_x/yen_x = x of the 千 / 円 marks), left/center (text, counts,
#     flags: a flag is marked with ＊), cells (one digit per cell, right-justified), rows (the 4 name rows of
#     dependants: the value is how many rows hold a name), date (parts year/month/day in Japanese-era years;
#     birth_date marks its era in era_marks; hire/retire share the date parts and differ by their mark cell;
#     their years are 令和 years, except 31 on a 令和元年分 form = 平成31 (January–April 2019)); lead_in: mm a
#     left-aligned value may begin left of its box, in its label's cell (フリガナ and 氏名 are printed from the box's
#     edge, and a form located 1 mm off cut their first glyph: ﾜﾀﾅﾍﾞ read ﾘﾀﾅﾍﾞ).
#   Values are printed in the payer's font (IPA Gothic or Mincho) at value_pt unless a field gives pt; amounts as
#     "4,520,000", "4520000" or split at the 千 mark ("4,520" left of 千, "000" left of 円).
#   boxes: other printed value boxes that have no results column (内訳, 配偶者, 電話, 種別, seal area).
"""


def write(path: Path | None = None) -> Path:
    if path is None:
        path = Path(__file__).resolve().parents[1] / "forms" / "salary_report_layout.yaml"
    text = yaml.safe_dump(build(), allow_unicode=True, sort_keys=False, default_flow_style=None, width=140)
    path.write_text(HEADER + text, encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write())
