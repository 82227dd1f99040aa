"""Reply timing over the WebSocket, on the patient's clock: routine, emergency and barge-in.

Starts ``dhanvantri serve`` as a subprocess (real models, its own data dir, as
``benchmarks/load_ws.py`` does) and runs ``--rounds`` consultations one after another. Each
patient speaks espeak-ng speech in real-time 20 ms frames and sends silence in between, as a
live microphone does, with a quiet room's noise under all of it (``--room-dbfs``). A round is:

1. a routine turn: **routine first audio** is from when the frame holding the last voiced
   sample was sent to the first reply-audio frame received;
2. a barge-in: another routine phrase (its first audio counts as routine too); once its reply
   has been arriving for ``BARGE_AFTER_S`` the patient speaks a short phrase over it.
   **Barge-in stop** is from when the frame holding the first voiced sample of that phrase was
   sent (the onset, not the clip's leading silence) to the last reply-audio frame received
   before the ``{"type": "state", "value": "thinking"}`` that ends the new turn. How much of
   the old reply was heard is recorded, and so is any old reply audio that still arrived after
   "thinking" (frames continuing the old stream without a pause);
3. an emergency turn, from sentences held out of the triage test set: **emergency first audio**
   as in (1), and whether an ``escalation`` event with ``emergency: true`` arrived.

    python benchmarks/ws_reply.py --rounds 5 --json

The summary gives p50/p95 of the three timings and two verdicts: ``emergency_le_routine_p50``
(the emergency p50 is at most the routine p50) and ``barge_in_p95_le_100``. A barge-in stop is
negative when the old reply had ended before the patient spoke (a reply shorter than the wait).
Exit 0 when every turn was answered and every emergency escalated, 1 otherwise, 2 on bad usage.
``--json`` prints exactly one JSON object on stdout; progress goes to stderr. Loopback only;
every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[1:1] = [str(HERE.parent), str(HERE)]  # tests.support and load_ws from a checkout

from load_ws import (  # noqa: E402
    PHRASES,
    RATE,
    TURN_LIMIT_S,
    first_after,
    launch,
    listen,
    log,
    percentile,
    reply_settled,
    speech_tools,
    voiced_length,
    voiced_onset,
)

from tests.speech import make_speech, read_pcm  # noqa: E402
from tests.support.patient import Patient  # noqa: E402

ROUTINE = (*PHRASES, "My knee has been aching since last week.")
# Patients often cut in with a quiet consonant first (the /s/ of "Sorry" and "So", the /h/ of
# "Hold on"), which a voice detector is slow to call speech.
INTERJECTIONS = ("Sorry, can I ask something?", "Wait, one more thing.", "Excuse me, doctor.",
                 "So what should I do now?", "Hold on, one question.")
# Written for this benchmark, none taken from tests/knowledge/triage_cases.py: each must make
# dhanvantri.knowledge.triage.triage(text).emergency true (the test checks).
EMERGENCIES = (
    "My uncle has severe chest pain that goes into his left shoulder and jaw.",
    "My wife's face has dropped on one side and her speech is slurred.",
    "My son is fighting for breath and his lips have gone blue.",
    "My neighbour collapsed on the floor and he is not waking up.",
    "I have been vomiting blood since this afternoon.",
    "My daughter is having a fit and she will not stop shaking.",
    "I am eight months pregnant and I am bleeding heavily.",
)
BARGE_AFTER_S = 0.6  # the old reply has been playing this long when the patient cuts in
# A frame after "thinking" this close to the one before it continues the old reply: a new
# reply starts after the patient's words and the end-of-turn pause, never in the next frames.
CONTIGUOUS_S = 0.1
ROUND_LIMIT_S = 4 * TURN_LIMIT_S + 30  # a whole round, joining and hanging up included
BARGE_IN_TARGET_MS = 100.0
ROOM_DBFS = -60.0  # a quiet room through a browser's noise suppression


# ------------------------------------------------------------------ what the patient heard
@dataclass(frozen=True)
class Heard:
    """What reached the patient, with arrival times (``time.monotonic()``), in order.

    Attributes:
        audio_at: each reply-audio frame's arrival.
        samples: each frame's length in samples.
        events: the JSON events.
        event_at: each event's arrival.
        rate: the reply audio's sample rate.
    """

    audio_at: list[float]
    samples: list[int]
    events: list[dict[str, Any]]
    event_at: list[float]
    rate: int = RATE

    @classmethod
    def of(cls, patient: Patient) -> Heard:
        """A snapshot of what ``patient`` has recorded so far."""
        return cls(list(patient.audio_at), [len(a) for a in patient.audio],
                   list(patient.events), list(patient.event_at), patient.rate)

    def event_after(self, since: float, kind: str, **fields: Any) -> float | None:
        """When the first ``kind`` event with ``fields`` arrived after ``since``, or None."""
        return next((at for event, at in zip(self.events, self.event_at, strict=True)
                     if at > since and event.get("type") == kind
                     and all(event.get(k) == v for k, v in fields.items())), None)

    def server_times(self, since: float) -> dict[str, Any] | None:
        """The server's own milestones (ms after the speech end it heard) for the first turn it
        answered after ``since``: where a client figure's time went."""
        return next((event.get("ms") for event, at in zip(self.events, self.event_at, strict=True)
                     if at > since and event.get("type") == "metrics"), None)

    def frames_between(self, start: float, end: float) -> list[int]:
        """Indexes of the reply-audio frames that arrived after ``start`` and before ``end``."""
        return [i for i, at in enumerate(self.audio_at) if start < at < end]

    def audio_ms(self, frames: list[int]) -> float:
        """Milliseconds of reply audio in ``frames`` (indexes)."""
        return round(sum(self.samples[i] for i in frames) / self.rate * 1e3, 1)


