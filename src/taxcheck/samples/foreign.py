"""The official 給与支払報告書 as *another vendor's* payroll software would print it (stress tests only).

The reader is tuned on ``render``'s output, whose geometry is exactly ``salary_report_layout.yaml``.
Real payers' software draws the same official boxes with its own ruler: every edge a few mm off
(consistently within a document), another label font and size, a slightly different aspect ratio,
and values placed and formatted its own way. ``vendor_layout`` warps a deep copy of the layout in
memory (the YAML is never touched); ``draw_vendor_form`` prints one form with a ``Vendor`` style.
The printed *values* are the same as the truth: only where and how they are printed changes.
"""

from __future__ import annotations

import copy
import random
from dataclasses import asdict, dataclass

import jaconv
import numpy as np
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from taxcheck.samples.content import ERAS, FormContent
from taxcheck.samples.render import MARK, Ink, _Pen, _seal, _wrap, era_title, font

FLAGS = ("spouse_present", "spouse_elderly", "otsu", "self_disabled_special", "self_disabled_other", "widow",
         "single_parent", "working_student")
ERA_WORD = {short: word for short, word, _ in ERAS}
FW = str.maketrans("0123456789-,", "０１２３４５６７８９－，")
NOT_GEOMETRY = {"years", "pt", "value_pt", "lines"}


