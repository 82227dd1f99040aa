"""Recall and false-alarm rate of red-flag triage on the labelled set in ``triage_cases``.

Every set has been used to improve the lexicon by now, so these scores are regression floors;
the comments in ``triage_cases`` record each set's scores from before it was used, which are the
estimate for unseen phrasings.

Run with ``-s`` to see the numbers, e.g.
``python -m pytest -q -s tests/knowledge/test_triage_eval.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dhanvantri.knowledge.red_flags import RED_FLAGS
from dhanvantri.knowledge.triage import triage
from tests.knowledge.triage_cases import (
    BLIND_NEGATIVES,
    BLIND_POSITIVES,
    FINAL_NEGATIVES,
    FINAL_POSITIVES,
    FRESH_NEGATIVES,
    FRESH_POSITIVES,
    HELDOUT_NEGATIVES,
    HELDOUT_POSITIVES,
    NEGATIVES,
    POSITIVES,
    PROBE_NEGATIVES,
)

SETS = {
    "development": (POSITIVES, NEGATIVES),
    "held-out": (HELDOUT_POSITIVES, HELDOUT_NEGATIVES),
    "fresh": (FRESH_POSITIVES, FRESH_NEGATIVES),
    "blind": (BLIND_POSITIVES, BLIND_NEGATIVES),
    "final": (FINAL_POSITIVES, FINAL_NEGATIVES),
}
# Negatives only: reported as a false-alarm rate.
PROBES = PROBE_NEGATIVES
ALL_POSITIVES = [case for positives, _ in SETS.values() for case in positives]
ALL_NEGATIVES = [text for _, negatives in SETS.values() for text in negatives] + PROBE_NEGATIVES


@dataclass(frozen=True)
class Scores:
    """Emergency recall, flag accuracy among positives, and false-alarm rate."""

    positives: int
    negatives: int
    detected: int
    right_flag: int
    false_alarms: int

    @property
    def recall(self) -> float:
        return self.detected / self.positives

    @property
    def flag_accuracy(self) -> float:
        return self.right_flag / self.positives

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.negatives

    def line(self, name: str) -> str:
        return (f"{name:12} positives {self.positives:3} negatives {self.negatives:3} "
                f"recall {self.recall:.3f} right-flag {self.flag_accuracy:.3f} "
                f"false-alarm {self.false_alarm_rate:.3f}")


def score(positives: list[tuple[str, str]], negatives: list[str]) -> Scores:
    results = [(triage(text), flag) for text, flag in positives]
    return Scores(
        positives=len(positives),
        negatives=len(negatives),
        detected=sum(r.emergency for r, _ in results),
        right_flag=sum(flag in r.red_flags for r, flag in results),
        false_alarms=sum(triage(text).emergency for text in negatives),
    )


def test_labelled_set_is_large_enough_and_covers_every_flag() -> None:
    assert len(POSITIVES) >= 60 and len(NEGATIVES) >= 60
    labels = {flag for _, flag in ALL_POSITIVES}
    assert labels == {flag.id for flag in RED_FLAGS}
    assert len(set(ALL_NEGATIVES)) == len(ALL_NEGATIVES)


def test_recall_and_false_alarm_rate() -> None:
    for name, (positives, negatives) in SETS.items():
        print(score(positives, negatives).line(name))
    probes = sum(triage(text).emergency for text in PROBES)
    print(f"{'probes':12} negatives {len(PROBES):3} false-alarm {probes / len(PROBES):.3f}")
    total = score(ALL_POSITIVES, ALL_NEGATIVES)
    print(total.line("all"))
    assert total.recall >= 0.95
    assert total.flag_accuracy >= 0.9
    assert total.false_alarm_rate <= 0.03


@pytest.mark.parametrize(("text", "flag"), ALL_POSITIVES)
def test_positive(text: str, flag: str) -> None:
    result = triage(text)
    assert result.emergency and flag in result.red_flags, result.red_flags


@pytest.mark.parametrize("text", ALL_NEGATIVES)
def test_negative(text: str) -> None:
    assert triage(text).red_flags == []
