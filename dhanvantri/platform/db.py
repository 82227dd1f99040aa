"""Database engine and migrations: SQLite under the data dir by default, PostgreSQL when set."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from ..settings import Settings

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
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


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
