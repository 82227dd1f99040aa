"""A knowledge base without embeddings, for tests and benchmarks that need no model."""

from __future__ import annotations

from typing import Any


class SymptomOnlyKB:
    """Same conditions, no embeddings: ranking falls back to the explicit symptom match."""

    def __init__(self) -> None:
        from dhanvantri.knowledge.conditions import load_conditions

        self.conditions = load_conditions()
        self._by_id = {c.id: c for c in self.conditions}

    def search(self, query: str, k: int = 3) -> list[Any]:
        return []

    def condition(self, condition_id: str) -> Any:
        return self._by_id[condition_id]
