"""A small real app for the physician tests: the back office on SQLite plus the physician desk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from argon2 import PasswordHasher

from dhanvantri.platform import passwords
from dhanvantri.platform.web import install
from dhanvantri.realtime.app import default_web_client_dir
from dhanvantri.realtime.bus import EventBus
from dhanvantri.realtime.physician_routes import install_physician
from dhanvantri.settings import Settings


def physician_settings(folder: Path, **overrides: object) -> Settings:
    """Settings with their own data dir and SQLite database."""
    return Settings(data_dir=folder / "data",
                    database_url=f"sqlite+aiosqlite:///{folder / 'desk.sqlite3'}", **overrides)


def physician_app(settings: Settings, bus: EventBus | None = None) -> web.Application:
    """The back office, the physician desk and the static pages, nothing else."""
    app = web.Application()
    install(app, settings)
    install_physician(app, settings, bus=bus)
    app.router.add_static("/", default_web_client_dir())  # physician.js and style.css
    return app


@pytest.fixture
def cheap_passwords() -> Iterator[None]:
    """Argon2 at production cost is slow on a loaded machine; the tests need no strength."""
    saved = passwords._hasher
    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    passwords.use_hasher(saved)
