"""``taxcheck samples``: a deterministic batch of 給与支払報告書 documents with their ground truth.

Forms come from ``content`` (people, payers and amounts that obey each year's law, plus recorded
errors and oddities), are drawn by ``render`` and, for scans, degraded by ``degrade``. Documents
cycle through every rendering variant first, then draw variants at random, so that even a small
batch holds each of them. Broken files (empty, truncated, encrypted, not an image, no form) are
added with the quarantine code the ingest stage is expected to give them.
"""

from __future__ import annotations

import copy
import io
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader

from taxcheck.ingest.pdf import render_pages
from taxcheck.outputs import PRIVATE, atomic_write
from taxcheck.rules import statutory
from taxcheck.samples import content as C
from taxcheck.samples.degrade import ScanSettings, encode, save_tiff, scan
from taxcheck.samples.render import A4_PT, DROPOUT_INKS, Ink, draw_cover_letter, draw_form, new_canvas

GENERATOR_VERSION = "taxcheck.samples 1.0"
A4_MM = (210.0, 297.0)
FORM_MM = (200.0, 168.0)
YEARS = [2019, 2019, 2020, 2021, 2022, 2023, 2024, 2025, 2025]  # the pilot year and the newest rules weigh double
ERROR_WEIGHTS = {  # relative frequency of each injected error (staff see the identity ones most)
    "wrong_year_table": 3, "income_arithmetic": 2, "deduction_sum": 2, "tax_mismatch": 2, "my_number_check_digit": 2,
    "my_number_missing": 3, "payer_number_check_digit": 1, "kana_missing": 3, "birth_date_invalid": 1,
    "birth_date_out_of_range": 1, "hire_retire_out_of_year": 1, "dependents_count_mismatch": 2,
    "spouse_amount_invalid": 1, "duplicate_resubmission": 1, "prior_job_not_noted": 1, "address_missing": 2,
}


@dataclass(frozen=True)
class Kind:
    """One rendering variant of a document."""

    name: str
    container: str  # pdf_text · pdf_image · png · jpeg · tiff
    up: int = 1  # forms per page
    pages: tuple[int, int] = (1, 1)
    dpi: int = 300
    quality: str = "clean"  # clean · scan · noisy · fax
    rotation: int = 0
    dropout: bool = False
    weight: int = 1


KINDS = [
    Kind("pdf_text", "pdf_text", pages=(1, 3), weight=4),
    Kind("pdf_text_2up", "pdf_text", up=2, pages=(1, 2), weight=3),
    Kind("scan300_png", "png", dpi=300, quality="scan", weight=2),
    Kind("scan200_jpeg", "jpeg", dpi=200, quality="noisy", weight=3),
    Kind("fax_tiff", "tiff", dpi=200, quality="fax", weight=2),
    Kind("rot90_png", "png", dpi=200, quality="scan", rotation=90),
    Kind("scan_2up_png", "png", up=2, dpi=200, quality="scan", weight=3),
    Kind("dropout_jpeg", "jpeg", dpi=300, quality="scan", dropout=True, weight=2),
    Kind("image_pdf", "pdf_image", pages=(2, 3), dpi=200, quality="noisy", weight=2),
    Kind("rot180_jpeg", "jpeg", dpi=200, quality="noisy", rotation=180),
    Kind("tiff_multipage", "tiff", pages=(2, 3), dpi=200, quality="scan", weight=2),
    Kind("image_pdf_2up", "pdf_image", up=2, pages=(1, 2), dpi=200, quality="scan", weight=2),
    Kind("rot270_png", "png", dpi=300, quality="scan", rotation=270),
    Kind("fax_2up_tiff", "tiff", up=2, dpi=200, quality="fax"),
]
EXT = {"pdf_text": "pdf", "pdf_image": "pdf", "png": "png", "jpeg": "jpg", "tiff": "tif"}


# ---- forms -----------------------------------------------------------------------------------------

class _Deck:
    """Draws codes like cards from a shuffled deck (each code ``weight`` times), refilled when empty: the
    rates stay as configured while even a small batch sees as many different codes as possible."""

    def __init__(self, rng: random.Random, weights: dict[str, int]) -> None:
        self.rng, self.weights, self.cards = rng, weights, []  # type: list[str]

    def draw(self, allowed: list[str]) -> str:
        if not any(c in allowed for c in self.cards):
            self.cards = [c for c, w in self.weights.items() for _ in range(w)]
            self.rng.shuffle(self.cards)
        card = next(c for c in self.cards if c in allowed)
        self.cards.remove(card)
        return card


