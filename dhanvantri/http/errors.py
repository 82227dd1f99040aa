"""Errors raised by use cases and routes; the middleware turns them into the JSON error shape.

Every code is UPPER_SNAKE and keeps one HTTP status wherever it is raised (the README's
"Errors" table lists them; ``tests/http/test_error_codes.py`` holds the source to that).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base class: a stable machine ``code``, a human ``message`` and optional ``details``."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class ValidationFailed(ApiError):
    """Input is malformed; ``details`` lists ``{"field", "message"}`` entries."""

    status = 422
    code = "VALIDATION_ERROR"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        """An error about one named field."""
        return cls(f"{field}: {message}", details=[{"field": field, "message": message}])


class Unauthorized(ApiError):
    """Missing, expired or wrong credentials."""

    status = 401
    code = "UNAUTHORIZED"


class Forbidden(ApiError):
    """Authenticated, but the role or ownership does not allow this."""

    status = 403
    code = "FORBIDDEN"


class NotFound(ApiError):
    """No such record (or the caller may not know it exists)."""

    status = 404
    code = "NOT_FOUND"


class Conflict(ApiError):
    """The record's state does not allow this change."""

    status = 409
    code = "CONFLICT"


class PayloadTooLarge(ApiError):
    """The request body is over the size limit."""

    status = 413
    code = "PAYLOAD_TOO_LARGE"


class RateLimited(ApiError):
    """Too many attempts; ``details`` carries ``retry_after`` seconds."""

    status = 429
    code = "RATE_LIMITED"


class RequestTimeout(ApiError):
    """The client did not send its request body in time (``request_body_timeout_s``)."""

    status = 408
    code = "REQUEST_TIMEOUT"
