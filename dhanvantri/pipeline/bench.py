"""``dhanvantri bench voice``: voice-to-voice latency of the full in-process pipeline.

Each WAV (16 kHz mono) is fed at real-time pace in 20 ms frames, then silence, as a browser
would send it. Every figure is measured from the end of the file's audio (the last speech
sample) to the event. Model loading is reported separately.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dhanvantri.pipeline.frames import EventFrame, Frame, OutputAudioFrame, now
from dhanvantri.pipeline.latency import STAGES

FRAME_MS = 20


class BenchInputError(ValueError):
    """A WAV file the benchmark cannot use."""


def read_wav(path: Path, sample_rate: int = 16000) -> np.ndarray:
    """int16 mono samples of a 16 kHz mono 16-bit WAV file."""
    try:
        with wave.open(str(path)) as wav:
            if (
                wav.getnchannels() != 1
                or wav.getframerate() != sample_rate
                or wav.getsampwidth() != 2
            ):
                raise BenchInputError(
                    f"{path}: need 16-bit mono {sample_rate} Hz WAV "
                    f"(e.g. sox in.wav -r {sample_rate} -c 1 -b 16 out.wav)"
                )
            return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).copy()
    except (wave.Error, EOFError, FileNotFoundError) as exc:
        raise BenchInputError(f"{path}: {exc}") from exc


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """Save int16 mono audio."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(audio.astype(np.int16).tobytes())


@dataclass
class TurnCapture:
    """What the pipeline produced for one turn."""

    patient: list[str] = field(default_factory=list)
    assistant: list[str] = field(default_factory=list)
    audio: list[np.ndarray] = field(default_factory=list)
    escalated: bool = False
    last_output: float = 0.0


class Collector:
    """The benchmark's stand-in for a transport: keeps what the pipeline sends out."""

    def __init__(self) -> None:
        self.turns: dict[int, TurnCapture] = {}
        self.current = 0

    def __call__(self, frame: Frame) -> None:
        capture = self.turns.setdefault(frame.turn or self.current, TurnCapture())
        if isinstance(frame, OutputAudioFrame) and not frame.canned:
            capture.audio.append(frame.audio)
            capture.last_output = now()
        elif isinstance(frame, EventFrame):
            event = frame.event
            if event.get("type") == "transcript" and event.get("final"):
                target = capture.patient if event["role"] == "patient" else capture.assistant
                target.append(event["text"])
                capture.last_output = now()
            elif event.get("type") == "escalation":
                capture.escalated = True


async def play(session: Any, audio: np.ndarray, sample_rate: int) -> float:
    """Push ``audio`` in 20 ms frames at real-time pace; return when its last sample was sent."""
    step = sample_rate * FRAME_MS // 1000
    started = time.monotonic()
    for i, offset in enumerate(range(0, len(audio), step)):
        await asyncio.sleep(max(0.0, started + i * FRAME_MS / 1000 - time.monotonic()))
        await session.push_audio(audio[offset : offset + step])
    return now()


async def silence_until_reply(
    session: Any,
    capture: Collector,
    turn: int,
    sample_rate: int,
    *,
    settle: float = 0.8,
    limit: float = 20.0,
) -> None:
    """Keep sending silence (as a live mic does) until the reply has been quiet for ``settle`` s."""
    step = sample_rate * FRAME_MS // 1000
    silence = np.zeros(step, dtype=np.int16)
    started = time.monotonic()
    i = 0
    while time.monotonic() - started < limit:
        await asyncio.sleep(max(0.0, started + i * FRAME_MS / 1000 - time.monotonic()))
        await session.push_audio(silence)
        i += 1
        got = capture.turns.get(turn)
        if got and got.audio and now() - got.last_output > settle:
            return


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), or NaN-free 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def run_bench(
    audio_paths: list[Path], runs: int, save_audio: Path | None, log: Any = print
) -> dict[str, Any]:
    """Run the benchmark and return its JSON-able result."""
    from dhanvantri.pipeline.voice import VoiceSession, load_models
    from dhanvantri.settings import Settings

    clips = [(path, read_wav(path)) for path in audio_paths]
    settings = Settings()
    started = time.perf_counter()
    models = await load_models(settings, progress=log)
    load_total = round(time.perf_counter() - started, 3)
    rows: list[dict[str, Any]] = []
    try:
        for run in range(runs):
            collector = Collector()
            session = VoiceSession(models, collector)
            await session.start()
            await play(session, np.zeros(8000, dtype=np.int16), settings.sample_rate)
            for path, audio in clips:
                turn = session.turn_detector.turn + 1
                collector.current = turn
                speech_end = await play(session, audio, settings.sample_rate)
                await silence_until_reply(session, collector, turn, settings.sample_rate)
                rows.append(
                    turn_row(
                        path,
                        run,
                        session,
                        collector.turns.get(turn, TurnCapture()),
                        turn,
                        speech_end,
                        save_audio,
                        settings.output_sample_rate,
                    )
                )
                log(f"run {run + 1} {path.name}: {rows[-1]['ms']}")
            await session.cancel()
    finally:
        await models.close()
    return {
        "turns": rows,
        "summary": summarise(rows),
        "model_load_s": {**models.load_seconds, "total": load_total},
    }


