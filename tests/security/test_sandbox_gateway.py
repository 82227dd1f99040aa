"""The sandbox payment gateway (issue 14 row 3): only on loopback or when asked for, never
beside a real gateway's keys, and loudly announced.

The sandbox "pays" whatever a patient asks at ``/payments/{id}/sandbox-checkout``; on a public
server that is free money to spend on real orders and labs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dhanvantri.platform.gateways import RazorpayGateway, SandboxGateway, make_gateway
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.web import install
from dhanvantri.settings import Settings
from tests.platform.commerce_setup import call, key
from tests.platform.helpers import login_patient

RAZORPAY = {"razorpay_key_id": "rzp_live_x", "razorpay_key_secret": "secret",
            "razorpay_webhook_secret": "hook"}


def _gateway(tmp_path: Path, **fields: object) -> object:
    return make_gateway(Settings(data_dir=tmp_path, **fields), b"server-key")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_the_sandbox_serves_a_loopback_server(tmp_path: Path, host: str) -> None:
    assert isinstance(_gateway(tmp_path, host=host), SandboxGateway)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "clinic.example.in"])
def test_a_public_server_gets_no_sandbox(tmp_path: Path, host: str) -> None:
    gateway = _gateway(tmp_path, host=host)
    assert not isinstance(gateway, SandboxGateway | RazorpayGateway)
    assert gateway.name == "disabled"


def test_the_setting_overrides_the_address(tmp_path: Path) -> None:
    assert isinstance(_gateway(tmp_path, host="0.0.0.0", payments_sandbox=True), SandboxGateway)
    assert not isinstance(_gateway(tmp_path, payments_sandbox=False), SandboxGateway)


def test_never_the_sandbox_beside_a_real_gateway(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="razorpay"):
        _gateway(tmp_path, **RAZORPAY)  # keys set, gateway left at the default
    with pytest.raises(ValueError, match="PAYMENTS_SANDBOX"):
        _gateway(tmp_path, payment_gateway="razorpay", payments_sandbox=True, **RAZORPAY)
    assert isinstance(_gateway(tmp_path, payment_gateway="razorpay", **RAZORPAY),
                      RazorpayGateway)


def test_start_up_warns_that_payments_are_simulated(tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="dhanvantri"):
        _gateway(tmp_path)
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "simulated" in warned[0].getMessage().lower()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dhanvantri"):
        _gateway(tmp_path, host="0.0.0.0")
    assert any("payments are off" in r.getMessage().lower() for r in caplog.records)


@pytest.fixture
async def public_client(tmp_path: Path) -> AsyncIterator[tuple[TestClient, OutboxNotifier]]:
    """The back office as a server listening on every address would run it."""
    outbox = OutboxNotifier()
    app = web.Application()
    install(app, Settings(data_dir=tmp_path / "data", host="0.0.0.0",
                          database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"),
            notifier=outbox)
    async with TestClient(TestServer(app)) as client:
        yield client, outbox


async def test_a_public_server_refuses_gateway_payments(
        public_client: tuple[TestClient, OutboxNotifier]) -> None:
    client, outbox = public_client
    patient = await login_patient(client, outbox)
    refused = await call(client, "POST", "/wallet/topup", patient, 503, headers=key(),
                         json={"amount": "10000.00"})
    assert refused["error"]["code"] == "PAYMENTS_DISABLED"
    assert (await call(client, "GET", "/wallet", patient))["balance"] == "0.00"
