"""Form + words → field values: the reading stage's entry point lives here.

``read_document(path, root, year_hint)`` turns one input file into its forms (``taxcheck.records.Form``,
fields keyed by results.csv column), the upright page images and, when no form could be read,
a quarantine entry. See :mod:`.document`.
"""

from __future__ import annotations

from taxcheck.extract.document import DocumentResult, read_document, read_documents
from taxcheck.extract.prepare import ReadSettings, prepare_page

__all__ = ["DocumentResult", "ReadSettings", "prepare_page", "read_document", "read_documents"]
