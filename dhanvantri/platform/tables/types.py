"""Column types shared by the tables: UTC timestamps, exact money, enums stored as text, and
PHI sealed at rest (``Sealed``, ``SealedJSON``, ``SealedBytes``) with ``BlindIndex`` lookups."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Enum, Numeric, String, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

from ..data_cipher import for_dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which drops the zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use timezone-aware UTC")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Exact rupees in and out: ``Numeric(12, 2)`` on PostgreSQL, integer paise on SQLite.

    SQLite's NUMERIC affinity would otherwise store floats.
    """

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(12, 2, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, not float")
        amount = Decimal(value).quantize(Decimal("0.01"))
        return int(amount * 100) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))
        return Decimal(value).quantize(Decimal("0.01"))


class EnumText(TypeDecorator[StrEnum]):
    """A ``StrEnum`` (a state, a kind) stored as a plain ``VARCHAR``, read back as its member.

    Unlike ``enum_column`` this keeps the commerce tables' existing ``String`` columns (no
    migration), while the domain still gets real enum members.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum_cls, self.length = enum_cls, length  # both in the statement cache key

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value: Any, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum_cls(value)


def enum_column(enum_cls: type, name: str) -> Enum:
    """An enum stored as a plain string (no native type: a new member needs no ALTER TYPE)."""
    return Enum(enum_cls, name=name, native_enum=False, create_constraint=False, length=32,
                values_callable=lambda e: [m.value for m in e])


class Sealed(TypeDecorator[str]):
    """Text sealed with AES-GCM on the way in and opened on the way out (``data_cipher``).

    ``field`` ("table.column") is bound into each value, so it opens only in its own column.
    Stored as text; a sealed column cannot be searched or ordered by value (``BlindIndex``).
    """

    impl = Text
    cache_ok = True

    def __init__(self, field: str) -> None:
        super().__init__()
        self.field = field  # in the statement cache key

    def to_bytes(self, value: Any) -> bytes:
        """The plain form of a domain value."""
        return str(value).encode("utf-8")

    def from_bytes(self, plain: bytes) -> Any:
        """The domain value of a plain form."""
        return plain.decode("utf-8")

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return for_dialect(dialect).seal(self.to_bytes(value), self.field)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return self.from_bytes(for_dialect(dialect).open(value, self.field))


class SealedJSON(Sealed):
    """A JSON document (lists, dicts) sealed as one value."""

    cache_ok = True

    def to_bytes(self, value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode("utf-8")

    def from_bytes(self, plain: bytes) -> Any:
        return json.loads(plain)


class SealedBytes(Sealed):
    """Binary content (a PDF, a signature image) sealed as one value."""

    cache_ok = True

    def to_bytes(self, value: Any) -> bytes:
        return bytes(value)

    def from_bytes(self, plain: bytes) -> Any:
        return plain


class BlindIndex(TypeDecorator[str]):
    """A keyed hash of a sealed column's value, for lookups and unique constraints.

    Bind the plain value (``users.c.phone_index == phone``): the hash is computed here, so
    queries and writes cannot forget it. ``kind`` ("phone" or "email") picks the normalisation.
    """

    impl = String(64)
    cache_ok = True

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else for_dialect(dialect).blind_index(str(value), self.kind)

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return value  # a hash: nothing to read back
