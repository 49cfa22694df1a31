"""Ingest: every container becomes pages; every bad file becomes a quarantine entry (never an exception)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from taxcheck.extract import read_document
from taxcheck.ingest import load_document

GOTHIC = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"


def _pdf(path: Path, text: str = "給与支払報告書（個人別明細書） 支払金額 4,520,000", encrypt=None, image: Image.Image | None = None) -> Path:
    pdfmetrics.registerFont(TTFont("IPAGothicT", GOTHIC))
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(210 * mm, 297 * mm), encrypt=encrypt)
    if image is not None:
        from reportlab.lib.utils import ImageReader

        c.drawImage(ImageReader(image), 0, 0, 210 * mm, 297 * mm)
    else:
        c.setFont("IPAGothicT", 12)
        c.drawString(20 * mm, 270 * mm, text)
    c.showPage()
    c.save()
    path.write_bytes(buf.getvalue())
    return path


def _page_image(w=600, h=400) -> Image.Image:
    img = Image.new("RGB", (w, h), "white")
    arr = np.asarray(img).copy()
    arr[100:120, 50:550] = 0
    return Image.fromarray(arr)


def test_text_layer_pdf_gives_words_and_an_image(tmp_path):
    res = load_document(_pdf(tmp_path / "a.pdf"), tmp_path)
    assert res.quarantined is None and len(res.pages) == 1
    page = res.pages[0]
    assert page.text_source == "text_layer"
    assert "支払金額" in "".join(w.text for w in page.words)
    assert page.image.shape[2] == 3 and page.image.shape[0] > 3000  # A4 at 300 dpi
    # word positions are page pixels: the text sits near the top (270 mm from the bottom of 297 mm)
    assert all(w.bbox.y0 < 0.15 * page.image.shape[0] for w in page.words)


def test_image_only_pdf_is_rasterised_for_ocr(tmp_path):
    res = load_document(_pdf(tmp_path / "scan.pdf", image=_page_image()), tmp_path)
    assert res.quarantined is None
    page = res.pages[0]
    assert page.text_source == "ocr" and page.words is None
    assert page.image.mean() < 255  # the drawn bar is there


def test_multipage_tiff(tmp_path):
    frames = [_page_image().convert("L"), _page_image().convert("1"), _page_image()]
    path = tmp_path / "batch.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(200, 200))
    res = load_document(path, tmp_path)
    assert [p.page_no for p in res.pages] == [1, 2, 3]
    assert all(p.image.ndim == 3 and p.image.shape[2] == 3 for p in res.pages)
    assert res.pages[0].dpi == pytest.approx(200, abs=1)


def test_standard_mode_fax_gets_square_pixels(tmp_path):
    """A G3 fax in standard mode is 204 × 98 dpi: each pixel twice as tall as wide."""
    page = _page_image().convert("1")
    path = tmp_path / "fax.tif"
    page.resize((page.width, page.height // 2)).save(path, dpi=(204, 98), compression="group4")
    res = load_document(path, tmp_path)
    assert res.pages[0].dpi == pytest.approx(204, abs=1)
    h, w = res.pages[0].image.shape[:2]
    assert w == page.width and h == pytest.approx(page.height // 2 * 204 / 98, abs=1)


@pytest.mark.parametrize("declared, expected", [(72, 300), (200, 200), (300, 300)])
def test_a_resolution_that_makes_the_page_huge_is_replaced_by_a4s(tmp_path, declared, expected):
    """A phone photo of an A4 sheet, 2481 × 3508 px, saying 72 dpi: a 1.2 m page to every later stage."""
    path = tmp_path / "photo.jpg"
    _page_image(2481, 3508).save(path, dpi=(declared, declared))
    assert load_document(path, tmp_path).pages[0].dpi == pytest.approx(expected, abs=1)


@pytest.mark.parametrize("fmt, suffix", [("PNG", ".png"), ("JPEG", ".jpg")])
def test_png_and_jpeg(tmp_path, fmt, suffix):
    path = tmp_path / f"p{suffix}"
    _page_image().save(path, fmt)
    res = load_document(path, tmp_path)
    assert res.quarantined is None and len(res.pages) == 1 and res.pages[0].dpi == 300  # none declared: assume 300


@pytest.mark.parametrize("tag, turn", [(6, Image.Transpose.ROTATE_90), (3, Image.Transpose.ROTATE_180),
                                       (8, Image.Transpose.ROTATE_270)])
@pytest.mark.parametrize("fmt, suffix", [("JPEG", ".jpg"), ("PNG", ".png")])
def test_a_page_stored_turned_is_turned_as_its_exif_orientation_says(tmp_path, tag, turn, fmt, suffix):
    """Phones and some scanners store the pixels as the sensor saw them, with an EXIF orientation tag that every
    viewer honours; the page is read the way a clerk sees it."""
    upright = _page_image()
    exif = Image.Exif()
    exif[0x0112] = tag
    path = tmp_path / f"t{suffix}"
    upright.transpose(turn).save(path, fmt, exif=exif.tobytes(), dpi=(200, 200))
    page = load_document(path, tmp_path).pages[0]
    assert page.image.shape[:2] == (400, 600) and page.dpi == pytest.approx(200, abs=0.01)
    ink = page.image[:, :, 0] < 128
    assert ink[100:120, 50:550].mean() > 0.9 and ink.sum() < 1.1 * 20 * 500  # the bar is where it is upright


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_a_16_bit_grey_scan_keeps_its_greys(tmp_path, suffix):
    """Scanners set to 16-bit greyscale write such PNGs and TIFFs. Pillow's own conversion clips their samples at
    255: all but pure black came out white, and no form was found on the page."""
    grey = np.asarray(_page_image().convert("L")).copy()
    grey[200:220, 50:550] = 120  # mid-grey print, as on a light scan
    grey[300:320, 50:550] = 200
    path = tmp_path / f"g16{suffix}"
    Image.fromarray(grey.astype(np.uint16) * 257).save(path)
    assert Image.open(path).mode == "I;16"
    page = load_document(path, tmp_path).pages[0]
    assert np.array_equal(page.image[:, :, 0], grey) and np.array_equal(page.image[:, :, 2], grey)


def test_source_is_relative_with_slashes(tmp_path):
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    path = sub / "x.png"
    _page_image().save(path)
    assert load_document(path, tmp_path).source == "a/b/x.png"


# ---- one test per kind of bad input -----------------------------------------------------------------

def test_empty_file(tmp_path):
    p = tmp_path / "empty.pdf"
    p.write_bytes(b"")
    assert load_document(p, tmp_path).quarantined.code == "empty_file"


def test_truncated_pdf(tmp_path):
    whole = _pdf(tmp_path / "whole.pdf").read_bytes()
    p = tmp_path / "cut.pdf"
    p.write_bytes(whole[: len(whole) * 3 // 5])
    q = load_document(p, tmp_path).quarantined
    assert q.code == "truncated_pdf" and "PDF" in q.reason


def test_encrypted_pdf(tmp_path):
    p = _pdf(tmp_path / "locked.pdf", encrypt=StandardEncryption("secret", ownerPassword="owner", canPrint=1))
    q = load_document(p, tmp_path).quarantined
    assert q.code == "encrypted_pdf" and "パスワード" in q.reason


def test_text_file_named_png(tmp_path):
    p = tmp_path / "staff_list.png"
    p.write_bytes("氏名,支払金額\n山田 太郎,4520000\n".encode("utf-8"))
    assert load_document(p, tmp_path).quarantined.code == "not_an_image"


def test_truncated_image(tmp_path):
    buf = io.BytesIO()
    _page_image().save(buf, "PNG")
    p = tmp_path / "cut.png"
    p.write_bytes(buf.getvalue()[:400])
    assert load_document(p, tmp_path).quarantined.code in ("truncated_image", "not_an_image")


def test_unsupported_type(tmp_path):
    p = tmp_path / "notes.docx"
    p.write_bytes(b"PK\x03\x04 not a form")
    assert load_document(p, tmp_path).quarantined.code == "unsupported_type"


def test_no_form_found_reads_but_quarantines(tmp_path):
    """A readable page without a 給与支払報告書 title (a cover letter) yields no form (real OCR)."""
    img = Image.new("RGB", (1240, 800), "white")
    from PIL import ImageDraw, ImageFont

    ImageDraw.Draw(img).text((80, 100), "送付状 いつもお世話になっております。", font=ImageFont.truetype(GOTHIC, 48), fill="black")
    p = tmp_path / "letter.png"
    img.save(p, dpi=(150, 150))
    res = read_document(p, tmp_path)
    assert res.forms == [] and res.quarantined.code == "no_form_found"
    assert "給与支払報告書" in res.quarantined.reason


def test_read_document_never_raises_on_garbage(tmp_path):
    p = tmp_path / "junk.pdf"
    p.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20 + b"\n%%EOF\n")
    res = read_document(p, tmp_path)
    assert res.forms == [] and res.quarantined is not None


def test_page_that_crashes_marks_the_file_for_retry_naming_the_page(tmp_path, monkeypatch):
    """issue: a crash on one page of a multi-page file used to drop that page's forms silently.

    The crash is injected (a mock is the only way to cause an unexpected reader fault); the file is real.
    """
    import taxcheck.extract.prepare as prepare

    p = tmp_path / "two.tif"
    _page_image().save(p, save_all=True, append_images=[_page_image()], dpi=(200, 200))
    real = prepare._prepare

    def crash_on_page_2(page, *args):
        if page.page_no == 2:
            raise RuntimeError("simulated reader fault")
        return (yield from real(page, *args))

    monkeypatch.setattr(prepare, "_prepare", crash_on_page_2)
    res = read_document(p, tmp_path)
    assert res.quarantined is not None and res.quarantined.code == "read_error"
    assert "2ページ目" in res.quarantined.reason and "1ページ目" not in res.quarantined.reason


def test_pdfs_read_from_threads_at_once_do_not_corrupt_the_process(tmp_path):
    """The nightly flow reads chunks in threads; unguarded pdfium aborts with a double free. Run in a
    child so that, were the lock missing, the crash fails this test instead of killing pytest."""
    import subprocess
    import sys

    pdf = Path(__file__).resolve().parents[1] / "sample_docs" / "003_pdf_text_2up.pdf"
    child = f"""
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from taxcheck.ingest.pdf import render_pages
pdf = Path({str(pdf)!r})
with ThreadPoolExecutor(4) as pool:
    shapes = {{p.shape for pages in pool.map(lambda _: render_pages(pdf, 20), range(400)) for p in pages}}
print(len(shapes))
"""
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1"
