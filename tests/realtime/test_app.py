"""The application: health while loading, consultations, limits, auth, OpenAPI, metrics, page."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.realtime.admission import RETRY_AFTER_S
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.state import RUNTIME
from dhanvantri.settings import Settings
from tests.realtime.conftest import make_settings, stand_in_models, start
from tests.support.waiting import wait_until_async


async def test_healthz_is_503_loading_until_models_are_ready(settings: Settings) -> None:
    release = asyncio.Event()
    lines: list[str] = []

    async def slow_loader(s: Settings, progress):
        progress("loading stand-ins")
        await release.wait()
        return stand_in_models(s)

    client = await start(create_app(settings, loader=slow_loader, progress=lines.append))
    try:
        response = await client.get("/healthz")
        assert response.status == 503
        assert await response.json() == {"status": "loading"}
        refused = await client.post("/api/v1/consultations")
        assert refused.status == 503
        assert (await refused.json())["error"]["code"] == "NOT_READY"
        release.set()
        runtime = client.app[RUNTIME]
        await wait_until_async(lambda: runtime.status != "loading", 10,
                               what=lambda: f"the load to end (status {runtime.status!r})")
        response = await client.get("/healthz")
        assert response.status == 200
        assert (await response.json())["status"] == "ready"
        assert lines[0] == "loading stand-ins" and lines[-1].startswith("models ready")
    finally:
        await client.close()


async def test_failed_load_reports_failed(settings: Settings) -> None:
    async def broken(s: Settings, progress):
        raise FileNotFoundError("no whisper model")

    client = await start(create_app(settings, loader=broken))
    try:
        runtime = client.app[RUNTIME]
        await wait_until_async(lambda: runtime.status != "loading", 10,
                               what=lambda: f"the load to end (status {runtime.status!r})")
        response = await client.get("/healthz")
        assert response.status == 503
        assert await response.json() == {"status": "failed"}
    finally:
        await client.close()


async def test_create_consultation_returns_join_urls(client: TestClient) -> None:
    response = await client.post("/api/v1/consultations")
    assert response.status == 201
    body = await response.json()
    assert set(body) == {"id", "webrtc_url", "ws_url"}
    assert len(body["id"]) >= 20
    assert body["webrtc_url"].endswith(f"/api/v1/consultations/{body['id']}/webrtc")
    assert body["webrtc_url"].startswith("http://")
    assert body["ws_url"].startswith("ws://") and body["ws_url"].endswith(f"{body['id']}/ws")
    assert body["id"] in client.app[RUNTIME].registry


async def test_public_base_url_shapes_the_urls(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, public_base_url="https://clinic.example.in/")
    client = await start(create_app(settings, models=stand_in_models(settings)))
    try:
        body = await (await client.post("/api/v1/consultations")).json()
        assert body["ws_url"].startswith("wss://clinic.example.in/api/v1/consultations/")
        assert body["webrtc_url"].startswith("https://clinic.example.in/api/v1/")
    finally:
        await client.close()


async def test_too_many_sessions_is_503_server_busy(client: TestClient) -> None:
    ids = [(await (await client.post("/api/v1/consultations")).json())["id"] for _ in range(3)]
    response = await client.post("/api/v1/consultations")
    assert response.status == 503
    error = (await response.json())["error"]
    assert error["code"] == "SERVER_BUSY" and error["details"] == {
        "reason": "full", "max_sessions": 3, "retry_after": RETRY_AFTER_S}
    # Hanging up frees the slot.
    assert (await client.delete(f"/api/v1/consultations/{ids[0]}")).status == 204
    assert (await client.post("/api/v1/consultations")).status == 201
    assert (await client.delete(f"/api/v1/consultations/{ids[0]}")).status == 404
    metrics = await (await client.get("/metrics")).text()
    assert "dhanvantri_sessions_rejected_total 1.0" in metrics


async def test_unjoined_consultations_expire(tmp_path: Path) -> None:
    # Long enough for the second request to come well before the first consultation expires.
    settings = make_settings(tmp_path, max_sessions=1, consultation_connect_timeout_s=1.0)
    client = await start(create_app(settings, models=stand_in_models(settings)))
    try:
        created = await client.post("/api/v1/consultations")
        assert created.status == 201
        unjoined = client.app[RUNTIME].registry.get((await created.json())["id"])
        assert (await client.post("/api/v1/consultations")).status == 503
        # A new one can be created once the unjoined one is older than the connect timeout (the
        # registry expires it on the next create).
        timeout = settings.consultation_connect_timeout_s
        await wait_until_async(lambda: time.monotonic() - unjoined.created > timeout, 30,
                               what="the unjoined consultation to outlive its connect timeout")
        assert (await client.post("/api/v1/consultations")).status == 201
    finally:
        await client.close()


async def test_require_auth_needs_a_patient_token(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, require_auth=True)
    client = await start(create_app(settings, models=stand_in_models(settings)))
    try:
        tokens = client.app[SERVICES].tokens
        response = await client.post("/api/v1/consultations")
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "UNAUTHORIZED"
        physician = tokens.access_token(uuid.uuid4(), Role.PHYSICIAN)
        response = await client.post("/api/v1/consultations",
                                     headers={"Authorization": f"Bearer {physician}"})
        assert response.status == 403
        patient_id = uuid.uuid4()
        patient = tokens.access_token(patient_id, Role.PATIENT)
        response = await client.post("/api/v1/consultations",
                                     headers={"Authorization": f"Bearer {patient}"})
        assert response.status == 201
        cid = (await response.json())["id"]
        assert client.app[RUNTIME].registry.get(cid).owner == patient_id
        # Another patient cannot join or end it; its owner can.
        other = tokens.access_token(uuid.uuid4(), Role.PATIENT)
        path = f"/api/v1/consultations/{cid}"
        assert (await client.get(path + "/ws", headers={"Authorization": f"Bearer {other}"})
                ).status == 404
        assert (await client.delete(path)).status == 401
        assert (await client.delete(path, headers={"Authorization": f"Bearer {patient}"})
                ).status == 204
    finally:
        await client.close()


async def test_openapi_lists_the_consultation_routes(client: TestClient) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    documented = {(method.upper(), path) for path, item in paths.items() for method in item}
    served = {(route.method, route.resource.canonical) for route in client.app.router.routes()
              if route.resource and route.resource.canonical.startswith("/api/v1/")
              and route.method != "HEAD"}
    assert documented == served  # every route of the full server is an Endpoint
    assert "post" in paths["/api/v1/consultations"]
    assert "post" in paths["/api/v1/consultations/{id}/webrtc"]
    assert "get" in paths["/api/v1/consultations/{id}/ws"]
    assert "SessionDescription" in document["components"]["schemas"]
    # The back office is there too.
    assert any(path.startswith("/api/v1/auth/") for path in paths)


async def test_metrics_are_prometheus_text_without_ids(client: TestClient) -> None:
    cid = (await (await client.post("/api/v1/consultations")).json())["id"]
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    for name in ("dhanvantri_sessions_active", "dhanvantri_turns_total",
                 "dhanvantri_voice_to_voice_seconds_bucket", "dhanvantri_models_ready 1.0"):
        assert name in text
    assert cid not in text


async def test_unknown_consultation_is_404_json(client: TestClient) -> None:
    response = await client.post("/api/v1/consultations/nope/webrtc",
                                 json={"sdp": "v=0", "type": "offer"})
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "NOT_FOUND"


async def test_patient_page_is_served_from_web_client_dir(tmp_path: Path) -> None:
    page = tmp_path / "page"
    page.mkdir()
    (page / "index.html").write_text("<!doctype html><title>Dhanvantri</title>")
    (page / "app.js").write_text("console.log('hi')")
    settings = make_settings(tmp_path, web_client_dir=page)
    client = await start(create_app(settings, models=stand_in_models(settings)))
    try:
        response = await client.get("/")
        assert response.status == 200 and "Dhanvantri" in await response.text()
        assert (await client.get("/app.js")).status == 200
        assert (await client.get("/../settings.py")).status == 404
        assert (await client.get("/healthz")).status == 200  # not shadowed by the static files
    finally:
        await client.close()
