"""The reading stage's entry point: one file → its forms, upright pages, or a quarantine entry.

A few files are read as one lot (``read_documents``): the forms on all their pages are located first (their
page passes read together), then the boxes of all their forms are OCRed together, then each file's fields are
read. ``read_document`` is a lot of one.
Neither raises for a bad input file: whatever goes wrong with one document is reported as
:class:`taxcheck.records.Quarantined` so that the nightly batch goes on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from taxcheck.extract.fields import FieldContext, prefetch, read_fields
from taxcheck.extract.prepare import PreparedPage, ReadSettings, prepare_pages
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
    seconds: float = 0.0  # time spent reading it (with its share of a reading shared with other documents)


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


@dataclass
class _Located:
    """A document between its page passes and the reading of its boxes."""

    result: DocumentResult
    pages: list[PreparedPage] = field(default_factory=list)
    contexts: list[list[FieldContext]] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # numbers of the pages that could not be read
    seconds: float = 0.0

    def jobs(self) -> list[tuple[FieldContext, int | None]]:
        """(context, tax year) of each form located: what :func:`prefetch` reads."""
        return [(ctx, located.tax_year) for prepared, ctxs in zip(self.pages, self.contexts)
                for ctx, located in zip(ctxs, prepared.forms)]

    def forms(self) -> list[Form]:
        """The field values of every form located, page by page in reading order."""
        prefetch(self.jobs())  # nothing left to do when read_documents did it
        forms: list[Form] = []
        for prepared, ctxs in zip(self.pages, self.contexts):
            page = prepared.page
            h, w = page.image.shape[:2]
            for slot, (located, ctx) in enumerate(zip(prepared.forms, ctxs), start=1):
                b = located.bbox
                forms.append(Form(
                    source=page.source, page=page.page_no, slot=slot, form="salary_report",
                    tax_year=located.tax_year, fields=read_fields(ctx, located.tax_year),
                    bbox=BBox(max(0, b.x0), max(0, b.y0), min(w, b.x1), min(h, b.y1)),
                    layout_version=located.version.name, rotation=page.rotation,
                ))
        return forms


def _locate(paths: list[Path], root: Path, year_hint: int | None, engine: OcrEngine,
            settings: ReadSettings) -> list[_Located]:
    """Ingest each file, then find the forms on every page of them, their page passes read together
    (:func:`prepare_pages`; one bad page is a failed page, not a crash). Each document's ``seconds`` holds its
    ingest and its share of the shared time, in proportion to its pages."""
    docs: list[_Located] = []
    pages: list[tuple[_Located, Page]] = []
    for path in paths:
        t0 = time.perf_counter()
        ingested = load_document(Path(path), Path(root))
        doc = _Located(DocumentResult(ingested.source, quarantined=ingested.quarantined))
        doc.seconds = time.perf_counter() - t0
        docs.append(doc)
        pages += [(doc, page) for page in ([] if ingested.quarantined else ingested.pages)]
    t0 = time.perf_counter()
    prepared_pages = prepare_pages([page for _, page in pages], engine, load_layout(), year_hint, settings)
    for (doc, page), prepared in zip(pages, prepared_pages):
        try:
            if isinstance(prepared, Exception):
                raise prepared
            contexts = _contexts(prepared, engine)
        except OcrUnavailable:
            raise
        except Exception as e:  # noqa: BLE001 - one bad page must not stop the batch
            log.warning("page %d of a document could not be read (%s)", page.page_no, type(e).__name__)
            doc.result.pages.append(page)
            doc.failed.append(page.page_no)
            continue
        doc.pages.append(prepared)
        doc.contexts.append(contexts)
        doc.result.pages.append(prepared.page)
    share = (time.perf_counter() - t0) / max(1, len(pages))
    for doc, _ in pages:
        doc.seconds += share
    return docs


def _finish(doc: _Located) -> DocumentResult:
    """Read the boxes of a located document's forms, or say why it has none."""
    t0 = time.perf_counter()
    result = doc.result
    result.seconds += doc.seconds
    if result.quarantined:  # by its ingest: its time is the ingest's
        return result
    failed = doc.failed
    try:
        result.forms = doc.forms()
    except OcrUnavailable:
        raise
    except Exception as e:  # noqa: BLE001
        log.warning("the boxes of a document could not be read (%s)", type(e).__name__)
        failed = sorted(failed + [p.page.page_no for p in doc.pages])
    if failed:  # never lose a page silently: the whole file is retried by the next run (code read_error)
        pages = "・".join(str(n) for n in failed)
        result.quarantined = Quarantined(
            result.source, f"{pages}ページ目を読み取れませんでした。{QUARANTINE_REASONS['read_error']}", "read_error")
    elif not result.forms:
        result.quarantined = Quarantined(result.source, QUARANTINE_REASONS["no_form_found"], "no_form_found")
    result.seconds += time.perf_counter() - t0
    return result


def read_documents(paths: list[Path], root: Path, year_hint: int | None = None, *,
                   engine: OcrEngine | None = None, settings: ReadSettings | None = None) -> list[DocumentResult]:
    """Read every form of several files (see module docstring). Raises only OcrUnavailable.

    The boxes of all their scanned forms are OCRed together (:func:`prefetch`): one Tesseract run per kind of box
    for the lot, as for the two forms of a 2-up sheet (a run costs ~0.1 s to start, and a page has five kinds).
    Each image is still read on its own, so a form reads as it reads alone. Should that shared reading fail,
    each document reads its own boxes, so that one bad file fails alone. Each result's ``seconds`` holds its
    share of the shared reading, in proportion to its forms."""
    engine = engine or get_engine()
    settings = settings or ReadSettings()
    docs = _locate(paths, root, year_hint, engine, settings)
    jobs = [doc.jobs() for doc in docs]
    t0 = time.perf_counter()
    try:
        prefetch([job for doc_jobs in jobs for job in doc_jobs])
    except OcrUnavailable:
        raise
    except Exception as e:  # noqa: BLE001 - each document reads its own boxes in _finish
        log.warning("the boxes of %d documents could not be read together (%s)", len(docs), type(e).__name__)
    shared = time.perf_counter() - t0
    n_forms = sum(map(len, jobs)) or 1
    for doc, doc_jobs in zip(docs, jobs):
        doc.seconds += shared * len(doc_jobs) / n_forms
    return [_finish(doc) for doc in docs]


def read_document(path: Path, root: Path, year_hint: int | None = None, *,
                  engine: OcrEngine | None = None, settings: ReadSettings | None = None) -> DocumentResult:
    """Read every form of one file (see module docstring). Raises only OcrUnavailable."""
    return read_documents([path], root, year_hint, engine=engine, settings=settings)[0]