def ms_between(start: float, end: float | None) -> float | None:
    """``end - start`` in milliseconds, None when ``end`` never came."""
    return None if end is None else round((end - start) * 1e3, 1)


def first_audio_row(kind: str, heard: Heard, onset_at: float, speech_end: float) -> dict[str, Any]:
    """A routine or emergency turn: first reply audio after the turn began, timed from the
    frame holding its last voiced sample (negative if the reply began before the words ended)."""
    first = first_after(heard.audio_at, onset_at)
    return {"kind": kind, "first_audio_ms": ms_between(speech_end, first),
            "answered": first is not None, "server_ms": heard.server_times(onset_at)}


def barge_in_row(heard: Heard, old_since: float, onset_at: float,
                 speech_end: float) -> dict[str, Any]:
    """The patient cut in at ``onset_at`` on a reply to words that began at ``old_since``.

    The stop is the last reply frame before the "thinking" that ends the new turn, timed from
    the onset; the new turn is answered when reply audio follows that "thinking".
    """
    thinking = heard.event_after(onset_at, "state", value="thinking")
    end = math.inf if thinking is None else thinking
    old = heard.frames_between(old_since, end)
    after = heard.frames_between(end, math.inf)
    leaked: list[int] = []  # frames going straight on from the old reply are the old reply
    previous = heard.audio_at[old[-1]] if old else None
    for i in after:
        if previous is None or heard.audio_at[i] - previous > CONTIGUOUS_S:
            break
        leaked.append(i)
        previous = heard.audio_at[i]
    last_old = heard.audio_at[old[-1]] if thinking is not None and old else None
    new = after[len(leaked):]
    first_new = heard.audio_at[new[0]] if new else None
    return {"kind": "barge_in",
            "barge_in_stop_ms": ms_between(onset_at, last_old),
            "old_reply_heard_ms": heard.audio_ms(old),
            "old_reply_after_thinking_ms": heard.audio_ms(leaked),
            "first_audio_ms": ms_between(speech_end, first_new),
            "answered": first_new is not None}


