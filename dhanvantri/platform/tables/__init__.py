"""Tables on one ``MetaData`` (what migrations compare against) and the domain's mapping.

Importing the package declares every table, so ``metadata`` is always complete.
"""

from __future__ import annotations

from . import (  # noqa: F401  (declare them)
    accounts,
    audit,
    commerce,
    consultations,
    money,
    prescriptions,
    records,
    scheduling,
    sharing,
)
from .base import metadata
from .mappers import start_mappers

__all__ = ["metadata", "start_mappers"]
