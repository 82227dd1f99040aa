"""Back-office fixtures: a real app on SQLite and PostgreSQL, a manual clock, an outbox."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from dhanvantri.platform import passwords
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.db import migrate
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.web import install
from dhanvantri.settings import Settings

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The PostgreSQL URL tests use (CI sets it)."""
    return os.environ.get("DHANVANTRI_TEST_DATABASE_URL", PG_DEFAULT)


def _reachable(url: str) -> bool:
    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), 1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    # Argon2 at production cost takes ~0.5 s per hash on a loaded CI machine.
    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; each test starts from a copy (start-up still migrates,
    finding it at head)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"

    async def build() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        await migrate(engine)
        await engine.dispose()

    asyncio.run(build())
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
                   ) -> AsyncIterator[dict[str, str]]:
    """Settings fields for a fresh database: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(sqlite_template, target)
        yield {"database_url": f"sqlite+aiosqlite:///{target}", "database_schema": ""}
        return
    url = postgres_url()
    if not _reachable(url):
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but {make_url(url).host} is unreachable")
        pytest.skip("PostgreSQL not reachable")
    schema = f"t_{uuid.uuid4().hex[:16]}"  # one schema per test: runs never see each other
    yield {"database_url": url, "database_schema": schema}
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await engine.dispose()


@pytest.fixture
def settings(database: dict[str, str], tmp_path: Path) -> Settings:
    """Settings for one test: its own data dir (generated secrets) and database."""
    return Settings(data_dir=tmp_path / "data", public_base_url="https://rx.example.test",
                    **database)


@pytest.fixture
def clock() -> ManualClock:
    """Time that moves only when the test says so."""
    return ManualClock()


@pytest.fixture
def outbox() -> OutboxNotifier:
    """Where one-time codes go during tests."""
    return OutboxNotifier()


@pytest.fixture
async def app_services(settings: Settings, clock: ManualClock, outbox: OutboxNotifier
                       ) -> AsyncIterator[tuple[web.Application, Services]]:
    """A small real application with the back office installed (not yet started)."""
    app = web.Application()
    services = install(app, settings, notifier=outbox, clock=clock)
    yield app, services


@pytest.fixture
async def client(app_services: tuple[web.Application, Services]) -> AsyncIterator[TestClient]:
    """An HTTP client talking to the running app (migrations ran at start-up)."""
    app, _ = app_services
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
def services(app_services: tuple[web.Application, Services]) -> Services:
    """The app's services (for direct use-case calls, as other modules would make)."""
    return app_services[1]
