"""The realtime server's aiohttp application.

``create_app(settings)`` serves the patient page at ``/``, the API under ``/api/v1/`` (the back
office plus consultations), ``/healthz`` and ``/metrics``. Models load in the background when
the application starts, so ``/healthz`` answers 503 ``{"status": "loading"}`` until they are
ready; consultations are refused with 503 ``not_ready`` until then.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from dhanvantri.desk.routes import install_physician
from dhanvantri.http import pages
from dhanvantri.pipeline.voice import VoiceModels
from dhanvantri.realtime import routes
from dhanvantri.realtime.consultations import ConsultationRegistry
from dhanvantri.realtime.state import RUNTIME, Runtime
from dhanvantri.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
ModelLoader = Callable[[Settings, Progress | None], Awaitable[VoiceModels]]


def create_app(settings: Settings | None = None, *, models: VoiceModels | None = None,
               loader: ModelLoader | None = None, progress: Progress | None = None,
               back_office: bool = True) -> web.Application:
    """Build the application.

    Args:
        settings: server settings (default: from the environment).
        models: models already loaded (tests share one set); the app then does not close them.
        loader: how to load models at start-up (default: ``load_models``).
        progress: receives model-loading progress lines (``dhanvantri serve`` prints them).
        back_office: install the back office's routes, middleware and database lifecycle.
    """
    from dhanvantri.settings import get_settings

    settings = settings or get_settings()
    app = web.Application(client_max_size=1 << 20)
    runtime = Runtime(settings=settings, registry=ConsultationRegistry(
        settings.max_sessions, settings.consultation_connect_timeout_s))
    app[RUNTIME] = runtime
    if back_office:
        from dhanvantri.platform.web import install

        install(app, settings)
    else:
        from dhanvantri.http.middleware import error_middleware

        app.middlewares.append(error_middleware)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    routes.install(app)
    install_physician(app, settings)  # before the patient page's catch-all static route
    _add_patient_page(app, pages.web_client_dir(settings.web_client_dir))
    app.cleanup_ctx.append(_model_lifecycle(models, loader, progress))
    app.on_shutdown.append(_close_consultations)
    return app


async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: 200 once models are loaded, 503 before (or after a failed load)."""
    runtime = request.app[RUNTIME]
    status = runtime.status
    body: dict[str, Any] = {"status": status}
    if status == "ready":
        body["sessions"] = len(runtime.registry)
        body["max_sessions"] = runtime.registry.max_sessions
    return web.json_response(body, status=200 if status == "ready" else 503)


async def metrics(request: web.Request) -> web.Response:
    """``GET /metrics``: Prometheus text format."""
    server_metrics = request.app[RUNTIME].metrics
    response = web.Response(body=server_metrics.render())
    response.headers["Content-Type"] = server_metrics.content_type
    return response


def _add_patient_page(app: web.Application, folder: Path) -> None:
    if pages.add_page(app, "/", folder / "index.html"):
        # Registered last: the API, /healthz and /metrics match first.
        app.router.add_static("/", folder, follow_symlinks=False)


def _model_lifecycle(models: VoiceModels | None, loader: ModelLoader | None,
                     progress: Progress | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        runtime = app[RUNTIME]
        if models is not None:
            _ready(runtime, models)
            yield
            return
        load = runtime.spawn(_load(runtime, loader, progress), name="load-models")
        yield
        # Let a load in progress finish rather than cancel it: cancelling could orphan the
        # embedded LLM server process it has already started.
        await asyncio.wait([load], timeout=120)
        if runtime.models is not None:
            await runtime.models.close()  # stops the embedded LLM server
            runtime.models = None

    return lifecycle


async def _load(runtime: Runtime, loader: ModelLoader | None, progress: Progress | None) -> None:
    if loader is None:
        from dhanvantri.pipeline.voice import load_models

        loader = load_models
    started = time.perf_counter()
    try:
        models = await loader(runtime.settings, progress)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        runtime.load_error = f"{type(exc).__name__}: {exc}"
        log.exception("loading models failed")
        if progress:
            progress(f"loading models failed: {runtime.load_error}")
        runtime.loaded.set()
        return
    _ready(runtime, models)
    if progress:
        progress(f"models ready in {time.perf_counter() - started:.1f} s")


def _ready(runtime: Runtime, models: VoiceModels) -> None:
    runtime.models = models
    runtime.metrics.models_ready.set(1)
    runtime.loaded.set()


async def _close_consultations(app: web.Application) -> None:
    """On shutdown, before waiting for open requests: hang up every consultation."""
    runtime = app[RUNTIME]
    await runtime.registry.close_all()
    pending = [t for t in runtime.tasks if t.get_name() != "load-models"]
    if pending:
        await asyncio.wait(pending, timeout=5)


class BackgroundServer:
    """The server on a loopback port in a thread of its own (browser tests, benchmarks).

    Use as a context manager, or call :meth:`stop`. ``url`` is the base URL.
    """

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, name="dhanvantri-server", daemon=True)

    @property
    def app(self) -> web.Application:
        """The running application."""
        return self._app

    def start(self) -> BackgroundServer:
        """Start listening (models keep loading in the background); a no-op once started."""
        if self._started.is_set():
            return self
        self._thread.start()
        self._started.wait(60)
        if self._error is not None:
            raise RuntimeError(f"server failed to start: {self._error}") from self._error
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._runner = web.AppRunner(self._app, handle_signals=False, shutdown_timeout=5)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self.host, self.port)
            self._loop.run_until_complete(site.start())
        except BaseException as exc:
            self._error = exc
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until ``/healthz`` answers 200; raise if loading failed or took too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runtime = self._app[RUNTIME]
            if runtime.status == "ready":
                return
            if runtime.status == "failed":
                raise RuntimeError(f"models failed to load: {runtime.load_error}")
            time.sleep(0.1)
        raise TimeoutError(f"server not ready after {timeout:.0f} s")

    def get(self, path: str) -> tuple[int, bytes]:
        """A plain blocking GET (for quick checks from test code)."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self) -> None:
        """Close every consultation, stop the models and the thread."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(60)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_app_in_background(settings: Settings, port: int, *, host: str = "127.0.0.1",
                          models: VoiceModels | None = None,
                          progress: Progress | None = None) -> BackgroundServer:
    """Start the full server on ``host:port`` in a background thread and return at once.

    Example::

        with run_app_in_background(Settings(data_dir=tmp), free_port()) as server:
            server.wait_ready()
            page.goto(server.url + "/")
    """
    return BackgroundServer(create_app(settings, models=models, progress=progress),
                            host, port).start()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
