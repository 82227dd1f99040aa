"""The one ``MetaData`` every table is declared on, and the registry that maps the domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, MetaData
from sqlalchemy.orm import registry

from .types import UTCDateTime

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})
mapper_registry = registry(metadata=metadata)


def stamps(*, deleted: bool = True) -> list[Column[Any]]:
    """``created_at`` and ``updated_at`` (and ``deleted_at`` for soft-deleted records)."""
    columns: list[Column[Any]] = [Column("created_at", UTCDateTime(), nullable=False),
                                  Column("updated_at", UTCDateTime(), nullable=False)]
    if deleted:
        columns.append(Column("deleted_at", UTCDateTime(), nullable=True))
    return columns
