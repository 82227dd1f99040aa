"""The assistant's reply to each finished patient turn.

The clinical logic decides *what* to ask or say (a :class:`GuidanceFrame`); the model only
phrases it. Two styles:

* ``converse`` for a capable model behind ``DHANVANTRI_LLM_BASE_URL``: it gets a short history
  and the question to ask, and its streamed reply is spoken as it comes.
* ``acknowledge`` for the embedded 135M model, which cannot follow instructions (asked to phrase
  a question it lists made-up severities or talks as the patient): it only writes one short
  sentence of empathy, from a fixed few-shot prompt that the LLM server keeps cached. The
  sentence is checked and replaced by a plain one when it is not fit to speak, and the clinical
  question follows it word for word.

While a physician has the call (between :class:`HandOverFrame` and :class:`HandBackFrame`) the
patient's words are kept in the history but not answered; the physician's notes (tokenised)
join the system prompt.
"""

from __future__ import annotations

import logging
import re

from dhanvantri.pipeline.frames import (
    Direction,
    Frame,
    GuidanceFrame,
    KnowledgeFrame,
    LLMTextFrame,
    MetricsFrame,
    RedactedTranscriptionFrame,
    ReplyEndFrame,
    ReplyStartFrame,
    TurnEndFrame,
    now,
)
from dhanvantri.pipeline.physician import PHYSICIAN_FRAMES, PhysicianPresence
from dhanvantri.pipeline.processor import FrameProcessor
from dhanvantri.pipeline.services import ChatMessage, LanguageModel

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are Dhanvantri, a kind assistant at a medical clinic, speaking with a patient on a voice "
    "call before a doctor reviews their case. Reply in one or two short spoken sentences. Never "
    "name a diagnosis, a medicine or a dose: a doctor decides those. Words like <PERSON_1> are "
    "placeholders for private details: repeat them exactly as written."
)
ACK_PROMPT = (
    "You are a kind nurse on a phone call. Answer the patient with one short sentence that shows "
    "you understood. Do not ask questions and do not give advice."
)
ACK_EXAMPLES = (
    (
        "I have a bad stomach ache since this morning.",
        "I am sorry to hear about your stomach ache.",
    ),
    ("I cut my finger while cooking.", "Oh, that sounds painful."),
    ("No, I do not take any medicines.", "Thank you, that is helpful to know."),
    ("My knee has been hurting when I climb stairs.", "I understand, that must make the day hard."),
)
FALLBACK_ACK = "Thank you for telling me."
_UNFIT = re.compile(
    r"[\n():;\"*#\[\]{}=/\\?]|\d|\b(dr|doctor|not a|not helpful|diagnos\w*|"
    r"medicines?|tablets?|normal|good|great|glad|happy|thankful|wonderful|lucky|"
    r"believe|concerning|careful|worry)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"^(.+?[.!])(\s|$)")


def fit_acknowledgement(text: str) -> str:
    """The model's first sentence if it is a short, plain, speakable acknowledgement, else a
    fixed one. Numbers, questions, lists, claims to be a doctor, reassurance and
    misplaced cheer ("that's great" to a sore throat) are refused."""
    text = text.strip()
    match = _SENTENCE.match(text)
    sentence = (match.group(1) if match else text).strip()
    plain = re.sub(r"<[A-Z_]+_\d+>", "", sentence)  # PHI tokens are fine to repeat
    if not 2 <= len(sentence.split()) <= 14 or _UNFIT.search(plain):
        return FALLBACK_ACK
    return sentence


class Responder(FrameProcessor):
    """Turns a finished patient turn into :class:`LLMTextFrame` pieces.

    Args:
        llm: the language model.
        style: ``"converse"`` or ``"acknowledge"`` (see the module docstring).
        history_turns: past exchanges sent with each request (converse style).
        use_passages: add retrieved passage titles to the prompt (converse style).
    """

    def __init__(
        self,
        llm: LanguageModel,
        *,
        style: str = "converse",
        history_turns: int = 2,
        use_passages: bool = False,
        system_prompt: str = SYSTEM_PROMPT,
    ) -> None:
        super().__init__()
        if style not in ("converse", "acknowledge"):
            raise ValueError(f"unknown style {style!r}")
        self.llm = llm
        self.style = style
        self.history_turns = history_turns
        self.use_passages = use_passages
        self.system_prompt = system_prompt
        self.history: list[ChatMessage] = []
        self._physician = PhysicianPresence()  # the notes go in the system prompt
        self._user_text = ""
        self._guidance = ""
        self._topic = ""
        self._passages: tuple = ()
        self._partial = ""

    @property
    def paused(self) -> bool:
        """True while a physician has the call."""
        return self._physician.has_call

    @property
    def physician_notes(self) -> tuple[str, ...]:
        """The physician's notes and words so far, tokenised."""
        return self._physician.notes

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, PHYSICIAN_FRAMES):
            self._physician.follow(frame)
            await self.push_frame(frame, direction)
        elif isinstance(frame, RedactedTranscriptionFrame):
            if self._physician.has_call:
                self.history.append(ChatMessage("user", frame.text))
            else:
                self._user_text = frame.text
            await self.push_frame(frame, direction)  # the reply guard reads it
        elif isinstance(frame, KnowledgeFrame):
            self._passages = frame.passages
        elif isinstance(frame, GuidanceFrame) and not self._physician.has_call:
            # The clinical logic has decided: reply now, even before the turn is certain (the
            # output holds the audio until it is; barge-in voids it if the patient goes on).
            self._guidance, self._topic = frame.instruction, frame.topic
            await self._respond(frame.turn)
        elif isinstance(frame, TurnEndFrame):
            await self.push_frame(frame, direction)
            await self._respond(frame.turn)  # no clinical stage in this pipeline
        else:
            await self.push_frame(frame, direction)

    async def _respond(self, turn: int) -> None:
        if self._topic == "emergency":
            # The fixed emergency instruction is already on its way: no model in that path.
            self.history.append(ChatMessage("user", self._user_text))
            self._clear_turn()
        elif self._user_text:
            await self._reply(turn)

    def _clear_turn(self) -> None:
        self._user_text, self._guidance, self._topic, self._passages = "", "", "", ()

    def messages(self, user_text: str | None = None) -> list[ChatMessage]:
        """The request for the current turn (or for ``user_text``)."""
        user_text = self._user_text if user_text is None else user_text
        if self.style == "acknowledge":
            shots = [
                m
                for said, reply in ACK_EXAMPLES
                for m in (ChatMessage("user", said), ChatMessage("assistant", reply))
            ]
            return [ChatMessage("system", ACK_PROMPT), *shots, ChatMessage("user", user_text)]
        content = user_text
        if self.use_passages and self._passages:
            titles = ", ".join(getattr(p, "title", str(p)) for p in self._passages)
            content += f"\n(Clinic notes on: {titles}.)"
        if self._guidance:
            content += f"\n(Reply briefly, then ask: {self._guidance})"
        recent = self.history[-2 * self.history_turns :] if self.history_turns else []
        system = self.system_prompt
        if self._physician.notes:
            system += " A doctor joined this call; follow the doctor's notes: " + " ".join(
                self._physician.notes
            )
        return [ChatMessage("system", system), *recent, ChatMessage("user", content)]

    async def _reply(self, turn: int) -> None:
        messages, guidance = self.messages(), self._guidance
        self.history.append(ChatMessage("user", self._user_text))
        self._clear_turn()
        self._partial = ""
        started = now()
        await self.push_frame(ReplyStartFrame(turn=turn))
        first = True
        async for piece in self.llm.stream(messages):
            if first:
                await self.push_frame(
                    MetricsFrame(name="llm_ttft", turn=turn, value_ms=(now() - started) * 1e3)
                )
                first = False
            self._partial += piece
            if self.style == "converse":
                await self.push_frame(LLMTextFrame(text=piece, turn=turn))
            elif _SENTENCE.match(self._partial.strip()) or "\n" in self._partial:
                break  # one sentence is all this style uses
        if self.style == "acknowledge":
            self._partial = fit_acknowledgement(self._partial)
            text = f"{self._partial} {guidance}".strip()
            await self.push_frame(LLMTextFrame(text=text, turn=turn))
            self._partial = text
        self.history.append(ChatMessage("assistant", self._partial.strip()))
        self._partial = ""
        await self.push_frame(ReplyEndFrame(turn=turn))

    async def on_interrupt(self) -> None:
        self._clear_turn()  # a turn voided by barge-in gets a fresh final transcript
        # The reply was cut off: keep what was said so the model knows where it stopped.
        if self._partial:
            self.history.append(ChatMessage("assistant", self._partial.strip() + " …"))
            self._partial = ""
