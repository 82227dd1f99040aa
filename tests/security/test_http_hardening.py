"""HTTP hardening (issue 14 rows 9a, 15, 17, 19): the error shape everywhere, the standard
security headers, the body limit and the body-read timeout.

Each check talks to the full application (``create_app`` with stand-in models); what aiohttp
rejects before routing (an oversize header) is checked through the runner ``dhanvantri serve``
uses, on a real socket.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.realtime.app import create_app
from dhanvantri.settings import Settings
from tests.realtime.conftest import make_settings, stand_in_models, start
from tests.security.http_runner import served

LOGIN = "/api/v1/auth/login"


async def _client(settings: Settings) -> TestClient:
    return await start(create_app(settings, models=stand_in_models(settings)))


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    """The full app on a loopback port (sign-in required, as by default)."""
    test_client = await _client(make_settings(tmp_path, require_auth=True,
                                              request_body_timeout_s=0.5))
    yield test_client
    await test_client.close()


def _error(body: bytes) -> dict[str, Any]:
    """The ``error`` object of a JSON error body (fails on any other shape)."""
    document = json.loads(body)
    assert set(document) == {"error"} and {"code", "message", "details"} <= set(document["error"])
    return document["error"]


async def _raw(client: TestClient, request: bytes, *, close_after: bool = False) -> bytes:
    """Send raw bytes to the server and read its answer until it closes the connection."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(request)
        await writer.drain()
        # Bounded only so a server that never answers fails the test instead of hanging it.
        return await asyncio.wait_for(reader.read(), 60)
    finally:
        writer.close()


def _head(response: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


# ------------------------------------------------------------------ row 9a: nested JSON
async def test_deeply_nested_json_is_a_422_with_the_error_shape(client: TestClient) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    response = await client.post(LOGIN, data=nested,
                                 headers={"Content-Type": "application/json"})
    assert response.status == 422
    error = _error(await response.read())
    assert error["code"] == "INVALID_JSON"
    assert error["details"] == [{"field": "body", "message": "invalid JSON"}]


# ------------------------------------------------------------------ row 15: headers
async def test_pages_and_api_carry_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/physician", "/style.css", "/healthz", "/api/v1/openapi.json",
                 "/api/v1/me", "/no-such-page"):
        response = await client.get(path)
        await response.read()
        headers = response.headers
        csp = dict(part.strip().split(" ", 1) for part in
                   headers.get("Content-Security-Policy", "").split(";") if part.strip())
        assert csp.get("frame-ancestors") == "'none'", path
        assert csp.get("default-src") == "'self'" and csp.get("object-src") == "'none'", path
        assert csp.get("script-src") == "'self'", path  # no inline or blob: script
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        assert headers.get("Referrer-Policy") == "no-referrer", path
        assert headers.get("X-Frame-Options") == "DENY", path
        assert headers.get("Server") == "dhanvantri", path  # no framework, no version
        assert "Strict-Transport-Security" not in headers, path  # plain http here


async def test_hsts_when_the_server_is_public_over_https(tmp_path: Path) -> None:
    client = await _client(make_settings(tmp_path, public_base_url="https://clinic.example.in"))
    try:
        response = await client.get("/healthz")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert int(response.headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) \
            >= 180 * 24 * 3600
    finally:
        await client.close()


# ------------------------------------------------------------------ row 17: error shape
async def test_unknown_api_paths_are_a_json_404(client: TestClient) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = await client.request(method, "/api/v1/no/such/thing")
        assert response.status == 404, method
        assert _error(await response.read())["code"] == "NOT_FOUND"
    # A real route with the wrong method stays a 405 naming the methods it has.
    wrong = await client.delete("/api/v1/openapi.json")
    assert wrong.status == 405 and _error(await wrong.read())["code"] == "METHOD_NOT_ALLOWED"


async def test_a_body_over_the_limit_is_413_chunked_or_not(client: TestClient) -> None:
    big = b'{"email": "' + b"a" * 1_000_000 + b'"}'

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the server must count
        for at in range(0, len(big), 64 * 1024):
            yield big[at:at + 64 * 1024]

    for body in (big, chunks()):
        response = await client.post(LOGIN, data=body,
                                     headers={"Content-Type": "application/json"})
        assert response.status == 413
        assert _error(await response.read())["code"] == "PAYLOAD_TOO_LARGE"


async def test_an_oversize_header_is_a_json_431_that_echoes_nothing(tmp_path: Path) -> None:
    async with served(make_settings(tmp_path)) as (host, port, _):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\nX-Probe: "
                     + b"S3CRET" * 1500 + b"\r\n\r\n")
        await writer.drain()
        status, headers, body = _head(await asyncio.wait_for(reader.read(), 60))
        writer.close()
    assert status == 431
    assert headers["content-type"].startswith("application/json")
    assert _error(body)["code"] == "HEADERS_TOO_LARGE"
    assert b"S3CRET" not in body
    assert headers["server"] == "dhanvantri"


# ------------------------------------------------------------------ row 19: slow bodies
async def test_a_slow_request_body_gets_408(client: TestClient) -> None:
    # Promises 100 bytes, sends 10, then waits: the server gives up after the setting's 0.5 s.
    answer = await _raw(client, b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Type: application/json\r\nContent-Length: 100\r\n"
                                b"\r\n" + b'{"email": ')
    status, headers, body = _head(answer)
    assert status == 408
    assert _error(body)["code"] == "REQUEST_TIMEOUT"
    assert headers.get("connection", "").lower() == "close"


# ------------------------------------------------------------------ the pages under the CSP
CSP_WATCH = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));"""
STATE = "document.querySelector('#state').dataset.state"


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_the_pages_work_under_the_csp(tmp_path: Path) -> None:
    """The patient page (a guest call over the WebSocket, whose audio worklet is a module of
    its own) and the physician page run with no CSP violation and no script error."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import launch, page_until, script_errors
    from tests.support.server import serving

    settings = make_settings(tmp_path)  # guests may consult
    with serving(settings, models=stand_in_models(settings), ready_s=30) as server, \
            sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.add_init_script(CSP_WATCH)
            page.add_init_script("delete window.RTCPeerConnection;")  # the WebSocket call
            refused: list[str] = []
            page.on("console", lambda m: refused.append(m.text)
                    if "Content Security Policy" in m.text else None)
            errors = script_errors(page)
            page.goto(server.url + "/")
            page.click("#guest")  # shown once the page's script has read /healthz
            page.click("#start")
            state = page_until(page, STATE, 30,
                               done=lambda s: s not in ("idle", "connecting"))
            assert state != "error", page.inner_text("body")
            assert page.text_content("#detail-connection") == "websocket"
            assert page.evaluate("window.__csp") == []
            page.goto(server.url + "/physician")
            page.fill("#email", "nobody@clinic.example")
            page.fill("#password", "wrong password here")
            page.click("#login button[type=submit]")
            page.wait_for_selector("#login-error:not([hidden])")  # the API answered
            assert page.evaluate("window.__csp") == []
            assert refused == [] and errors == []
        finally:
            browser.close()
