"""The assistant's reply to each finished patient turn.

The clinical logic decides *what* to ask or say (a :class:`GuidanceFrame`) and what was
understood from the turn (its ``acknowledgement``, built from the intake record); the model at
most phrases it. Two styles:

* ``converse`` for a capable model behind ``DHANVANTRI_LLM_BASE_URL``: it gets a short history,
  the retrieved passages, what was understood and the question to ask. Each sentence of its
  reply is checked before it is spoken (:func:`~dhanvantri.knowledge.acknowledgement.problems`);
  a first sentence that fails is replaced by the acknowledgement and the question, and the reply
  is cut at a length that suits speech.
* ``acknowledge`` for the embedded 135M model, which cannot follow instructions (asked to phrase
  a question it lists made-up severities or talks as the patient; asked for empathy it is often
  dismissive or odd). The acknowledgement and the clinical question are spoken as they are,
  with no model call, so the first audio comes sooner. With ``paraphrase=True`` the model writes
  one sentence from a fixed few-shot prompt (the LLM server keeps it cached), spoken only when
  the check finds nothing wrong. Without a clinical stage (no guidance) the model's sentence is
  spoken when :func:`fit_acknowledgement` accepts it.

While a physician has the call (between :class:`HandOverFrame` and :class:`HandBackFrame`) the
patient's words are kept in the history but not answered; the physician's notes (tokenised)
join the system prompt.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from dhanvantri.knowledge.acknowledgement_check import problems
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
# When nothing was understood from a turn (dialogue evaluation: off-topic, "I don't know", a
# question, an answer the intake missed), a bare repeat of the question sounds unheard.
HEARD_NOTHING = "I see."
ASKED_SOMETHING = "I'll pass that question to the doctor."
GREETED = "Hello."
_GREETING = re.compile(r"^\W*(hello|hi|hey|namaste|namaskar|good (morning|afternoon|evening))\b",
                       re.I)
_QUESTION = re.compile(
    r"\?|^\W*(is|are|can|could|should|shall|will|would|what|which|why|how|do|does|did)\b", re.I
)
# Replies that say what the patient said back already, or that are not an intake question.
_NO_FILLER_TOPICS = ("confirm", "doctor_requested")
# Words of the clinical logic that must be heard as written (the end of the intake, a doctor
# asked to join) even when the model phrases the rest.
_AS_WRITTEN = ("done", "doctor_requested")
MAX_REPLY_WORDS = 45  # about 15 s of speech: longer and the patient loses the question
KNOWN_TURNS = 8  # earlier acknowledgements in a converse prompt: enough, and still short
# Kinds of problem that make any sentence unfit, a question too; the others (a question, a
# symptom not yet reported) are fine in the question itself.
_UNSAFE = ("minimising", "reassurance", "cheer", "mentions a dose", "names", "diagnostic",
           "not speakable")
_UNFIT = re.compile(
    r"[\n():;\"*#\[\]{}=/\\?]|\d|\b(dr|doctor|not a|not helpful|diagnos\w*|"
    r"medicines?|tablets?|normal|good|great|glad|happy|thankful|wonderful|lucky|"
    r"believe|concerning|careful|worry)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"^(.+?[.!])(\s|$)")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


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
        use_passages: add the retrieved passages to the prompt (converse style).
        paraphrase: let the model phrase the acknowledgement (acknowledge style).
        max_words: where a converse reply is cut (at a sentence end).
    """

    def __init__(
        self,
        llm: LanguageModel,
        *,
        style: str = "converse",
        history_turns: int = 2,
        use_passages: bool = False,
        paraphrase: bool = False,
        max_words: int = MAX_REPLY_WORDS,
        system_prompt: str = SYSTEM_PROMPT,
    ) -> None:
        super().__init__()
        if style not in ("converse", "acknowledge"):
            raise ValueError(f"unknown style {style!r}")
        self.llm = llm
        self.style = style
        self.history_turns = history_turns
        self.use_passages = use_passages
        self.paraphrase = paraphrase
        self.max_words = max_words
        self.system_prompt = system_prompt
        self.history: list[ChatMessage] = []
        self._physician = PhysicianPresence()  # the notes go in the system prompt
        self._user_text = ""
        self._guidance: GuidanceFrame | None = None
        self._passages: tuple = ()
        self._partial = ""
        # What was understood in earlier turns: the intake so far, as the patient heard it.
        self._known: list[str] = []

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
            self._guidance = frame
            await self._respond(frame.turn)
        elif isinstance(frame, TurnEndFrame):
            await self.push_frame(frame, direction)
            await self._respond(frame.turn)  # no clinical stage in this pipeline
        else:
            await self.push_frame(frame, direction)

    async def _respond(self, turn: int) -> None:
        guidance = self._guidance
        if guidance is not None and guidance.topic == "emergency":
            # The fixed emergency instruction is already on its way: no model in that path.
            self.history.append(ChatMessage("user", self._user_text))
            self._clear_turn()
        elif self._user_text:
            await self._reply(turn)

    def _clear_turn(self) -> None:
        self._user_text, self._guidance, self._passages = "", None, ()

    @property
    def _question(self) -> str:
        return self._guidance.instruction if self._guidance else ""

    @property
    def _understood(self) -> str:
        return self._guidance.acknowledgement if self._guidance else ""

    def _opening_of(self, guidance: GuidanceFrame | None, understood: str, heard: str) -> str:
        """What a converse reply opens with before the model's words: what was understood,
        else a filler (none for some questions)."""
        if understood or guidance is None or guidance.topic in _AS_WRITTEN:
            return understood  # closing words open themselves ("Thank you. …")
        return self._filler(heard, guidance)

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
        if self._known:
            content += f"\n(Known from earlier turns: {' '.join(self._known[-KNOWN_TURNS:])})"
        if self._understood:
            content += f"\n(Understood from this turn: {self._understood})"
        opening = self._opening_of(self._guidance, self._understood, user_text)
        if self._question and opening:
            content += (
                f'\n(You have just said: "{opening}" Continue with one short spoken sentence '
                f"that asks exactly this: {self._question})"
            )
        elif self._question:
            content += (
                "\n(Reply in at most two short spoken sentences: first show you understood, "
                f"then ask exactly this: {self._question})"
            )
        recent = self.history[-2 * self.history_turns :] if self.history_turns else []
        return [ChatMessage("system", self._system()), *recent, ChatMessage("user", content)]

    def _system(self) -> str:
        system = self.system_prompt
        if self.use_passages and self._passages:
            # From the knowledge base, not the patient: background for the question, never to
            # be read out as a diagnosis.
            notes = "\n".join(
                f"- {getattr(p, 'title', '')} ({getattr(p, 'source', '')}): "
                f"{' '.join(str(getattr(p, 'text', p)).split()[:60])}"
                for p in self._passages
            )
            system += f"\nClinic notes, for your background only (do not read them out):\n{notes}"
        if self._physician.notes:
            system += " A doctor joined this call; follow the doctor's notes: " + " ".join(
                self._physician.notes
            )
        return system

    async def _reply(self, turn: int) -> None:
        messages, heard = self.messages(), self._user_text
        guidance, understood, question = self._guidance, self._understood, self._question
        self.history.append(ChatMessage("user", heard))
        self._clear_turn()
        self._partial = ""
        if understood:
            self._known.append(understood)
        await self.push_frame(ReplyStartFrame(turn=turn))
        if self.style == "converse":
            opening = self._opening_of(guidance, understood, heard)
            if opening and question:
                # Said at once, while the model writes the rest: the reply is heard as soon as
                # the template's speech is ready, not after the model's first sentence (its
                # first token, then a whole sentence: 0.6 s with a hosted model, 1.3 s from the
                # end of speech to first audio where the template took 0.55 s).
                await self._say(opening, turn, ends_phrase=True)
            await self._converse(
                messages, turn, heard=f"{heard} {understood}", question=question, opening=opening,
                as_written=guidance is not None and guidance.topic in _AS_WRITTEN,
                opened=bool(opening and question),
            )
        elif guidance is not None and not self.paraphrase:
            # No model: the first audio comes sooner. The opening is a phrase of its own, so a
            # fixed one ("I see.") and the question come from the phrasebook, unsynthesised.
            await self._say(understood or self._filler(heard, guidance), turn, ends_phrase=True)
            await self._say(question, turn)
        else:
            sentence = await self._first_sentence(messages, turn)
            if guidance is None:
                sentence = fit_acknowledgement(sentence)
            elif problems(sentence, {}, {}, f"{heard} {understood}"):
                await self._rejected("paraphrase", turn)
                sentence = understood or self._filler(heard, guidance)
            await self._say(f"{sentence} {question}", turn)
        self.history.append(ChatMessage("assistant", self._partial.strip()))
        self._partial = ""
        await self.push_frame(ReplyEndFrame(turn=turn))

    async def _rejected(self, which: str, turn: int) -> None:
        """Counted by observers: how often the model's words were not fit to speak."""
        await self.push_frame(MetricsFrame(name=f"reply_rejected_{which}", value_ms=0.0, turn=turn))

    @staticmethod
    def _filler(heard: str, guidance: GuidanceFrame) -> str:
        """What to say before the question when nothing was understood from the turn."""
        if guidance.topic in _NO_FILLER_TOPICS or guidance.instruction.startswith("Sorry"):
            return ""
        if _GREETING.search(heard):
            return GREETED
        return ASKED_SOMETHING if _QUESTION.search(heard) else HEARD_NOTHING

    async def _say(self, text: str, turn: int, *, ends_phrase: bool = False) -> None:
        text = " ".join(text.split())
        if text:
            text = f" {text}" if self._partial else text
            self._partial += text
            await self.push_frame(LLMTextFrame(text=text, turn=turn, ends_phrase=ends_phrase))

    async def _stream(self, messages: list[ChatMessage], turn: int) -> AsyncIterator[str]:
        started = now()
        first = True
        async for piece in self.llm.stream(messages):
            if first:
                await self.push_frame(
                    MetricsFrame(name="llm_ttft", turn=turn, value_ms=(now() - started) * 1e3)
                )
                first = False
            yield piece

    async def _first_sentence(self, messages: list[ChatMessage], turn: int) -> str:
        text = ""
        async for piece in self._stream(messages, turn):
            text += piece
            if _SENTENCE.match(text.strip()) or "\n" in text:
                break  # one sentence is all this style uses
        match = _SENTENCE.match(text.strip())
        return (match.group(1) if match else text.split("\n")[0]).strip()

    async def _sentences(
        self, messages: list[ChatMessage], turn: int
    ) -> AsyncGenerator[str, None]:
        """The model's reply, one whole sentence at a time."""
        buffer = ""
        async for piece in self._stream(messages, turn):
            buffer += piece
            while (end := _SENTENCE_END.search(buffer)) is not None:
                sentence, buffer = buffer[: end.end()].strip(), buffer[end.end() :]
                if sentence:
                    yield sentence
        if buffer.strip():
            yield buffer.strip()

    async def _converse(
        self,
        messages: list[ChatMessage],
        turn: int,
        *,
        heard: str,
        question: str,
        opening: str,
        as_written: bool,
        opened: bool = False,
    ) -> None:
        """Speak the model's reply sentence by sentence, each checked against what was heard
        and understood before it is spoken; an unfit first one gives way to ``opening`` (the
        acknowledgement) and the question. ``opened``: the opening was already said."""
        said, first = "", True
        used = len(opening.split()) if opened else 0  # the reply's length includes it
        opening = "" if opened else opening
        async with aclosing(self._sentences(messages, turn)) as sentences:
            async for sentence in sentences:
                verdict = self._check(sentence, heard, question, first=first)
                first = False
                if verdict != "speak":
                    await self._rejected("first" if verdict == "replace" else "later", turn)
                if verdict == "replace":
                    await self._say(f"{opening} {question}".strip(), turn)
                    return
                if verdict == "speak":
                    said += f" {sentence}"
                    await self._say(sentence, turn)
                if used + len(said.split()) >= self.max_words:
                    break
        if not said:  # the model said nothing
            await self._say(f"{opening} {question}".strip(), turn)
        # What the clinical logic needs said: its question, or its closing words as written.
        elif ("?" not in said) if question.endswith("?") else (
                as_written and question not in said):
            await self._say(question, turn)

    @staticmethod
    def _check(sentence: str, heard: str, question: str, *, first: bool) -> str:
        """``"speak"``, ``"drop"`` (a later sentence that is unfit) or ``"replace"`` (the
        first sentence is unfit: the template is said instead)."""
        found = problems(sentence, {}, {}, heard)
        if "?" in sentence:  # the question in the model's words: it may name new things...
            found = [p for p in found if p.startswith(_UNSAFE)]
            # ...but it must be the question the clinical logic asked.
            found += [p for p in problems(sentence, {}, {}, question) if p == "non-sequitur"]
        if not found:
            return "speak"
        return "replace" if first else "drop"

    async def on_interrupt(self) -> None:
        self._clear_turn()  # a turn voided by barge-in gets a fresh final transcript
        # The reply was cut off: keep what was said so the model knows where it stopped.
        if self._partial:
            self.history.append(ChatMessage("assistant", self._partial.strip() + " …"))
            self._partial = ""
