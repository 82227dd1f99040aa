"""One-time codes: random digits kept only as a keyed hash, with expiry and an attempt limit.

``CodeHasher`` makes and hashes codes; ``OtpIssuer`` adds stored challenges for patient login
and e-sign. Delivery codes (``commerce/delivery.py``) are hashed the same way under a key of
their own. (Admin MFA uses TOTP instead; see ``mfa.py``.)
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


class CodeHasher:
    """Codes are stored as HMAC-SHA256 under a server key, bound to what they unlock.

    A leaked table cannot be brute-forced offline without the key; online guessing is capped
    by the attempt limit of whatever holds the hash.
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    @staticmethod
    def new_code() -> str:
        """Six random digits (to be sent, never stored or returned)."""
        return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"

    def hash(self, subject: str, code: str) -> str:
        """The stored form of ``code`` for ``subject`` (a challenge or an order)."""
        return hmac.new(self._key, f"{subject}:{code}".encode(), hashlib.sha256).hexdigest()

    def matches(self, subject: str, code: str, stored: str) -> bool:
        """Whether ``code`` is the one whose hash is ``stored`` (constant time)."""
        return hmac.compare_digest(self.hash(subject, code), stored)


class OtpIssuer:
    """Creates login and e-sign challenges and checks codes against them."""

    def __init__(self, key: bytes, clock: Clock, ttl_seconds: int, max_attempts: int) -> None:
        self._codes = CodeHasher(key)
        self.clock = clock
        self.ttl = timedelta(seconds=ttl_seconds)
        self.max_attempts = max_attempts

    def issue(self, purpose: OtpPurpose, destination: str,
              subject_id: uuid.UUID | None = None) -> tuple[OtpChallenge, str]:
        """A new challenge and its plain code (to be sent, never stored or returned)."""
        code = self._codes.new_code()
        now = self.clock()
        challenge = OtpChallenge(purpose=purpose, destination=destination, subject_id=subject_id,
                                 code_hash="", expires_at=now + self.ttl,
                                 max_attempts=self.max_attempts)
        challenge.code_hash = self._codes.hash(str(challenge.id), code)
        challenge.touch(now)
        return challenge, code

    def check(self, challenge: OtpChallenge, code: str) -> None:
        """Count an attempt and raise unless ``code`` is right, fresh and within attempts."""
        matches = self._codes.matches(str(challenge.id), code.strip(), challenge.code_hash)
        now = self.clock()
        try:
            challenge.attempt(matches, now)
        finally:
            challenge.touch(now)
