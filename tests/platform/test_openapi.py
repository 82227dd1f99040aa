"""The OpenAPI document matches the routes, and schemathesis finds no server errors and no
response that breaks its documented schema, on every route of the full server."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from dhanvantri.http.endpoint import Endpoint, install_endpoints
from dhanvantri.http.openapi import OPENAPI
from dhanvantri.http.permissions import Perm
from dhanvantri.http.principal import Role
from dhanvantri.platform.accounts import request_login_code, verify_login_code
from dhanvantri.platform.bootstrap import SERVICES, Services
from dhanvantri.platform.domain.audit import Actor
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.prescriptions import create_from_draft
from dhanvantri.platform.users import NewStaff, create_staff
from dhanvantri.platform.web import install
from dhanvantri.realtime.app import create_app
from dhanvantri.settings import Settings
from tests.realtime.conftest import stand_in_models
from tests.support.server import serve_in_background

from .conftest import _reachable, postgres_url
from .helpers import DRAFT, PASSWORD, SAFE


def _documented(document: dict[str, object]) -> set[tuple[str, str]]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return {(method.upper(), path) for path, item in paths.items() for method in item}


def _served(app: web.Application) -> set[tuple[str, str]]:
    return {(route.method, route.resource.canonical) for route in app.router.routes()
            if route.resource and route.resource.canonical.startswith("/api/v1/")
            and route.method != "HEAD"}


async def test_document_matches_routes(client: TestClient) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"].startswith("3.1")
    assert _documented(document) == _served(client.app)
    login = document["paths"]["/api/v1/auth/login"]["post"]
    assert "429" in login["responses"] and login["security"] == []
    approve = document["paths"]["/api/v1/prescriptions/{id}/approve"]["post"]
    assert approve["x-roles"] == ["physician"] and approve["security"] == [{"bearer": []}]
    me = document["paths"]["/api/v1/me"]["get"]["responses"]["200"]
    assert me["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Account"}


class Echo(BaseModel):
    word: str


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"word": request.match_info["word"]})


def test_an_area_can_install_more_endpoints_later(tmp_path: Path) -> None:
    app = web.Application()
    install(app, Settings(data_dir=tmp_path))
    install_endpoints(app, [Endpoint("GET", "/echo/{word}", echo, "Echo a word", "test",
                                     Perm.PROFILE_READ, responses={200: "the word"},
                                     response=Echo, params={"word": {"enum": ["a", "b"]}})])
    document = app[OPENAPI].document()
    operation = document["paths"]["/api/v1/echo/{word}"]["get"]
    assert operation["parameters"][0]["schema"] == {"enum": ["a", "b"]}
    assert "Echo" in document["components"]["schemas"]
    assert ("GET", "/api/v1/echo/{word}") in _served(app)
    with pytest.raises(ValueError, match="two operations"):
        install_endpoints(app, [Endpoint("GET", "/echo2", echo, "Again", "test", None)])


# Small by default so the suite stays fast; raise it to fuzz harder locally.
EXAMPLES = int(os.environ.get("DHANVANTRI_FUZZ_EXAMPLES", "4"))


@dataclass
class LiveApi:
    """The full server on a real port in its own thread (schemathesis speaks blocking HTTP)."""

    base_url: str
    served: set[tuple[str, str]]
    headers: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def live_api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[LiveApi]:
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
                      otp_rate_limit="10000/minute", max_sessions=100_000, **db)
    app = create_app(config, models=stand_in_models(config))
    with serve_in_background(app) as server:
        live = LiveApi(server.url, _served(app))
        live.headers = server.call(_callers(app[SERVICES]), timeout=60)
        yield live
    if "database_schema" in db:
        asyncio.run(_drop_schema(db["database_schema"]))


async def _callers(services: Services) -> list[dict[str, str]]:
    """Headers of a physician, an admin, a patient (with a prescription) and a guest."""
    headers = []
    for role in (Role.PHYSICIAN, Role.ADMIN):
        result = await create_staff(services.uow(), Actor(None, "cli"), NewStaff(
            email=f"{role.value}@clinic.example", password=PASSWORD, role=role,
            full_name="Fuzz", registration_number="R-1", council="NMC"))
        token = services.tokens.access_token(uuid.UUID(result["user"]["id"]), role)
        headers.append({"Authorization": f"Bearer {token}"})
    outbox = OutboxNotifier()
    challenge = await request_login_code(services.uow(), services.otps, outbox, "9876543210")
    pair = await verify_login_code(services.uow(), services.otps, services.tokens,
                                   uuid.UUID(challenge["challenge_id"]), outbox.last_code(), None)
    headers.append({"Authorization": f"Bearer {pair.access_token}"})
    patient = services.tokens.principal(pair.access_token).user_id
    await create_from_draft(services.uow(), uuid.uuid4(), patient, DRAFT, SAFE, False)
    return [*headers, {}]


async def _drop_schema(schema: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(postgres_url())
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await engine.dispose()


def test_no_server_errors_and_responses_match_the_document(live_api: LiveApi) -> None:
    # schemathesis' pytest plugin does not run on this pytest version, so each operation gets
    # its own hypothesis test here; every generated request is sent as physician, admin,
    # patient and anonymous.
    api = schemathesis.openapi.from_url(f"{live_api.base_url}/api/v1/openapi.json")
    failures: list[str] = []
    tested: set[tuple[str, str]] = set()
    for result in api.get_all_operations():
        operation = result.ok()
        tested.add((operation.method.upper(), operation.path))

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None,
                  suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: schemathesis.Case) -> None:
            for headers in live_api.headers:
                case.call_and_validate(base_url=live_api.base_url, headers=headers,
                                       checks=[not_a_server_error, response_schema_conformance])

        try:
            fuzz()
        except Exception as exc:  # collect all operations' failures, then report together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert failures == [], "\n\n".join(failures)
    # Every route of the full server, consultations and the desk included (schemathesis leaves
    # out the document it was loaded from).
    assert tested == live_api.served - {("GET", "/api/v1/openapi.json")}
