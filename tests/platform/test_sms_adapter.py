"""The SMS/WhatsApp adapter against a local fake of Twilio's Messages API: HTTP Basic auth on
the way out, and the provider's signed status callback verified on the way back."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from dhanvantri.platform import sms
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.settings import Settings

SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "test-auth-token"

# Twilio's published example (its security documentation and every SDK's tests use it).
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
DOC_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_signature_matches_twilios_published_example() -> None:
    assert sms.signature("12345", DOC_URL, DOC_PARAMS) == DOC_SIGNATURE
    assert sms.verify("12345", DOC_URL, DOC_PARAMS, DOC_SIGNATURE)
    assert not sms.verify("12345", DOC_URL, {**DOC_PARAMS, "Digits": "9999"}, DOC_SIGNATURE)
    assert not sms.verify("12345", DOC_URL + "&baz=3", DOC_PARAMS, DOC_SIGNATURE)
    assert not sms.verify("54321", DOC_URL, DOC_PARAMS, DOC_SIGNATURE)
    assert not sms.verify("12345", DOC_URL, DOC_PARAMS, "")


def provider_signature(url: str, form: dict[str, str]) -> str:
    """What the fake provider signs with, written apart from the code under test."""
    signed = url
    for name in sorted(form):
        signed += f"{name}{form[name]}"
    return base64.b64encode(hmac.new(TOKEN.encode(), signed.encode(), "sha1").digest()).decode()


class FakeTwilio:
    """Twilio's Messages endpoint: checks Basic auth, answers like Twilio, then posts a signed
    delivery status to the message's StatusCallback."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.callbacks: list[tuple[str, dict[str, str], str]] = []
        self.app = web.Application()
        self.app.router.add_post(f"/2010-04-01/Accounts/{SID}/Messages.json", self.create)

    async def create(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.received.append(form)
        if not form["To"].removeprefix("whatsapp:").startswith("+91"):
            return web.json_response({"code": 21211, "message": "Invalid 'To'"}, status=400)
        sid = f"SM{hashlib.sha256(form['Body'].encode()).hexdigest()[:32]}"
        if callback := form.get("StatusCallback"):
            status = {"MessageSid": sid, "MessageStatus": "delivered", "To": form["To"],
                      "AccountSid": SID}
            self.callbacks.append((callback, status, provider_signature(callback, status)))
        return web.json_response({"sid": sid, "status": "queued"}, status=201)


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    server = TestServer(fake.app)
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


async def test_sms_goes_out_authenticated_and_its_status_callback_verifies(
        twilio: tuple[FakeTwilio, str]) -> None:
    fake, base = twilio
    callback_url = "https://clinic.example.test/api/v1/sms/status"
    messenger = sms.TwilioMessenger(SID, TOKEN, "+15005550006", base_url=base,
                                    status_callback=callback_url)
    await messenger.send_message("+919876543210", "Reminder: 09:00 IST", "appointment_reminder")
    assert fake.received == [{"To": "+919876543210", "From": "+15005550006",
                              "Body": "Reminder: 09:00 IST", "StatusCallback": callback_url}]
    [(url, status, header)] = fake.callbacks
    assert messenger.verify_callback(url, status, header)
    assert not messenger.verify_callback(url, {**status, "MessageStatus": "failed"}, header)
    assert not messenger.verify_callback(url.replace("clinic", "evil"), status, header)


async def test_whatsapp_numbers_carry_the_channel_prefix(
        twilio: tuple[FakeTwilio, str]) -> None:
    fake, base = twilio
    messenger = sms.TwilioMessenger(SID, TOKEN, "+14155238886", channel="whatsapp",
                                    base_url=base)
    await messenger.send_message("+919876543210", "Hello", "appointment_reminder")
    assert (fake.received[0]["To"], fake.received[0]["From"]) == (
        "whatsapp:+919876543210", "whatsapp:+14155238886")


async def test_refusals_and_wrong_credentials_raise(twilio: tuple[FakeTwilio, str]) -> None:
    _, base = twilio
    good = sms.TwilioMessenger(SID, TOKEN, "+15005550006", base_url=base)
    with pytest.raises(sms.SmsError, match="21211"):
        await good.send_message("+15551234567", "Hello", "appointment_reminder")
    wrong = sms.TwilioMessenger(SID, "not-the-token", "+15005550006", base_url=base)
    with pytest.raises(sms.SmsError, match="20003"):
        await wrong.send_message("+919876543210", "Hello", "appointment_reminder")
    gone = sms.TwilioMessenger(SID, TOKEN, "+15005550006", base_url="http://127.0.0.1:9")
    with pytest.raises(sms.SmsError, match="unreachable"):
        await gone.send_message("+919876543210", "Hello", "appointment_reminder")


def test_settings_choose_the_messenger(tmp_path: Any) -> None:
    console = OutboxNotifier()
    assert sms.messenger(Settings(data_dir=tmp_path), console) is console
    chosen = sms.messenger(Settings(
        data_dir=tmp_path, sms_provider="twilio", sms_channel="whatsapp",
        twilio_account_sid=SID, twilio_auth_token=SecretStr(TOKEN),
        twilio_from="+14155238886"), console)
    assert isinstance(chosen, sms.TwilioMessenger) and chosen.channel == "whatsapp"
    with pytest.raises(ValueError, match="TWILIO_AUTH_TOKEN"):
        sms.messenger(Settings(data_dir=tmp_path, sms_provider="twilio",
                               twilio_account_sid=SID), console)
