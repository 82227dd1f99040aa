"""The ``dhanvantri serve`` loop: listen, load models, stop cleanly on SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

from aiohttp import web

from dhanvantri.http.middleware import HardenedRunner
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.state import RUNTIME
from dhanvantri.settings import Settings


def _progress(message: str) -> None:
    print(f"dhanvantri: {message}", file=sys.stderr, flush=True)


async def serve(settings: Settings, host: str, port: int) -> int:
    """Serve until a signal arrives; exit code 1 when models fail to load or the port is taken."""
    try:  # bind first: a taken port fails fast, before any model starts loading
        sock = socket.create_server((host, port), reuse_port=False)
    except OSError as exc:
        _progress(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        return 1
    # The address actually listened on decides what is safe to offer (the sandbox gateway
    # pays only on loopback), whatever --host overrode.
    settings = settings.model_copy(update={"host": host, "port": port})
    app = create_app(settings, progress=_progress)
    runner = HardenedRunner(app, handle_signals=False, shutdown_timeout=10)
    await runner.setup()  # starts the back office and the background model load
    await web.SockSite(runner, sock).start()
    bound = sock.getsockname()[1]
    _progress(f"listening on http://{host}:{bound} (models loading; /healthz says when ready)")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runtime = app[RUNTIME]
    failed = False
    try:
        stopping = asyncio.ensure_future(stop.wait())
        loaded = asyncio.ensure_future(runtime.loaded.wait())
        await asyncio.wait({stopping, loaded}, return_when=asyncio.FIRST_COMPLETED)
        failed = runtime.status == "failed"
        if not failed:
            await stopping
        else:
            stopping.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        _progress("shutting down: closing consultations and stopping models")
        await runner.cleanup()
    return 1 if failed else 0
