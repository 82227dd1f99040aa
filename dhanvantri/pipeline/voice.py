"""Assembles the voice pipeline: models loaded once per process, one pipeline per consultation.

audio → TurnDetector → Transcriber → RedFlagWatch → Redactor → Retriever → ClinicalGuide →
Responder → PhraseChunker → ReplyGuard → Reidentifier → Speaker → LipSync → the transport.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dhanvantri.pipeline.decode_gate import DecodeGate
from dhanvantri.pipeline.frames import (
    Direction,
    Frame,
    HandBackFrame,
    HandOverFrame,
    InputAudioFrame,
    PhysicianNoteFrame,
    SpeakFrame,
    now,
)
from dhanvantri.pipeline.latency import LatencyObserver, TurnTimes
from dhanvantri.pipeline.lip_sync import LipSync
from dhanvantri.pipeline.phrase_chunker import PhraseChunker, phrases_of
from dhanvantri.pipeline.phrasebook import Phrasebook
from dhanvantri.pipeline.processor import FrameProcessor
from dhanvantri.pipeline.red_flag_watch import RedFlagWatch
from dhanvantri.pipeline.redactor import Redactor
from dhanvantri.pipeline.reidentifier import Reidentifier
from dhanvantri.pipeline.reply_guard import ReplyGuard
from dhanvantri.pipeline.responder import Responder
from dhanvantri.pipeline.retriever import Retriever
from dhanvantri.pipeline.services import LanguageModel, SpeechToText, TextToSpeech
from dhanvantri.pipeline.speaker import Speaker
from dhanvantri.pipeline.speech_queue import SpeechQueue
from dhanvantri.pipeline.task import PipelineTask
from dhanvantri.pipeline.transcriber import Transcriber
from dhanvantri.pipeline.turn_detector import TurnDetector
from dhanvantri.pipeline.vad_silero import SileroVAD
from dhanvantri.settings import Settings

log = logging.getLogger(__name__)

ProgressFn = Callable[[str], None]


@dataclass
class VoiceModels:
    """Everything loaded once per process and shared by every consultation."""

    settings: Settings
    stt: SpeechToText
    tts: TextToSpeech
    llm: LanguageModel
    detector: Any  # dhanvantri.privacy.PhiDetector
    knowledge: Any  # dhanvantri.knowledge.KnowledgeBase
    vault_key: bytes
    load_seconds: dict[str, float] = field(default_factory=dict)
    embedded_llm: Any = None  # EmbeddedLlamaServer when we started one
    phrasebook: Phrasebook | None = None  # speech of the fixed sentences (fixed_speech())
    gate: DecodeGate = field(default_factory=DecodeGate)  # partial decodes only when idle
    speech: SpeechQueue | None = None  # syntheses, first phrases of a reply first

    async def close(self) -> None:
        """Stop the embedded LLM server and close clients."""
        close = getattr(self.llm, "close", None)
        if close is not None:
            await close()
        if self.embedded_llm is not None:
            await self.embedded_llm.stop()
        if self.speech is not None:
            self.speech.close()


async def load_models(settings: Settings, progress: ProgressFn | None = None) -> VoiceModels:
    """Load every model (timed, reported through ``progress``) and start the LLM if embedded."""
    from dhanvantri.knowledge import KnowledgeBase
    from dhanvantri.models import smollm2_path
    from dhanvantri.pipeline.llm_embedded import EmbeddedLlamaServer
    from dhanvantri.pipeline.llm_openai import OpenAIChat
    from dhanvantri.pipeline.stt_whisper import WhisperSTT
    from dhanvantri.pipeline.tts_piper import PiperTTS
    from dhanvantri.privacy import PhiDetector, vault_key_from_settings

    seconds: dict[str, float] = {}

    def timed(name: str, load: Callable[[], Any]) -> Any:
        if progress:
            progress(f"loading {name}")
        started = time.perf_counter()
        value = load()
        seconds[name] = round(time.perf_counter() - started, 3)
        return value

    embedded = None
    started = time.perf_counter()
    if settings.llm_base_url:
        base_url, api_key = settings.llm_base_url, settings.llm_api_key
        model = settings.llm_model
    else:
        if progress:
            progress("starting embedded LLM server")
        embedded = EmbeddedLlamaServer(
            smollm2_path(), port=settings.llm_port, threads=settings.llm_threads
        )
        server_start = asyncio.ensure_future(embedded.start())
        base_url, api_key, model = embedded.base_url, None, "smollm2-135m-instruct"
    stt = await asyncio.to_thread(
        timed,
        "stt",
        lambda: WhisperSTT(
            settings.stt_model_dir,
            threads=settings.stt_threads,
            language=settings.stt_language,
            # The clinical check weighs each word by how sure Whisper was of it.
            word_probabilities=settings.stt_clinical_hearing,
            max_batch=settings.stt_batch,
            partial_nice=settings.stt_partial_nice,
        ),
    )
    tts = await asyncio.to_thread(
        timed, "tts", lambda: PiperTTS(settings.tts_voice_path, threads=settings.tts_threads)
    )
    phrasebook = Phrasebook(tts, fixed_speech())
    detector = await asyncio.to_thread(timed, "phi", PhiDetector)
    knowledge = await asyncio.to_thread(timed, "knowledge", lambda: KnowledgeBase.open(settings))
    if embedded is not None:
        await server_start
        seconds["llm"] = round(time.perf_counter() - started, 3)
    llm = OpenAIChat(
        base_url=base_url,
        model=model,
        api_key=api_key.get_secret_value() if api_key else "local",
        # The embedded model writes one short sentence (see Responder).
        max_tokens=settings.llm_max_tokens if embedded is None else 24,
        temperature=settings.llm_temperature,
    )
    models = VoiceModels(
        settings=settings,
        stt=stt,
        tts=tts,
        llm=llm,
        detector=detector,
        knowledge=knowledge,
        vault_key=vault_key_from_settings(settings),
        load_seconds=seconds,
        embedded_llm=embedded,
        phrasebook=phrasebook,
        gate=DecodeGate(share=settings.stt_partial_share),
        speech=SpeechQueue(tts, later_nice=settings.tts_later_nice) if settings.tts_queue else None,
    )
    await warm_up(models)
    return models


def fixed_speech() -> set[str]:
    """The sentences the assistant says in the same words to every patient: the emergency
    advice, the intake questions and the fixed acknowledgements, as the phrases they are
    spoken in. Their speech is kept once made (no patient's words are among them)."""
    from dhanvantri.knowledge.acknowledgement import fixed_sentences
    from dhanvantri.knowledge.conditions import load_conditions
    from dhanvantri.knowledge.intake import QUESTIONS
    from dhanvantri.knowledge.triage import fixed_advice
    from dhanvantri.pipeline import responder

    probes = [q.text for c in load_conditions() for q in c.key_questions]
    said = [*QUESTIONS.values(), *probes, *fixed_sentences(), responder.HEARD_NOTHING,
            responder.ASKED_SOMETHING, responder.GREETED, responder.FALLBACK_ACK]
    return {*fixed_advice(), *(p for text in said for p in phrases_of(text))}


async def warm_up(models: VoiceModels) -> None:
    """Run each model once so the first patient does not pay for lazy initialisation."""
    from dhanvantri.pipeline.responder import Responder

    silence = np.zeros(16000, dtype=np.float32)
    await asyncio.to_thread(models.stt.transcribe, silence)
    if models.settings.stt_clinical_hearing:
        from dhanvantri.knowledge import hearing

        # The vocabulary's sound keys (~1 s); before any speech: it starts espeak-ng afresh.
        await asyncio.to_thread(hearing.prepare)
    await asyncio.to_thread(models.tts.synthesize, "Hello.")
    if models.phrasebook is not None:
        from dhanvantri.knowledge.triage import EMERGENCY_ADVICE, MENTAL_HEALTH_ADVICE

        # The openings of every emergency's advice, ready before the first patient; each first
        # aid is spoken into the book when its red flag is first suspected (while it still
        # waits behind the opening's ~8 s of speech).
        rates = {models.settings.output_sample_rate, models.settings.sample_rate}
        await asyncio.to_thread(
            models.phrasebook.prepare, (EMERGENCY_ADVICE, MENTAL_HEALTH_ADVICE), rates
        )
    await asyncio.to_thread(models.detector.detect, "warm up")
    await asyncio.to_thread(models.knowledge.search, "fever", 1)
    # Also fills the LLM server's prompt cache with the fixed start of every request.
    style = "converse" if models.settings.llm_base_url else "acknowledge"
    async for _ in models.llm.stream(Responder(models.llm, style=style).messages("Hello.")):
        pass


class VoiceSession:
    """One consultation's live pipeline.

    Args:
        models: the shared models.
        on_output: receives every frame leaving the pipeline (audio, visemes, events, errors).
        consultation_id: id used for the PHI vault and logs.
        on_draft: called with the prescription draft when intake is complete.
        observers: also see every frame pushed between stages.
        on_reply_audio: called with a turn's times when its first reply audio is produced.
    """

    def __init__(
        self,
        models: VoiceModels,
        on_output: Callable[[Frame], Any],
        *,
        consultation_id: str | None = None,
        on_draft: Callable[[dict[str, Any]], Any] | None = None,
        observers: list[Any] | None = None,
        on_reply_audio: Callable[[TurnTimes], None] | None = None,
    ) -> None:
        from dhanvantri.knowledge import hearing
        from dhanvantri.pipeline.clinical_guide import ClinicalGuide
        from dhanvantri.privacy import TokenVault

        settings = models.settings
        self.id = consultation_id or uuid.uuid4().hex
        self.vault = TokenVault(self.id, models.vault_key, detector=models.detector)
        self.latency = LatencyObserver(on_reply_audio)
        self.turn_detector = TurnDetector(
            SileroVAD(),  # one per session: it keeps per-stream state
            threshold=settings.vad_threshold,
            min_speech_ms=settings.vad_min_speech_ms,
            hangover_ms=settings.vad_hangover_ms,
            sample_rate=settings.sample_rate,
        )
        # The embedded model only acknowledges; a configured endpoint is trusted to phrase.
        capable = bool(settings.llm_base_url)
        self.responder = Responder(
            models.llm, style="converse" if capable else "acknowledge", use_passages=capable
        )
        self.guide = ClinicalGuide(models.knowledge, on_draft=on_draft)
        self.reidentifier = Reidentifier(self.vault)
        stages: list[FrameProcessor] = [
            self.turn_detector,
            Transcriber(
                models.stt,
                partial_interval_ms=settings.stt_partial_interval_ms,
                hearing=hearing if settings.stt_clinical_hearing else None,
                gate=models.gate,
                partial_nice=settings.stt_partial_nice,
                busy_wait_ms=settings.stt_busy_wait_ms,
            ),
            RedFlagWatch(),
            Redactor(self.vault),
            Retriever(models.knowledge, k=settings.kb_top_k),
            self.guide,
            self.responder,
            PhraseChunker(),
            ReplyGuard(),
            self.reidentifier,
            Speaker(
                models.tts,
                output_sample_rate=settings.output_sample_rate,
                phrasebook=models.phrasebook,
                gate=models.gate,
                speech=models.speech,
            ),
            LipSync(),
        ]
        self.task = PipelineTask(
            stages, observers=[self.latency, *(observers or [])], on_output=on_output
        )
        self.settings = settings

    async def start(self) -> None:
        """Start every stage."""
        await self.task.start(
            sample_rate=self.settings.sample_rate,
            output_sample_rate=self.settings.output_sample_rate,
        )
        log.info("session %s started", self.id)

    async def push_audio(self, audio: np.ndarray, received_at: float | None = None) -> None:
        """Feed patient audio: int16 mono at ``settings.sample_rate``."""
        await self.task.queue_frame(
            InputAudioFrame(
                audio=audio, sample_rate=self.settings.sample_rate, received_at=received_at or now()
            )
        )

    async def interrupt(self) -> None:
        """Stop the current reply (e.g. a physician takes over)."""
        await self.task.interrupt()

    async def say(self, text: str, turn: int) -> None:
        """Speak fixed text (vetted, so the reply guard lets it through) as part of ``turn``."""
        await self.reidentifier.queue_frame(
            SpeakFrame(text=text, vetted=True, turn=turn), Direction.DOWNSTREAM
        )

    async def hand_over(self) -> None:
        """A physician takes the call: the assistant stops now and answers nothing more."""
        await self.task.queue_frame(HandOverFrame())
        await self.interrupt()  # cuts the reply in progress

    async def take_back(self, notes: str = "") -> None:
        """The physician hands the call back; their notes join the assistant's context."""
        await self.task.queue_frame(HandBackFrame(notes=notes))

    async def add_physician_note(self, text: str) -> None:
        """Keep what the physician said or wrote, tokenised, for the context and the draft."""
        if text.strip():
            await self.task.queue_frame(PhysicianNoteFrame(text=text))

    async def stop(self) -> None:
        """End the session, letting queued work finish."""
        await self.task.stop()
        log.info("session %s stopped", self.id)

    async def cancel(self) -> None:
        """End the session now."""
        await self.task.cancel()
