"""JWT access tokens (short-lived) and opaque rotating refresh tokens."""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from ..http.errors import Unauthorized
from ..http.principal import Principal, Role
from .clock import Clock
from .domain.accounts import RefreshToken

ALGORITHM = "HS256"
# How long a passed account/session check is trusted by a process (see CheckedSessions).
CHECK_SECONDS = 5.0
ISSUER = "dhanvantri"


@dataclass(frozen=True)
class TokenPair:
    """What a successful login or refresh returns."""

    access_token: str
    refresh_token: str
    expires_in: int

    def as_json(self) -> dict[str, object]:
        """OAuth-style response body."""
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "token_type": "Bearer", "expires_in": self.expires_in}


@dataclass(frozen=True)
class AccessClaims:
    """What an access token says: who calls, and in which session (None in old tokens)."""

    principal: Principal
    session_id: uuid.UUID | None


def _is_number(value: object) -> bool:
    # bool is an int, and NaN compares false with everything (a token that never expires).
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class CheckedSessions:
    """Callers whose account and session passed the database check in the last few seconds.

    Per process. The process that ends a session forgets it at once; other processes notice
    within ``seconds``, which is what keeps the check to one query per caller per interval.
    """

    MAX_ENTRIES = 10_000  # beyond this, drop the lot: a cache miss is only a query

    def __init__(self, clock: Clock, seconds: float = CHECK_SECONDS) -> None:
        self._clock = clock
        self._ttl = timedelta(seconds=seconds)
        self._until: dict[tuple[uuid.UUID, uuid.UUID | None], datetime] = {}

    def fresh(self, claims: AccessClaims) -> bool:
        """Whether this caller was checked recently enough to skip the database."""
        until = self._until.get((claims.principal.user_id, claims.session_id))
        return until is not None and self._clock() < until

    def remember(self, claims: AccessClaims) -> None:
        """The caller passed the check just now."""
        if len(self._until) >= self.MAX_ENTRIES:
            self._until.clear()
        self._until[(claims.principal.user_id, claims.session_id)] = self._clock() + self._ttl

    def forget_user(self, user_id: uuid.UUID) -> None:
        """The account was deactivated here: check its callers again on their next request."""
        for key in [key for key in self._until if key[0] == user_id]:
            del self._until[key]

    def forget_session(self, session_id: uuid.UUID) -> None:
        """The session ended here: check it again on its next request."""
        for key in [key for key in self._until if key[1] == session_id]:
            del self._until[key]


def hash_refresh(token: str) -> str:
    """Refresh tokens are stored only as SHA-256 (they are long random strings)."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    """Signs and checks access tokens; mints refresh tokens."""

    def __init__(self, secret: bytes, clock: Clock, access_minutes: int, refresh_days: int
                 ) -> None:
        self._secret = secret
        self.clock = clock
        self.access_ttl = timedelta(minutes=access_minutes)
        self.refresh_ttl = timedelta(days=refresh_days)
        self.checked = CheckedSessions(clock)

    def access_token(self, user_id: uuid.UUID, role: Role,
                     session_id: uuid.UUID | None = None) -> str:
        """A signed JWT for ``user_id`` acting as ``role``.

        ``session_id`` (the refresh-token family) lets a logout or a detected reuse end the
        access tokens of that session too, not only its refresh tokens.
        """
        now = self.clock()
        claims = {"sub": str(user_id), "role": role.value, "iss": ISSUER, "typ": "access",
                  "iat": int(now.timestamp()), "exp": int((now + self.access_ttl).timestamp()),
                  "jti": uuid.uuid4().hex}
        if session_id is not None:
            claims["sid"] = str(session_id)
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def principal(self, token: str) -> Principal:
        """Decode an access token; raise ``Unauthorized`` when invalid or expired."""
        return self.access_claims(token).principal

    def access_claims(self, token: str) -> AccessClaims:
        """Decode and check an access token (signature, type, expiry, claim types).

        Raises:
            Unauthorized: ``TOKEN_INVALID`` or ``TOKEN_EXPIRED``; never anything else, whatever
                the claims hold (a well-signed token with odd claims is still only invalid).
        """
        try:
            # Expiry is checked against our clock below (tests move it), not the wall clock.
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], issuer=ISSUER,
                                options={"verify_exp": False, "verify_iat": False,
                                         "require": ["exp", "sub", "role"]})
        except jwt.PyJWTError as exc:
            raise Unauthorized("invalid access token", code="TOKEN_INVALID") from exc
        expiry = claims["exp"]
        if claims.get("typ") != "access" or not _is_number(expiry):
            raise Unauthorized("invalid access token", code="TOKEN_INVALID")
        if self.clock().timestamp() >= expiry:
            raise Unauthorized("access token expired", code="TOKEN_EXPIRED")
        try:
            sid = claims.get("sid")
            return AccessClaims(Principal(uuid.UUID(str(claims["sub"])), Role(claims["role"])),
                                None if sid is None else uuid.UUID(str(sid)))
        except (TypeError, ValueError) as exc:
            raise Unauthorized("invalid access token", code="TOKEN_INVALID") from exc

    def refresh_token(self, user_id: uuid.UUID, family_id: uuid.UUID | None = None
                      ) -> tuple[RefreshToken, str]:
        """A new refresh token record and its plain value (returned to the client once)."""
        value = secrets.token_urlsafe(32)
        now = self.clock()
        record = RefreshToken(user_id=user_id, family_id=family_id or uuid.uuid4(),
                              token_hash=hash_refresh(value), expires_at=now + self.refresh_ttl)
        record.touch(now)
        return record, value

    @property
    def access_seconds(self) -> int:
        """Access-token lifetime in seconds."""
        return int(self.access_ttl.total_seconds())
