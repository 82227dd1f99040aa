"""One-time codes for patient login and e-sign: random digits, keyed hash, expiry, attempt limit.

(Admin MFA uses TOTP instead; see ``mfa.py``.)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from .clock import Clock
from .domain.accounts import OtpChallenge, OtpPurpose

CODE_DIGITS = 6


class OtpIssuer:
    """Creates challenges and checks codes against them.

    Codes are stored as HMAC-SHA256 under a server key, so a leaked table cannot be brute-forced
    offline without the key; online guessing is capped by the challenge's attempt limit.
    """

    def __init__(self, key: bytes, clock: Clock, ttl_seconds: int, max_attempts: int) -> None:
        self._key = key
        self.clock = clock
        self.ttl = timedelta(seconds=ttl_seconds)
        self.max_attempts = max_attempts

    def _hash(self, challenge_id: uuid.UUID, code: str) -> str:
        message = f"{challenge_id}:{code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def issue(self, purpose: OtpPurpose, destination: str,
              subject_id: uuid.UUID | None = None) -> tuple[OtpChallenge, str]:
        """A new challenge and its plain code (to be sent, never stored or returned)."""
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        now = self.clock()
        challenge = OtpChallenge(purpose=purpose, destination=destination, subject_id=subject_id,
                                 code_hash="", expires_at=now + self.ttl,
                                 max_attempts=self.max_attempts)
        challenge.code_hash = self._hash(challenge.id, code)
        challenge.touch(now)
        return challenge, code

    def check(self, challenge: OtpChallenge, code: str) -> None:
        """Count an attempt and raise unless ``code`` is right, fresh and within attempts."""
        matches = hmac.compare_digest(self._hash(challenge.id, code.strip()), challenge.code_hash)
        now = self.clock()
        try:
            challenge.attempt(matches, now)
        finally:
            challenge.touch(now)
