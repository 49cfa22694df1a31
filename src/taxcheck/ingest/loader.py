"""Dispatch on what a file *is* (magic bytes), not on what its name says, then read its pages.

The registry ``READERS`` maps a container kind to its reader; a new container is one entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from taxcheck.ingest.errors import IngestError
from taxcheck.ingest.images import read_image
from taxcheck.ingest.pdf import read_pdf
from taxcheck.records import Page, Quarantined

# Extensions we accept; the content decides how it is read.
SUPPORTED_SUFFIXES = {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg"}
IMAGE_SUFFIXES = {".tif", ".tiff", ".png", ".jpg", ".jpeg"}

READERS: dict[str, Callable[[Path, str], list[Page]]] = {
    "pdf": read_pdf,
    "tiff": read_image,
    "png": read_image,
    "jpeg": read_image,
}


@dataclass
class IngestResult:
    """Pages of one file, or why there are none."""

    source: str
    pages: list[Page] = field(default_factory=list)
    quarantined: Quarantined | None = None


def detect_kind(head: bytes) -> str | None:
    """Container kind from the first bytes of a file, None when unknown."""
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def relative_source(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def load_document(path: Path, root: Path) -> IngestResult:
    """Read every page of ``path``; a bad file gives ``quarantined`` instead of an exception."""
    source = relative_source(Path(path), Path(root))
    try:
        pages = _load(Path(path), source)
        if not pages:
            raise IngestError("no_pages")
        return IngestResult(source, pages)
    except IngestError as e:
        return IngestResult(source, [], Quarantined(source, e.reason, e.code))
    except Exception as e:  # noqa: BLE001 - one bad file must not stop the batch
        err = IngestError("read_error", type(e).__name__)
        return IngestResult(source, [], Quarantined(source, err.reason, err.code))


def _load(path: Path, source: str) -> list[Page]:
    if path.stat().st_size == 0:
        raise IngestError("empty_file")
    with path.open("rb") as fh:
        head = fh.read(2048)
    kind = detect_kind(head)
    suffix = path.suffix.lower()
    if kind is None:
        if suffix == ".pdf":
            raise IngestError("truncated_pdf", "no PDF header")
        if suffix in IMAGE_SUFFIXES:
            raise IngestError("not_an_image")
        raise IngestError("unsupported_type", suffix or "(no extension)")
    if suffix not in SUPPORTED_SUFFIXES and suffix not in ("",):
        # A PDF or image under an unexpected name is still read: the content is what counts.
        pass
    return READERS[kind](path, source)
