"""Realtime fixtures: settings on a temporary data dir, stand-in models, the real models once,
loopback ICE and Playwright for the browser tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dhanvantri.pipeline.services import SpeechChunk, Transcript
from dhanvantri.pipeline.voice import VoiceModels
from dhanvantri.realtime.app import create_app
from dhanvantri.settings import Settings
from tests.support.ice import offer_loopback
from tests.support.llm import ScriptedLLM


def make_settings(folder: Path, **overrides: object) -> Settings:
    """Settings with their own data dir and SQLite database.

    Guests may consult (``require_auth=False``) unless ``overrides`` say otherwise: these tests
    drive the transports and the desk; sign-in has tests of its own. Guests are not limited per
    address here (every test guest comes from 127.0.0.1): tests/security/test_live_findings.py
    tests that limit.
    """
    data = folder / "data"
    return Settings(data_dir=data, database_url=f"sqlite+aiosqlite:///{folder / 'rt.sqlite3'}",
                    **{"require_auth": False, "consultations_per_address": 0, **overrides})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for one test (3 session slots)."""
    return make_settings(tmp_path, max_sessions=3)


# ------------------------------------------------------------------ stand-in models
class EnergySTT:
    """Speech-to-text stand-in: 'I have a fever' for any audible buffer, '' for silence.

    The transports only move audio and events, so these tests need a deterministic, fast
    stand-in; the real models are exercised by the tests marked ``models``.
    """

    def transcribe(self, audio: np.ndarray, prefix_tokens: Sequence[int] = (), *,
                   partial: bool = False, prompt: str = "") -> Transcript:
        loud = len(audio) and float(np.sqrt(np.mean(np.square(audio)))) > 0.01
        return Transcript("I have a fever" if loud else "")


class ToneTTS:
    """Text-to-speech stand-in: ``seconds_per_word`` of a 220 Hz tone per word at 22.05 kHz."""

    sample_rate = 22050

    def __init__(self, seconds_per_word: float = 0.04) -> None:
        self.seconds_per_word = seconds_per_word

    def synthesize(self, text: str) -> list[SpeechChunk]:
        words = max(1, len(text.split()))
        t = np.arange(int(self.seconds_per_word * words * self.sample_rate)) / self.sample_rate
        audio = (8000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
        return [SpeechChunk(audio, self.sample_rate, (("a", len(audio)),))]


class NoPhi:
    """PHI detector stand-in that finds nothing."""

    def detect(self, text: str) -> list[object]:
        return []


class NoKnowledge:
    def search(self, query: str, k: int = 3) -> list[object]:
        return []


def stand_in_models(settings: Settings, seconds_per_word: float = 0.04) -> VoiceModels:
    """VoiceModels built by hand from the stand-ins (real Silero VAD still runs)."""
    return VoiceModels(settings=settings, stt=EnergySTT(), tts=ToneTTS(seconds_per_word),
                       llm=ScriptedLLM("How long ", "have you had ", "the fever?"),
                       detector=NoPhi(), knowledge=NoKnowledge(), vault_key=os.urandom(32))


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:
    """A running app with stand-in models, already ready."""
    app = create_app(settings, models=stand_in_models(settings))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


# ------------------------------------------------------------------ the real models
@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def real_models(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[VoiceModels]:
    """Every real model, loaded once for the test session (tests using it share its loop)."""
    from dhanvantri.pipeline.voice import load_models

    folder = tmp_path_factory.mktemp("realtime_models")
    models = await load_models(make_settings(folder))
    yield models
    await models.close()


async def start(app: web.Application) -> TestClient:
    """A started test client for ``app`` (close it with ``await client.close()``)."""
    test_client = TestClient(TestServer(app))
    await test_client.start_server()
    return test_client


# ------------------------------------------------------------------ browser tests
@pytest.fixture(scope="module")
def loopback_ice() -> Iterator[None]:
    """aioice offers 127.0.0.1 too: the browser under test runs on this machine."""
    undo = offer_loopback()
    yield
    undo()


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[object]:
    """Playwright's synchronous API, started once per module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright
