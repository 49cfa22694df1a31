"""Shared fixtures: a PostgreSQL URL (when scripts/pg.sh started one) and small helpers."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PG_ENV = "TAXCHECK_TEST_PG_URL"


@pytest.fixture(autouse=True, scope="session")
def _one_ocr_thread():
    """Tesseract with one OpenMP thread per process: the machine's cores are shared."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database on the server scripts/pg.sh started (dropped afterwards)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set: run via scripts/test.sh, which starts PostgreSQL with scripts/pg.sh")
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base)
    name = f"taxcheck_test_{uuid.uuid4().hex[:10]}"
    dsn = dict(host=url.host, port=url.port, user=url.username, dbname=url.database or "postgres", autocommit=True)
    with psycopg.connect(**dsn) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(**dsn) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_born_digital_pdfs(folder: Path, n: int, seed: int = 0, year: int = 2024) -> list[Path]:
    """``n`` one-form born-digital PDFs (text layer: read without OCR, so fast) drawn by the sample renderer."""
    import io
    import random

    from taxcheck.samples.content import make_form, make_payer
    from taxcheck.samples.render import A4_PT, Ink, draw_form, new_canvas

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        fc = make_form(rng, make_payer(rng, year), None)
        buf = io.BytesIO()
        c = new_canvas(buf)
        draw_form(c, fc, 20, A4_PT[1] - 20, 0.9, Ink())
        c.showPage()
        c.save()
        path = folder / f"doc{i:02d}.pdf"
        path.write_bytes(buf.getvalue())
        paths.append(path)
    return paths


@pytest.fixture
def born_digital_pdfs():
    """Factory fixture: ``born_digital_pdfs(folder, n, seed=0)`` → list of PDF paths."""
    return write_born_digital_pdfs
