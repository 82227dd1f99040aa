"""The realtime server's aiohttp application.

``create_app(settings)`` serves the patient page at ``/``, the API under ``/api/v1/`` (the back
office plus consultations), ``/healthz`` and ``/metrics``. Models load in the background when
the application starts, so ``/healthz`` answers 503 ``{"status": "loading"}`` until they are
ready; consultations are refused with 503 ``NOT_READY`` until then.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from dhanvantri.desk.desk import PhysicianDesk
from dhanvantri.desk.routes import install_physician
from dhanvantri.http import pages
from dhanvantri.http.auth import REQUIRE_AUTH
from dhanvantri.http.endpoint import install_endpoints
from dhanvantri.http.middleware import harden
from dhanvantri.http.principal import Principal
from dhanvantri.live_updates import install_live_updates
from dhanvantri.pipeline.voice import VoiceModels
from dhanvantri.realtime import routes
from dhanvantri.realtime.admission import ReplyPace
from dhanvantri.realtime.consultations import ConsultationRegistry
from dhanvantri.realtime.recorder import Recorders
from dhanvantri.realtime.state import RUNTIME, Runtime
from dhanvantri.realtime.transport.physician_peer import install_held_calls
from dhanvantri.settings import Settings

log = logging.getLogger(__name__)
RECORDERS = web.AppKey("dhanvantri.realtime.recorders", Recorders)

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
    harden(app, settings)  # security headers, the request-body timeout
    pace = ReplyPace(settings.admission_slow_ms)
    runtime = Runtime(settings=settings, registry=ConsultationRegistry(
        settings.max_sessions, settings.consultation_connect_timeout_s, pace))
    runtime.metrics.reply_listeners.append(pace.observe)
    app[RUNTIME] = runtime
    app[REQUIRE_AUTH] = settings.require_auth
    recorders = None
    if back_office:
        from dhanvantri.platform.web import install

        install(app, settings)
        recorders = _install_records(app, runtime)
        app[routes.CONSULT_FOR] = _consult_for
        app[routes.VISIT_FOR] = _visit_for
    else:
        from dhanvantri.http.middleware import error_middleware

        app.middlewares.append(error_middleware)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    install_endpoints(app, routes.ENDPOINTS)
    install_held_calls(app, runtime)  # the desk joins physicians to the calls held here
    desk = install_physician(app, settings)  # before the patient page's catch-all static route
    install_live_updates(app, desk.bus)  # patients' and merchants' changes, on the desk's bus
    _hook_desk(runtime, desk, recorders)
    _add_patient_page(app, pages.web_client_dir(settings.web_client_dir))
    app.cleanup_ctx.append(_model_lifecycle(models, loader, progress))
    app.on_shutdown.append(_close_consultations)
    return app


def _install_records(app: web.Application, runtime: Runtime) -> Recorders:
    """Signed-in patients' consultations are recorded and reach the physician review queue.

    At start-up (after the back office has migrated the database) the records an earlier
    process left open are closed as abandoned and queued, before any new call is taken.
    """
    from dhanvantri.platform.record_writer import RecordWriter
    from dhanvantri.platform.web import SERVICES
    from dhanvantri.platform.web.consultation_routes import CIPHER

    writer = RecordWriter(app[SERVICES], app[CIPHER], runtime.settings.stt_language)
    recorders = Recorders(runtime.registry, writer, runtime.background)
    app[RECORDERS] = recorders

    async def recover(_app: web.Application) -> AsyncIterator[None]:
        await writer.recover()
        yield

    app.cleanup_ctx.append(recover)
    return recorders


async def _consult_for(request: web.Request, principal: Principal, patient_id: uuid.UUID
                       ) -> None:
    """The back office's permission layer decides (and audits) whether the caller may start a
    consultation for ``patient_id`` (a dependent in their family)."""
    from dhanvantri.platform.sharing import family
    from dhanvantri.platform.web.common import actor_for, services

    await family.authorise_consultation(services(request).uow(), actor_for(request, principal),
                                        patient_id)


async def _visit_for(request: web.Request, principal: Principal, appointment_id: uuid.UUID
                     ) -> tuple[uuid.UUID, uuid.UUID]:
    """The back office admits the caller to the appointment's visit now (audited): its patient
    and physician."""
    from dhanvantri.platform.scheduling import visit
    from dhanvantri.platform.web.common import actor_for, services

    admitted = await visit.admit(services(request).uow(), actor_for(request, principal),
                                 appointment_id)
    return admitted.patient_id, admitted.physician_id


def _hook_desk(runtime: Runtime, desk: PhysicianDesk, recorders: Recorders | None) -> None:
    """Let the consultations this process holds raise escalations through the desk (and be
    recorded), and hang up those a physician ended."""
    registry = runtime.registry

    def on_event(consultation_id: str, event: dict[str, Any], send: Any) -> None:
        if recorders is not None:
            recorders.on_event(consultation_id, event)
        if event.get("type") == "hang_up":  # LiveSession.end: the transport goes, as on DELETE
            runtime.background.spawn(registry.close(consultation_id),
                                     name=f"hang-up-{consultation_id}")
        if consultation_id in registry and (visit := registry.get(consultation_id).visit):
            # A booked visit: the call is held for its physician from the first event on.
            desk.open_visit(consultation_id, appointment_id=visit.appointment_id,
                            physician_id=visit.physician_id, send_event=send,
                            ended=registry.get(consultation_id).closed)
        if event.get("type") != "escalation":
            return
        ended = registry.get(consultation_id).closed if consultation_id in registry else None
        desk.on_consultation_event(consultation_id, event, send, ended)

    runtime.on_event = on_event


async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: 200 once models are loaded, 503 before (or after a failed load).

    Once ready it also says whether guests may consult (``DHANVANTRI_REQUIRE_AUTH=0``): the
    patient page offers "Continue as guest" only then. While the server drains before it
    stops it answers 503 ``{"status": "draining"}``: load balancers and readiness probes send
    new consultations elsewhere while the live ones finish here.
    """
    runtime = request.app[RUNTIME]
    if runtime.registry.draining:
        return web.json_response({"status": "draining", "sessions": len(runtime.registry)},
                                 status=503)
    status = runtime.status
    body: dict[str, Any] = {"status": status}
    if status == "ready":
        body["sessions"] = len(runtime.registry)
        body["max_sessions"] = runtime.registry.max_sessions
        body["guests"] = not runtime.settings.require_auth  # the patient page offers a demo
    return web.json_response(body, status=200 if status == "ready" else 503)


async def metrics(request: web.Request) -> web.Response:
    """``GET /metrics``: Prometheus text format."""
    server_metrics = request.app[RUNTIME].metrics
    response = web.Response(body=server_metrics.render())
    response.headers["Content-Type"] = server_metrics.content_type
    return response


def _add_patient_page(app: web.Application, folder: Path) -> None:
    # The patient's care area (prescriptions, orders, labs, wallet) and the pharmacy's desk.
    pages.add_page(app, "/care", folder / "care.html")
    pages.add_page(app, "/pharmacy", folder / "pharmacy.html")
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
        load = runtime.background.spawn(_load(runtime, loader, progress), name="load-models")
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
    if (finals := getattr(models.stt, "finals", None)) is not None:
        runtime.metrics.watch_decodes(finals)
    runtime.loaded.set()


async def _close_consultations(app: web.Application) -> None:
    """On shutdown, before waiting for open requests: hang up every consultation."""
    runtime = app[RUNTIME]
    recorders = app.get(RECORDERS)
    if recorders is not None:
        recorders.shutting_down()
    await runtime.registry.close_all()
    await runtime.background.settle(5, skip="load-models")
