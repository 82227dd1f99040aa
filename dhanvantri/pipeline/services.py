"""The small interfaces each model stage depends on; real adapters live in their own modules."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


class VoiceActivity(Protocol):
    """Speech probability per fixed-size chunk of 16 kHz audio, with state across calls."""

    chunk_samples: int

    def speech_probability(self, chunk: np.ndarray) -> float:
        """Probability that ``chunk`` (float32, ``chunk_samples`` long) holds speech."""
        ...

    def reset(self) -> None:
        """Forget the recurrent state (a new stream)."""
        ...


@dataclass(frozen=True, slots=True)
class HeardWord:
    """One word as speech-to-text split it (punctuation stays on it: "days."), with how sure
    the model was of it, in (0, 1]: the least sure of the word's tokens, punctuation aside."""

    text: str = field(repr=False)
    probability: float


@dataclass(frozen=True, slots=True)
class Transcript:
    """What speech-to-text heard; ``tokens`` lets a later decode reuse an agreed prefix;
    ``words`` (when the decode was asked for them) lets a lexicon recheck the unsure ones."""

    text: str = field(repr=False)
    tokens: tuple[int, ...] = field(default=(), repr=False)
    words: tuple[HeardWord, ...] = field(default=(), repr=False)


class SpeechToText(Protocol):
    """Transcribes a buffer of 16 kHz float32 audio; blocking (run it in a thread).

    ``prompt`` is context the speech likely follows (the question just asked, expected
    clinical words); it biases what is heard and is never part of the transcript.
    """

    def transcribe(
        self,
        audio: np.ndarray,
        prefix_tokens: Sequence[int] = (),
        *,
        partial: bool = False,
        prompt: str = "",
    ) -> Transcript: ...


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of the conversation, as the LLM sees it (PHI already tokenised)."""

    role: str
    content: str = field(repr=False)


class LanguageModel(Protocol):
    """Streams reply text for a conversation."""

    def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]: ...


@dataclass(frozen=True, slots=True)
class SpeechChunk:
    """Synthesised audio (int16 mono) with the phonemes spoken and their length in samples."""

    audio: np.ndarray = field(repr=False)
    sample_rate: int
    phonemes: tuple[tuple[str, int], ...] = ()


class TextToSpeech(Protocol):
    """Synthesises one phrase; blocking (run it in a thread)."""

    sample_rate: int

    def synthesize(self, text: str) -> list[SpeechChunk]: ...
