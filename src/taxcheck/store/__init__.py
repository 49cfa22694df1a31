"""The results store: every document, form, field value, finding, decision and staff decision.

SQLite by default (``taxcheck.db`` in the out dir, mode 0600), PostgreSQL by URL. The pipeline
writes it; the reports and the training read it. See ``schema`` for the tables, ``api`` for the calls.
"""

from taxcheck.store.api import (
    add_staff_decisions,
    begin_run,
    document_statuses,
    documents_info,
    finish_run,
    forms_for_run,
    get_form,
    run_ids_with_label,
    run_stats,
    save_assessment,
    save_assessments,
    save_document,
    staff_decisions,
)
from taxcheck.store.db import DB_FILE_NAME, Store, StoreError, default_url, open_store

__all__ = [
    "DB_FILE_NAME", "Store", "StoreError", "add_staff_decisions", "begin_run", "default_url", "document_statuses",
    "documents_info", "finish_run", "forms_for_run", "get_form", "open_store", "run_ids_with_label", "run_stats",
    "save_assessment", "save_assessments", "save_document", "staff_decisions",
]
