"""The ``dhanvantri serve`` loop: listen, load models, stop cleanly on SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from dhanvantri.http.middleware import HardenedRunner
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.state import RUNTIME
from dhanvantri.settings import Settings


class PathOnlyAccessLogger(AbstractAccessLogger):
    """One access-log line per request without its query string or headers.

    aiohttp's default format prints the request line, query included, and a query can carry
    secrets (an old client's ``?access_token=``, a dashboard's ``?token=``).
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %d %d %.3fs', request.remote, request.method,
                         request.rel_url.path, response.status, response.body_length, time)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def make_runner(app: web.Application) -> HardenedRunner:
    """The runner ``serve`` uses: JSON errors before routing, an access log with no secrets."""
    return HardenedRunner(app, handle_signals=False, shutdown_timeout=10,
                          access_log_class=PathOnlyAccessLogger)


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
    runner = make_runner(app)
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
