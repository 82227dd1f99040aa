"""JWT access tokens (short-lived) and opaque rotating refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt

from ..http.errors import Unauthorized
from ..http.principal import Principal, Role
from .clock import Clock
from .domain.accounts import RefreshToken

ALGORITHM = "HS256"
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

    def access_token(self, user_id: uuid.UUID, role: Role) -> str:
        """A signed JWT for ``user_id`` acting as ``role``."""
        now = self.clock()
        claims = {"sub": str(user_id), "role": role.value, "iss": ISSUER, "typ": "access",
                  "iat": int(now.timestamp()), "exp": int((now + self.access_ttl).timestamp()),
                  "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def principal(self, token: str) -> Principal:
        """Decode an access token; raise ``Unauthorized`` when invalid or expired."""
        try:
            # Expiry is checked against our clock below (tests move it), not the wall clock.
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], issuer=ISSUER,
                                options={"verify_exp": False, "verify_iat": False,
                                         "require": ["exp", "sub", "role"]})
        except jwt.PyJWTError as exc:
            raise Unauthorized("invalid access token", code="TOKEN_INVALID") from exc
        if claims.get("typ") != "access":
            raise Unauthorized("not an access token", code="TOKEN_INVALID")
        if self.clock().timestamp() >= float(claims["exp"]):
            raise Unauthorized("access token expired", code="TOKEN_EXPIRED")
        try:
            return Principal(uuid.UUID(claims["sub"]), Role(claims["role"]))
        except ValueError as exc:
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
