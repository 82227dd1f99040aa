"""The full app served as ``dhanvantri serve`` serves it: its runner, a real loopback socket.

aiohttp's ``TestServer`` differs where these tests look: it cancels a handler whose client
hung up, and its connections answer protocol errors in aiohttp's own plain text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from dhanvantri.http.middleware import HardenedRunner
from dhanvantri.realtime.app import create_app
from dhanvantri.settings import Settings
from tests.realtime.conftest import stand_in_models


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[str, int, HardenedRunner]]:
    """``(host, port, runner)`` of the app with stand-in models, for a ``with`` block."""
    runner = HardenedRunner(create_app(settings, models=stand_in_models(settings)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        host, port = runner.addresses[0][:2]
        yield host, port, runner
    finally:
        await runner.cleanup()
