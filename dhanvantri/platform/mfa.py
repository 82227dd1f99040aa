"""TOTP second factor for staff (required for admins)."""

from __future__ import annotations

import pyotp

from .clock import Clock

ISSUER_NAME = "Dhanvantri"


def new_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER_NAME)


def check(secret: str, code: str, clock: Clock) -> bool:
    """Whether ``code`` is valid now, allowing one 30-second step of clock drift."""
    return pyotp.TOTP(secret).verify(code.strip(), for_time=clock(), valid_window=1)
