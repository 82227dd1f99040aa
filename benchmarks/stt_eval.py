"""Speech-to-text accuracy on clinical speech: the evaluation set decoded per configuration.

Every utterance of ``stt_corpus.py`` is spoken by espeak-ng in one of nine accents at one of three
speeds, with no noise or white, pink or babble noise at 10-20 dB SNR; the assignment is fixed by
position, so each voice gets 40 utterances and every accent x speed x noise occurs. Clips are
cached under ``benchmarks/out/stt_eval/``. Each configuration (``CONFIGS``) decodes every clip
with one loaded Whisper model: ``stock`` is faster-whisper's own ``transcribe`` (30 s window, beam
5), the reference; ``pipeline`` replays what the server's Transcriber does (partial decodes every
400 ms of audio with agreed prefixes, then the final decode); the rest change one lever.

Scores, per configuration and per configuration x voice (and category, noise): word error
rate; recall of the clinical terms each utterance carries (symptoms, medicines, negations,
numbers, and all four pooled as ``any-clinical``), where a term counts when it occurs in the
heard text, both normalised; decode time after the speech ends (p50/p95 ms) and real-time factor
of all decoding.

    .venv/bin/python benchmarks/stt_eval.py --json --out benchmarks/out/stt_eval_baseline.json
    .venv/bin/python benchmarks/stt_eval.py --configs stock,pipeline --limit 20 --voices en-us

Exit codes: 0 done, 1 a clip could not be made or decoded or the run was stopped (SIGINT or
SIGTERM: the clips decoded so far are scored and reported), 2 usage.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[1:1] = [str(HERE.parent), str(HERE)]  # make_speech and stt_corpus from a checkout

from make_speech import make_noisy  # noqa: E402
from stt_corpus import KINDS, Utterance, corpus, score  # noqa: E402

from dhanvantri.pipeline.bench import percentile, read_wav  # noqa: E402
from dhanvantri.pipeline.transcriber import (  # noqa: E402
    agreed_prefix,
    hear_final,
    without_restart,
)

RATE = 16000
CACHE = HERE / "out" / "stt_eval"
# espeak-ng's English accents that speak with their own rules (its mbrola voices need the
# mbrola program, absent here, and fall back to en-gb), and its Hindi voice reading the English
# text: the nearest to an Indian accent it has (there is no en-in).
VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd",
          "en-029", "en-us-nyc", "hi")
SPEEDS = (130, 160, 185)  # words a minute: slow and clear, espeak's default pace, hurried
NOISES = (("none", None), ("white", 20.0), ("pink", 15.0), ("babble", 10.0))  # (kind, SNR dB)
# The turn detector passes on ~320 ms from before the speech began and the final decode starts
# ~100 ms into the pause: the clip carries that much quiet (or noise) around the words.
LEAD_S, TAIL_S = 0.32, 0.1
PARTIAL_INTERVAL = RATE * 400 // 1000  # the Transcriber's default partial_interval_ms
# The intake question each category of utterance answers (the server prompts the decoder with
# the question just asked); numbers are told apart by their unit.
TOPICS = {"symptoms": "complaint", "medicines": "medications", "allergies": "allergies",
          "negations": "associated", "names": "complaint", "hinglish": "complaint"}
NUMBER_TOPICS = {"years old": "age", "kilograms": "weight", "out of 10": "severity"}


@dataclass(frozen=True, slots=True)
class Config:
    """One way to decode: ``stt`` goes to ``WhisperSTT(...)``, ``decode`` to each
    ``transcribe(...)``; ``mode`` is ``stock``, ``streaming`` (the Transcriber's partials, then
    the final decode) or ``final`` (the final decode alone); ``prompt`` passes the hearing
    module's listening prompt for the utterance's question; ``correct`` applies
    ``dhanvantri.knowledge.hearing.correct`` to the final decode's words."""

    about: str
    mode: str = "streaming"
    stt: dict[str, Any] = field(default_factory=dict)
    decode: dict[str, Any] = field(default_factory=dict)
    prompt: bool = False
    correct: bool = False


