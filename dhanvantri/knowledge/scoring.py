"""Ranking conditions for a patient: embedding similarity blended with explicit symptom match.

Every number here is inspectable: :func:`rank_conditions` returns the blended score, and
:func:`feature_match` the parts it came from, so a draft can say why a condition came first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dhanvantri.knowledge.conditions import Condition
    from dhanvantri.knowledge.retrieval import KnowledgeBase

SEMANTIC_WEIGHT = 0.6  # the rest is the symptom match (chosen on both query sets)


@dataclass(frozen=True, slots=True)
class FeatureMatch:
    """How a condition's features line up with the patient's symptoms."""

    coverage: float  # share of the condition's feature weight the patient has
    explained: float  # share of the patient's symptoms that are features of the condition
    denied: float  # share of the condition's feature weight the patient denied
    matched: tuple[str, ...]  # symptom ids present and in the condition's features

    @property
    def score(self) -> float:
        """0..1: coverage and explanation count equally; denials subtract."""
        return max(0.0, 0.5 * self.coverage + 0.5 * self.explained - 0.5 * self.denied)


def feature_match(condition: Condition, symptoms: dict[str, bool]) -> FeatureMatch:
    """Compare one condition with the patient's present/denied symptoms."""
    total = sum(condition.features.values()) or 1
    present = [s for s, yes in symptoms.items() if yes]
    matched = tuple(s for s in present if s in condition.features)
    coverage = sum(condition.features[s] for s in matched) / total
    explained = len(matched) / len(present) if present else 0.0
    denied = sum(w for s, w in condition.features.items() if symptoms.get(s) is False) / total
    return FeatureMatch(coverage, explained, denied, matched)


def rank_conditions(kb: KnowledgeBase, query: str, symptoms: dict[str, bool]
                    ) -> list[tuple[Condition, float]]:
    """All conditions, best first, scored ``0.6 * cosine + 0.4 * feature match``."""
    semantic = {p.id: p.score for p in kb.search(query, k=len(kb.conditions))} if query else {}
    scored = []
    for condition in kb.conditions:
        cosine = max(0.0, semantic.get(condition.id, 0.0))
        match = feature_match(condition, symptoms)
        score = SEMANTIC_WEIGHT * cosine + (1 - SEMANTIC_WEIGHT) * match.score
        scored.append((condition, round(score, 4)))
    scored.sort(key=lambda item: (-item[1], item[0].id))
    return scored
