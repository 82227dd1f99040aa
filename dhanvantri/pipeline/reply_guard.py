"""Stops the assistant from naming a diagnosis, a medicine or a dose before a doctor signs.

The language model is told not to, but a small model does it anyway, and the rule matters too
much to trust a prompt (Telemedicine Practice Guidelines 2020: the registered doctor prescribes
and counsels). Every phrase is checked before it is spoken; a phrase that breaks the rule is
replaced by a neutral one. Names the patient said themselves may be repeated back.
"""

from __future__ import annotations

import dataclasses
import re
from functools import cache

from dhanvantri.pipeline.frames import (
    Direction,
    Frame,
    MetricsFrame,
    RedactedTranscriptionFrame,
    SpeakFrame,
)
from dhanvantri.pipeline.processor import FrameProcessor

SAFE_PHRASE = "The doctor will go through that with you after reviewing your details."
_DOSE = re.compile(
    r"\b\d+(\.\d+)?\s*(mg|mcg|µg|g|ml|iu|units?|tablets?|tabs?|capsules?|puffs?|drops?)\b",
    re.IGNORECASE,
)
_FREQUENCY = re.compile(
    r"\b(once|twice|thrice|three times|four times)\s+(a|per)\s+day\b|\b(OD|BD|TDS|QID)\b"
)
_DIAGNOSIS_VERBS = re.compile(
    r"\b(you (probably |likely |may |might )?(have|are suffering from)|"
    r"(it|this) (is|sounds like|looks like|could be|might be|may be))\b",
    re.IGNORECASE,
)


@cache
def _vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """Lower-case medicine names (generic, synonyms, brands) and condition names."""
    from dhanvantri.knowledge.conditions import load_conditions
    from dhanvantri.knowledge.medicines import load_medicines

    medicines = {
        n.lower()
        for m in load_medicines()
        for n in (m.generic, *m.synonyms, *m.brands)
        if len(n) > 3
    }
    conditions = {n.lower() for c in load_conditions() for n in (c.title, *c.aliases) if len(n) > 3}
    return frozenset(medicines), frozenset(conditions)


def _mentions(text: str, names: frozenset[str]) -> set[str]:
    lowered = f" {re.sub(r'[^a-z0-9+ ]+', ' ', text.lower())} "
    return {name for name in names if f" {name} " in lowered}


def violations(phrase: str, patient_said: str = "") -> list[str]:
    """Why ``phrase`` must not be spoken (empty when it is fine)."""
    medicines, conditions = _vocabulary()
    said_medicines = _mentions(patient_said, medicines)
    said_conditions = _mentions(patient_said, conditions)
    found = []
    if _DOSE.search(phrase) or _FREQUENCY.search(phrase):
        found.append("dose")
    if _mentions(phrase, medicines) - said_medicines:
        found.append("medicine")
    named = _mentions(phrase, conditions) - said_conditions
    if named and _DIAGNOSIS_VERBS.search(phrase):
        found.append("diagnosis")
    return found


class ReplyGuard(FrameProcessor):
    """Replaces unsafe phrases of the LLM's reply before they are spoken."""

    def __init__(self) -> None:
        super().__init__()
        self._patient_said = ""

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, RedactedTranscriptionFrame):
            self._patient_said = f"{self._patient_said} {frame.text}"[-4000:]
        elif isinstance(frame, SpeakFrame) and not (frame.canned or frame.vetted):
            if found := violations(frame.text, self._patient_said):
                await self.push_frame(
                    MetricsFrame(
                        name=f"reply_blocked_{'_'.join(found)}", value_ms=0.0, turn=frame.turn
                    )
                )
                frame = dataclasses.replace(frame, text=SAFE_PHRASE)
        await self.push_frame(frame, direction)