WORDS = {"word_probabilities": True}  # the correction rechecks the words Whisper was unsure of
# One line per configuration: a new lever is a new line.
CONFIGS = {
    "stock": Config("faster-whisper transcribe(): 30 s window, beam 5", mode="stock"),
    "pipeline": Config("the server today: partials every 400 ms with agreed prefixes, final"),
    "final-only": Config("the final decode alone, no partial prefix", mode="final"),
    "window-10": Config("pipeline, final decode on a 10 s window",
                        stt={"final_window_seconds": 10.0}),
    "window-30": Config("pipeline, final decode on the 30 s window",
                        stt={"final_window_seconds": 30.0}),
    "beam-5": Config("pipeline, final decode with beam 5", stt={"beam_size": 5}),
    "prompt": Config("pipeline, prompted with the question's listening prompt", prompt=True),
    "correct": Config("pipeline, then the lexicon correction", stt=WORDS, correct=True),
    "prompt+correct": Config("pipeline prompted, then corrected", stt=WORDS, prompt=True,
                             correct=True),
    "server": Config("what the server does now: the final decode alone, prompted, rechecked "
                     "without the prompt if it copied it, then corrected", mode="server",
                     stt=WORDS),
    "levers": Config("30 s window, beam 5, prompt and correction",
                     stt={"final_window_seconds": 30.0, "beam_size": 5, **WORDS}, prompt=True,
                     correct=True),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ clips
def condition(index: int) -> tuple[str, int, str, float | None]:
    """The (voice, speed, noise, SNR) of the utterance at ``index``: voices in turn, then the
    speed and the noise change every full round, so every combination occurs."""
    kind, snr = NOISES[(index // (len(VOICES) * len(SPEEDS))) % len(NOISES)]
    return VOICES[index % len(VOICES)], SPEEDS[(index // len(VOICES)) % len(SPEEDS)], kind, snr


def clip(utterance: Utterance, index: int, folder: Path = CACHE) -> tuple[Path, dict[str, Any]]:
    """The utterance's WAV (made unless cached) and the conditions it was made in."""
    voice, speed, kind, snr = condition(index)
    path = make_noisy(folder, utterance.text, voice, speed, kind, snr, lead_s=LEAD_S,
                      tail_s=TAIL_S)
    return path, {"voice": voice, "speed": speed, "noise": kind, "snr_db": snr}


# ------------------------------------------------------------------ decoding
def topic(utterance: Utterance) -> str:
    """The intake topic of the question ``utterance`` answers."""
    if utterance.category == "numbers":
        return next((t for unit, t in NUMBER_TOPICS.items() if unit in utterance.text),
                    "complaint")
    return TOPICS[utterance.category]


def unavailable(config: Config) -> str | None:
    """Why ``config`` cannot run with the code as it is (a lever not there yet), or None."""
    from dhanvantri.pipeline.stt_whisper import WhisperSTT

    known = set(inspect.signature(WhisperSTT.__init__).parameters)
    if missing := sorted(set(config.stt) - known):
        return f"WhisperSTT() takes no {', '.join(missing)}"
    known = set(inspect.signature(WhisperSTT.transcribe).parameters)
    if missing := sorted((set(config.decode) | ({"prompt"} if config.prompt else set())) - known):
        return f"WhisperSTT.transcribe() takes no {', '.join(missing)}"
    if (config.prompt or config.correct) and _hearing() is None:
        return "dhanvantri.knowledge.hearing is missing"
    return None


def _hearing() -> Any:
    try:
        from dhanvantri.knowledge import hearing
    except ImportError:
        return None
    return hearing if hasattr(hearing, "correct") else None


class Decoder:
    """Decodes clips per configuration; one ``WhisperSTT`` per distinct set of constructor
    options (most configurations share the default one)."""

    def __init__(self) -> None:
        self._stts: dict[str, Any] = {}

    def stt(self, options: dict[str, Any]) -> Any:
        from dhanvantri.pipeline.stt_whisper import WhisperSTT

        key = json.dumps(options, sort_keys=True)
        if key not in self._stts:
            self._stts[key] = WhisperSTT(**options)
        return self._stts[key]

    def __call__(self, config: Config, audio: np.ndarray, about: str) -> dict[str, Any]:
        """The heard text of ``audio`` (an answer on the topic ``about``), the decode time after
        the speech ended (``final_ms``) and that of all decodes of the clip (``compute_ms``)."""
        stt = self.stt(config.stt)
        options = dict(config.decode)
        if config.prompt:
            options["prompt"] = _hearing().listening_prompt(about)
        spent = 0.0
        started = time.perf_counter()
        if config.mode == "stock":
            segments, _ = stt.model.transcribe(audio, language="en")
            text = " ".join(s.text.strip() for s in segments)
        elif config.mode == "server":
            text = hear_final(stt, audio, prompt=_hearing().listening_prompt(about), topic=about,
                              hearing=_hearing(), sample_rate=RATE).text
        else:
            prefix: tuple[int, ...] = ()
            if config.mode == "streaming":
                prefix, spent = _partials(stt, audio, options)
                started = time.perf_counter()
            result = stt.transcribe(audio, prefix, **options)
            text = result.text
            if config.correct and result.words:
                text = _hearing().correct(result.words, about).text
            elif config.correct and text.strip():
                raise RuntimeError("the final decode gave no word probabilities to correct")
            # As the Transcriber does: a decode's second time round is cut off.
            text = without_restart(text)
        final = time.perf_counter() - started
        return {"text": text, "final_ms": round(final * 1000, 1),
                "compute_ms": round((final + spent) * 1000, 1)}


def _partials(stt: Any, audio: np.ndarray, options: dict[str, Any]) -> tuple[tuple[int, ...],
                                                                           float]:
    """The Transcriber's partial decodes on the growing buffer, one every 400 ms of audio,
    each forced to start with what the two before agreed on; the prefix the final decode gets
    and the seconds spent."""
    previous: tuple[int, ...] = ()
    agreed: tuple[int, ...] = ()
    started = time.perf_counter()
    for end in range(PARTIAL_INTERVAL, len(audio), PARTIAL_INTERVAL):
        tokens = stt.transcribe(audio[:end], agreed, partial=True, **options).tokens
        agreed, previous = agreed_prefix(previous, tokens), tokens
    return agreed, time.perf_counter() - started


# ------------------------------------------------------------------ scoring (pure)
def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """WER, term recall per kind and pooled, and decode timings of scored ``rows``."""
    said = {k: sum(r["said"][k] for r in rows) for k in KINDS}
    kept = {k: sum(r["kept"][k] for r in rows) for k in KINDS}
    said["any-clinical"], kept["any-clinical"] = sum(said.values()), sum(kept.values())
    final = [r["final_ms"] for r in rows]
    compute = sum(r["compute_ms"] for r in rows)
    audio = sum(r["audio_s"] for r in rows)
    return {
        "clips": len(rows),
        "wer": _ratio(sum(r["edits"] for r in rows), sum(r["words"] for r in rows)),
        "recall": {k: _ratio(kept[k], said[k]) for k in said},
        "terms": {k: [kept[k], said[k]] for k in said},
        "inserted": {k: sum(r.get("inserted", {}).get(k, 0) for r in rows) for k in KINDS},
        "final_ms_p50": percentile(final, 50) if final else None,
        "final_ms_p95": percentile(final, 95) if final else None,
        "rtf": round(compute / 1000 / audio, 3) if audio else None,
    }


def grouped(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row[key]), []).append(row)
    return {name: summary(group) for name, group in groups.items()}


def below_reference(configs: dict[str, dict[str, Any]], reference: str = "stock") -> list[str]:
    """Each configuration x voice (and all voices) x term kind whose recall is under the
    reference's: the floor no lever may fall below."""
    if reference not in configs:
        return []

    def scores(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {"all": result["overall"], **result["per_voice"]}

    floors = scores(configs[reference])
    out = []
    for name, result in configs.items():
        for voice, figures in scores(result).items():
            for kind, recall in figures["recall"].items():
                floor = floors.get(voice, {}).get("recall", {}).get(kind)
                if name != reference and None not in (recall, floor) and recall < floor:
                    out.append(f"{name}/{voice}/{kind}: {recall} < {floor}")
    return out


# ------------------------------------------------------------------ run
def run(chosen: list[tuple[int, Utterance]], names: list[str]) -> dict[str, Any]:
    """Make the clips, decode each with every configuration in turn, and score. A run stopped
    (SIGINT or SIGTERM) scores the clips decoded so far and says it was ``interrupted``."""
    started = time.perf_counter()
    clips = []
    for n, (index, utterance) in enumerate(chosen, 1):
        path, made_in = clip(utterance, index)
        clips.append((utterance, read_wav(path).astype(np.float32) / 32768.0, made_in))
        if n % 50 == 0:
            log(f"stt_eval: {n}/{len(chosen)} clips ready")
    synthesis_s = time.perf_counter() - started
    decoder = Decoder()
    loading = time.perf_counter()
    for name in names:
        decoder.stt(CONFIGS[name].stt)
    ready_s = time.perf_counter() - loading
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    details: list[dict[str, Any]] = []
    try:
        for utterance, audio, made_in in clips:
            details.append(_decode_clip(decoder, names, utterance, audio, made_in, rows))
            if len(details) % 10 == 0 or len(details) == len(clips):
                log(f"stt_eval: {len(details)}/{len(clips)} clips decoded")
    except KeyboardInterrupt:
        log(f"stt_eval: interrupted; scoring the {len(details)} clips decoded")
        rows = {name: done[:len(details)] for name, done in rows.items()}
    configs = {name: {"about": CONFIGS[name].about, "overall": summary(rows[name]),
                      **{f"per_{key}": grouped(rows[name], key)
                         for key in ("voice", "category", "noise", "speed")}}
               for name in names}
    return {
        "corpus": {"utterances": len(corpus()), "decoded": len(details),
                   "voices": sorted({d["voice"] for d in details}), "speeds": list(SPEEDS),
                   "noises": [{"kind": k, "snr_db": s} for k, s in NOISES]},
        "interrupted": len(details) < len(clips),
        "configs": configs,
        "below_stock": below_reference(configs),
        "timings": {"synthesis_s": round(synthesis_s, 1), "models_ready_s": round(ready_s, 1),
                    "wall_s": round(time.perf_counter() - started, 1)},
        "clips": details,
    }


def _decode_clip(decoder: Decoder, names: list[str], utterance: Utterance, audio: np.ndarray,
                 made_in: dict[str, Any], rows: dict[str, list[dict[str, Any]]]
                 ) -> dict[str, Any]:
    """Decode one clip with each configuration, adding a scored row to each one's ``rows``;
    what each heard and missed."""
    detail = {"id": utterance.id, "category": utterance.category, "text": utterance.text,
              **made_in, "audio_s": round(len(audio) / RATE, 2), "heard": {}, "missed": {}}
    # Configurations take turns on each clip, so load from other work on the machine falls on
    # all of them alike.
    for name in names:
        decoded = decoder(CONFIGS[name], audio, topic(utterance))
        scored = score(utterance, decoded["text"])
        rows[name].append({**detail, **decoded, **scored})
        detail["heard"][name] = decoded["text"]
        if scored["missed"]:
            detail["missed"][name] = scored["missed"]
    return detail


def table(result: dict[str, Any]) -> str:
    """Per voice, each configuration's WER, term recall and decode time (stderr)."""
    kinds = (*KINDS, "any-clinical")
    head = f"{'voice':<16}{'config':<16}{'WER':>6}" + "".join(f"{k[:8]:>9}" for k in kinds)
    lines = [head + f"{'p50 ms':>9}{'p95 ms':>9}{'RTF':>7}"]

    def row(voice: str, name: str, s: dict[str, Any]) -> str:
        cells = "".join("        -" if s["recall"][k] is None else f"{s['recall'][k]:>9.2f}"
                        for k in kinds)
        return (f"{voice:<16}{name:<16}{s['wer']:>6.3f}{cells}{s['final_ms_p50']:>9.0f}"
                f"{s['final_ms_p95']:>9.0f}{s['rtf']:>7.2f}")

    configs = result["configs"]
    for name, c in configs.items():
        lines.append(row("all", name, c["overall"]))
    for voice in result["corpus"]["voices"]:
        lines.append("")
        lines += [row(voice, name, c["per_voice"][voice]) for name, c in configs.items()]
    if result["below_stock"]:
        lines += ["", f"under stock's recall: {len(result['below_stock'])} (voice x kind); "
                      "see below_stock in the JSON"]
    return "\n".join(lines)


# ------------------------------------------------------------------ command line
def espeak_voices() -> set[str]:
    listing = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True,
                             check=True).stdout.splitlines()[1:]
    return {line.split()[1] for line in listing if len(line.split()) > 1}


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace,
                                                 list[tuple[int, Utterance]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="",
                        help=f"configurations, comma-separated (default: all that the code "
                             f"supports; {', '.join(CONFIGS)})")
    parser.add_argument("--voices", default=",".join(VOICES),
                        help="only the utterances spoken in these voices, comma-separated")
    parser.add_argument("--limit", type=int, default=0, help="only the first N utterances")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args(argv)
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        parser.error("espeak-ng and sox are needed (apt-get install espeak-ng sox)")
    voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    if unknown := set(voices) - set(VOICES):
        parser.error(f"--voices: not in the set's voices {VOICES}: {sorted(unknown)}")
    if missing := set(voices) - espeak_voices():
        parser.error(f"--voices: espeak-ng lacks {sorted(missing)}")
    if args.limit < 0:
        parser.error("--limit must be 0 (all) or more")
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    if unknown := [n for n in names if n not in CONFIGS]:
        parser.error(f"--configs: no such configuration {unknown}; choose from {list(CONFIGS)}")
    args.configs = names
    chosen = [(i, u) for i, u in enumerate(corpus()) if condition(i)[0] in voices]
    return args, chosen[:args.limit] if args.limit else chosen


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # a stopped run still reports the clips it decoded


def main(argv: list[str] | None = None) -> int:
    args, chosen = parse_args(argv)
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    reasons = {name: why for name, config in CONFIGS.items() if (why := unavailable(config))}
    if asked := [n for n in args.configs if n in reasons]:
        log(f"stt_eval: --configs: {'; '.join(f'{n}: {reasons[n]}' for n in asked)}")
        return 2
    names = args.configs or [n for n in CONFIGS if n not in reasons]
    log(f"stt_eval: {len(chosen)} utterances x {len(names)} configurations: {', '.join(names)}")
    try:
        result = run(chosen, names)
    except (OSError, subprocess.CalledProcessError, RuntimeError) as exc:
        log(f"stt_eval: {exc}")
        return 1
    result["unavailable"] = {n: why for n, why in reasons.items() if n not in names}
    log(table(result))
    document = json.dumps(result)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(document + "\n")
    if args.json:
        print(document)
    return 1 if result["interrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
