"""Password hashing with Argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Compared against when the account does not exist, so timing does not reveal which e-mails exist.
_DUMMY = _hasher.hash("not-a-real-password")


def use_hasher(hasher: PasswordHasher) -> None:
    """Replace the hasher (e.g. cheaper parameters in tests, stronger ones on big servers)."""
    global _hasher, _DUMMY
    _hasher = hasher
    _DUMMY = hasher.hash("not-a-real-password")
MIN_LENGTH = 12


def hash_password(password: str) -> str:
    """An Argon2id hash (salt and parameters included)."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; always spends the same work."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
