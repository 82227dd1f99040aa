"""Database engine and migrations: SQLite under the data dir by default, PostgreSQL when set."""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from ..settings import Settings
from .data_cipher import DataCipher, attach

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def database_url(settings: Settings) -> str:
    """``DHANVANTRI_DATABASE_URL`` or a SQLite file in the data directory."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite+aiosqlite:///{settings.resolved_data_dir() / 'dhanvantri.sqlite3'}"


def make_engine(settings: Settings) -> AsyncEngine:
    """An async engine for the configured database.

    On PostgreSQL, ``database_schema`` (when set) becomes the search path, which lets test runs and
    several installations share one database without touching each other's tables.
    """
    url = database_url(settings)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    schema = settings.database_schema
    if url.startswith("postgresql") and schema:
        if not _SCHEMA_RE.match(schema):
            raise ValueError("database_schema must be a lower-case identifier")
        kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = create_async_engine(url, **kwargs)
    attach(engine, DataCipher.from_settings(settings))  # PHI columns seal with these keys
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path and path != ":memory:" and not path.startswith("file:"):
            _private_file(Path(path), settings.resolved_data_dir())
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _private_file(path: Path, data_dir: Path) -> None:
    """Create the SQLite file owner-only (SQLite gives its -wal and -shm files the database
    file's mode) and tighten an older install's files and data folder."""
    folder = path.parent.resolve()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    # Only the data folder, and never a shared one such as /tmp (sticky) or one not ours.
    if folder == data_dir and info.st_uid == os.getuid() and not info.st_mode & stat.S_ISVTX:
        folder.chmod(0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.chmod(0o600)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Any:
    """Alembic configuration built in code, so the migrations ship inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def create_schema_if_needed(engine: AsyncEngine, settings: Settings) -> None:
    """Create ``database_schema`` on PostgreSQL when it does not exist yet."""
    if engine.dialect.name != "postgresql" or not settings.database_schema:
        return
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{settings.database_schema}"'))


async def migrate(engine: AsyncEngine, revision: str = "head", *, down: bool = False) -> None:
    """Upgrade (or downgrade) the database on ``engine`` to ``revision``."""
    from alembic import command

    def run(sync_conn: Connection) -> None:
        config = alembic_config(sync_conn)
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)
    log.info("database migrated %s to %s", "down" if down else "up", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or ``None`` before the first migration."""
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda c: MigrationContext.configure(c).get_current_revision())


async def reseal(engine: AsyncEngine) -> int:
    """Seal every sealed value not under the current data key again under it (key rotation);
    the number of values re-sealed. Values already current are left alone, so a run cut short
    is simply run again."""
    from sqlalchemy import Text, select, type_coerce, update

    from .data_cipher import for_dialect
    from .tables import metadata
    from .tables.types import Sealed

    cipher = for_dialect(engine.dialect)
    count = 0
    for table in metadata.sorted_tables:
        sealed = [c for c in table.c if isinstance(c.type, Sealed)]
        if not sealed:
            continue
        key = table.c.id
        async with engine.begin() as conn:
            # The stored text as is: opening and sealing happen here, key by key.
            raw = [type_coerce(c, Text()).label(c.name) for c in sealed]
            rows = (await conn.execute(select(key, *raw))).all()
            for row in rows:
                stale = {c.name: getattr(row, c.name) for c in sealed
                         if getattr(row, c.name) is not None
                         and not cipher.is_current(getattr(row, c.name))}
                if not stale:
                    continue
                fresh = {name: cipher.seal(cipher.open(value, f"{table.name}.{name}"),
                                           f"{table.name}.{name}")
                         for name, value in stale.items()}
                # Written as text: the column types would seal the sealed text once more.
                await conn.execute(update(table).where(key == row.id).values(
                    {table.c[name]: type_coerce(value, Text()) for name, value in fresh.items()}))
                count += len(fresh)
    log.info("data keys rotated: %d values re-sealed", count)
    return count
