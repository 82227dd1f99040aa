"""A small real app for the physician tests: the back office on SQLite plus the physician desk."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web
from argon2 import PasswordHasher

from dhanvantri.desk.cluster.bus import EventBus
from dhanvantri.desk.routes import install_physician
from dhanvantri.http.pages import web_client_dir
from dhanvantri.pipeline.services import Transcript
from dhanvantri.pipeline.voice import VoiceModels
from dhanvantri.platform import passwords
from dhanvantri.platform.notifier import Notifier
from dhanvantri.platform.web import install
from dhanvantri.settings import Settings
from tests.realtime.conftest import stand_in_models

EMERGENCY = "I have crushing chest pain and I cannot breathe"


def physician_settings(folder: Path, **overrides: object) -> Settings:
    """Settings with their own data dir and SQLite database."""
    return Settings(data_dir=folder / "data",
                    database_url=f"sqlite+aiosqlite:///{folder / 'desk.sqlite3'}", **overrides)


def add_physician(settings: Settings, email: str, password: str, full_name: str) -> None:
    """Create (and migrate) the database with one physician, before a server starts on it.

    Works from any thread, a running event loop's included (Playwright's sync API runs one).
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from dhanvantri.http.principal import Role
    from dhanvantri.platform.bootstrap import bootstrap
    from dhanvantri.platform.domain.audit import Actor
    from dhanvantri.platform.users import NewStaff, create_staff

    async def create() -> None:
        services = bootstrap(settings)
        await services.start()
        await create_staff(services.uow(), Actor(None, "cli"), NewStaff(
            email=email, password=password, role=Role.PHYSICIAN, full_name=full_name,
            registration_number="KMC-1", council="Karnataka Medical Council"))
        await services.close()

    with ThreadPoolExecutor(1) as thread:  # asyncio.run refuses to nest in a running loop
        thread.submit(asyncio.run, create()).result()


def physician_app(settings: Settings, bus: EventBus | None = None, *,
                  notifier: Notifier | None = None) -> web.Application:
    """The back office, the physician desk and the static pages, nothing else (one-time codes
    go to ``notifier``: the console by default)."""
    app = web.Application()
    install(app, settings, notifier=notifier)
    install_physician(app, settings, bus=bus)
    app.router.add_static("/", web_client_dir())  # physician.js and style.css
    return app


@pytest.fixture
def cheap_passwords() -> Iterator[None]:
    """Argon2 at production cost is slow on a loaded machine; the tests need no strength."""
    saved = passwords._hasher
    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    passwords.use_hasher(saved)


class EmergencySTT:
    """Speech-recognition stand-in that hears the emergency sentence in any audible buffer."""

    def transcribe(self, audio: np.ndarray, prefix_tokens: Sequence[int] = (), *,
                   partial: bool = False, prompt: str = "") -> Transcript:
        loud = len(audio) and float(np.sqrt(np.mean(np.square(audio)))) > 0.01
        return Transcript(EMERGENCY if loud else "")


def emergency_models(settings: Settings) -> VoiceModels:
    """The stand-in models, hearing an emergency (the real clinical guide escalates it)."""
    return dataclasses.replace(stand_in_models(settings), stt=EmergencySTT())