def summarise(rows: list[dict[str, Any]], failures: list[str]) -> dict[str, Any]:
    """Percentiles of the three timings, what went unanswered, and the two verdicts."""

    def spread(kind: str, key: str) -> dict[str, Any]:
        values = [r[key] for r in rows if r["kind"] == kind and r.get(key) is not None]
        return {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}

    routine = spread("routine", "first_audio_ms")
    emergency = spread("emergency", "first_audio_ms")
    barge = spread("barge_in", "barge_in_stop_ms")
    return {
        "routine_first_audio_ms": routine,
        "emergency_first_audio_ms": emergency,
        "barge_in_stop_ms": barge,
        "turns": len(rows),
        "turns_without_reply": sum(not r["answered"] for r in rows),
        "emergencies_not_escalated": sum(r["kind"] == "emergency" and not r["escalated"]
                                         for r in rows),
        "failures": len(failures),
        "emergency_le_routine_p50": (emergency["p50"] is not None and routine["p50"] is not None
                                     and emergency["p50"] <= routine["p50"]),
        "barge_in_p95_le_100": barge["p95"] is not None and barge["p95"] <= BARGE_IN_TARGET_MS,
    }


# ------------------------------------------------------------------ one round
@dataclass(frozen=True)
class Clips:
    """The speech a round draws on (int16 samples at ``RATE``)."""

    routine: list[np.ndarray]
    interjections: list[np.ndarray]
    emergencies: list[np.ndarray]


async def speak(patient: Patient, clip: np.ndarray) -> tuple[float, float]:
    """Say ``clip`` with its trailing silence; returns when the frames holding its first and
    its last voiced samples went out."""
    onset, end = voiced_onset(clip), voiced_length(clip)
    onset_at = await patient.say(clip[:onset])
    speech_end = await patient.say(clip[onset:end]) if end > onset else onset_at
    await patient.say(clip[end:])
    return onset_at, speech_end


async def routine_turn(patient: Patient, clip: np.ndarray) -> dict[str, Any]:
    """Say ``clip`` and listen until its reply has played."""
    onset_at, speech_end = await speak(patient, clip)
    await listen(patient, lambda: reply_settled(patient, onset_at), speech_end + TURN_LIMIT_S)
    return first_audio_row("routine", Heard.of(patient), onset_at, speech_end)


