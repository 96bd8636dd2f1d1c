"""Engines for the two supported databases, opened in the app's lifespan, never at import."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
TRANSIENT_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
# PostgreSQL connections a process keeps open: enough for a busy uvicorn worker (a request
# holds one only while a transaction runs) so that they are reused, not opened and closed for
# every burst; overflow beyond it (half as many again) is opened on demand and closed after use.
DEFAULT_POOL_SIZE = 20


def max_overflow(pool_size: int) -> int:
    return max(1, pool_size // 2)


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://, sqlite:///) for async use."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    else:
        raise ValueError(f"unsupported database {backend!r}: use PostgreSQL or SQLite")
    return parsed.render_as_string(hide_password=False)


def insert_for(conn: AsyncConnection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class Database:
    """A writer engine and a reader engine (the same one on PostgreSQL).

    SQLite write transactions start with BEGIN IMMEDIATE, so two writers never both read and
    then fail to upgrade their lock; readers use deferred transactions and WAL snapshots.
    """

    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE,
                 echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        if self.dialect == "sqlite":
            self.writer = self._sqlite_engine(begin="BEGIN IMMEDIATE", echo=echo)
            self.reader = self._sqlite_engine(begin="BEGIN", echo=echo)
        else:
            self.writer = create_async_engine(self.url, pool_size=pool_size,
                                              max_overflow=max_overflow(pool_size),
                                              pool_pre_ping=False, echo=echo)
            self.reader = self.writer

    def _sqlite_engine(self, *, begin: str, echo: bool) -> AsyncEngine:
        engine = create_async_engine(self.url, echo=echo,
                                     connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @sa.event.listens_for(engine.sync_engine, "connect")
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @sa.event.listens_for(engine.sync_engine, "begin")
        def on_begin(connection: sa.Connection) -> None:
            connection.exec_driver_sql(begin)

        return engine

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def is_transient(exc: BaseException) -> bool:
    """A conflict that succeeds when the whole transaction is simply run again."""
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None) or getattr(
            getattr(exc.orig, "__cause__", None), "sqlstate", None)
        if code in TRANSIENT_SQLSTATES:
            return True
        if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
            return True
    return False
