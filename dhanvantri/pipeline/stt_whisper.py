"""Speech-to-text with faster-whisper (Whisper base, CTranslate2 int8) on short windows.

faster-whisper pads every input to Whisper's 30 s window; the encoder accepts shorter inputs,
and encoding only the speech plus a little padding costs a fraction (31 ms instead of 579 ms on
4 s of speech here). Decoding can start from an agreed prefix of token ids, so the final words
keep what the partial results settled on; CTranslate2 still steps through the forced tokens,
so this saves little time (0.94 to 1.02 times the time of a whole decode, on 2-4 s turns).
A prompt (the question just asked, expected clinical words) goes before the start sequence as
Whisper's previous text, and final decodes can report how sure the model was of each word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dhanvantri.pipeline.batching import Batcher
from dhanvantri.pipeline.priority import made_at_priority
from dhanvantri.pipeline.services import HeardWord, Transcript

SAMPLE_RATE = 16000
MAX_FRAMES = 3000  # Whisper's 30 s window, in 10 ms mel frames
MAX_TOKENS = 448  # Whisper's decoder positions, prompt included


@dataclass(frozen=True, slots=True)
class _Decode:
    """One decode's inputs: log-mel features, the prompt (previous text and start of
    transcript), forced tokens, beam, whether words are scored, and its token budget."""

    features: np.ndarray
    speech_frames: int
    start: list[int]
    forced: list[int]
    beam: int
    scored: bool
    budget: int


class WhisperSTT:
    """Blocking transcriber; call it from a worker thread.

    Args:
        model_dir: a CTranslate2 Whisper folder (never a model name: a name means a download).
        threads: CPU threads for CTranslate2.
        language: spoken language (detecting it costs ~0.5 s).
        min_window_seconds: shortest window for short answers. Shorter is faster, but below
            ~10 s Whisper garbles one-word answers ("yes" came out as "the F." at 5 s here).
        long_window_seconds: shortest window of partial decodes once the audio is
            ``short_seconds`` or longer: sentences came out the same at 5 s as at 10 s,
            ~90 ms sooner.
        final_window_seconds: shortest window of final decodes of ``short_seconds`` or more
            (None: ``long_window_seconds``); up to 30, faster-whisper's stock window. Short
            answers keep ``min_window_seconds`` when that is longer. Measured on 28 espeak
            clips (benchmarks/stt_levers.py): 10 s heard 46 of 82 key words where 5 s heard
            42, at 1.43 times the time; 30 s 47, at 5.5 times. It does not pay.
        beam_size: beam of final decodes (partials are greedy: they only need to agree);
            None: 3 without a prompt, greedy with one. Measured on 28 espeak clips
            (benchmarks/stt_levers.py), without a prompt a beam of 3 heard 48-51 of 82 key
            words where greedy heard 39-42, and 10 of 12 negations where greedy heard 5-6
            ("No, I am hot allergic"), at 1.06 times the time (5 did no better); with a prompt,
            greedy heard 54-56 and a beam of 3 51-52, at 1.2 times the time.
        word_probabilities: fill :attr:`Transcript.words` on final decodes. Free when greedy
            (1.04 times the time, noise); a beam needs a teacher-forced pass that cost half a
            decode here.
        prompt_tokens: most prompt tokens kept (the end: the question asked last). A question
            and ~25 clinical words in 64 tokens heard 54 key words where none heard 41, at 1.02
            times the time; 128 tokens heard 56 at 1.10.
        prompt_partials: pass the prompt to partial decodes too, so the prefix they agree on
            was heard with it (55 key words with the forced prefix, 54 without).
        max_batch: most final decodes merged into one call.
        partial_nice: the nice value of the partial decodes' worker threads (0: as the
            rest): live captions take the cycles final decodes and first phrases leave.
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        threads: int = 2,
        language: str = "en",
        min_window_seconds: float = 10.0,
        long_window_seconds: float = 5.0,
        short_seconds: float = 2.0,
        final_window_seconds: float | None = None,
        beam_size: int | None = None,
        word_probabilities: bool = False,
        prompt_tokens: int = 64,
        prompt_partials: bool = True,
        max_batch: int = 8,
        partial_nice: int = 15,
    ) -> None:
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
        except ImportError as exc:  # pragma: no cover - install hint
            raise ImportError("faster-whisper is missing: run scripts/setup.sh") from exc
        from dhanvantri.models import whisper_dir

        folder = str(model_dir or whisper_dir())
        self.model = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=threads)
        # The decoder's steps are too small to split: one thread decoded a 13-token turn in
        # 181 ms where two took 257 ms here, while the encoder gains from two (155 vs 204 ms).
        # So a second, single-threaded instance decodes what the first encodes. A third runs
        # the partial decodes (an instance serves one call at a time), so they never hold up
        # the final one. Each int8 instance of Whisper base costs ~75 MB.
        self.single = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=1)
        self.partials = made_at_priority(partial_nice, lambda: WhisperModel(
            folder, device="cpu", compute_type="int8", cpu_threads=1))
        self.tokenizer = Tokenizer(
            self.model.hf_tokenizer,
            self.model.model.is_multilingual,
            task="transcribe",
            language=language,
        )
        self.start = [*self.tokenizer.sot_sequence, self.tokenizer.no_timestamps]
        self.space = self.tokenizer.encode(" ")[0]
        self.finals: Batcher[_Decode, Transcript] = Batcher(self._run_finals, max_batch=max_batch)
        self.min_window = int(min_window_seconds * SAMPLE_RATE)
        self.long_window = int(long_window_seconds * SAMPLE_RATE)
        final = long_window_seconds if final_window_seconds is None else final_window_seconds
        self.final_window = int(min(final, MAX_FRAMES / 100) * SAMPLE_RATE)
        self.short = int(short_seconds * SAMPLE_RATE)
        self.beam_size = beam_size
        self.word_probabilities = word_probabilities
        self.prompt_tokens = prompt_tokens
        self.prompt_partials = prompt_partials

    def transcribe(
        self,
        audio: np.ndarray,
        prefix_tokens: Sequence[int] = (),
        *,
        partial: bool = False,
        prompt: str = "",
    ) -> Transcript:
        """Transcribe float32 16 kHz mono ``audio``, forcing the decode to start with
        ``prefix_tokens``. ``partial`` decodes on one thread only (live captions while the
        patient speaks), leaving the other core to a final decode that may start meanwhile.
        ``prompt`` is text the speech likely follows; it biases the words heard.

        Final decodes from several threads at once are merged into one batch
        (:class:`~dhanvantri.pipeline.batching.Batcher`); a lone one runs at once."""
        decode = self._decode(audio, prefix_tokens, partial=partial, prompt=prompt)
        if partial:
            return self._run([decode], self.partials, self.partials)[0]
        # Greedy decodes share a call; a beam is scored on its own (see _transcript).
        return self.finals.submit(decode, kind="greedy" if decode.beam == 1 else object())

    def _decode(
        self, audio: np.ndarray, prefix_tokens: Sequence[int], *, partial: bool, prompt: str
    ) -> _Decode:
        audio = audio[-(MAX_FRAMES - 100) * 160 :].astype(np.float32)
        features, speech_frames = self.features(audio, partial=partial)
        start = self.context(prompt) if prompt and (self.prompt_partials or not partial) else []
        start += self.start
        beam = 1 if partial else self.beam_size or (1 if prompt else 3)
        # Speech runs ~3 tokens a second; the cap stops the loops Whisper falls into on noise.
        budget = int(len(audio) / SAMPLE_RATE * 6) + 8
        return _Decode(features, speech_frames, start, list(prefix_tokens), beam,
                       self.word_probabilities and not partial, budget)

    def _run_finals(self, decodes: Sequence[_Decode]) -> list[Transcript]:
        return self._run(decodes, self.model, self.single)

    def _run(self, decodes: Sequence[_Decode], encoder: Any, decoder: Any) -> list[Transcript]:
        """Decode a batch of one beam size: features padded to the longest, prompts to the
        same length (CTranslate2 wants the start of transcript at one position)."""
        frames = max(d.features.shape[-1] for d in decodes)
        features = np.stack([np.pad(d.features, ((0, 0), (0, frames - d.features.shape[-1])))
                             for d in decodes])
        encoded = encoder.encode(features)
        context = max(len(d.start) for d in decodes)
        prompts = [self._aligned(d.start, context) + d.forced for d in decodes]
        beam = decodes[0].beam
        scored = any(d.scored for d in decodes)
        longest = max(len(p) + d.budget for p, d in zip(prompts, decodes, strict=True))
        results = decoder.model.generate(
            encoded,
            prompts,
            beam_size=beam,
            max_length=min(MAX_TOKENS, longest),
            # Greedy decoding hands back the logits of every step, the forced prefix's too
            # (CTranslate2 steps through it), at no measurable cost; beams do not.
            return_logits_vocab=scored and beam == 1,
            suppress_blank=True,
            suppress_tokens=[-1],
        )
        return [self._transcript(d, r, encoded, decoder, len(decodes))
                for d, r in zip(decodes, results, strict=True)]

    def _aligned(self, start: list[int], length: int) -> list[int]:
        """``start`` padded to ``length`` with spaces after ``<|startofprev|>`` (a prompt's
        words came out the same that way as alone)."""
        missing = length - len(start)
        if not missing:
            return start
        if start[0] != self.tokenizer.sot_prev:
            return [self.tokenizer.sot_prev, *[self.space] * (missing - 1), *start]
        return [start[0], *[self.space] * missing, *start[1:]]

    def _transcript(
        self, decode: _Decode, result: Any, encoded: Any, decoder: Any, batch: int
    ) -> Transcript:
        # The result repeats the forced prefix; the special tokens are dropped.
        tokens = [t for t in result.sequences_ids[0] if t < self.tokenizer.eot]
        tokens = tokens[: len(decode.forced) + decode.budget]
        text = self.tokenizer.decode(tokens).strip()
        if not decode.scored or not tokens:
            return Transcript(text=text, tokens=tuple(tokens))
        if decode.beam == 1:
            probabilities = self.step_probabilities(result.logits[0], tokens)
        else:
            # A beam's steps come without logits: one teacher-forced pass scores the tokens, at
            # a cost (141 ms against 277 for the decode itself, with a 64-token prompt, on the
            # shared 2-core machine). Beams run one at a time (their kind is their own).
            assert batch == 1
            probabilities = np.asarray(
                decoder.model.align(encoded, decode.start, [tokens], decode.speech_frames)[0]
                .text_token_probs
            )
        return Transcript(
            text=text, tokens=tuple(tokens), words=self.words(tokens, probabilities)
        )

    def features(self, audio: np.ndarray, *, partial: bool) -> tuple[np.ndarray, int]:
        """Log-mel frames of ``audio`` padded to the decode's window, and how many are speech.

        The features are padded with zeros, as faster-whisper pads its 30 s window: one-word
        answers came out right that way and wrong with silence appended to the audio.
        """
        features = self.model.feature_extractor(audio)
        speech = features.shape[-1]
        if len(audio) < self.short:
            window = max(self.min_window, 0 if partial else self.final_window)
        else:
            window = self.long_window if partial else self.final_window
        frames = min(MAX_FRAMES, max(window // 160, speech + 100))
        frames -= frames % 2
        features = np.pad(features, ((0, 0), (0, max(0, frames - speech))))
        return features[:, :frames], min(speech, frames)

    def context(self, prompt: str) -> list[int]:
        """``prompt`` as Whisper's previous text: ``<|startofprev|>`` and its last tokens.

        The cap bounds what the prompt adds to each decode step (the decoder attends to it).
        """
        tokens = self.tokenizer.encode(" " + prompt.strip())[-self.prompt_tokens :]
        return [self.tokenizer.sot_prev, *tokens] if tokens else []

    def step_probabilities(self, logits: Sequence[Any], tokens: Sequence[int]) -> np.ndarray:
        """Probability of each chosen token from the decode's own per-step logits (the last
        step, end of text, is not a word)."""
        steps = np.stack([np.asarray(step) for step in logits[: len(tokens)]])
        chosen = steps[np.arange(len(tokens)), tokens]
        return np.exp(chosen - np.logaddexp.reduce(steps, axis=1))

    def words(
        self, tokens: Sequence[int], probabilities: Sequence[float] | np.ndarray
    ) -> tuple[HeardWord, ...]:
        """Tokens grouped into words, faster-whisper's way: a token that starts with a space
        starts a word; punctuation stays on its word, so the words joined with spaces give the
        text.

        A word's probability is the minimum of its tokens', punctuation left out: once the
        first piece of a word is chosen the rest follow at ~0.99 (" fem" then "ur"), so a mean
        would hide the guess; the minimum is the word's weakest piece. (Most words are one
        token: on 28 clips min, geometric mean and mean told words said from words misheard
        alike, AUC 0.82.)
        """
        groups: list[list[int]] = []
        for index, token in enumerate(tokens):
            if not groups or self.tokenizer.decode([token]).startswith(" "):
                groups.append([])
            groups[-1].append(index)
        heard = []
        for group in groups:
            word = self.tokenizer.decode([tokens[i] for i in group]).strip()
            pieces = [i for i in group if _spelled(self.tokenizer.decode([tokens[i]]))]
            # Never 0 (a consumer may take its logarithm), however unlikely the token was.
            probability = max(1e-6, min(float(probabilities[i]) for i in pieces or group))
            heard.append(HeardWord(text=word, probability=probability))
        return tuple(w for w in heard if w.text)


def _spelled(piece: str) -> bool:
    """Whether a token carries letters or digits (not punctuation alone)."""
    return any(c.isalnum() for c in piece)

