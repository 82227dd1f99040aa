"""Payment gateways: one small interface, a Razorpay-compatible adapter and a built-in sandbox.

Amounts cross this boundary as integer paise; everything inside the back office is ``Decimal``
rupees. Signatures follow Razorpay: checkout ``razorpay_signature`` is the hex HMAC-SHA256 of
``"{order_id}|{payment_id}"`` under the key secret; webhooks carry ``X-Razorpay-Signature``, the
HMAC-SHA256 of the raw body under the webhook secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from ..http.errors import ApiError
from ..settings import Settings

log = logging.getLogger(__name__)


class GatewayError(ApiError):
    """The gateway refused or could not be reached."""

    status = 502
    code = "GATEWAY_ERROR"


class PaymentsDisabled(ApiError):
    """No payment gateway serves this server (see :func:`make_gateway`)."""

    status = 503
    code = "PAYMENTS_DISABLED"


@dataclass(frozen=True)
class GatewayOrder:
    """An order created at the gateway, for the client's checkout."""

    id: str
    amount_paise: int
    currency: str = "INR"


class PaymentGateway(Protocol):
    """What the payment use cases need from a gateway."""

    name: str
    key_id: str

    async def create_order(self, amount_paise: int, receipt: str) -> GatewayOrder:
        """Create an order at the gateway for the client to pay."""
        ...

    def verify_checkout(self, order_id: str, payment_id: str, signature: str) -> bool:
        """Whether the checkout callback's signature is genuine."""
        ...

    def verify_webhook(self, body: bytes, signature: str) -> bool:
        """Whether a webhook body was signed by the gateway."""
        ...

    async def refund(self, payment_id: str, amount_paise: int) -> str:
        """Refund part or all of a captured payment; returns the refund id."""
        ...


