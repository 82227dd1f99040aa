"""Make the patient speech the voice benchmarks replay: espeak-ng + sox, 16 kHz mono WAV.

    .venv/bin/python benchmarks/make_speech.py benchmarks/out/speech
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from dhanvantri.pipeline.bench import read_wav, write_wav

RATE = 16000
# Other people talking in the room, for babble noise.
BABBLE = (("en-us", "The bus was late again this morning and the road was full of water."),
          ("en-gb", "Please give me the file from the second shelf, the blue one."),
          ("en-029", "We will meet after lunch near the temple gate."),
          ("en-gb-scotland", "She said the market closes early on Sunday."))
SENTENCES = {
    "fever": "I have had a fever and a dry cough for three days.",
    "headache": "I have a headache since yesterday morning.",
    "loose_motions": "My child has loose motions since last night.",
    "sore_throat": "I have a sore throat and a runny nose.",
    "back_pain": "The pain is in my lower back and it started two weeks ago.",
    "allergy": "No, I am not allergic to anything.",
}


def make(folder: Path, name: str, text: str, speed: int = 140, voice: str = "en-us",
         quiet: bool = False) -> Path:
    """Speak ``text`` into ``folder/name.wav`` with espeak-ng's ``voice`` (an accent); ``quiet``
    keeps sox's clipping warnings (a few samples at the resampling) off stderr."""
    folder.mkdir(parents=True, exist_ok=True)
    raw, target = folder / f"{name}.raw.wav", folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
    # Trim espeak's leading and trailing silence: the benchmark measures from the end of the
    # file, which must be the last speech sample.
    subprocess.run(["sox", *(["-V1"] if quiet else []), str(raw), "-r", "16000", "-c", "1",
                    "-b", "16", str(target), "silence", "1", "0.02", "0.5%", "reverse",
                    "silence", "1", "0.02", "0.5%", "reverse"], check=True)
    raw.unlink()
    return target


def noise(kind: str, length: int, seed: int) -> np.ndarray:
    """``length`` samples of unit-RMS ``white`` or ``pink`` (1/f power: room hum and fans sound
    nearer that than hiss) noise, the same for the same ``seed``."""
    white = np.random.default_rng(seed).standard_normal(length)
    if kind == "pink":
        spectrum = np.fft.rfft(white)
        spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
        white = np.fft.irfft(spectrum, n=length)
    elif kind != "white":
        raise ValueError(f"unknown noise {kind!r}: white or pink")
    return white / (np.sqrt(np.mean(white**2)) or 1.0)


def mix(speech: np.ndarray, background: np.ndarray, snr_db: float) -> np.ndarray:
    """int16 ``speech`` with ``background`` (looped to its length) at ``snr_db`` below the
    speech's RMS; the RMS is taken over the speech's voiced samples (its pauses would lower it
    and so the noise)."""
    voice = speech.astype(np.float64)
    loud = voice[np.abs(voice) > 0.02 * (np.abs(voice).max() or 1.0)]
    rms = np.sqrt(np.mean(loud**2)) if len(loud) else 0.0
    bed = np.resize(background.astype(np.float64), len(voice))
    bed *= rms / (np.sqrt(np.mean(bed**2)) or 1.0) / 10 ** (snr_db / 20)
    return np.clip(voice + bed, -32768, 32767).astype(np.int16)


def babble(folder: Path) -> np.ndarray:
    """Four voices talking at once (made once into ``folder``): noise that sounds like speech."""
    path = folder / "babble.wav"
    if not path.exists():
        with tempfile.TemporaryDirectory() as tmp:
            parts = [read_wav(make(Path(tmp), f"b{i}", text, 150, voice, quiet=True))
                     for i, (voice, text) in enumerate(BABBLE)]
        bed = np.zeros(max(len(p) for p in parts), np.float64)
        for i, part in enumerate(parts):
            bed += np.roll(np.resize(part, len(bed)), i * RATE // 3)
        write_wav(path, np.clip(bed, -32768, 32767), RATE)
    return read_wav(path)


def make_noisy(folder: Path, text: str, voice: str, speed: int, kind: str = "none",
               snr_db: float | None = None, *, lead_s: float = 0.0, tail_s: float = 0.0) -> Path:
    """``text`` spoken into a WAV in ``folder`` named for all the arguments (kept: a second call
    makes nothing), with ``lead_s``/``tail_s`` of quiet around it, then ``kind`` noise (white,
    pink or babble) over all of it at ``snr_db`` (None: no noise)."""
    key = hashlib.sha1(f"{text}|{voice}|{speed}|{kind}|{snr_db}|{lead_s}|{tail_s}".encode())
    path = folder / f"{key.hexdigest()[:16]}.wav"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        speech = read_wav(make(Path(tmp), "speech", text, speed, voice, quiet=True))
    audio = np.concatenate([np.zeros(int(lead_s * RATE), np.int16), speech,
                            np.zeros(int(tail_s * RATE), np.int16)])
    if snr_db is not None:
        seed = int(key.hexdigest()[:8], 16)
        bed = babble(folder) if kind == "babble" else noise(kind, len(audio), seed)
        # Each clip hears another stretch of the babble.
        audio = mix(audio, np.roll(np.resize(bed, len(audio)), seed % len(audio)), snr_db)
    partial = path.with_suffix(".part.wav")
    write_wav(partial, audio, RATE)
    partial.replace(path)  # a run stopped midway leaves no half-written clip behind
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        print("espeak-ng and sox are needed (apt-get install espeak-ng sox)", file=sys.stderr)
        return 2
    for name, text in SENTENCES.items():
        print(make(args.folder, name, text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
