"""Answers for links that no longer open: the page says why, so a bystander or a doctor knows
it is not a fault of theirs."""

from __future__ import annotations

from ...http.errors import ApiError


class Gone(ApiError):
    """The card or share existed and has ended (revoked, expired or locked): 410."""

    status = 410
    code = "GONE"