@dataclass(frozen=True)
class Vendor:
    """How one payroll package prints: fonts, sizes, alignment and number formats (one per document)."""

    label_font: str  # mincho · gothic (the official renderer uses gothic)
    label_scale: float
    value_font: str
    value_scale: float
    line_width: float  # mm
    amount_align: str  # right · left · center
    text_align: str  # left · center
    count_align: str  # center · right · left
    valign: str  # center · bottom
    dy_mm: float  # baseline offset of every value (+ = lower)
    dx_mm: float  # inset from the box edge for left/right aligned values
    amount_comma: bool  # never the 千 / 円 split
    fullwidth: bool  # ０-９ digits in amounts, counts and dates
    yen_suffix: bool  # "4,520,000円"
    era_words: bool  # "昭和" / "退職" written out instead of a mark in the era / 就職・退職 cells
    flag_mark: str
    numbers: str  # cells · string · grouped (個人番号 / 法人番号 as one string, or in groups of 4)
    aspect: float  # x scale of the whole form relative to y
    jitter_mm: float  # amplitude of the edge warp

    def describe(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def make_vendor(rng: random.Random) -> Vendor:
    return Vendor(
        label_font=rng.choice(["mincho", "mincho", "gothic"]), label_scale=rng.uniform(0.85, 1.15),
        value_font=rng.choice(["mincho", "gothic"]), value_scale=rng.uniform(0.82, 1.08),
        line_width=rng.uniform(0.15, 0.5), amount_align=rng.choice(["right", "right", "left", "center"]),
        text_align=rng.choice(["left", "left", "center"]), count_align=rng.choice(["center", "right", "left"]),
        valign=rng.choice(["center", "bottom"]), dy_mm=rng.uniform(-0.8, 0.8), dx_mm=rng.uniform(0.3, 2.0),
        amount_comma=rng.random() < 0.7, fullwidth=rng.random() < 0.35, yen_suffix=rng.random() < 0.35,
        era_words=rng.random() < 0.6, flag_mark=rng.choice([MARK, MARK, "○", "*", "レ"]),
        numbers=rng.choice(["cells", "string", "grouped"]), aspect=rng.choice([-1, 1]) * rng.uniform(0.02, 0.05) + 1,
        jitter_mm=rng.uniform(1.5, 3.0),
    )


def _warp(rng: random.Random, length: float, amp: float, stretch: float):
    """A smooth monotonic map of [0, length]: knots every ~22 mm moved by up to ``amp`` mm (so each edge moves a
    few mm and shared edges move together), then stretched by ``stretch``."""
    knots = np.linspace(0.0, length, max(3, int(length // 22) + 2))
    offsets = np.array([0.0] + [rng.uniform(-amp, amp) for _ in knots[1:]])
    return lambda v: round(float(stretch * (v + np.interp(v, knots, offsets))), 2)


def vendor_layout(layout: dict, vendor: Vendor, rng: random.Random) -> dict:
    """A warped deep copy of one layout version: every rect, x mark and the form size go through the warps."""
    lay = copy.deepcopy(layout)
    W, H = lay["size_mm"]
    fx, fy = _warp(rng, W, vendor.jitter_mm, vendor.aspect), _warp(rng, H, vendor.jitter_mm, 1.0)

    seen: set[int] = set()  # the YAML shares some parts (hire/retire dates): warp each object once

    def walk(node):
        if isinstance(node, dict):
            if id(node) in seen:
                return node
            seen.add(id(node))
            for key, v in node.items():
                if key in NOT_GEOMETRY:
                    continue
                if key in ("thousand_x", "yen_x"):
                    node[key] = fx(v)
                elif key == "size_mm":
                    node[key] = [fx(v[0]), fy(v[1])]
                else:
                    node[key] = walk(v)
            return node
        if isinstance(node, list):
            if len(node) == 4 and all(isinstance(x, (int, float)) for x in node):
                return [fx(node[0]), fy(node[1]), fx(node[2]), fy(node[3])]
            return [walk(x) for x in node]
        return node

    return walk(lay)


class _VendorPen(_Pen):
    """A pen that moves every value by the vendor's baseline offset and inset."""

    def __init__(self, c: Canvas, x_pt: float, top_pt: float, scale: float, v: Vendor) -> None:
        super().__init__(c, x_pt, top_pt, scale)
        self.v = v

    def value(self, r: list[float], text: str, pt: float, face: str, align: str) -> None:
        dx = {"left": self.v.dx_mm, "right": -self.v.dx_mm}.get(align, 0.0)
        dx = max(-(r[2] - r[0]) / 4, min((r[2] - r[0]) / 4, dx))
        rr = [r[0] + dx, r[1] + self.v.dy_mm, r[2] + dx, r[3] + self.v.dy_mm]
        self.text(rr, text, pt * self.v.value_scale, face, align, valign=self.v.valign)


def _digits(text: str, v: Vendor) -> str:
    return text.translate(FW) if v.fullwidth else text


def _amount(value: str, v: Vendor) -> str:
    n = int(value)
    s = _digits(f"{n:,}" if v.amount_comma else str(n), v)
    return s + "円" if v.yen_suffix else s


def _union(rects) -> list[float]:
    rects = list(rects)
    return [min(r[0] for r in rects), min(r[1] for r in rects), max(r[2] for r in rects), max(r[3] for r in rects)]


def draw_vendor_frame(c: Canvas, lay: dict, v: Vendor, ink: Ink, x_pt: float, top_pt: float, scale: float) -> None:
    """The vendor's own drawing of the official frame and labels (no shared XObject: each layout is unique)."""
    p = _Pen(c, x_pt, top_pt, scale)
    face = font(v.label_font)
    W, H = lay["size_mm"]
    c.setStrokeColorRGB(*ink.frame)
    c.setFillColorRGB(*ink.frame)
    for r in lay["cells"]:
        p.rect(r, v.line_width)
    p.rect([0, lay["cells"][0][1], W, H - 1.0], v.line_width * 2.5)
    for lab in lay["labels"]:
        p.text(lab["rect"], lab["text"], lab["pt"] * v.label_scale, face, lab.get("align", "center"),
               lab.get("vertical", False))


def draw_vendor_form(c: Canvas, fc: FormContent, lay: dict, v: Vendor, x_pt: float, top_pt: float, scale: float,
                     ink: Ink = Ink(), seal: bool = False) -> None:
    """Draw one form in the vendor's style with its top-left corner at (x_pt, top_pt)."""
    draw_vendor_frame(c, lay, v, ink, x_pt, top_pt, scale)
    p = _VendorPen(c, x_pt, top_pt, scale, v)
    vf = font(v.value_font)
    c.setFillColorRGB(*ink.value)
    fields, boxes, f = lay["fields"], lay["boxes"], fc.fields
    vpt = lay["value_pt"]
    title = lay["title"]
    p.text(title["year_rect"], era_title(fc.tax_year), title["pt"] * v.label_scale, font(v.label_font), "right")
    for name, spec in fields.items():
        value = f.get(name, "")
        if not value or spec["align"] in ("date", "rows"):  # dates and name rows are drawn below
            continue
        align, pt, r = spec["align"], spec.get("pt", vpt), spec["rect"]
        if align == "right":
            p.value(r, _amount(value, v), pt, vf, v.amount_align)
        elif align == "cells":
            if v.numbers == "cells":
                for ch, cell in zip(value, spec["cells"][len(spec["cells"]) - len(value):]):
                    p.value(cell, ch, pt, vf, "center")
            else:
                text = value if v.numbers == "string" else " ".join(value[i:i + 4] for i in range(0, len(value), 4))
                p.value(r, _digits(text, v), pt, vf, v.text_align)
        elif name in FLAGS:
            p.value(r, v.flag_mark, pt, vf, "center")
        elif align == "center":  # counts
            p.value(r, _digits(value, v), pt, vf, v.count_align)
        elif spec.get("lines", 1) > 1:
            text = _digits(value, v) if name == "recipient_address" else value
            lines = _wrap(text, vf, pt * v.value_scale * scale, (r[2] - r[0]) * p.k, spec["lines"])
            lh = (r[3] - r[1]) / spec["lines"]
            for i, line in enumerate(lines):
                p.value([r[0], r[1] + i * lh, r[2], r[1] + (i + 1) * lh], line, pt, vf, "left")
        elif name == "recipient_kana":
            kana = jaconv.z2h(value, kana=True, ascii=False, digit=False) if fc.payer.halfwidth_kana else value
            p.value(r, kana, pt, vf, v.text_align)
        elif name in ("recipient_name", "payer_name"):
            p.value(r, value.replace(" ", "　"), pt, vf, v.text_align)
        elif name == "payer_address":
            p.value(r, _digits(value, v), pt, vf, v.text_align)
        else:
            p.value(r, value, pt, vf, v.text_align)
    for name, people in (("dependents_named", fc.dependants), ("under16_named", fc.under16)):
        for row, person in zip(fields[name]["rows"], people):
            kana = person.kana
            if fc.payer.halfwidth_kana:
                kana = jaconv.z2h(kana, kana=True, ascii=False, digit=False)
            p.value(row["kana"], kana, 6.0, vf, "left")
            p.value(row["name"], person.name, 9.0, vf, v.text_align)
            if person.cls:
                p.value(row["class"], person.cls, 7.0, vf, "center")
            p.value(row["my_number"], person.my_number, 8.0, vf, "left")
    if fc.date_print:
        mark, ey, m, d = fc.date_print
        spec = fields["hire_date" if mark == "就職" else "retire_date"]
        p.value(spec["mark"], mark if v.era_words else v.flag_mark, 9 if not v.era_words else 7, vf, "center")
        for key, val in zip(("year", "month", "day"), (ey, m, d)):
            p.value(spec["parts"][key], _digits(str(val), v), 10, vf, v.count_align)
    era, ey, m, d = fc.birth_print
    spec = fields["birth_date"]
    if v.era_words:
        p.value(_union(spec["era_marks"].values()), ERA_WORD[era], 9, vf, "center")
    else:
        p.value(spec["era_marks"][era], v.flag_mark, 9, vf, "center")
    for key, val in zip(("year", "month", "day"), (ey, m, d)):
        p.value(spec["parts"][key], _digits(str(val), v), 10, vf, v.count_align)
    p.value(boxes["kind"], fc.kind, 9.5, vf, "center")
    if fc.role:
        p.value(boxes["recipient_role"], fc.role, 9, vf, "left")
    if fc.recipient_number:
        p.value(boxes["recipient_number"], fc.recipient_number, 8, vf, "left")
    p.value(boxes["payer_phone"], _digits(fc.payer.phone, v), 9, vf, "left")
    if fc.spouse is not None:
        sp = fc.spouse
        kana = jaconv.z2h(sp.kana, kana=True, ascii=False, digit=False) if fc.payer.halfwidth_kana else sp.kana
        p.value(boxes["spouse_kana"], kana, 6.5, vf, "left")
        p.value(boxes["spouse_name"], sp.name, 9.5, vf, "left")
        p.value(boxes["spouse_my_number"], sp.my_number, 8.5, vf, "left")
    for key, value in fc.breakdown.items():
        if value and key in boxes:
            p.value(boxes[key], value, 7.5, vf, "left")
    if seal:
        r = fields["payer_name"]["rect"]
        name_pt = fields["payer_name"].get("pt", vpt)
        name_mm = pdfmetrics.stringWidth(fc.payer.name.replace(" ", "　"), vf, name_pt) / mm
        cx, cy = min(r[0] + name_mm - 4.0, r[2] - 8.0), (r[1] + r[3]) / 2
        _seal(c, p, [cx - 6.5, cy - 6.5, cx + 6.5, cy + 6.5], fc.payer.name)


HANDWRITING_TARGETS = ("payment_amount", "employment_income", "withholding_tax", "total_deductions", "social_insurance",
                       "recipient_name", "recipient_my_number", "housing_loan_credit")


def draw_handwriting(c: Canvas, rng: random.Random, lay: dict, x_pt: float, top_pt: float, scale: float) -> dict:
    """A clerk's ballpoint tick beside a box or underline beneath it (wobbly strokes); returns what was drawn."""
    p = _Pen(c, x_pt, top_pt, scale)
    target = rng.choice(HANDWRITING_TARGETS)
    r = lay["fields"][target]["rect"]
    kind = rng.choice(["tick", "underline"])
    colour = rng.choice([(0.10, 0.16, 0.55), (0.12, 0.12, 0.15), (0.75, 0.12, 0.12)])  # blue, black, red ballpoint
    c.saveState()
    c.setStrokeColorRGB(*colour)
    c.setLineWidth(rng.uniform(0.5, 0.9) * scale)
    c.setLineCap(1)
    c.setLineJoin(1)
    w = lambda: rng.uniform(-0.4, 0.4)  # noqa: E731 - the hand's wobble, mm
    if kind == "tick":  # to the left of the box, rising to the right, partly over the frame
        x0, ym = r[0] - rng.uniform(1.0, 4.0), (r[1] + r[3]) / 2
        pts = [(x0, ym), (x0 + 1.6 + w(), ym + 2.0 + w()), (x0 + 5.0 + w(), ym - 3.5 + w())]
    else:  # under the value, a bit slanted
        y = r[3] - rng.uniform(0.2, 1.0)
        x0, x1 = r[0] + rng.uniform(0, (r[2] - r[0]) * 0.3), r[2] - rng.uniform(0, (r[2] - r[0]) * 0.2)
        pts = [(x0, y), ((x0 + x1) / 2 + w(), y + w() * 0.6), (x1, y + rng.uniform(-1.2, 0.6))]
    path = c.beginPath()
    path.moveTo(p.X(pts[0][0]), p.Y(pts[0][1]))
    if kind == "tick":
        path.curveTo(p.X(pts[0][0] + 0.5), p.Y(pts[0][1] + 1.0), p.X(pts[1][0] - 0.4), p.Y(pts[1][1]),
                     p.X(pts[1][0]), p.Y(pts[1][1]))
        path.curveTo(p.X(pts[1][0] + 1.0), p.Y(pts[1][1] - 1.5), p.X(pts[2][0] - 1.0), p.Y(pts[2][1] + 1.0),
                     p.X(pts[2][0]), p.Y(pts[2][1]))
    else:
        path.curveTo(p.X(pts[0][0] + (pts[1][0] - pts[0][0]) / 2), p.Y(pts[0][1] + w() * 0.5), p.X(pts[1][0]),
                     p.Y(pts[1][1]), p.X(pts[2][0]), p.Y(pts[2][1]))
    c.drawPath(path, stroke=1, fill=0)
    c.restoreState()
    return {"kind": kind, "near": target}
