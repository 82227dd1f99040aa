"""A/B the decoding levers of WhisperSTT, one at a time against today's settings.

    .venv/bin/python benchmarks/stt_levers.py benchmarks/out/levers [--reps 2] [--clips 28]

Each clip (espeak-ng, several accents) is decoded by every configuration in turn, round after
round, so that other load on the machine falls on all of them alike. Reported per configuration:
the final decode's median time (ms) and its ratio to the baseline's, and how many of the clips'
key words (clinical words, negations, numbers) were heard. Each lever is tried alone on top of
the settings before them (greedy, no prompt, no prefix); ``defaults`` is WhisperSTT's own. The
configurations named ``prefix`` (and ``defaults``) force what partial decodes every 400 ms agreed
on, as the transcriber does; the others decode the whole turn. Word probabilities are compared
for words said and words misheard.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import wave
from pathlib import Path

import numpy as np
from make_speech import make

from dhanvantri.pipeline.services import Transcript
from dhanvantri.pipeline.stt_whisper import WhisperSTT
from dhanvantri.pipeline.transcriber import agreed_prefix

# (sentence, key words; "a|b" accepts either spelling)
CLIPS = [
    ("I have had a fever and body ache for three days.", ["fever", "body", "ache", "three|3"]),
    ("I take metformin five hundred milligrams twice a day.",
     ["metformin", "500|five hundred", "milligrams|mg", "twice"]),
    ("I have not taken any medicine.", ["not|haven't", "taken", "medicine"]),
    ("A headache on one side with nausea.", ["headache", "one side", "nausea"]),
    ("No, I am not allergic to anything.", ["no", "not|i'm not", "allergic"]),
    ("I have a dry cough and my temperature was one hundred and one.",
     ["dry", "cough", "temperature", "101|one hundred and one|hundred and one"]),
    ("My blood pressure is high and I take amlodipine.",
     ["blood pressure", "high", "amlodipine"]),
    ("I feel dizzy when I stand up.", ["dizzy", "stand"]),
    ("There is chest pain when I climb the stairs.", ["chest pain", "stairs"]),
    ("I do not have diabetes but my mother has asthma.",
     ["do not|don't", "diabetes", "asthma"]),
    ("I took paracetamol six hundred and fifty two hours ago.",
     ["paracetamol", "650|six hundred and fifty", "two hours|2 hours"]),
    ("No rash and no vomiting.", ["no rash", "no vomiting"]),
    ("My child has loose motions since last night.", ["child", "loose motions"]),
    ("I am eight weeks pregnant.", ["eight|8", "weeks", "pregnant"]),
]
VOICES = ["en-us", "en-gb", "en-029", "en-gb-scotland"]
QUESTION = "Can you tell me your symptoms, since when, and any medicines you take?"
CLINICAL = (
    "fever, cough, dry cough, headache, nausea, vomiting, rash, body ache, dizzy, chest pain, "
    "breathless, diabetes, asthma, blood pressure, allergic, pregnant, loose motions, "
    "diarrhoea, sore throat, runny nose, metformin, amlodipine, paracetamol, ibuprofen, "
    "insulin, milligrams, tablets, twice a day, temperature, weeks, days"
)
# The question goes last: Whisper reads the prompt as the text just before the speech, and after
# a list of words it went on listing (", my blood pressure is high,"); the cap keeps the end.
PROMPT = f"{CLINICAL}. {QUESTION}"
TODAY = {"beam_size": 1, "word_probabilities": False}  # the settings before the levers
# name → (WhisperSTT options, decode options); each lever alone on top of TODAY
LEVERS: dict[str, tuple[dict, dict]] = {
    "baseline": ({}, {}),
    "window10": ({"final_window_seconds": 10}, {}),
    "window15": ({"final_window_seconds": 15}, {}),
    "window30": ({"final_window_seconds": 30}, {}),
    "beam2": ({"beam_size": 2}, {}),
    "beam3": ({"beam_size": 3}, {}),
    "beam5": ({"beam_size": 5}, {}),
    "question": ({}, {"prompt": QUESTION}),
    "prompt": ({}, {"prompt": PROMPT}),
    "prompt128": ({"prompt_tokens": 128}, {"prompt": PROMPT}),
    "prefix": ({}, {"prefix": True}),
    "prompt+prefix": ({}, {"prefix": True, "prompt": PROMPT}),
    "beam3+prompt": ({"beam_size": 3}, {"prompt": PROMPT}),
    "window10+prompt": ({"final_window_seconds": 10}, {"prompt": PROMPT}),
    "wordprobs": ({"word_probabilities": True}, {}),
    "wordprobs+prefix": ({"word_probabilities": True}, {"prefix": True}),
}
CONFIGS = {name: ({**TODAY, **options}, decode) for name, (options, decode) in LEVERS.items()}
# WhisperSTT's own defaults, as a caller gets them
CONFIGS["defaults"] = ({}, {"prefix": True})
CONFIGS["defaults+prompt"] = ({}, {"prefix": True, "prompt": PROMPT})


def heard(text: str, key: str) -> bool:
    """Whether any spelling of ``key`` is among the words of ``text``."""
    words = " " + " ".join(re.findall(r"[a-z0-9']+", text.lower())) + " "
    return any(f" {option} " in words for option in key.split("|"))


def read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), np.int16)
    return samples.astype(np.float32) / 32768.0


def agreed(stt: WhisperSTT, audio: np.ndarray, prompt: str = "") -> tuple[int, ...]:
    """The prefix partial decodes every 400 ms would have agreed on by the end of ``audio``."""
    previous: tuple[int, ...] = ()
    prefix: tuple[int, ...] = ()
    for end in range(6400, len(audio), 6400):
        tokens = stt.transcribe(audio[:end], prefix, partial=True, prompt=prompt).tokens
        prefix, previous = agreed_prefix(previous, tokens), tokens
    return prefix


def load_clips(folder: Path, count: int) -> list[tuple[np.ndarray, str, list[str]]]:
    """``count`` clips: the sentences in turn, each round of them in other accents."""
    clips = []
    for i in range(count):
        text, keys = CLIPS[i % len(CLIPS)]
        voice = VOICES[(i + i // len(CLIPS)) % len(VOICES)]
        clips.append((read(make(folder, f"c{i}", text, 140, voice, quiet=True)), text, keys))
    return clips


class Tally:
    """Decode times, key words heard and word probabilities, per configuration."""

    def __init__(self, names: list[str]) -> None:
        self.times: dict[str, list[float]] = {name: [] for name in names}
        self.hits = dict.fromkeys(names, 0)
        self.said: list[float] = []
        self.misheard: list[float] = []

    def add(self, name: str, ms: float, result: Transcript, text: str, keys: list[str],
            first: bool) -> None:
        self.times[name].append(ms)
        if not first:
            return
        self.hits[name] += sum(heard(result.text, key) for key in keys)
        print(f"  {name:<16} {result.text}")
        said = set(re.findall(r"[a-z0-9']+", f"{text} {' '.join(keys)}".lower()))
        for word in result.words:
            spelled = re.sub(r"[^a-z0-9']", "", word.text.lower())
            (self.said if spelled in said else self.misheard).append(word.probability)

    def report(self, total: int) -> None:
        median = statistics.median(self.times["baseline"])
        print(f"{'config':<16} {'median ms':>9} {'ratio':>6} {'key words':>10}")
        for name, times in self.times.items():
            ms = statistics.median(times)
            print(f"{name:<16} {ms:9.0f} {ms / median:6.2f} {self.hits[name]:>6}/{total}")
        if self.said and self.misheard:
            print(f"word probability (min of tokens), median: words said "
                  f"{np.median(self.said):.2f} (n={len(self.said)}), words misheard "
                  f"{np.median(self.misheard):.2f} (n={len(self.misheard)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--clips", type=int, default=len(CLIPS) * 2)
    parser.add_argument("--only", nargs="*", help="configurations to run (baseline is kept)")
    args = parser.parse_args()
    configs = {k: v for k, v in CONFIGS.items() if not args.only or k in {"baseline", *args.only}}
    clips = load_clips(args.folder, args.clips)
    stts = {name: WhisperSTT(**options) for name, (options, _) in configs.items()}
    # Partial decodes cost as much as the rest: only for the configurations that use them.
    forcing = [decode for _, decode in configs.values() if decode.get("prefix")]
    base = stts["baseline"]
    plain = any("prompt" not in d for d in forcing)
    prompted = any("prompt" in d for d in forcing)
    prefixes = [(agreed(base, audio) if plain else (), agreed(base, audio, PROMPT) if prompted
                 else ()) for audio, _, _ in clips]
    tally = Tally(list(configs))
    for rep in range(args.reps):
        for (audio, text, keys), forced in zip(clips, prefixes, strict=True):
            for name, (_, decode) in configs.items():
                prompt = decode.get("prompt", "")
                prefix = forced[bool(prompt)] if decode.get("prefix") else ()
                started = time.perf_counter()
                result = stts[name].transcribe(audio, prefix, prompt=prompt)
                ms = (time.perf_counter() - started) * 1e3
                tally.add(name, ms, result, text, keys, first=rep == 0)
    print(f"{len(clips)} clips, {args.reps} rounds")
    tally.report(sum(len(keys) for _, _, keys in clips))
    return 0


if __name__ == "__main__":
    sys.exit(main())