def turn_row(
    path: Path,
    run: int,
    session: Any,
    capture: TurnCapture,
    turn: int,
    speech_end: float,
    save_audio: Path | None,
    rate: int,
) -> dict[str, Any]:
    """One turn's result line."""
    times = session.latency.turns.get(turn)
    ms = times.ms_since(speech_end) if times else {}
    ms = {name: ms.get(name) for name in (*STAGES, "voice_to_voice")}
    if save_audio is not None and capture.audio:
        save_audio.mkdir(parents=True, exist_ok=True)
        write_wav(
            save_audio / f"{path.stem}.run{run + 1}.reply.wav", np.concatenate(capture.audio), rate
        )
    return {
        "audio": str(path),
        "run": run + 1,
        "transcript": " ".join(capture.patient),
        "reply_text": " ".join(capture.assistant),
        "escalated": capture.escalated,
        "ms": ms,
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """p50/p95 of every measured stage over all turns (None where nothing was measured)."""
    out: dict[str, float | None] = {}
    for name in (*STAGES, "voice_to_voice"):
        values = [r["ms"][name] for r in rows if r["ms"].get(name) is not None]
        out[f"{name}_p50"] = round(statistics.median(values), 1) if values else None
        out[f"{name}_p95"] = round(percentile(values, 95), 1) if values else None
    out["turns"] = len(rows)
    out["turns_without_reply"] = sum(1 for r in rows if r["ms"]["voice_to_voice"] is None)
    return out


def print_table(result: dict[str, Any]) -> None:
    """Readable output for people."""
    print(
        f"{'audio':28} {'turn_end':>9} {'stt':>7} {'llm':>7} {'tts':>7} {'v2v':>7}"
        "  transcript → reply"
    )
    for row in result["turns"]:
        ms = row["ms"]
        cells = " ".join(
            f"{ms[k]:>7.0f}" if ms[k] is not None else f"{'-':>7}"
            for k in (
                "turn_end",
                "stt_final",
                "llm_first_token",
                "tts_first_audio",
                "voice_to_voice",
            )
        )
        print(
            f"{Path(row['audio']).name[:28]:28} {cells}"
            f"  {row['transcript']!r} → {row['reply_text']!r}"
        )
    s = result["summary"]
    print(
        f"voice-to-voice p50 {s['voice_to_voice_p50']} ms, p95 {s['voice_to_voice_p95']} ms "
        f"over {s['turns']} turns; model load {result['model_load_s']}"
    )


def run(args: Any) -> int:
    """CLI handler for ``dhanvantri bench voice``."""
    from dhanvantri.cli import UsageError
    from dhanvantri.log import configure

    configure("WARNING")
    paths = [Path(p) for p in args.audio]
    try:
        for path in paths:
            read_wav(path)
    except BenchInputError as exc:
        raise UsageError(str(exc)) from exc
    if args.runs < 1:
        raise UsageError("--runs must be at least 1")
    log = lambda message: print(message, file=sys.stderr)  # noqa: E731
    result = asyncio.run(run_bench(paths, args.runs, args.save_audio, log))
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        print_table(result)
    return 0 if result["summary"]["turns_without_reply"] == 0 else 1
