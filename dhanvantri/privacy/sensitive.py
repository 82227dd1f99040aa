"""The repr policy: a wrapper that keeps patient text out of reprs, logs and tracebacks.

Frames, errors and metric labels that must carry patient text hold it as ``PhiText``; printing,
formatting or logging one shows only its length. Code that needs the words asks for them with
``reveal()``, which makes every such use easy to find in review.
"""

from __future__ import annotations


class PhiText:
    """Patient text that never shows itself.

    Args:
        value: The text.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The text itself, for the one place that needs it."""
        return self._value

    def __repr__(self) -> str:
        return f"PhiText(<{len(self._value)} chars>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PhiText) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("PhiText", self._value))

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (PhiText, (self._value,))
