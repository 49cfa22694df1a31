"""PDF → pages. A usable text layer gives words with exact positions (pdfplumber); every page
is also rendered (pypdfium2, 300 dpi) so that layout, OCR fallback and report crops all have
an image.

PDFium is not thread-safe, not even across different documents (pypdfium2's docs: concurrent
calls "crash or corrupt the process"); the nightly flow reads chunks in threads, so every pdfium
call here runs under one process-wide lock. Rendering is a small part of a page's time; OCR,
which runs outside the lock, dominates.

A text layer is "usable" when it has enough characters and few of them are ``(cid:NNN)``
glyphs without a Unicode mapping; otherwise the page is OCRed like a scan.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from taxcheck.ingest.errors import IngestError
from taxcheck.records import BBox, Page, Word

log = logging.getLogger(__name__)

RENDER_DPI = 300.0
POINTS_PER_INCH = 72.0
MIN_TEXT_CHARS = 20  # fewer characters than this on a page: treat as image-only
MAX_CID_SHARE = 0.05  # more unmapped glyphs than this: the text layer is garbage
TEXT_LAYER_CONFIDENCE = 0.99
EOF_WINDOW = 2048  # %%EOF must appear within the last bytes of a complete PDF
PDFIUM_LOCK = threading.Lock()  # one pdfium call at a time in this process


def _check_complete(path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - EOF_WINDOW))
        tail = fh.read()
    if b"%%EOF" not in tail:
        raise IngestError("truncated_pdf", "no %%EOF")


def _open(source: Path | bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
    except pdfium.PdfiumError as e:
        msg = str(e).lower()
        if "password" in msg or "security" in msg:
            raise IngestError("encrypted_pdf") from e
        raise IngestError("truncated_pdf", "pdfium could not open the file") from e


def _text_layer_words(path: Path, scale: float) -> dict[int, list[Word]]:
    """Usable text-layer words per 1-based page number (pages without a usable layer are absent)."""
    import pdfplumber

    out: dict[int, list[Word]] = {}
    try:
        with pdfplumber.open(str(path)) as pdf:
            for i, page in enumerate(pdf.pages, start=1):
                chars = [c for c in page.chars if c.get("text", "").strip()]
                if len(chars) < MIN_TEXT_CHARS:
                    continue
                cid = sum(1 for c in chars if c["text"].startswith("(cid:") or c["text"] == "\ufffd")
                if cid > MAX_CID_SHARE * len(chars):
                    continue
                words = page.extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False, use_text_flow=False)
                # pdfplumber's top/bottom are measured from the top of the page, as our pixels are.
                out[i] = [
                    Word(w["text"], TEXT_LAYER_CONFIDENCE,
                         BBox(w["x0"] * scale, w["top"] * scale, w["x1"] * scale, w["bottom"] * scale))
                    for w in words
                    if w["text"].strip()
                ]
    except Exception as e:  # noqa: BLE001 - a text layer pdfplumber cannot parse: OCR the render instead
        log.info("text layer unreadable (%s); falling back to OCR", type(e).__name__)
        return {}
    return out


def render_pages(source: Path | bytes, dpi: float) -> list[np.ndarray]:
    """Every page of a PDF file (or its bytes) as RGB uint8 pixels at ``dpi``; the one place pdfium
    renders. All pdfium objects are closed before the lock is released."""
    scale = dpi / POINTS_PER_INCH
    with PDFIUM_LOCK:
        doc = _open(source)
        try:
            if len(doc) == 0:
                raise IngestError("no_pages")
            images = []
            for i in range(len(doc)):
                pdf_page = doc[i]
                try:
                    bitmap = pdf_page.render(scale=scale, rotation=0)
                    try:
                        images.append(np.asarray(bitmap.to_pil().convert("RGB")))
                    finally:
                        bitmap.close()
                finally:
                    pdf_page.close()
            return images
        except pdfium.PdfiumError as e:
            raise IngestError("truncated_pdf", "page could not be rendered") from e
        finally:
            doc.close()


def read_pdf(path: Path, source: str, dpi: float = RENDER_DPI) -> list[Page]:
    """Every page rendered at ``dpi``, with text-layer words where the layer is usable."""
    _check_complete(path)
    pages = [Page(source=source, page_no=i + 1, image=image, dpi=dpi)
             for i, image in enumerate(render_pages(path, dpi))]
    for page_no, words in _text_layer_words(path, dpi / POINTS_PER_INCH).items():
        page = pages[page_no - 1]
        page.words = words
        page.text_source = "text_layer"
    return pages
