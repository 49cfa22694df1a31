"""The reading stage's entry point: one file → its forms, upright pages, or a quarantine entry.

``read_document`` never raises for a bad input file: whatever goes wrong with one document is
reported as :class:`taxcheck.records.Quarantined` so that the nightly batch goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from taxcheck.extract.fields import FieldContext, prefetch, read_fields
from taxcheck.extract.prepare import PreparedPage, ReadSettings, prepare_page
from taxcheck.ingest import QUARANTINE_REASONS, load_document
from taxcheck.layout.snap import line_masks
from taxcheck.layout.template import load_layout
from taxcheck.ocr import get_engine
from taxcheck.ocr.base import OcrEngine, OcrUnavailable
from taxcheck.records import BBox, Form, Page, Quarantined

log = logging.getLogger(__name__)


@dataclass
class DocumentResult:
    """Everything read from one input file."""

    source: str  # path relative to the input root, "/" separators
    forms: list[Form] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)  # upright pages, same page numbers as forms
    quarantined: Quarantined | None = None


def _label_boxes(form) -> list[BBox]:
    out = []
    for lab in form.version.labels:
        if len(lab.text) <= 2:  # the small 千/円/内/人 marks printed inside value boxes
            out.append(form.rect_to_page(lab.rect))
    return out


def _contexts(prepared: PreparedPage, engine: OcrEngine | None) -> list[FieldContext]:
    """A reading context for each form located on a prepared page."""
    page = prepared.page
    masks = None
    if page.text_source == "ocr" and prepared.forms:
        masks = line_masks(page.image, prepared.forms[0].scale)
    return [FieldContext(located, page.words or [], prepared.clean, page.text_source, _label_boxes(located),
                         engine if page.text_source == "ocr" else None, line_masks=masks)
            for located in prepared.forms]


def forms_of_pages(pages: list[PreparedPage], engine: OcrEngine | None = None) -> list[Form]:
    """Field values of every form located on a document's prepared pages, page by page in reading order.

    The boxes of all its scanned forms are OCRed together (:func:`prefetch`): one Tesseract run per kind of
    box for the document, as for the two forms of a 2-up sheet, not one per page (a run costs ~0.1 s to start)."""
    contexts = [_contexts(prepared, engine) for prepared in pages]
    prefetch([(ctx, located.tax_year) for prepared, ctxs in zip(pages, contexts)
              for ctx, located in zip(ctxs, prepared.forms)])
    forms: list[Form] = []
    for prepared, ctxs in zip(pages, contexts):
        page = prepared.page
        h, w = page.image.shape[:2]
        for slot, (located, ctx) in enumerate(zip(prepared.forms, ctxs), start=1):
            b = located.bbox
            forms.append(Form(
                source=page.source, page=page.page_no, slot=slot, form="salary_report", tax_year=located.tax_year,
                fields=read_fields(ctx, located.tax_year),
                bbox=BBox(max(0, b.x0), max(0, b.y0), min(w, b.x1), min(h, b.y1)),
                layout_version=located.version.name, rotation=page.rotation,
            ))
    return forms


def read_document(path: Path, root: Path, year_hint: int | None = None, *,
                  engine: OcrEngine | None = None, settings: ReadSettings | None = None) -> DocumentResult:
    """Read every form of one file (see module docstring). Raises only OcrUnavailable."""
    ingested = load_document(Path(path), Path(root))
    result = DocumentResult(ingested.source, quarantined=ingested.quarantined)
    if ingested.quarantined:
        return result
    engine = engine or get_engine()
    settings = settings or ReadSettings()
    layout = load_layout()
    failed: list[int] = []
    prepared: list[PreparedPage] = []
    for page in ingested.pages:
        try:
            prepared.append(prepare_page(page, engine, layout, year_hint, settings))
            result.pages.append(prepared[-1].page)
        except OcrUnavailable:
            raise
        except Exception as e:  # noqa: BLE001 - one bad page must not stop the batch
            log.warning("page %d of a document could not be read (%s)", page.page_no, type(e).__name__)
            result.pages.append(page)
            failed.append(page.page_no)
    try:
        result.forms = forms_of_pages(prepared, engine)
    except OcrUnavailable:
        raise
    except Exception as e:  # noqa: BLE001
        log.warning("the boxes of a document could not be read (%s)", type(e).__name__)
        failed = sorted(failed + [p.page.page_no for p in prepared])
    if failed:  # never lose a page silently: the whole file is retried by the next run (code read_error)
        pages = "・".join(str(n) for n in failed)
        result.quarantined = Quarantined(
            result.source, f"{pages}ページ目を読み取れませんでした。{QUARANTINE_REASONS['read_error']}", "read_error")
    elif not result.forms:
        result.quarantined = Quarantined(result.source, QUARANTINE_REASONS["no_form_found"], "no_form_found")
    return result
