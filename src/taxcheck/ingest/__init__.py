"""Files → pages: every container (PDF with or without a text layer, TIFF, PNG, JPEG) becomes
the same :class:`taxcheck.records.Page`, so nothing downstream branches on the file type.

A file that cannot be read becomes a :class:`taxcheck.records.Quarantined` with a stable code
and a Japanese reason; :func:`load_document` never raises for a bad input file.
"""

from __future__ import annotations

from taxcheck.ingest.loader import IngestResult, detect_kind, load_document
from taxcheck.ingest.errors import QUARANTINE_REASONS, IngestError

__all__ = ["IngestError", "IngestResult", "QUARANTINE_REASONS", "detect_kind", "load_document"]
