"""Typed records passed between the pipeline stages.

Every record carries where it came from (file, page, box) and how sure we are, so that a
later stage, a report or a clerk can always trace a value back to the pixels it was read from.
Coordinates are pixels of the page image the record was read on (origin top-left), after the
page has been turned upright.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np

FormType = Literal["salary_report", "tax_return"]
TextSource = Literal["text_layer", "ocr"]


@dataclass(frozen=True)
class BBox:
    """Axis-aligned box in page pixels: (x0, y0) top-left, (x1, y1) bottom-right."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def contains_point(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    def to_list(self) -> list[float]:
        return [round(self.x0, 1), round(self.y0, 1), round(self.x1, 1), round(self.y1, 1)]


@dataclass(frozen=True)
class Word:
    """One word (Tesseract word or pdfplumber word) with its confidence in 0..1."""

    text: str
    confidence: float
    bbox: BBox


@dataclass
class Page:
    """One page of one input file, whatever the container: the only thing later stages see.

    ``image`` is an RGB uint8 array (H, W, 3) at ``dpi``; ``words`` is filled from a PDF text
    layer when one is usable (``text_source == "text_layer"``), otherwise by OCR.
    """

    source: str
    page_no: int
    image: np.ndarray | None
    dpi: float
    words: list[Word] | None = None
    text_source: TextSource = "ocr"
    rotation: int = 0  # degrees clockwise applied to make the page upright


@dataclass
class FieldValue:
    """A field read from a form: the raw text, its normalised value and its confidence."""

    name: str
    raw: str
    value: str | None
    confidence: float
    bbox: BBox | None = None
    source: TextSource = "ocr"
    # The form's own reading and its confidence, when the payer's other forms settled the value otherwise
    # (normalize/payers.py); None when the value is the form's own reading.
    as_read: str | None = None
    as_read_confidence: float | None = None
    # A text box re-read on its own: what the full-page pass read there, normalised alike (None when there was
    # no page pass: a text layer, or a box not re-read). Two readings that differ are a sign of a misread.
    page_read: str | None = None

    @property
    def blank(self) -> bool:
        return self.value in (None, "")


@dataclass
class Form:
    """One form found on a page: identity, geometry and the fields read from it."""

    source: str
    page: int
    slot: int
    form: FormType
    tax_year: int | None
    fields: dict[str, FieldValue] = field(default_factory=dict)
    bbox: BBox | None = None
    layout_version: str = ""
    rotation: int = 0

    def value(self, name: str) -> str | None:
        fv = self.fields.get(name)
        return None if fv is None or fv.blank else fv.value

    def amount(self, name: str) -> int | None:
        """Integer value of an amount/count field, or None when blank or not a number."""
        v = self.value(name)
        try:
            return int(v) if v is not None else None
        except ValueError:
            return None

    def date(self, name: str) -> date | None:
        """Date of a date field (ISO), or None when blank or no calendar's date (a printed 2月30日)."""
        v = self.value(name)
        try:
            return date.fromisoformat(v) if v else None
        except ValueError:
            return None

    @property
    def key(self) -> str:
        return f"{self.source}#p{self.page}s{self.slot}"


Severity = Literal["error", "warning", "info"]


@dataclass
class Finding:
    """One result of one statutory check (pandera-style: collected, never raised)."""

    code: str
    column: str
    box: str  # the box's name as printed on the form, for the clerk
    read: str | None
    expected: str | None
    message: str  # Japanese, for the clerk
    severity: Severity = "error"
    always_error: bool = False  # flag the form whatever the model says
    residual: float | None = None  # (read - expected) / scale, for the classifier

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Decision:
    """The flagging decision for one form."""

    risk: float
    flagged: bool
    reasons: list[str] = field(default_factory=list)
    drivers: list[str] = field(default_factory=list)  # features behind a model-only flag


@dataclass
class Quarantined:
    """An input that yielded no form, with a reason a clerk understands."""

    source: str
    reason: str  # Japanese sentence
    code: str  # stable machine code, e.g. "encrypted_pdf"


def form_to_dict(form: Form) -> dict[str, Any]:
    """A JSON-ready dict of a form (full values: only for files written 0600 or the store)."""
    return {
        "key": form.key,
        "source": form.source,
        "page": form.page,
        "slot": form.slot,
        "form": form.form,
        "tax_year": form.tax_year,
        "layout_version": form.layout_version,
        "rotation": form.rotation,
        "bbox": form.bbox.to_list() if form.bbox else None,
        "fields": {
            name: {
                "raw": fv.raw,
                "value": fv.value,
                "confidence": round(fv.confidence, 4),
                "bbox": fv.bbox.to_list() if fv.bbox else None,
                "source": fv.source,
                **({"as_read": fv.as_read, "as_read_confidence": fv.as_read_confidence} if fv.as_read is not None else {}),
                **({"page_read": fv.page_read} if fv.page_read is not None else {}),
            }
            for name, fv in form.fields.items()
        },
    }


def form_from_dict(d: dict[str, Any]) -> Form:
    """Inverse of :func:`form_to_dict`."""
    box = lambda b: BBox(*b) if b else None  # noqa: E731
    return Form(
        source=d["source"],
        page=int(d["page"]),
        slot=int(d["slot"]),
        form=d["form"],
        tax_year=d.get("tax_year"),
        layout_version=d.get("layout_version", ""),
        rotation=int(d.get("rotation", 0)),
        bbox=box(d.get("bbox")),
        fields={
            name: FieldValue(name, f["raw"], f["value"], float(f["confidence"]), box(f.get("bbox")), f.get("source", "ocr"),
                             f.get("as_read"), f.get("as_read_confidence"), f.get("page_read"))
            for name, f in d["fields"].items()
        },
    )