def _amend(rng: random.Random, fc: C.FormContent) -> None:
    """Half of the resubmissions are amended versions (a corrected 社会保険料, so a new total and tax) rather
    than copies: the same person and payer twice, with different amounts, double-counts the salary all the same."""
    f = fc.fields
    if rng.random() < 0.5 or not f["total_deductions"] or not f["social_insurance"]:
        return
    delta = rng.choice([-12_000, -3_000, 1_000, 5_000, 24_000])
    if int(f["social_insurance"]) + delta <= 0:
        return
    f["social_insurance"] = str(int(f["social_insurance"]) + delta)
    f["total_deductions"] = str(int(f["total_deductions"]) + delta)
    f["withholding_tax"] = str(statutory.annual_tax(int(f["employment_income"]), int(f["total_deductions"]),
                                                    int(f["housing_loan_credit"] or 0), fc.tax_year))


def make_forms(rng: random.Random, n: int) -> list[list[C.FormContent]]:
    """``n`` forms in groups of one payer each, with errors and oddities at the configured rates."""
    groups: list[list[C.FormContent]] = []
    total = 0
    error_deck = _Deck(rng, ERROR_WEIGHTS)
    oddity_deck = _Deck(rng, {code: 1 for code in C.ODDITY_CODES})
    # whether a form gets an error / an oddity: decks of 40 cards hold the rate exactly per 40 forms
    has_error = _Deck(rng, {"yes": round(40 * C.ERROR_RATE), "no": 40 - round(40 * C.ERROR_RATE)})
    has_oddity = _Deck(rng, {"yes": round(40 * C.ODDITY_RATE), "no": 40 - round(40 * C.ODDITY_RATE)})
    while total < n:
        payer = C.make_payer(rng, rng.choice(YEARS))
        group: list[C.FormContent] = []
        duplicates: list[C.FormContent] = []
        for _ in range(min(rng.randint(2, 6), n - total)):
            oddity = oddity_deck.draw(C.applicable_oddities(payer.tax_year)) if has_oddity.draw(["yes", "no"]) == "yes" else None
            fc = C.make_form(rng, payer, oddity)
            if has_error.draw(["yes", "no"]) == "yes":
                allowed = C.applicable_errors(fc) + ["duplicate_resubmission"]
                for _attempt in range(6):
                    code = error_deck.draw(allowed)
                    if code == "duplicate_resubmission":
                        dup = copy.deepcopy(fc)
                        dup.errors = [{"code": code, "column": "", "corrected": "withdraw: duplicate of an earlier form"}]
                        dup._duplicate_of = fc  # type: ignore[attr-defined]
                        _amend(rng, dup)
                        duplicates.append(dup)
                        break
                    if C.inject_error(rng, fc, code):
                        break
                    allowed.remove(code)
            group.append(fc)
        room = n - total - len(group)
        group.extend(duplicates[:max(0, room)])
        groups.append(group)
        total += len(group)
    return groups


# ---- pages -----------------------------------------------------------------------------------------

def _placements(rng: random.Random, up: int) -> list[tuple[float, float, float]]:
    """(x_mm, top_mm, scale) of each form on an A4 portrait page, in reading order."""
    if up == 1:
        s = rng.uniform(0.86, 1.0)
        return [(rng.uniform(4, A4_MM[0] - FORM_MM[0] * s - 4), rng.uniform(6, 45), s)]
    s = rng.uniform(0.78, 0.83)
    half = A4_MM[1] / 2
    return [(rng.uniform(4, A4_MM[0] - FORM_MM[0] * s - 4), half * i + rng.uniform(3, half - FORM_MM[1] * s - 2), s)
            for i in range(2)]


def _draw_pages(c, rng: random.Random, pages: list[list[C.FormContent]], up: int, ink: Ink, seals: bool) -> list[list[dict]]:
    placed: list[list[dict]] = []
    for forms in pages:
        slots = []
        for fc, (x, top, s) in zip(forms, _placements(rng, up)):
            draw_form(c, fc, x * mm, A4_PT[1] - top * mm, s, ink, seal=seals and fc.payer.seal)
            slots.append({"rect_mm": [round(x, 2), round(top, 2), round(x + FORM_MM[0] * s, 2),
                                      round(top + FORM_MM[1] * s, 2)], "scale": round(s, 4),
                          "seal": seals and fc.payer.seal})
        c.showPage()
        placed.append(slots)
    return placed


def _scan_settings(rng: random.Random, kind: Kind, color: bool) -> ScanSettings:
    q = kind.quality
    if q == "clean":
        return ScanSettings(dpi=kind.dpi, color=color, rotation=kind.rotation)
    if q == "scan":
        return ScanSettings(dpi=kind.dpi, skew=rng.uniform(-0.8, 0.8), blur=rng.choice([0.0, 0.5]),
                            noise=rng.uniform(2, 5), shift_px=(rng.randint(-15, 15), rng.randint(-15, 15)),
                            color=color, rotation=kind.rotation)
    if q == "noisy":
        return ScanSettings(dpi=kind.dpi, skew=rng.choice([-1, 1]) * rng.uniform(0.8, 2.0), blur=rng.uniform(0.6, 1.1),
                            noise=rng.uniform(6, 11), shift_px=(rng.randint(-30, 30), rng.randint(-30, 30)),
                            color=color, rotation=kind.rotation)
    return ScanSettings(dpi=kind.dpi, skew=rng.uniform(-1.2, 1.2), blur=0.4, noise=12, fax=True,
                        rotation=kind.rotation)


