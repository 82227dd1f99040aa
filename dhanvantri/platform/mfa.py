"""TOTP second factor for staff (required for admins)."""

from __future__ import annotations

import hmac

import pyotp

from .clock import Clock

ISSUER_NAME = "Dhanvantri"
DRIFT_STEPS = 1  # one 30-second step either side, for phones whose clocks drift


def new_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER_NAME)


def check(secret: str, code: str, clock: Clock) -> bool:
    """Whether ``code`` is valid now, allowing one 30-second step of clock drift."""
    return matched_step(secret, code, clock) is not None


def matched_step(secret: str, code: str, clock: Clock, after: int | None = None) -> int | None:
    """The time step ``code`` belongs to (within the drift), or None.

    Args:
        after: the last step already used; it and earlier steps no longer count, which makes
            each code single-use (the caller stores the returned step).
    """
    totp, now = pyotp.TOTP(secret), clock()
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code.strip()):
            return step
    return None
