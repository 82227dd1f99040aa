"""Family links: the patients a wallet owner may send money to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from .base import Identified


@dataclass(kw_only=True, eq=False)
class FamilyLink(Identified):
    """``owner_id`` may transfer to ``member_id`` (one direction)."""

    owner_id: uuid.UUID
    member_id: uuid.UUID
    created_at: datetime
