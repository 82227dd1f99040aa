"""Streams the assistant's reply from the language model for each finished patient turn.

The clinical logic decides *what* to ask or say (a :class:`GuidanceFrame`); the model only phrases
it. The system prompt is fixed and comes first so the LLM server reuses its cached prefix, and
the history is short: a small local model echoes long contexts back.
"""

from __future__ import annotations

import logging

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
from dhanvantri.pipeline.processor import FrameProcessor
from dhanvantri.pipeline.services import ChatMessage, LanguageModel

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are Dhanvantri, a kind assistant at a medical clinic, speaking with a patient on a voice "
    "call before a doctor reviews their case. Reply in one or two short spoken sentences. Never "
    "name a diagnosis, a medicine or a dose: a doctor decides those. Words like <PERSON_1> are "
    "placeholders for private details: repeat them exactly as written."
)


class Responder(FrameProcessor):
    """Turns a finished patient turn into streamed :class:`LLMTextFrame` pieces.

    Args:
        llm: the language model.
        history_turns: past exchanges sent with each request.
        use_passages: add retrieved passage titles to the prompt (for capable models).
    """

    def __init__(self, llm: LanguageModel, *, history_turns: int = 2,
                 use_passages: bool = False, system_prompt: str = SYSTEM_PROMPT) -> None:
        super().__init__()
        self.llm = llm
        self.history_turns = history_turns
        self.use_passages = use_passages
        self.system_prompt = system_prompt
        self.history: list[ChatMessage] = []
        self._user_text = ""
        self._guidance = ""
        self._topic = ""
        self._passages: tuple = ()
        self._partial = ""

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, RedactedTranscriptionFrame):
            self._user_text = frame.text
            await self.push_frame(frame, direction)  # the reply guard reads it
        elif isinstance(frame, KnowledgeFrame):
            self._passages = frame.passages
        elif isinstance(frame, GuidanceFrame):
            self._guidance, self._topic = frame.instruction, frame.topic
        elif isinstance(frame, TurnEndFrame):
            await self.push_frame(frame, direction)
            if self._topic == "emergency":
                # The fixed emergency instruction is already on its way: no model in that path.
                self.history.append(ChatMessage("user", self._user_text))
                self._user_text, self._guidance, self._topic = "", "", ""
            elif self._user_text:
                await self._reply(frame.turn)
        else:
            await self.push_frame(frame, direction)

    def messages(self) -> list[ChatMessage]:
        """The request for the current turn: system prompt, short history, the patient's words."""
        content = self._user_text
        if self.use_passages and self._passages:
            titles = ", ".join(getattr(p, "title", str(p)) for p in self._passages)
            content += f"\n(Clinic notes on: {titles}.)"
        if self._guidance:
            content += f"\n(Reply briefly, then ask: {self._guidance})"
        recent = self.history[-2 * self.history_turns:] if self.history_turns else []
        return [ChatMessage("system", self.system_prompt), *recent, ChatMessage("user", content)]

    async def _reply(self, turn: int) -> None:
        messages = self.messages()
        self.history.append(ChatMessage("user", self._user_text))
        self._user_text, self._guidance, self._passages, self._partial = "", "", (), ""
        self._topic = ""
        started = now()
        await self.push_frame(ReplyStartFrame(turn=turn))
        first = True
        async for piece in self.llm.stream(messages):
            if first:
                await self.push_frame(MetricsFrame(name="llm_ttft", turn=turn,
                                                   value_ms=(now() - started) * 1e3))
                first = False
            self._partial += piece
            await self.push_frame(LLMTextFrame(text=piece, turn=turn))
        self.history.append(ChatMessage("assistant", self._partial.strip()))
        self._partial = ""
        await self.push_frame(ReplyEndFrame(turn=turn))

    async def on_interrupt(self) -> None:
        # The reply was cut off: keep what was said so the model knows where it stopped.
        if self._partial:
            self.history.append(ChatMessage("assistant", self._partial.strip() + " …"))
            self._partial = ""
