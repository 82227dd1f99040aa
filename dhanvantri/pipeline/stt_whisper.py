"""Speech-to-text with faster-whisper (Whisper base, CTranslate2 int8) on short windows.

faster-whisper pads every input to Whisper's 30 s window; the encoder accepts shorter inputs,
and encoding only the speech plus a little padding costs a fraction (31 ms instead of 579 ms on
4 s of speech here). Decoding can start from an agreed prefix of token ids, so when partial
results have already settled most of the words only the tail is decoded at the end of the turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dhanvantri.pipeline.services import Transcript

SAMPLE_RATE = 16000
MAX_FRAMES = 3000  # Whisper's 30 s window, in 10 ms mel frames


class WhisperSTT:
    """Blocking transcriber; call it from a worker thread.

    Args:
        model_dir: a CTranslate2 Whisper folder (never a model name: a name means a download).
        threads: CPU threads for CTranslate2.
        language: spoken language (detecting it costs ~0.5 s).
        min_window_seconds: shortest window for short answers. Shorter is faster, but below
            ~10 s Whisper garbles one-word answers ("yes" came out as "the F." at 5 s here).
        long_window_seconds: shortest window once the audio is ``short_seconds`` or longer:
            sentences came out the same at 5 s as at 10 s, ~90 ms sooner.
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
        self.partials = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=1)
        self.tokenizer = Tokenizer(
            self.model.hf_tokenizer,
            self.model.model.is_multilingual,
            task="transcribe",
            language=language,
        )
        self.prompt = [*self.tokenizer.sot_sequence, self.tokenizer.no_timestamps]
        self.min_window = int(min_window_seconds * SAMPLE_RATE)
        self.long_window = int(long_window_seconds * SAMPLE_RATE)
        self.short = int(short_seconds * SAMPLE_RATE)

    def transcribe(
        self, audio: np.ndarray, prefix_tokens: Sequence[int] = (), *, partial: bool = False
    ) -> Transcript:
        """Transcribe float32 16 kHz mono ``audio``, forcing the decode to start with
        ``prefix_tokens``. ``partial`` decodes on one thread only (live captions while the
        patient speaks), leaving the other core to a final decode that may start meanwhile."""
        audio = audio[-(MAX_FRAMES - 100) * 160 :].astype(np.float32)
        features = self.model.feature_extractor(audio)
        # Pad the features with zeros, as faster-whisper pads its 30 s window: one-word answers
        # came out right that way and wrong with silence appended to the audio.
        window = self.min_window if len(audio) < self.short else self.long_window
        frames = min(MAX_FRAMES, max(window // 160, features.shape[-1] + 100))
        frames -= frames % 2
        features = np.pad(features, ((0, 0), (0, max(0, frames - features.shape[-1]))))
        encoder, decoder = (self.partials, self.partials) if partial else (self.model, self.single)
        encoded = encoder.encode(features[:, :frames])
        prompt = self.prompt + list(prefix_tokens)
        # Speech runs ~3 tokens a second; the cap stops the loops Whisper falls into on noise.
        budget = int(len(audio) / SAMPLE_RATE * 6) + 8
        result = decoder.model.generate(
            encoded,
            [prompt],
            beam_size=1,
            max_length=min(448, len(prompt) + budget),
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        # The result repeats the forced prefix; the special tokens are dropped.
        tokens = [t for t in result.sequences_ids[0] if t < self.tokenizer.eot]
        return Transcript(text=self.tokenizer.decode(tokens).strip(), tokens=tuple(tokens))
