"""Draws a 給与支払報告書 with reportlab from ``forms/salary_report_layout.yaml`` and the form's content.

One renderer for every variant: born-digital PDFs are its direct output; scans are the same PDF
rasterised by ``ingest.pdf.render_pages`` and degraded afterwards (see ``degrade``). IPA TrueType fonts are embedded
as subsets with a ToUnicode map, so pdfplumber reads the text layer back.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from functools import cache

import jaconv
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from taxcheck.forms import salary_layout
from taxcheck.samples.content import ERA_START_YEAR, FormContent

FONT_FILES = {
    "gothic": ("IPAGothic", "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    "mincho": ("IPAMincho", "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf"),
}
A4_PT = (210 * mm, 297 * mm)
BLACK = (0.0, 0.0, 0.0)
DROPOUT_INKS = [(0.92, 0.33, 0.22), (0.96, 0.52, 0.20), (0.90, 0.25, 0.35)]  # red / orange / rose 赤枠
SEAL_RED = (0.84, 0.12, 0.14)
MARK = "＊"


@cache
def font(kind: str) -> str:
    """Register (once) and return the reportlab name of an IPA font."""
    name, path = FONT_FILES[kind]
    pdfmetrics.registerFont(TTFont(name, path))
    return name


@dataclass(frozen=True)
class Ink:
    frame: tuple[float, float, float] = BLACK
    value: tuple[float, float, float] = BLACK


class _Pen:
    """Maps form millimetres (origin top-left) to page points for one placed form."""

    def __init__(self, c: Canvas, x_pt: float, top_pt: float, scale: float) -> None:
        self.c, self.x, self.top, self.k = c, x_pt, top_pt, scale * mm
        self.scale = scale

    def X(self, xmm: float) -> float:
        return self.x + xmm * self.k

    def Y(self, ymm: float) -> float:
        return self.top - ymm * self.k

    def rect(self, r: list[float], width: float) -> None:
        self.c.setLineWidth(width * self.scale)
        self.c.rect(self.X(r[0]), self.Y(r[3]), (r[2] - r[0]) * self.k, (r[3] - r[1]) * self.k, stroke=1, fill=0)

    def text(self, r: list[float], text: str, pt: float, face: str, align: str = "center", vertical: bool = False,
             valign: str = "center") -> None:
        if not text:
            return
        c = self.c
        size = pt * self.scale
        if vertical:
            n = len(text)
            h = (r[3] - r[1]) * self.k
            step = min(size * 1.15, h / n)
            size = min(size, step)
            y = self.Y(r[1]) - (h - step * n) / 2 - step * 0.85
            cx = (self.X(r[0]) + self.X(r[2])) / 2
            for ch in text:
                c.setFont(face, size)
                c.drawCentredString(cx, y, ch)
                y -= step
            return
        w_avail = (r[2] - r[0]) * self.k
        w = pdfmetrics.stringWidth(text, face, size)
        hscale = 100.0
        if w > w_avail:
            shrink = max(0.8, w_avail / w)
            size *= shrink
            w = pdfmetrics.stringWidth(text, face, size)
            if w > w_avail:
                hscale = 100.0 * w_avail / w
                w = w_avail
        h = (r[3] - r[1]) * self.k
        if valign == "center":
            base = self.Y(r[3]) + (h - size * 0.88) / 2 + size * 0.12
        else:  # bottom
            base = self.Y(r[3]) + size * 0.2
        if align == "left":
            x = self.X(r[0])
        elif align == "right":
            x = self.X(r[2]) - w
        else:
            x = (self.X(r[0]) + self.X(r[2]) - w) / 2
        t = c.beginText(x, base)
        t.setFont(face, size)
        if hscale != 100.0:
            t.setHorizScale(hscale)
        t.textOut(text)
        c.drawText(t)


def _wrap(text: str, face: str, size: float, width: float, lines: int) -> list[str]:
    out, cur = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(cur + ch, face, size) > width and cur:
            out.append(cur)
            cur = ch.lstrip()
        else:
            cur += ch
    if cur:
        out.append(cur)
    if len(out) > lines:
        out = out[: lines - 1] + ["".join(out[lines - 1:])]
    return out


def _amount_text(value: str, style: str) -> tuple[str, str]:
    """(thousands part, last three digits) for style ``split``; (whole, "") otherwise."""
    v = int(value)
    if style == "split":
        if v >= 1000:
            return f"{v // 1000:,}", f"{v % 1000:03d}"
        return "", str(v)
    return (f"{v:,}" if style == "comma" else str(v)), ""


def era_title(year: int) -> str:
    ey = year - ERA_START_YEAR["令"]
    return f"令和{'元' if ey == 1 else ey}年分"


def draw_form(c: Canvas, fc: FormContent, x_pt: float, top_pt: float, scale: float, ink: Ink,
              seal: bool = False) -> tuple[float, float, float, float]:
    """Draw one form with its top-left corner at (x_pt, top_pt); returns its bbox in page points (x0, y0, x1, y1)."""
    _version, lay = salary_layout(fc.tax_year)
    p = _Pen(c, x_pt, top_pt, scale)
    g = font("gothic")
    vf = font(fc.payer.font)
    W, H = lay["size_mm"]

    # ---- pre-printed frame and labels: one Form XObject per canvas, version and ink, placed by a transform
    frame = f"frame{_version}_{'%02x%02x%02x' % tuple(int(v * 255) for v in ink.frame)}"
    drawn = c.__dict__.setdefault("_taxcheck_frames", set())
    if frame not in drawn:
        c.beginForm(frame, lowerx=0, lowery=-H * mm, upperx=W * mm, uppery=0)
        _draw_frame(c, lay, ink)
        c.endForm()
        drawn.add(frame)
    c.saveState()
    c.translate(x_pt, top_pt)
    c.scale(scale, scale)
    c.doForm(frame)
    c.restoreState()

    # ---- printed values
    c.setFillColorRGB(*ink.value)
    fields = lay["fields"]
    boxes = lay["boxes"]
    f = fc.fields
    vpt = lay["value_pt"]
    title = lay["title"]
    p.text(title["year_rect"], era_title(fc.tax_year), title["pt"], g, "right")
    style = fc.payer.amount_style
    for name, spec in fields.items():
        value = f.get(name, "")
        align = spec["align"]
        pt = spec.get("pt", vpt)
        r = spec["rect"]
        if align == "right" and value:
            whole, low = _amount_text(value, style if "thousand_x" in spec else "comma")
            if low:
                left = [r[0], r[1], spec["thousand_x"] - 0.6, r[3]]
                right = [spec["thousand_x"] - 0.6, r[1], r[2], r[3]]
                p.text(left, whole, pt, vf, "right")
                p.text(right, low, pt, vf, "right")
            else:
                p.text(r, whole, pt, vf, "right")
        elif align == "cells" and value:
            cells = spec["cells"][len(spec["cells"]) - len(value):]
            for ch, cell in zip(value, cells):
                p.text(cell, ch, pt, vf)
        elif align in ("left", "center") and value:
            if spec.get("lines", 1) > 1:
                text = value
                if name == "recipient_address" and fc.payer.fullwidth_digits:
                    text = text.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
                size = pt * scale
                lines = _wrap(text, vf, size, (r[2] - r[0]) * p.k, spec["lines"])
                lh = (r[3] - r[1]) / spec["lines"]
                for i, line in enumerate(lines):
                    p.text([r[0], r[1] + i * lh, r[2], r[1] + (i + 1) * lh], line, pt, vf, "left")
            elif name in ("spouse_present", "spouse_elderly", "otsu", "self_disabled_special", "self_disabled_other",
                          "widow", "single_parent", "working_student"):
                p.text(r, MARK, pt, vf)
            elif name == "recipient_kana":
                kana = jaconv.z2h(value, kana=True, ascii=False, digit=False) if fc.payer.halfwidth_kana else value
                p.text(r, kana, pt, vf, "left")
            elif name in ("recipient_name", "payer_name"):
                p.text(r, value.replace(" ", "　"), pt, vf, "left")
            else:
                p.text(r, value, pt, vf, align)
    # dependants' rows
    for name, people in (("dependents_named", fc.dependants), ("under16_named", fc.under16)):
        for row, person in zip(fields[name]["rows"], people):
            kana = jaconv.z2h(person.kana, kana=True, ascii=False, digit=False) if fc.payer.halfwidth_kana else person.kana
            p.text(row["kana"], kana, 6.0, vf, "left")
            p.text(row["name"], person.name, 9.0, vf, "left")
            if person.cls:
                p.text(row["class"], person.cls, 7.0, vf)
            p.text(row["my_number"], person.my_number, 8.0, vf, "left")
    # dates
    if fc.date_print:
        mark, ey, m, d = fc.date_print
        spec = fields["hire_date" if mark == "就職" else "retire_date"]
        p.text(spec["mark"], MARK, 9, vf)
        for key, v in zip(("year", "month", "day"), (ey, m, d)):
            p.text(spec["parts"][key], str(v), 10, vf)
    era, ey, m, d = fc.birth_print
    spec = fields["birth_date"]
    p.text(spec["era_marks"][era], MARK, 9, vf)
    for key, v in zip(("year", "month", "day"), (ey, m, d)):
        p.text(spec["parts"][key], str(v), 10, vf)
    # boxes without a results column
    p.text(boxes["kind"], fc.kind, 9.5, vf)
    if fc.role:
        p.text(boxes["recipient_role"], fc.role, 9, vf, "left")
    if fc.recipient_number:
        p.text(boxes["recipient_number"], fc.recipient_number, 8, vf, "left")
    p.text(boxes["payer_phone"], fc.payer.phone, 9, vf, "left")
    if fc.spouse is not None:
        sp = fc.spouse
        kana = jaconv.z2h(sp.kana, kana=True, ascii=False, digit=False) if fc.payer.halfwidth_kana else sp.kana
        p.text(boxes["spouse_kana"], kana, 6.5, vf, "left")
        p.text(boxes["spouse_name"], sp.name, 9.5, vf, "left")
        p.text(boxes["spouse_my_number"], sp.my_number, 8.5, vf, "left")
    for key, value in fc.breakdown.items():
        if value and key in boxes:
            p.text(boxes[key], value, 7.5, vf, "right" if key in ("spouse_income", "housing_breakdown_4") or
                   key.startswith("life") else "left")
    if seal:  # centred near the end of the printed name, so that the 印 covers part of it
        r = fields["payer_name"]["rect"]
        name_mm = pdfmetrics.stringWidth(fc.payer.name.replace(" ", "　"), vf, fields["payer_name"].get("pt", vpt)) / mm
        cx = min(r[0] + name_mm - 4.0, r[2] - 8.0)
        cy = (r[1] + r[3]) / 2
        _seal(c, p, [cx - 6.5, cy - 6.5, cx + 6.5, cy + 6.5], fc.payer.name)
    return p.X(0), p.Y(H), p.X(W), p.Y(0)


def _draw_frame(c: Canvas, lay: dict, ink: Ink) -> None:
    """The pre-printed part of the form at scale 1 with its top-left corner at the origin."""
    p = _Pen(c, 0.0, 0.0, 1.0)
    g = font("gothic")
    W, H = lay["size_mm"]
    c.setStrokeColorRGB(*ink.frame)
    c.setFillColorRGB(*ink.frame)
    for r in lay["cells"]:
        p.rect(r, 0.35)
    p.rect([0, lay["cells"][0][1], W, H - 1.0], 1.0)
    for lab in lay["labels"]:
        p.text(lab["rect"], lab["text"], lab["pt"], g, lab.get("align", "center"), lab.get("vertical", False))


def _seal(c: Canvas, p: _Pen, r: list[float], payer_name: str) -> None:
    """A red 印 (company or personal seal) stamped over the payer's name, slightly translucent."""
    c.saveState()
    c.setStrokeColorRGB(*SEAL_RED)
    c.setFillColorRGB(*SEAL_RED)
    c.setStrokeAlpha(0.8)
    c.setFillAlpha(0.8)
    cx, cy = (p.X(r[0]) + p.X(r[2])) / 2, (p.Y(r[1]) + p.Y(r[3])) / 2
    rad = min(r[2] - r[0], r[3] - r[1]) / 2 * p.k
    c.setLineWidth(1.4 * p.scale)
    c.circle(cx, cy, rad, stroke=1, fill=0)
    c.circle(cx, cy, rad * 0.86, stroke=1, fill=0)
    stem = payer_name
    for legal in ("株式会社", "有限会社", "合同会社", "医療法人社団", "社会福祉法人"):
        stem = stem.replace(legal, "")
    stem = stem.split("　")[0]
    chars = (stem + "之印")[:4] if len(stem) < 4 else stem[:4]
    g = font("mincho")
    size = rad * 0.62
    c.setFont(g, size)
    # two columns read right to left, top to bottom (traditional seal layout)
    for i, ch in enumerate(chars):
        col = 0 if i < 2 else 1
        row = i % 2
        x = cx + (0.28 if col == 0 else -0.28) * rad * 1.1
        y = cy + (0.12 if row == 0 else -0.55) * rad
        c.drawCentredString(x, y, ch)
    c.restoreState()


