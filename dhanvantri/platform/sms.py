"""Text messages through a provider: the SMS and WhatsApp adapter behind ``Messenger``.

Twilio's Messages API sends both (a WhatsApp number is written ``whatsapp:+91…``). Requests to
Twilio are authenticated with the account SID and auth token (HTTP Basic); what Twilio sends
back, such as a delivery status callback, is signed: ``X-Twilio-Signature`` is the base64
HMAC-SHA1, keyed with the auth token, of the full callback URL followed by every POST parameter's
name and value, sorted by name. :func:`signature` and :func:`verify` implement that scheme, so a
callback route refuses a forged status. Another provider is another class with the same
``send_message``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from ..settings import Settings
from .notifier import Messenger, mask

log = logging.getLogger(__name__)
API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
# A reminder that cannot go out in this long is better retried on the next sweep than waited on.
TIMEOUT_S = 10.0


class SmsError(Exception):
    """The provider refused the message or could not be reached (the sweep retries it)."""


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's request signature of a POST to ``url`` with form ``params``."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify(auth_token: str, url: str, params: Mapping[str, str], claimed: str) -> bool:
    """Whether ``claimed`` (the ``X-Twilio-Signature`` header) signs this request."""
    if not claimed:
        return False
    return hmac.compare_digest(signature(auth_token, url, params).encode(), claimed.encode())


class TwilioMessenger:
    """Sends text messages by SMS or WhatsApp through Twilio's REST API."""

    def __init__(self, account_sid: str, auth_token: str, sender: str, *,
                 channel: str = "sms", base_url: str = "https://api.twilio.com",
                 status_callback: str | None = None) -> None:
        if channel not in ("sms", "whatsapp"):
            raise ValueError("channel must be sms or whatsapp")
        self.account_sid, self._auth_token = account_sid, auth_token
        self.channel, self.status_callback = channel, status_callback
        self.sender = self._address(sender)
        self.url = (f"{base_url.rstrip('/')}/{API_VERSION}/Accounts/{account_sid}"
                    "/Messages.json")

    def _address(self, number: str) -> str:
        return f"whatsapp:{number}" if self.channel == "whatsapp" else number

    def verify_callback(self, url: str, params: Mapping[str, str], claimed: str) -> bool:
        """Whether a status callback posted to ``url`` really came from Twilio."""
        return verify(self._auth_token, url, params, claimed)

    async def send_message(self, destination: str, text: str, purpose: str) -> None:
        """Send ``text``; raises ``SmsError`` when Twilio refuses it or cannot be reached."""
        form = {"To": self._address(destination), "From": self.sender, "Body": text}
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        basic = base64.b64encode(f"{self.account_sid}:{self._auth_token}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}"}
        try:
            async with aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http, \
                    http.post(self.url, data=form, headers=headers) as response:
                body: dict[str, Any] = await response.json(content_type=None) or {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SmsError("the SMS provider is unreachable") from exc
        if response.status >= 400:
            # Twilio's error code says why (21211: invalid number…); never the message text.
            raise SmsError(f"the SMS provider refused the message: {body.get('code')}")
        log.info("%s sent by %s to %s sid=%s", purpose, self.channel, mask(destination),
                 body.get("sid"))


def messenger(settings: Settings, console: Messenger) -> Messenger:
    """The messenger the settings choose: ``console`` (default) or Twilio."""
    if settings.sms_provider != "twilio":
        return console
    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from):
        raise ValueError("DHANVANTRI_SMS_PROVIDER=twilio needs DHANVANTRI_TWILIO_ACCOUNT_SID, "
                         "DHANVANTRI_TWILIO_AUTH_TOKEN and DHANVANTRI_TWILIO_FROM")
    return TwilioMessenger(settings.twilio_account_sid,
                           settings.twilio_auth_token.get_secret_value(), settings.twilio_from,
                           channel=settings.sms_channel, base_url=settings.twilio_base_url)