def _render_document(rng: random.Random, kind: Kind, pages: list[list[C.FormContent]]) -> tuple[bytes, list, dict]:
    """Render one document; returns (file bytes, placements per page, render details)."""
    dropout = kind.dropout or (kind.container != "pdf_text" and kind.quality != "fax" and rng.random() < 0.12)
    ink = Ink(frame=rng.choice(DROPOUT_INKS)) if dropout else Ink()
    image = kind.container != "pdf_text"
    buf = io.BytesIO()
    c = new_canvas(buf)
    placed = _draw_pages(c, rng, pages, kind.up, ink, seals=image)
    c.save()
    pdf = buf.getvalue()
    details: dict[str, Any] = {"container": kind.container, "ink": "dropout" if dropout else "black"}
    if not image:
        return pdf, placed, details
    color = dropout or any(fc.payer.seal for p in pages for fc in p)
    settings = [_scan_settings(rng, kind, color) for _ in pages]
    images = [scan(arr, s, rng) for arr, s in zip(render_pages(pdf, kind.dpi), settings)]
    details["scan"] = [s.describe() for s in settings]
    quality = rng.randint(55, 80) if kind.quality == "noisy" else rng.randint(78, 90)
    if kind.container == "png":
        data = encode(images[0], "png", kind.dpi)
    elif kind.container == "jpeg":
        data = encode(images[0], "jpeg", kind.dpi, quality)
    elif kind.container == "tiff":
        out = io.BytesIO()
        save_tiff(images, out, kind.dpi)
        data = out.getvalue()
    else:  # image-only PDF: one JPEG per page, no text layer
        data = _image_pdf(images, kind.dpi, quality)
    return data, placed, details


def _image_pdf(images: list, dpi: int, quality: int) -> bytes:
    """An image-only PDF (no text layer), one JPEG per page, as a scanner's PDF export writes it."""
    out = io.BytesIO()
    saved = rl_config.useA85
    rl_config.useA85 = 0  # binary JPEG streams: ASCII85 would cost seconds per page
    try:
        pc = new_canvas(out)
        for img in images:
            w, h = img.size[0] * 72 / dpi, img.size[1] * 72 / dpi
            pc.setPageSize((w, h))
            pc.drawImage(ImageReader(io.BytesIO(encode(img, "jpeg", dpi, quality))), 0, 0, w, h)
            pc.showPage()
        pc.save()
    finally:
        rl_config.useA85 = saved
    return out.getvalue()


# ---- broken files ----------------------------------------------------------------------------------

