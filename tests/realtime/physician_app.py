"""A small real app for the physician tests: the back office on SQLite plus the physician desk."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web
from argon2 import PasswordHasher

from dhanvantri.pipeline.services import Transcript
from dhanvantri.pipeline.voice import VoiceModels
from dhanvantri.platform import passwords
from dhanvantri.platform.web import install
from dhanvantri.realtime.app import default_web_client_dir
from dhanvantri.realtime.bus import EventBus
from dhanvantri.realtime.physician_routes import install_physician
from dhanvantri.settings import Settings
from tests.realtime.conftest import stand_in_models

EMERGENCY = "I have crushing chest pain and I cannot breathe"


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


class EmergencySTT:
    """Speech-recognition stand-in that hears the emergency sentence in any audible buffer."""

    def transcribe(self, audio: np.ndarray, prefix_tokens: Sequence[int] = (), *,
                   partial: bool = False) -> Transcript:
        loud = len(audio) and float(np.sqrt(np.mean(np.square(audio)))) > 0.01
        return Transcript(EMERGENCY if loud else "")


def emergency_models(settings: Settings) -> VoiceModels:
    """The stand-in models, hearing an emergency (the real clinical guide escalates it)."""
    return dataclasses.replace(stand_in_models(settings), stt=EmergencySTT())
