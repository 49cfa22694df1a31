"""Opening the store: SQLite by default (a 0600 file), PostgreSQL by URL.

A plain path or a ``sqlite:///`` URL gives a SQLite file created with mode 0600 before SQLite
touches it (it holds full 個人番号); WAL mode and a busy timeout let the flow's parallel chunk
tasks write to one file. Engines hide statement parameters in their errors and logs (a failed
insert would otherwise quote the form's fields, 個人番号 included, into a traceback). Tables are
created on first open (``metadata.create_all`` is a no-op when they exist), so a fresh out dir or
a fresh database needs no migration step; a nullable column added since a store was made is added
to it on open (:func:`_add_new_columns`), so last winter's store opens with this year's code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from taxcheck.store.schema import metadata

DB_FILE_NAME = "taxcheck.db"  # default SQLite file inside an out dir
DB_FILE_MODE = 0o600
SQLITE_BUSY_TIMEOUT_S = 60  # parallel chunk writers wait this long for the write lock


class StoreError(RuntimeError):
    """The store cannot be opened or a request names something it does not hold."""


@dataclass
class Store:
    """An open store: the engine plus the URL it came from (password hidden when printed)."""

    engine: Engine
    url: str

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)})"

    def close(self) -> None:
        self.engine.dispose()


def default_url(out_dir: str | Path) -> str:
    """The SQLite URL of the default store of an out dir."""
    return sqlite_url(Path(out_dir) / DB_FILE_NAME)


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def _normalise_url(url: str | os.PathLike) -> str:
    s = str(url)
    if "://" not in s:  # a bare file path
        return sqlite_url(s)
    if s.startswith("postgresql://") or s.startswith("postgres://"):
        return "postgresql+psycopg://" + s.split("://", 1)[1]
    return s


def _prepare_sqlite_file(database: str) -> None:
    if database in ("", ":memory:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, DB_FILE_MODE)
    os.close(fd)
    os.chmod(path, DB_FILE_MODE)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI connection
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def open_store(url: str | os.PathLike | Store, *, create: bool = True) -> Store:
    """Open (and create when new) the store at ``url``: a SQLite path/URL or a PostgreSQL URL.
    With ``create=False`` a SQLite file must already exist (commands that read a run's store: a
    mistyped path must not quietly give an empty store)."""
    if isinstance(url, Store):
        return url
    if url is None:
        raise StoreError("no store URL given")
    s = _normalise_url(url)
    try:
        parsed = make_url(s)
    except Exception as exc:  # the URL may hold a password: do not echo it
        raise StoreError("store URL is not a valid SQLAlchemy URL") from exc
    if parsed.get_backend_name() == "sqlite":
        if not create and parsed.database not in (None, "", ":memory:") and not Path(parsed.database).is_file():
            raise StoreError(f"no store at {parsed.database}: check --db (the run's taxcheck.db)")
        _prepare_sqlite_file(parsed.database or "")
        engine = create_engine(s, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(s, pool_pre_ping=True, hide_parameters=True)
    try:
        metadata.create_all(engine)
        _add_new_columns(engine)
    except Exception as exc:
        engine.dispose()
        raise StoreError(f"cannot open the store {parsed.render_as_string(hide_password=True)}: {type(exc).__name__}") from exc
    return Store(engine, s)


def _add_new_columns(engine: Engine) -> None:
    """ALTER TABLE … ADD COLUMN for each nullable column the schema has and the store's table lacks."""
    have = inspect(engine)
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            present = {c["name"] for c in have.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present and column.nullable:
                    kind = column.type.compile(dialect=engine.dialect)
                    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
