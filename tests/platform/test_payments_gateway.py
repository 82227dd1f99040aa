"""Gateway signatures as Razorpay defines them, and the Razorpay adapter against a local server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dhanvantri.http.errors import ValidationFailed
from dhanvantri.platform.domain.money import commission, from_paise, money, to_paise
from dhanvantri.platform.gateways import (
    GatewayError,
    RazorpayGateway,
    SandboxGateway,
    make_gateway,
)
from dhanvantri.settings import Settings

SECRET, HOOK = "key_secret_123", "webhook_secret_456"


def test_checkout_signature_is_hmac_of_order_and_payment() -> None:
    gateway = RazorpayGateway("rzp_test_1", SECRET, HOOK)
    # Computed independently: hex HMAC-SHA256 of "order_id|payment_id" under the key secret.
    good = hmac.new(SECRET.encode(), b"order_A|pay_B", hashlib.sha256).hexdigest()
    assert gateway.verify_checkout("order_A", "pay_B", good)
    assert not gateway.verify_checkout("order_A", "pay_C", good)
    assert not gateway.verify_checkout("order_B", "pay_A", good)
    assert not gateway.verify_checkout("order_A", "pay_B", good[:-1] + "0")
    assert not gateway.verify_checkout("order_A", "pay_B", "")


def test_webhook_signature_covers_the_raw_body() -> None:
    gateway = RazorpayGateway("rzp_test_1", SECRET, HOOK)
    body = b'{"event":"payment.captured","amount":100}'
    signature = hmac.new(HOOK.encode(), body, hashlib.sha256).hexdigest()
    assert gateway.verify_webhook(body, signature)
    assert not gateway.verify_webhook(body + b" ", signature)  # re-serialised JSON fails
    assert not gateway.verify_webhook(body, hmac.new(SECRET.encode(), body,
                                                     hashlib.sha256).hexdigest())


def test_sandbox_signs_like_razorpay() -> None:
    sandbox = SandboxGateway(SECRET, HOOK)
    paid = sandbox.checkout("order_X")
    twin = RazorpayGateway("id", SECRET, HOOK)
    assert twin.verify_checkout(paid["razorpay_order_id"], paid["razorpay_payment_id"],
                                paid["razorpay_signature"])
    body, headers = sandbox.webhook("payment.captured", "order_X", "pay_Y", 100)
    assert twin.verify_webhook(body, headers["X-Razorpay-Signature"])


def test_gateway_choice_from_settings(tmp_path) -> None:
    assert isinstance(make_gateway(Settings(data_dir=tmp_path), b"k"), SandboxGateway)
    with pytest.raises(ValueError, match="razorpay needs"):
        make_gateway(Settings(data_dir=tmp_path, payment_gateway="razorpay"), b"k")
    chosen = make_gateway(Settings(data_dir=tmp_path, payment_gateway="razorpay",
                                   razorpay_key_id="rzp_live_x", razorpay_key_secret=SECRET,
                                   razorpay_webhook_secret=HOOK), b"k")
    assert isinstance(chosen, RazorpayGateway) and chosen.key_id == "rzp_live_x"


def test_money_is_decimal_at_the_edges() -> None:
    assert money("37.44") == Decimal("37.44") and money(5) == Decimal("5.00")
    for bad in (0.1, "1.234", "abc", "NaN", True):
        with pytest.raises(ValidationFailed):
            money(bad)
    assert to_paise(Decimal("37.44")) == 3744 and from_paise(3744) == Decimal("37.44")
    assert commission(Decimal("37.44"), Decimal("10")) == Decimal("3.74")
    assert commission(Decimal("0.05"), Decimal("10")) == Decimal("0.01")  # half-up


async def test_razorpay_adapter_speaks_the_rest_api() -> None:
    seen: list[tuple[str, str, dict]] = []

    async def orders(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers["Authorization"], await request.json()))
        body = await request.json()
        return web.json_response({"id": "order_R1", "amount": body["amount"],
                                  "currency": "INR", "status": "created"})

    async def refund(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers["Authorization"], await request.json()))
        if request.match_info["id"] == "pay_bad":
            return web.json_response({"error": {"description": "already refunded"}},
                                     status=400)
        return web.json_response({"id": "rfnd_R1", "amount": (await request.json())["amount"]})

    app = web.Application()
    app.router.add_post("/v1/orders", orders)
    app.router.add_post("/v1/payments/{id}/refund", refund)
    async with TestServer(app) as server:
        gateway = RazorpayGateway("rzp_test_1", SECRET, HOOK, str(server.make_url("/v1")))
        order = await gateway.create_order(3744, "receipt-1")
        assert (order.id, order.amount_paise) == ("order_R1", 3744)
        assert await gateway.refund("pay_1", 1000) == "rfnd_R1"
        with pytest.raises(GatewayError, match="already refunded"):
            await gateway.refund("pay_bad", 1)
    auth = "Basic " + base64.b64encode(f"rzp_test_1:{SECRET}".encode()).decode()
    assert seen[0] == ("/v1/orders", auth, {"amount": 3744, "currency": "INR",
                                            "receipt": "receipt-1"})
    assert seen[1][0] == "/v1/payments/pay_1/refund" and seen[1][2] == {"amount": 1000}
    json.dumps(seen)  # plain data only


async def test_unreachable_gateway_is_a_gateway_error() -> None:
    gateway = RazorpayGateway("id", SECRET, HOOK, "http://127.0.0.1:9/v1")
    with pytest.raises(GatewayError):
        await gateway.create_order(100, "r")
