"""The clinical logic's place in the pipeline: red flags first, then the next intake question.

Every patient turn is checked for red flags deterministically. An emergency is answered at once
with a fixed spoken instruction and an escalation, with no language model on that path: the
raw final words are checked before their redaction (a :class:`RedFlagFrame` from
``RedFlagWatch``), so the instruction goes out first and the redacted turn only joins the
notes. Other turns update the intake state, and the next question (chosen from the knowledge
base) goes to the responder with an acknowledgement of what was understood from the turn
(built from the intake record, so it restates only what the patient said). When intake is
complete, the prescription draft is built for the physician and the patient is told a doctor
will review it.

While a physician has the call (between :class:`HandOverFrame` and :class:`HandBackFrame`) the
guide keeps the intake going but says nothing; the physician's notes (tokenised) join the draft.
Listeners added with :meth:`ClinicalGuide.add_notes_listener` hear when the working notes change.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

from dhanvantri.pipeline.frames import (
    Direction,
    EscalationFrame,
    EventFrame,
    Frame,
    GuidanceFrame,
    ListeningFrame,
    MetricsFrame,
    RedactedTranscriptionFrame,
    RedFlagFrame,
    SpeakFrame,
    now,
)
from dhanvantri.pipeline.physician import PhysicianPresence
from dhanvantri.pipeline.processor import FrameProcessor

log = logging.getLogger(__name__)

EMERGENCY_TOPIC = "emergency"
_ASKS_FOR_DOCTOR = re.compile(
    r"\b(speak|talk|connect)\w*\s+(to|with)\s+(a|the|real|human|an?\s+actual)?\s*(real\s+)?"
    r"(doctor|physician|human|person)\b|\bi\s+(want|need)\s+(a|to see a)\s+(real\s+)?doctor\b",
    re.IGNORECASE,
)


def asks_for_doctor(text: str) -> bool:
    """True when the patient asks to speak to a doctor or a person."""
    return bool(_ASKS_FOR_DOCTOR.search(text))


class ClinicalGuide(FrameProcessor):
    """Triage, intake and the draft, between retrieval and the language model.

    Args:
        knowledge: the knowledge base (``dhanvantri.knowledge.KnowledgeBase``).
        on_draft: called with the prescription draft (a dict) when intake is complete.
    """

    def __init__(
        self, knowledge: Any, *, on_draft: Callable[[dict[str, Any]], Any] | None = None
    ) -> None:
        from dhanvantri.knowledge.intake import IntakeState

        super().__init__()
        self.knowledge = knowledge
        self.intake = IntakeState()
        self.on_draft = on_draft
        self.draft: dict[str, Any] | None = None
        self.red_flags: list[str] = []
        self._physician = PhysicianPresence()  # the notes go with the draft
        self._notes_listeners: list[Callable[[], None]] = []
        self._asked = ""  # the topic of the question the patient is answering
        # The record from before a turn whose terms are being confirmed: once the patient says
        # yes, that turn is acknowledged; once they say no, nothing was learned.
        self._unconfirmed: dict[str, Any] | None = None
        # The turn whose emergency was answered (from its raw words, before its redaction).
        self._urgent_turn: int | None = None

    @property
    def paused(self) -> bool:
        """True while a physician has the call."""
        return self._physician.has_call

    @property
    def physician_notes(self) -> tuple[str, ...]:
        """The physician's notes and words so far, tokenised."""
        return self._physician.notes

    def add_notes_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever the working notes (:meth:`notes`) may have changed."""
        self._notes_listeners.append(listener)

    def remove_notes_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener``; a listener not added is ignored."""
        if listener in self._notes_listeners:
            self._notes_listeners.remove(listener)

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, RedFlagFrame) and frame.confirmed:
            await self._on_red_flags(frame)
        if self._physician.follow(frame):
            self._notes_changed()
        await self.push_frame(frame, direction)
        if isinstance(frame, RedactedTranscriptionFrame):
            await self._on_patient_turn(frame)
            self._notes_changed()

    def _notes_changed(self) -> None:
        for listener in list(self._notes_listeners):
            listener()

    def _topics(self) -> tuple[str, ...]:
        """The symptoms the patient has reported so far, as keys (the queue shows them)."""
        return tuple(s for s, yes in self.intake.symptoms.items() if yes)

    async def _say(self, frame: Frame) -> None:
        """Push what the assistant would say, unless a physician has the call."""
        if not self._physician.has_call:
            await self.push_frame(frame)

    def notes(self) -> dict[str, Any]:
        """The working notes a joining physician sees: red flags, intake state, the draft."""
        from dhanvantri.knowledge.lexicon import symptom

        intake = self.intake
        return {
            "red_flags": list(self.red_flags),
            "intake": {
                "complaint": intake.complaint,
                "duration": intake.duration_text,
                "severity": intake.severity,
                "symptoms": [symptom(s).label for s, yes in intake.symptoms.items() if yes],
                "denied": [symptom(s).label for s, yes in intake.symptoms.items() if not yes],
                "age_years": intake.age_years,
                "sex": intake.sex,
                "pregnant": intake.pregnant,
                "allergies": list(intake.allergies),
                "medications": list(intake.medications),
                "conditions": list(intake.conditions),
                "missing": intake.missing_for_draft(),
                "turns": intake.turns,
            },
            "draft": self.draft,
            "physician_notes": list(self._physician.notes),
        }

    def record(self) -> dict[str, Any]:
        """The clinical notes as data for the consultation's record: the structured intake,
        red flags, the draft (None until intake is complete) and the physician's notes."""
        return {"intake": self.intake.as_record(), "red_flags": list(self.red_flags),
                "draft": self.draft, "physician_notes": list(self._physician.notes)}

    async def _on_patient_turn(self, frame: RedactedTranscriptionFrame) -> None:
        from dhanvantri.knowledge.triage import triage

        started = now()
        result = triage(frame.text)
        await self.push_frame(
            MetricsFrame(name="triage", turn=frame.turn, value_ms=(now() - started) * 1e3)
        )
        answered = frame.turn == self._urgent_turn
        if result.emergency or answered:
            self.intake.update(frame.text)  # the physician's notes and queue show it too
            self._flag(result.red_flags)
            if not answered:
                await self._answer_emergency(tuple(result.red_flags), result.advice_parts,
                                             frame.turn)
            # The responder hears that this turn was answered: no reply of its own.
            await self._say(GuidanceFrame(instruction="", topic=EMERGENCY_TOPIC, turn=frame.turn))
            return
        if asks_for_doctor(frame.text):
            await self.push_frame(
                EscalationFrame(reason="patient_request", topics=self._topics(), turn=frame.turn)
            )
            await self._say(
                GuidanceFrame(
                    # Spoken as written in the embedded style: a sentence, not an instruction.
                    instruction="I have asked a doctor to join the call. Please stay on the line.",
                    topic="doctor_requested",
                    turn=frame.turn,
                )
            )
            return
        before = self.intake.as_record()
        self.intake.update(frame.text, unsure=frame.unsure)
        after = self.intake.as_record()
        # next_step searches the knowledge base (~20 ms): keep it off the event loop.
        step = await asyncio.to_thread(self.intake.next_step, self.knowledge)
        if step.kind != "ask" and self.draft is None and not self.intake.missing_for_draft():
            await self._make_draft(frame.turn)
        said = self._acknowledgement(before, after, step.topic, frame.turn)
        await self._say(GuidanceFrame(instruction=step.question, topic=step.topic,
                                      acknowledgement=said, turn=frame.turn))
        # Speech-to-text listens for the words that answer this question.
        await self.push_frame(
            ListeningFrame(topic=step.topic, question=step.question, turn=frame.turn),
            Direction.UPSTREAM,
        )

    async def _on_red_flags(self, frame: RedFlagFrame) -> None:
        """The final words show an emergency: answer it before they are redacted."""
        if frame.turn != self._urgent_turn:
            self._flag(frame.red_flags)
            await self._answer_emergency(frame.red_flags, frame.advice, frame.turn)

    async def on_interrupt(self) -> None:
        # The patient went on: the turn is heard again, and its emergency answered anew (the
        # advice held for it was dropped with the rest of the reply).
        self._urgent_turn = None

    def _flag(self, red_flags: list[str] | tuple[str, ...]) -> None:
        self.red_flags.extend(f for f in red_flags if f not in self.red_flags)

    async def _answer_emergency(
        self, red_flags: tuple[str, ...], advice: tuple[str, ...], turn: int
    ) -> None:
        """Escalate and say the fixed advice, one text a frame (each may be ready-made)."""
        self._urgent_turn = turn
        await self.push_frame(
            EscalationFrame(reason="red_flag", red_flags=red_flags, emergency=True,
                            topics=self._topics(), turn=turn)
        )
        for text in advice:
            await self._say(SpeakFrame(text=text, vetted=True, turn=turn))

    def _acknowledgement(
        self, before: dict[str, Any], after: dict[str, Any], topic: str, turn: int
    ) -> str:
        """What was understood from the turn; nothing while a heard term awaits confirmation
        (the question reads it back)."""
        from dhanvantri.knowledge.acknowledgement import acknowledge

        if topic == "confirm":  # the question the unsure turn answered stays the one asked
            self._unconfirmed = self._unconfirmed or before
            return ""
        asked, self._asked = self._asked, topic
        before, self._unconfirmed = self._unconfirmed or before, None
        return acknowledge(before, after, topic=asked, turn=turn)

    async def _make_draft(self, turn: int) -> None:
        from dhanvantri.knowledge.draft import build_draft

        draft = await asyncio.to_thread(build_draft, self.intake, self.knowledge)
        self.draft = draft.to_dict()
        if self._physician.notes:
            self.draft["physician_notes"] = list(self._physician.notes)
        await self.push_frame(EventFrame(turn=turn, event={"type": "draft_ready", "turn": turn}))
        if self.on_draft is not None:
            result = self.on_draft(self.draft)
            if asyncio.iscoroutine(result):
                await result
        log.info("draft ready for turn %d", turn)