def draw_cover_letter(c: Canvas, payer_name: str, payer_address: str, year: int) -> None:
    """A page with no 個人別明細書: the 総括表-like covering letter many payers send first."""
    g = font("mincho")
    c.setFillColorRGB(0, 0, 0)
    c.setFont(g, 16)
    c.drawCentredString(A4_PT[0] / 2, A4_PT[1] - 40 * mm, f"{era_title(year)} 給与支払報告書（総括表）の送付について")
    c.setFont(g, 11)
    lines = ["練馬区長 殿", "", f"所在地 {payer_address}", f"名称 {payer_name}", "",
             "標記について、別添のとおり個人別明細書を提出いたします。", "ご査収のほどよろしくお願いいたします。", "",
             "提出人員 別紙のとおり", "担当者 総務部 人事課"]
    y = A4_PT[1] - 65 * mm
    for line in lines:
        c.drawString(25 * mm, y, line)
        y -= 9 * mm


def new_canvas(buf: io.BytesIO, encrypt: object | None = None) -> Canvas:
    """An A4 portrait canvas with fixed metadata (invariant=1: no dates or random ids; identical bytes per seed)."""
    c = Canvas(buf, pagesize=A4_PT, invariant=1, pageCompression=1, encrypt=encrypt)
    c.setAuthor("taxcheck samples")
    c.setTitle("給与支払報告書（個人別明細書） sample")
    c.setCreator("taxcheck.samples")
    c.setProducer("taxcheck.samples (reportlab)")
    return c


__all__ = ["A4_PT", "DROPOUT_INKS", "Ink", "draw_cover_letter", "draw_form", "era_title", "new_canvas", "dt"]
