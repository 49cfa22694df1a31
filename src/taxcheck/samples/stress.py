"""``taxcheck samples --stress``: documents the reader was *not* tuned on, with exact ground truth.

The ordinary generator draws the layout YAML exactly and degrades scans in a handful of ways; a
reader tuned on it can overfit to both. Here every document has one primary quirk (each quirk comes
up once before any repeats, then at random) and often one or two more:

* ``foreign`` / ``foreign_pdf``: another vendor's software draws the official boxes (``foreign``),
  scanned, or as a born-digital PDF with a text layer;
* paper and scanner: ``binding_shadow``, ``faded_toner``, ``punch_staple``, ``recycled_paper``, ``moire``,
  ``xy_scale``, ``skew`` (2-4 degrees), ``lean`` (5-8 degrees), ``photo`` (photographed at an angle),
  ``low_contrast``, ``crumple`` (see ``quirks``), ``dpi150`` (a 150 dpi scan), ``dither`` (a bilevel scan in
  photo mode: grey as a field of dots), ``fax_standard`` (a standard-mode fax, 204 × 98 dpi),
  ``handwriting`` (a clerk's tick or underline near a box), ``four_up`` (four forms on one landscape A4
  sheet, each about A6).

truth.json has the schema of ``generate`` (variant names ``stress_<primary quirk>``); each document's
``render`` lists every quirk applied and its parameters.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import cv2
from PIL import Image
from reportlab.lib.units import mm

from taxcheck.forms import salary_layout
from taxcheck.ingest.pdf import render_pages
from taxcheck.outputs import PRIVATE, atomic_write
from taxcheck.samples import content as C
from taxcheck.samples import foreign, quirks
from taxcheck.samples.degrade import encode, save_tiff
from taxcheck.samples.generate import (
    A4_MM,
    FORM_MM,
    GENERATOR_VERSION,
    _image_pdf,
    begin,
    truth_record,
    write_truth,
)
from taxcheck.samples.render import Ink, draw_form, new_canvas

STRESS_QUIRKS = ("foreign", "foreign_pdf", "binding_shadow", "faded_toner", "punch_staple", "recycled_paper", "moire",
                 "xy_scale", "skew", "dpi150", "crumple", "handwriting", "four_up", "lean", "photo", "low_contrast",
                 "dither", "fax_standard")
EXTRA_RASTER = ("binding_shadow", "faded_toner", "punch_staple", "recycled_paper", "moire", "xy_scale", "skew",
                "crumple")
EXT = {"pdf_text": "pdf", "pdf_image": "pdf", "png": "png", "jpeg": "jpg", "tiff": "tif"}
LANDSCAPE_MM = (A4_MM[1], A4_MM[0])


def _doc_quirks(rng: random.Random, primary: str) -> list[str]:
    """The primary quirk plus a few others that a real batch would combine with it."""
    if primary in ("foreign_pdf", "fax_standard", "dither"):  # a fax or bilevel scan: its own page and container
        return [primary]
    chosen = [primary]
    if primary != "foreign" and rng.random() < 0.6:
        chosen.append("foreign")
    extras = [q for q in EXTRA_RASTER if q != primary]
    chosen += rng.sample(extras, rng.choice([0, 1, 1, 2]))
    if primary != "handwriting" and rng.random() < 0.25:
        chosen.append("handwriting")
    return chosen


def _plan(rng: random.Random, groups: list[list[C.FormContent]]) -> list[tuple[list[str], list[C.FormContent]]]:
    """Documents as (quirks, forms on its single page): every quirk first once, then at random."""
    first = list(STRESS_QUIRKS)
    plan = []
    for group in groups:
        i = 0
        while i < len(group):
            left = len(group) - i
            fits = [q for q in first if q != "four_up" or left >= 3]  # a 4-up sheet first comes with 3-4 forms
            if fits:
                primary = fits[0]
                first.remove(primary)
            else:
                primary = rng.choice(STRESS_QUIRKS)
            up = 4 if primary == "four_up" else 1
            plan.append((_doc_quirks(rng, primary), group[i:i + up]))
            i += up
    return plan


Slot = tuple[float, float, float]  # x_mm, top_mm, scale


def _slots(rng: random.Random, size: tuple[float, float], up: int) -> tuple[tuple[float, float], list[Slot]]:
    """(page size mm, [(x_mm, top_mm, scale)]) for forms of ``size`` mm, in reading order."""
    W, H = size
    if up == 1:
        s = min(rng.uniform(0.86, 1.0), (A4_MM[0] - 8) / W)
        return A4_MM, [(rng.uniform(4, A4_MM[0] - W * s - 4), rng.uniform(6, 45), s)]
    cw, ch = LANDSCAPE_MM[0] / 2, LANDSCAPE_MM[1] / 2  # about A6 each
    s = min((cw - 6) / W, (ch - 6) / H) * rng.uniform(0.96, 1.0)
    out = []
    for row in range(2):
        for col in range(2):
            x = col * cw + (cw - W * s) / 2 + rng.uniform(-1, 1)
            out.append((x, row * ch + (ch - H * s) / 2 + rng.uniform(-1, 1), s))
    return LANDSCAPE_MM, out


def _draw_page(c, rng: random.Random, forms: list[C.FormContent], names: list[str],
               seals: bool) -> tuple[list[dict], dict]:
    """Draw one page of a document; returns (placements, render details)."""
    details: dict[str, Any] = {}
    _key, official = salary_layout(forms[0].tax_year)
    if "foreign" in names or "foreign_pdf" in names:
        vendor = foreign.make_vendor(rng)
        lay = foreign.vendor_layout(official, vendor, rng)
        details["layout"], details["vendor"] = "foreign", vendor.describe()
    else:
        vendor, lay = None, official
        details["layout"] = "official"
    size = tuple(lay["size_mm"]) if vendor else FORM_MM
    page_mm, slots = _slots(rng, size, 4 if "four_up" in names else 1)
    c.setPageSize((page_mm[0] * mm, page_mm[1] * mm))
    top_pt = page_mm[1] * mm
    placed = []
    for fc, (x, top, s) in zip(forms, slots):
        seal = seals and fc.payer.seal
        if vendor:
            foreign.draw_vendor_form(c, fc, lay, vendor, x * mm, top_pt - top * mm, s, seal=seal)
        else:
            draw_form(c, fc, x * mm, top_pt - top * mm, s, Ink(), seal=seal)
        if "handwriting" in names:
            mark = foreign.draw_handwriting(c, rng, lay, x * mm, top_pt - top * mm, s)
            details.setdefault("handwriting", []).append(mark)
        placed.append({"rect_mm": [round(x, 2), round(top, 2), round(x + size[0] * s, 2), round(top + size[1] * s, 2)],
                       "scale": round(s, 4), "seal": seal, "page_mm": list(page_mm), "rotation": 0})
    if "four_up" in names:  # the perforation / cutting guides between the four forms
        c.saveState()
        c.setStrokeColorRGB(0.45, 0.45, 0.45)
        c.setLineWidth(0.3)
        c.setDash(3, 3)
        c.line(page_mm[0] / 2 * mm, 0, page_mm[0] / 2 * mm, page_mm[1] * mm)
        c.line(0, page_mm[1] / 2 * mm, page_mm[0] * mm, page_mm[1] / 2 * mm)
        c.restoreState()
    c.showPage()
    return placed, details


def _render(rng: random.Random, names: list[str], forms: list[C.FormContent]) -> tuple[bytes, str, list[dict], dict]:
    """(file bytes, container, placements, render details) of one single-page document."""
    born_digital = names == ["foreign_pdf"]
    buf = io.BytesIO()
    c = new_canvas(buf)
    placed, details = _draw_page(c, rng, forms, names, seals=not born_digital)
    c.save()
    details["quirks"] = list(names)
    if born_digital:
        details["container"] = "pdf_text"
        return buf.getvalue(), "pdf_text", placed, details
    bilevel = "fax_standard" in names or "dither" in names
    container = "tiff" if bilevel else rng.choice(["png", "jpeg", "jpeg", "pdf_image", "tiff"])
    dpi = 150 if "dpi150" in names else 204 if "fax_standard" in names else rng.choice([200, 300, 300])
    page = render_pages(buf.getvalue(), dpi)[0]
    page, scan = quirks.apply(page, dpi, names, rng)
    colour = not bilevel and ("recycled_paper" in names or "handwriting" in names or "photo" in names
                              or any(p["seal"] for p in placed))
    img = Image.fromarray(page if colour else cv2.cvtColor(page, cv2.COLOR_RGB2GRAY))
    details.update({"container": container, "dpi": dpi, "color": colour, "scan": scan})
    quality = rng.randint(70, 90)
    if bilevel:
        data = _bilevel_tiff(img, dpi, "fax_standard" in names, rng, scan)
    elif container in ("png", "jpeg"):
        data = encode(img, container, dpi, quality)
    elif container == "tiff":
        out = io.BytesIO()
        save_tiff([img], out, dpi)
        data = out.getvalue()
    else:
        data = _image_pdf([img], dpi, quality)
    return data, container, placed, details


def _bilevel_tiff(img: Image.Image, dpi: int, standard: bool, rng: random.Random, scan: dict) -> bytes:
    """A black-and-white TIFF (CCITT G4): a standard-mode fax keeps every other line (204 × 98 dpi) and
    thresholds; a scanner in photo mode dithers, printing the paper's grey as dots (the paper ~80-88 % white)."""
    out = io.BytesIO()
    if standard:
        half = img.resize((img.width, img.height * 98 // dpi), Image.Resampling.BOX)
        save_tiff([half.point(lambda v: 255 if v > 150 else 0).convert("1")], out, (dpi, 98))
        scan["fax_standard"] = {"dpi": [dpi, 98]}
    else:
        paper = rng.uniform(0.80, 0.88)
        save_tiff([img.point(lambda v: int(v * paper)).convert("1")], out, dpi)  # convert("1") dithers
        scan["dither"] = {"paper": round(paper, 2)}
    return out.getvalue()


def generate_stress(out: Path, n: int, seed: int) -> Path:
    """Write ``n`` forms in stress documents (every quirk at least once when ``n`` allows) and truth.json."""
    out, rng, groups = begin(out, n, seed)
    documents: list[dict[str, Any]] = []
    truth_forms: list[dict[str, Any]] = []
    where: dict[int, str] = {}
    for doc_no, (names, forms) in enumerate(_plan(rng, groups), start=1):
        data, container, placed, details = _render(rng, names, forms)
        variant = f"stress_{names[0]}"
        name = f"{doc_no:03d}_{variant}.{EXT[container]}"
        atomic_write(out / name, data, PRIVATE)  # the documents print full 個人番号
        documents.append({"file": name, "pages": 1, "variant": variant, "broken": None, "forms": len(forms),
                          "render": details})
        for slot_no, (fc, slot) in enumerate(zip(forms, placed), start=1):
            truth_forms.append(truth_record(fc, name, 1, slot_no, variant, slot, where))
    return write_truth(out, seed, GENERATOR_VERSION + " stress", documents, truth_forms)