def _broken_files(rng: random.Random, forms_for_pdf: list[C.FormContent]) -> list[tuple[str, bytes, str, int]]:
    """(name, bytes, quarantine code, pages) of each broken input."""
    buf = io.BytesIO()
    c = new_canvas(buf)
    _draw_pages(c, rng, [forms_for_pdf[:1]], 1, Ink(), seals=False)
    c.save()
    whole = buf.getvalue()
    enc = io.BytesIO()
    ce = new_canvas(enc, encrypt=StandardEncryption("kyuhou2026", ownerPassword="owner-kyuhou", canPrint=1))
    _draw_pages(ce, rng, [forms_for_pdf[:1]], 1, Ink(), seals=False)
    ce.save()
    letter = io.BytesIO()
    cl = new_canvas(letter)
    p = forms_for_pdf[0].payer
    draw_cover_letter(cl, p.name, p.address, p.tax_year)
    cl.showPage()
    cl.save()
    cover = scan(render_pages(letter.getvalue(), 200)[0], ScanSettings(dpi=200, skew=0.6, noise=4), rng)
    return [
        ("misc/empty_upload.pdf", b"", "empty_file", 0),
        ("misc/truncated_transfer.pdf", whole[: len(whole) * 3 // 5], "truncated_pdf", 0),
        ("misc/password_protected.pdf", enc.getvalue(), "encrypted_pdf", 1),
        ("misc/staff_list.png", "氏名,支払金額\n山田 太郎,4520000\n".encode("utf-8"), "not_an_image", 0),
        ("misc/cover_letter.png", encode(cover, "png", 200), "no_form_found", 1),
    ]


# ---- the batch -------------------------------------------------------------------------------------

def _plan(rng: random.Random, groups: list[list[C.FormContent]]) -> list[tuple[Kind, list[list[C.FormContent]]]]:
    """Documents as (kind, pages of forms): every kind once first, then weighted draws; a document holds
    one payer's forms only (a payer's batch), so a 2-up sheet may end with its lower half empty."""
    plan: list[tuple[Kind, list[list[C.FormContent]]]] = []
    first = list(KINDS)
    for group in groups:
        i = 0
        while i < len(group):
            left = len(group) - i
            fits = [k for k in first if k.up * k.pages[0] <= left]
            if fits:  # first pass: each kind once, where the payer has enough forms to fill it
                kind = fits[0]
                first.remove(kind)
            else:
                kind = rng.choices(KINDS, [k.weight for k in KINDS])[0]
            pages = []
            for _ in range(rng.randint(*kind.pages)):
                if i >= len(group):
                    break
                pages.append(group[i:i + kind.up])
                i += kind.up
            plan.append((kind, pages))
    return plan


def _clean(out: Path) -> None:
    """Remove the files a previous run listed in truth.json (never anything else)."""
    truth = out / "truth.json"
    if not truth.is_file():
        return
    try:
        old = json.loads(truth.read_text(encoding="utf-8"))
    except ValueError:
        return
    root = out.resolve()
    for d in old.get("documents", []):
        p = (out / d["file"]).resolve()
        if p.is_file() and root in p.parents:
            p.unlink()


def begin(out: Path, n: int, seed: int) -> tuple[Path, random.Random, list]:
    """Shared start of a generator run: check ``n``, empty ``out`` of a previous run's files, draw the forms."""
    if n < 1:
        raise ValueError("n must be at least 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    rng = random.Random(seed)
    return out, rng, make_forms(rng, n)


def generate(out: Path, n: int, seed: int) -> Path:
    """Write ``n`` forms in documents of every variant (plus broken files) to ``out``; returns truth.json's path."""
    out, rng, groups = begin(out, n, seed)
    documents: list[dict[str, Any]] = []
    truth_forms: list[dict[str, Any]] = []
    where: dict[int, str] = {}
    for doc_no, (kind, pages) in enumerate(_plan(rng, groups), start=1):
        data, placed, details = _render_document(rng, kind, pages)
        name = f"{doc_no:03d}_{kind.name}.{EXT[kind.container]}"
        atomic_write(out / name, data, PRIVATE)  # the documents print full 個人番号
        documents.append({"file": name, "pages": len(pages), "variant": kind.name, "broken": None,
                          "forms": sum(map(len, pages)), "render": details})
        for page_no, (page_forms, slots) in enumerate(zip(pages, placed), start=1):
            for slot_no, (fc, slot) in enumerate(zip(page_forms, slots), start=1):
                placement = {**slot, "page_mm": list(A4_MM), "rotation": kind.rotation}
                truth_forms.append(truth_record(fc, name, page_no, slot_no, kind.name, placement, where))
    (out / "misc").mkdir(exist_ok=True)
    for name, data, code, npages in _broken_files(rng, groups[0]):
        atomic_write(out / name, data, PRIVATE)  # the documents print full 個人番号
        documents.append({"file": name, "pages": npages, "variant": "broken", "broken": code, "forms": 0})
    return write_truth(out, seed, GENERATOR_VERSION, documents, truth_forms)


def truth_record(fc: Any, source: str, page: int, slot: int, variant: str, placement: dict[str, Any],
                 where: dict[int, str]) -> dict[str, Any]:
    """The truth.json entry of one placed form; ``where`` maps forms already placed to their keys (for duplicates)."""
    where[id(fc)] = f"{source}#p{page}s{slot}"
    dup_of = getattr(fc, "_duplicate_of", None)
    if dup_of is not None:
        fc.errors[0]["corrected"] = f"withdraw: duplicate of {where.get(id(dup_of), 'an earlier form')}"
    t = fc.truth()
    return {
        "source": source, "page": page, "slot": slot, "form": "salary_report", "tax_year": fc.tax_year,
        "variant": variant, "fields": t["fields"], "errors": t["errors"], "oddities": t["oddities"],
        "needs_correction": t["needs_correction"], "layout_version": "2019" if fc.tax_year == 2019 else "2020",
        "placement": placement,
    }


def write_truth(out: Path, seed: int, generator: str, documents: list[dict[str, Any]],
                forms: list[dict[str, Any]]) -> Path:
    """Write truth.json atomically; it holds full 個人番号 (synthetic, but handled like real ones), so 0600."""
    truth = {"seed": seed, "generator": generator, "n_forms": len(forms), "documents": documents, "forms": forms}
    return atomic_write(out / "truth.json", json.dumps(truth, ensure_ascii=False, indent=1) + "\n", mode=PRIVATE)