def hmac_hex(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256, the signature both checkout and webhooks use."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _matches(expected: str, signature: str) -> bool:
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


class _Signatures:
    key_secret: str
    webhook_secret: str

    def verify_checkout(self, order_id: str, payment_id: str, signature: str) -> bool:
        """Razorpay's checkout check: HMAC of ``order_id|payment_id``."""
        return _matches(hmac_hex(self.key_secret, f"{order_id}|{payment_id}".encode()),
                        signature)

    def verify_webhook(self, body: bytes, signature: str) -> bool:
        """Razorpay's webhook check: HMAC of the raw body."""
        return _matches(hmac_hex(self.webhook_secret, body), signature)


class RazorpayGateway(_Signatures):
    """Razorpay's REST API (``/v1/orders``, ``/v1/payments/{id}/refund``) with basic auth."""

    name = "razorpay"

    def __init__(self, key_id: str, key_secret: str, webhook_secret: str,
                 base_url: str = "https://api.razorpay.com/v1") -> None:
        self.key_id, self.key_secret, self.webhook_secret = key_id, key_secret, webhook_secret
        self.base_url = base_url.rstrip("/")

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
        headers = {"Authorization": f"Basic {token}"}
        timeout = aiohttp.ClientTimeout(total=15)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http, \
                    http.post(self.base_url + path, json=body, headers=headers) as response:
                data = await response.json(content_type=None)
                if response.status >= 400:
                    reason = (data or {}).get("error", {}).get("description", "refused")
                    raise GatewayError(f"gateway refused: {reason}",
                                       details={"status": response.status})
                return data
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
            raise GatewayError("payment gateway unreachable") from exc

    async def create_order(self, amount_paise: int, receipt: str) -> GatewayOrder:
        data = await self._post("/orders", {"amount": amount_paise, "currency": "INR",
                                            "receipt": receipt[:40]})
        return GatewayOrder(data["id"], int(data["amount"]), data.get("currency", "INR"))

    async def refund(self, payment_id: str, amount_paise: int) -> str:
        data = await self._post(f"/payments/{payment_id}/refund", {"amount": amount_paise})
        return str(data["id"])


class SandboxGateway(_Signatures):
    """An in-process gateway for the embedded mode: no network, same signatures as Razorpay.

    ``checkout`` plays the patient's hosted checkout (``decline`` its failure); ``webhook``
    builds what the gateway would post. Both are signed with the sandbox's own secrets, so the
    real verification path runs.
    """

    name = "sandbox"
    key_id = "rzp_sandbox"

    def __init__(self, key_secret: str, webhook_secret: str) -> None:
        self.key_secret, self.webhook_secret = key_secret, webhook_secret
        self.orders: dict[str, int] = {}

    async def create_order(self, amount_paise: int, receipt: str) -> GatewayOrder:
        order_id = "order_" + secrets.token_hex(7)
        self.orders[order_id] = amount_paise
        return GatewayOrder(order_id, amount_paise)

    def checkout(self, order_id: str) -> dict[str, str]:
        """Pay an order as the hosted checkout would: the ids and signature the client gets."""
        payment_id = "pay_" + secrets.token_hex(7)
        signature = hmac_hex(self.key_secret, f"{order_id}|{payment_id}".encode())
        return {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id,
                "razorpay_signature": signature}

    def decline(self, order_id: str) -> dict[str, Any]:
        """Fail an order's checkout as a declined card would: an error, no signature."""
        return {"razorpay_order_id": order_id,
                "error": {"code": "BAD_REQUEST_ERROR", "reason": "payment_failed",
                          "description": "The payment was declined at the sandbox checkout."}}

    def webhook(self, event: str, order_id: str, payment_id: str, amount_paise: int,
                event_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        """A signed ``payment.captured``-style webhook body and its headers."""
        body = json.dumps({"entity": "event", "event": event, "payload": {"payment": {
            "entity": {"id": payment_id, "order_id": order_id, "amount": amount_paise,
                       "currency": "INR", "status": "captured"}}}}).encode()
        headers = {"X-Razorpay-Signature": hmac_hex(self.webhook_secret, body),
                   "X-Razorpay-Event-Id": event_id or "evt_" + secrets.token_hex(7),
                   "Content-Type": "application/json"}
        return body, headers

    async def refund(self, payment_id: str, amount_paise: int) -> str:
        return "rfnd_" + secrets.token_hex(7)


class DisabledGateway:
    """What a public server without a real gateway gets: every payment refused, no checkout.

    Wallet payments still work (a wallet is only ever filled through a real gateway here).
    """

    name = "disabled"
    key_id = ""

    async def create_order(self, amount_paise: int, receipt: str) -> GatewayOrder:
        raise PaymentsDisabled("payments are not configured on this server")

    def verify_checkout(self, order_id: str, payment_id: str, signature: str) -> bool:
        return False

    def verify_webhook(self, body: bytes, signature: str) -> bool:
        return False

    async def refund(self, payment_id: str, amount_paise: int) -> str:
        raise PaymentsDisabled("payments are not configured on this server")


def is_loopback(host: str) -> bool:
    """Whether a server listening on ``host`` is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name, or "" (every address)
        return False


def _real_keys(settings: Settings) -> bool:
    return bool(settings.razorpay_key_id or settings.razorpay_key_secret
                or settings.razorpay_webhook_secret)


def make_gateway(settings: Settings, server_key: bytes) -> PaymentGateway:
    """The configured gateway: Razorpay when chosen; else the sandbox on a loopback server (or
    with ``payments_sandbox``), else none: payments refused.

    The sandbox pays whatever it is asked, so it never runs beside a real gateway's keys (a
    half-finished switch to Razorpay must not quietly take free "payments"), and each start
    that uses it says so at WARNING.
    """
    if settings.payment_gateway == "razorpay":
        if settings.payments_sandbox:
            raise ValueError("DHANVANTRI_PAYMENTS_SANDBOX=1 with the razorpay gateway: the "
                             "sandbox never runs beside a real gateway")
        return _razorpay(settings)
    if settings.payment_gateway != "sandbox":
        raise ValueError(f"unknown payment_gateway {settings.payment_gateway!r}: "
                         "'sandbox' or 'razorpay'")
    if _real_keys(settings):
        raise ValueError("razorpay keys are set but payment_gateway is 'sandbox': set "
                         "DHANVANTRI_PAYMENT_GATEWAY=razorpay (the sandbox never runs beside "
                         "a real gateway's keys)")
    allowed = settings.payments_sandbox
    if allowed is None:
        allowed = is_loopback(settings.host)
    if not allowed:
        log.warning("payments are off: the sandbox gateway serves only a loopback server "
                    "(this one listens on %r); configure DHANVANTRI_PAYMENT_GATEWAY=razorpay, "
                    "or DHANVANTRI_PAYMENTS_SANDBOX=1 for a demo", settings.host)
        return DisabledGateway()
    log.warning("PAYMENTS ARE SIMULATED: the sandbox gateway pays every checkout and no money "
                "moves; configure DHANVANTRI_PAYMENT_GATEWAY=razorpay for real payments")
    derive = lambda label: hmac_hex(server_key.hex(), label.encode())  # noqa: E731
    return SandboxGateway(derive("sandbox-key"), derive("sandbox-webhook"))


def _razorpay(settings: Settings) -> RazorpayGateway:
    if not (settings.razorpay_key_id and settings.razorpay_key_secret
            and settings.razorpay_webhook_secret):
        raise ValueError("razorpay needs razorpay_key_id, razorpay_key_secret and "
                         "razorpay_webhook_secret")
    return RazorpayGateway(settings.razorpay_key_id,
                           settings.razorpay_key_secret.get_secret_value(),
                           settings.razorpay_webhook_secret.get_secret_value(),
                           settings.razorpay_base_url)
