"""The OpenAPI document matches the routes, and schemathesis finds no server errors."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from dhanvantri.http.principal import Role
from dhanvantri.platform.accounts import request_login_code, verify_login_code
from dhanvantri.platform.domain.audit import Actor
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.prescriptions import create_from_draft
from dhanvantri.platform.users import NewStaff, create_staff
from dhanvantri.platform.web import install
from dhanvantri.settings import Settings

from .conftest import _reachable, postgres_url
from .helpers import DRAFT, PASSWORD, SAFE


async def test_document_matches_routes(client: TestClient) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item}
    served = {(route.method, route.resource.canonical)
              for route in client.app.router.routes()
              if route.resource and route.resource.canonical.startswith("/api/v1/")
              and route.method != "HEAD"}
    assert documented == served
    login = document["paths"]["/api/v1/auth/login"]["post"]
    assert "429" in login["responses"] and login["security"] == []
    approve = document["paths"]["/api/v1/prescriptions/{id}/approve"]["post"]
    assert approve["x-roles"] == ["physician"] and approve["security"] == [{"bearer": []}]


def test_other_areas_can_add_paths(tmp_path: Path) -> None:
    from dhanvantri.http.openapi import OPENAPI, add_paths

    app = web.Application()
    install(app, Settings(data_dir=tmp_path))
    add_paths(app, {"/api/v1/consultations": {"post": {"responses": {"201": {
        "description": "started"}}}}}, {"Consultation": {"type": "object"}})
    document = app[OPENAPI].document()
    assert "/api/v1/consultations" in document["paths"]
    assert "Consultation" in document["components"]["schemas"]


# Small by default so the suite stays fast; raise it to fuzz harder locally.
EXAMPLES = int(os.environ.get("DHANVANTRI_FUZZ_EXAMPLES", "4"))


@dataclass
class LiveApi:
    """A server on a real port in its own thread (schemathesis speaks blocking HTTP)."""

    base_url: str = ""
    headers: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def live_api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[LiveApi]:
    import uuid

    data = tmp_path_factory.mktemp("live")
    if request.param == "sqlite":
        db = {"database_url": f"sqlite+aiosqlite:///{data / 'api.sqlite3'}"}
    else:
        if not _reachable(postgres_url()):
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL is required in CI")
            pytest.skip("PostgreSQL not reachable")
        db = {"database_url": postgres_url(), "database_schema": f"t_{uuid.uuid4().hex[:16]}"}
    # Limits high enough that fuzzing reaches the handlers, not only the limiter.
    config = Settings(data_dir=data, login_rate_limit="10000/minute",
                      otp_rate_limit="10000/minute", **db)
    loop = asyncio.new_event_loop()
    live = LiveApi()
    outbox = OutboxNotifier()
    ready = threading.Event()

    async def start() -> web.AppRunner:
        app = web.Application()
        services = install(app, config, notifier=outbox)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        live.base_url = f"http://127.0.0.1:{port}"
        for role in (Role.PHYSICIAN, Role.ADMIN):
            result = await create_staff(services.uow(), Actor(None, "cli"), NewStaff(
                email=f"{role.value}@clinic.example", password=PASSWORD, role=role,
                full_name="Fuzz", registration_number="R-1", council="NMC"))
            token = services.tokens.access_token(uuid.UUID(result["user"]["id"]), role)
            live.headers.append({"Authorization": f"Bearer {token}"})
        challenge = await request_login_code(services.uow(), services.otps, outbox,
                                             "9876543210")
        pair = await verify_login_code(services.uow(), services.otps, services.tokens,
                                       uuid.UUID(challenge["challenge_id"]),
                                       outbox.last_code(), None)
        live.headers.append({"Authorization": f"Bearer {pair.access_token}"})
        patient = services.tokens.principal(pair.access_token).user_id
        await create_from_draft(services.uow(), uuid.uuid4(), patient, DRAFT, SAFE, False)
        live.headers.append({})
        return runner

    def serve() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(60), "server did not start"
    yield live
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)
    if "database_schema" in db:
        asyncio.run(_drop_schema(db["database_schema"]))


async def _drop_schema(schema: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(postgres_url())
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await engine.dispose()


def test_no_server_errors(live_api: LiveApi) -> None:
    # schemathesis' pytest plugin does not run on this pytest version, so each operation gets
    # its own hypothesis test here; every generated request is sent as physician, admin,
    # patient and anonymous.
    api = schemathesis.openapi.from_url(f"{live_api.base_url}/api/v1/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None,
                  suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: schemathesis.Case) -> None:
            for headers in live_api.headers:
                case.call_and_validate(base_url=live_api.base_url, headers=headers,
                                       checks=[not_a_server_error])

        try:
            fuzz()
        except Exception as exc:  # collect all operations' failures, then report together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert operations >= 28
    assert failures == []