async def barge_in(patient: Patient, clip: np.ndarray,
                   cut_in: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """A routine turn whose reply the patient talks over once it has played a while; the
    routine row and the barge-in row."""
    onset_at, speech_end = await speak(patient, clip)

    def playing() -> bool:
        first = first_after(patient.audio_at, onset_at)
        return first is not None and time.monotonic() - first >= BARGE_AFTER_S

    await listen(patient, playing, speech_end + TURN_LIMIT_S)
    routine = first_audio_row("routine", Heard.of(patient), onset_at, speech_end)
    cut_at, cut_end = await speak(patient, cut_in)

    def answered() -> bool:
        thinking = Heard.of(patient).event_after(cut_at, "state", value="thinking")
        return thinking is not None and reply_settled(patient, thinking)

    await listen(patient, answered, cut_end + TURN_LIMIT_S)
    return routine, barge_in_row(Heard.of(patient), onset_at, cut_at, cut_end)


async def emergency_turn(patient: Patient, clip: np.ndarray) -> dict[str, Any]:
    """Say an emergency; listen until its first reply audio and its escalation came."""
    began = time.monotonic()
    onset_at, speech_end = await speak(patient, clip)

    def escalated() -> bool:
        return Heard.of(patient).event_after(began, "escalation", emergency=True) is not None

    await listen(patient, lambda: escalated() and first_after(patient.audio_at, onset_at)
                 is not None, speech_end + TURN_LIMIT_S)
    return {**first_audio_row("emergency", Heard.of(patient), onset_at, speech_end),
            "escalated": escalated()}


async def one_round(http: Any, url: str, number: int, clips: Clips,
                    rows: list[dict[str, Any]], room_dbfs: float | None) -> None:
    """A fresh consultation: routine turn, barge-in, emergency; rows go to ``rows`` as they
    end, each with its round and which phrase was said (by index, not by its words)."""
    patient = await Patient.join(http, url, room_dbfs=room_dbfs)
    first, second = ((2 * number + k) % len(clips.routine) for k in (0, 1))
    cut_in = number % len(clips.interjections)
    emergency = number % len(clips.emergencies)

    def add(row: dict[str, Any], phrase: int) -> None:
        rows.append({"round": number + 1, **row, "phrase": phrase})

    try:
        await patient.say(np.zeros(RATE // 2, np.int16))
        add(await routine_turn(patient, clips.routine[first]), first)
        routine, barged = await barge_in(patient, clips.routine[second],
                                         clips.interjections[cut_in])
        add(routine, second)
        add(barged, cut_in)
        add(await emergency_turn(patient, clips.emergencies[emergency]), emergency)
    finally:
        await patient.hang_up()


async def run_rounds(url: str, rounds: int, clips: Clips,
                     room_dbfs: float | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The rounds one after another: their rows and what failed."""
    import aiohttp

    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for number in range(rounds):
            try:
                await asyncio.wait_for(one_round(http, url, number, clips, rows, room_dbfs),
                                       ROUND_LIMIT_S)
            except Exception as exc:  # a round that failed is reported; the next one runs
                failures.append(f"round {number + 1}: {type(exc).__name__}: {exc}")
                log(failures[-1])
            log(f"round {number + 1}: " + ", ".join(
                f"{r['kind']} {r.get('barge_in_stop_ms', r['first_audio_ms'])} ms"
                for r in rows if r["round"] == number + 1))
    return rows, failures


async def main_async(rounds: int, ready_limit: float,
                     room_dbfs: float | None = ROOM_DBFS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="dhanvantri-reply-") as tmp:
        folder = Path(tmp)

        def clips_of(texts: tuple[str, ...]) -> list[np.ndarray]:
            return [read_pcm(make_speech(folder, text)) for text in texts]

        clips = Clips(clips_of(ROUTINE), clips_of(INTERJECTIONS), clips_of(EMERGENCIES))
        log("starting server")
        server = launch(folder, 1)
        try:
            started = time.monotonic()
            await asyncio.to_thread(server.wait_healthy, ready_limit)
            ready_s = round(time.monotonic() - started, 2)
            log(f"server ready in {ready_s} s; {rounds} round(s)")
            rows, failures = await run_rounds(server.url, rounds, clips, room_dbfs)
        finally:
            server.stop(30)
    return {"rounds": rounds, "turns": rows, "failures": failures,
            "summary": summarise(rows, failures), "server_ready_s": ready_s,
            "barge_after_s": BARGE_AFTER_S, "barge_in_target_ms": BARGE_IN_TARGET_MS,
            "room_dbfs": room_dbfs}


def passed(result: dict[str, Any]) -> bool:
    """Every round ran whole, every turn was answered, every emergency escalated."""
    summary = result["summary"]
    return (not result["failures"] and summary["turns"] == 4 * result["rounds"]
            and summary["turns_without_reply"] == 0 and summary["emergencies_not_escalated"] == 0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5,
                        help="consultations, one after another (default 5)")
    parser.add_argument("--ready-limit", type=float, default=240.0,
                        help="seconds to wait for the server's models")
    parser.add_argument("--room-dbfs", type=float, default=ROOM_DBFS,
                        help="the room's steady noise under the microphone, dBFS (default "
                             f"{ROOM_DBFS}; -120 is digital silence)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 50:
        parser.error("--rounds must be between 1 and 50")
    if args.ready_limit <= 0:
        parser.error("--ready-limit must be positive")
    if not -120 <= args.room_dbfs <= -20:
        parser.error("--room-dbfs must be between -120 and -20")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not speech_tools("ws_reply"):
        return 2
    result = asyncio.run(main_async(args.rounds, args.ready_limit, args.room_dbfs))
    summary = result["summary"]
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        for name in ("routine_first_audio_ms", "emergency_first_audio_ms", "barge_in_stop_ms"):
            spread = summary[name]
            print(f"{name:<26} p50 {spread['p50']!s:>7}  p95 {spread['p95']!s:>7}  "
                  f"n {spread['n']}")
        for name in ("turns_without_reply", "emergencies_not_escalated",
                     "emergency_le_routine_p50", "barge_in_p95_le_100"):
            print(f"{name:<26} {summary[name]}")
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
