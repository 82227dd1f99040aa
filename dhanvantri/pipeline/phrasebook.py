"""Speech for the fixed sentences of the clinical logic, synthesised once for every consultation.

The emergency instruction is the most urgent thing the assistant says and always the same
words; synthesising it on the turn (~0.2 s a sentence on two cores, queued behind any other
synthesis) put it behind routine replies. The book holds the speech of a fixed set of texts,
shared by all consultations: the openings are spoken at start-up, the rest when a red flag is
first suspected in a patient's words (before the turn ends) or on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np

from dhanvantri.pipeline.resampling import resample
from dhanvantri.pipeline.services import SpeechChunk, TextToSpeech

# Audio at a transport's rate, each piece with the chunk it came from (its phoneme timing).
Played = list[tuple[np.ndarray, SpeechChunk]]


class Phrasebook:
    """Synthesised speech for the texts it was made with (any other text is not kept).

    Args:
        tts: the synthesiser (blocking; :meth:`prepare` runs it on the calling thread).
        texts: the fixed texts worth keeping.
    """

    def __init__(self, tts: TextToSpeech, texts: Iterable[str]) -> None:
        self.tts = tts
        self._texts = frozenset(texts)
        self._speech: dict[str, list[SpeechChunk]] = {}
        self._played: dict[tuple[str, int], Played] = {}  # resampling 8 s of speech: ~10 ms
        self._lock = threading.Lock()  # one synthesis per text, whoever asks first

    def __contains__(self, text: str) -> bool:
        return text in self._texts

    def speech(self, text: str) -> list[SpeechChunk] | None:
        """The speech of ``text`` if it is ready, else None."""
        return self._speech.get(text)

    def played(self, text: str, rate: int) -> Played | None:
        """The speech of ``text`` at ``rate`` if it is ready, else None."""
        chunks = self._speech.get(text)
        if chunks is None:
            return None
        if (text, rate) not in self._played:
            self._played[text, rate] = [(resample(c.audio, c.sample_rate, rate), c) for c in chunks]
        return self._played[text, rate]

    def keep(self, text: str, chunks: list[SpeechChunk]) -> None:
        """Remember speech synthesised elsewhere, if ``text`` is one of the book's."""
        if text in self._texts:
            self._speech.setdefault(text, chunks)

    def prepare(self, texts: Iterable[str], rates: Iterable[int] = ()) -> None:
        """Synthesise those of ``texts`` that are the book's and not ready yet, and resample
        them to ``rates`` (blocking)."""
        rates = tuple(rates)
        for text in texts:
            if text not in self._texts:
                continue
            with self._lock:
                if text not in self._speech:
                    self._speech[text] = self.tts.synthesize(text)
            for rate in rates:
                self.played(text, rate)
