"""Tables of the results store (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Identity is content, not path: a document is its sha256, a form is (document sha, page, slot).
That is what makes a rerun idempotent: writing the same document again replaces its rows.
Full values are stored (the store is the ward's database); protect it like results.csv.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Status of a document: done (forms stored), quarantined (no form; reason given), failed (crashed; retried next run).
DOCUMENT_STATUSES = ("done", "quarantined", "failed")
# What a reviewer may decide about a flagged box (the exception report's 判断 column).
STAFF_DECISIONS = ("要修正", "修正不要")

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("label", String(64), index=True),  # e.g. the nightly date; groups reruns of one batch
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False, default="running"),  # running / finished
    Column("input_dir", Text),
    Column("out_dir", Text),
    Column("model_version", String(128)),
    Column("counts", JSON),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id"), index=True),
    Column("pages", Integer),
    Column("code", String(64)),  # quarantine / failure code
    Column("reason", Text),  # Japanese sentence for the clerk
    Column("error", Text),  # exception type and masked message of a failure
    Column("seconds", Float),
    Column("processed_at", DateTime(timezone=True)),
)

forms = Table(
    "forms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_sha256", String(64), ForeignKey("documents.sha256", ondelete="CASCADE"), nullable=False),
    Column("page", Integer, nullable=False),
    Column("slot", Integer, nullable=False),
    Column("form_key", Text, nullable=False, index=True),
    Column("source", Text, nullable=False),
    Column("form_type", String(32), nullable=False),
    Column("tax_year", Integer),
    Column("layout_version", String(64)),
    Column("rotation", Integer),
    Column("bbox", JSON),
    Column("run_id", Integer, ForeignKey("runs.id"), index=True),
    UniqueConstraint("document_sha256", "page", "slot", name="uq_forms_doc_page_slot"),
)

field_values = Table(
    "field_values",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("form_id", Integer, ForeignKey("forms.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("raw", Text),
    Column("value", Text),
    Column("confidence", Float),
    Column("bbox", JSON),
    Column("source", String(16)),
    Column("as_read", Text),  # the form's own reading when its payer's other forms settled the value
    Column("as_read_confidence", Float),
    Column("page_read", Text),  # the full-page pass's reading of a text box re-read on its own
    UniqueConstraint("form_id", "name", name="uq_field_values_form_name"),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("form_id", Integer, ForeignKey("forms.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("code", String(64), nullable=False),
    Column("column", String(64)),
    Column("box", Text),
    Column("read", Text),
    Column("expected", Text),
    Column("message", Text),
    Column("severity", String(16)),
    Column("always_error", Boolean),
    Column("residual", Float),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("form_id", Integer, ForeignKey("forms.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("risk", Float, nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("reasons", JSON),
    Column("drivers", JSON),
    Column("crops", JSON),  # {column: path relative to the run's out dir}
    Column("model_version", String(128)),
)

staff_decisions = Table(
    "staff_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("form_key", Text, nullable=False),
    Column("form_id", Integer, ForeignKey("forms.id", ondelete="SET NULL"), index=True),
    Column("column", String(64), nullable=False, default=""),  # "" = the form as a whole
    Column("decision", String(16), nullable=False),
    Column("corrected_value", Text),
    Column("reviewer", String(128), nullable=False, default=""),
    Column("decided_at", DateTime(timezone=True)),
    Column("minutes", Float),
    UniqueConstraint("form_key", "column", "reviewer", name="uq_staff_decisions_form_column_reviewer"),
)
