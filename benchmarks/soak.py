"""Soak: waves of speaking WebSocket consultations until the time is up; memory must stay flat.

The full server (``create_app``, real models unless a test hands in stand-ins) runs in a thread
of this process, so the benchmark can read what the server holds after each wave: its resident
memory (``/proc/self/status``), the tasks on its event loop, its live and recorded
consultations, open file descriptors, threads, and the per-session objects still alive. Each
wave runs ``--wave-size`` patients at once; each says ``--turns`` phrases (espeak-ng speech, at
real-time pace, waiting for the reply to finish playing) and hangs up. Even-numbered patients
sign in (their calls are recorded and queued for review), odd ones are guests.

    python benchmarks/soak.py --minutes 20 --json

Passes (exit 0) when the RSS after the last wave is within 5 % of the RSS after the first wave,
every wave left no consultation, slot, recorder or per-session object behind, the server's
tasks did not grow, and no patient failed; else exit 1 (2: bad usage). ``--trace`` adds a
``tracemalloc`` comparison (wave 1 against the last wave, top growth by traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # tests.support from a checkout

from tests.support.patient import Patient
from tests.support.server import BackgroundServer
from tests.support.waiting import wait_until_async

RATE = 16000
STEP = RATE // 50  # 20 ms
RSS_TOLERANCE = 0.05  # the last wave's RSS may exceed the first wave's by this much
PHRASES = (
    "I have had a fever and a dry cough for three days.",
    "I have a headache and my throat is sore.",
    "My stomach hurts after I eat.",
)
REPLY_SETTLE_S = 1.0  # a reply has finished when no audio came for this long
TURN_LIMIT_S = 30.0  # a turn with no reply by then counts as without reply
SETTLE_LIMIT_S = 30.0  # after a wave, how long the server may take to drop its sessions
# Objects one consultation owns: any of them alive after a wave is held by something.
PER_SESSION = ("LiveSession", "VoiceSession", "WsPeer", "Recorder", "TokenVault", "SileroVAD",
               "PipelineTask", "ClientOutput", "Consultation")
Log = Callable[[str], None]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ what the process holds
def _status(field: str) -> int:
    """A ``kB`` field of /proc/self/status (0 where the kernel has none)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def children_rss_mb() -> float:
    """Resident memory of this process's children (the embedded LLM server)."""
    total = 0
    for task in Path("/proc/self/task").glob("*/children"):
        for pid in task.read_text().split():
            try:
                with open(f"/proc/{pid}/status") as f:
                    total += next((int(line.split()[1]) for line in f
                                   if line.startswith("VmRSS:")), 0)
            except OSError:
                pass
    return round(total / 1024, 1)


def live_objects() -> dict[str, int]:
    """How many per-session objects (by class name) the garbage collector still tracks."""
    counts = Counter(type(o).__name__ for o in gc.get_objects())
    return {name: counts.get(name, 0) for name in PER_SESSION}


def task_names() -> dict[str, int]:
    """The server loop's tasks by name, ids taken out (``ws-send-<id>`` → ``ws-send-*``)."""
    current = asyncio.current_task()
    names = (re.sub(r"-[A-Za-z0-9_-]{22}$", "-*", t.get_name())  # token_urlsafe(16) ids
             for t in asyncio.all_tasks() if t is not current)
    return dict(Counter(names))


# ------------------------------------------------------------------ the server
def soak_settings(folder: Path, wave_size: int, data_dir: Path | None = None) -> Any:
    """Settings for the soak: guests allowed (and not limited per address), a slot per patient."""
    from dhanvantri.settings import Settings

    data = data_dir or folder / "data"
    return Settings(data_dir=data, database_url=f"sqlite+aiosqlite:///{data / 'soak.sqlite3'}",
                    require_auth=False, consultations_per_address=0, max_sessions=wave_size,
                    log_level="WARNING")


async def sign_in(services: Any, phone: str) -> str:
    """A patient's access token, through the OTP use cases the routes use."""
    from dhanvantri.platform.accounts import request_login_code, verify_login_code
    from dhanvantri.platform.notifier import OutboxNotifier

    outbox = OutboxNotifier()
    challenge = await request_login_code(services.uow(), services.otps, outbox, phone)
    pair = await verify_login_code(services.uow(), services.otps, services.tokens,
                                   uuid.UUID(challenge["challenge_id"]), outbox.last_code(), None)
    return str(pair.access_token)


class Server:
    """The app in a thread; reads what it holds from its own event loop."""

    def __init__(self, settings: Any, models: Any = None) -> None:
        from dhanvantri.realtime.app import create_app

        self.background = BackgroundServer(create_app(settings, models=models))
        self.app = self.background.app
        self.url = self.background.url

    def start(self, ready_s: float) -> None:
        self.background.start()
        self.background.wait_ready(timeout=ready_s)
        self.idle_tasks = self.tasks()  # what the server runs with no call: the baseline

    def tasks(self) -> int:
        """Tasks on the server's event loop."""

        async def count() -> int:
            return len(asyncio.all_tasks()) - 1  # less this one

        return self.background.call(count())

    def settled(self) -> bool:
        """No consultation, slot or recorder held, and no more tasks than when idle."""
        return self.calls() == 0 and self.tasks() <= self.idle_tasks

    def token(self, phone: str) -> str:
        from dhanvantri.platform.web import SERVICES

        return self.background.call(sign_in(self.app[SERVICES], phone), timeout=30)

    def calls(self) -> int:
        """Consultations (slots) and recorders the server still holds."""
        from dhanvantri.realtime.app import RECORDERS
        from dhanvantri.realtime.state import RUNTIME

        return len(self.app[RUNTIME].registry) + len(self.app.get(RECORDERS) or ())

    def held(self) -> dict[str, Any]:
        """Consultations, recorders and tasks on the server's loop (after a full collection)."""
        from dhanvantri.realtime.app import RECORDERS
        from dhanvantri.realtime.state import RUNTIME

        async def read() -> dict[str, Any]:
            gc.collect()
            names = task_names()
            return {"slots": len(self.app[RUNTIME].registry),
                    "recorders": len(self.app.get(RECORDERS) or ()),
                    "tasks": sum(names.values()), "task_names": names}

        held = self.background.call(read(), timeout=30)
        status, body = self.background.get("/healthz")  # what the server says of itself
        sessions = json.loads(body).get("sessions") if status == 200 else None
        slots = held.pop("slots")
        return {**held, "sessions": max(slots, sessions or 0)}

    def stop(self) -> None:
        self.background.stop()


# ------------------------------------------------------------------ one patient
async def join(http: Any, url: str, token: str | None) -> Patient:
    """Create a consultation (signed in with ``token``, else as a guest) and start it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.post(url + "/api/v1/consultations", headers=headers) as response:
        if response.status != 201:
            raise RuntimeError(f"consultation refused: {response.status}")
        body = await response.json()
    ws = await http.ws_connect(body["ws_url"])
    start = {"type": "start", "sample_rate": RATE, "encoding": "pcm_s16le"}
    await ws.send_json({**start, **({"access_token": token} if token else {})})
    patient = Patient(ws)
    patient.consultation_id = body["id"]
    answer = await patient.wait_for(lambda e: e.get("type") in ("ready", "error"), 10)
    if answer["type"] != "ready":
        await patient.hang_up()
        raise RuntimeError(f"start refused: {answer.get('code')}")
    return patient


async def consult(http: Any, url: str, token: str | None, phrases: list[np.ndarray],
                  turns: int, index: int, speed: float) -> int:
    """Say ``turns`` phrases, each followed by silence until the reply has played; hang up.

    Returns the number of turns that got no reply within ``TURN_LIMIT_S``.
    """
    patient = await join(http, url, token)
    silence = np.zeros(STEP, np.int16)
    unanswered = 0
    try:
        await patient.say(np.zeros(RATE // 2, np.int16), speed=speed)
        for turn in range(turns):
            spoken = await patient.say(phrases[(index + turn) % len(phrases)], speed=speed)
            while time.monotonic() - spoken < TURN_LIMIT_S:
                await patient.say(silence, speed=speed)
                heard = patient.audio_at[-1] if patient.audio_at else 0.0
                if heard > spoken and time.monotonic() - heard > REPLY_SETTLE_S / speed:
                    break
            else:
                unanswered += 1
    finally:
        await patient.hang_up()
    return unanswered


# ------------------------------------------------------------------ waves
async def wave(server: Server, number: int, size: int, turns: int, phrases: list[np.ndarray],
               speed: float, signed_in: bool) -> dict[str, Any]:
    """``size`` patients at once; then wait for the server to let go, and read what it holds."""
    import aiohttp

    started = time.monotonic()
    tokens = [await asyncio.to_thread(server.token, f"9{number:05d}{i:04d}")
              if signed_in and i % 2 == 0 else None for i in range(size)]
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        results = await asyncio.gather(
            *(consult(http, server.url, tokens[i], phrases, turns, number + i, speed)
              for i in range(size)), return_exceptions=True)
    failures = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    unanswered = sum(r for r in results if isinstance(r, int))
    try:  # hang-ups (and the records' last writes) finish on the server's side after the
        # patients leave: wait for the server to be idle again, within bounds
        await wait_until_async(server.settled, SETTLE_LIMIT_S, interval=0.2,
                               what="the server to let go of the wave's sessions")
    except AssertionError:
        pass  # what is still held is reported below
    held = await asyncio.to_thread(server.held)
    return {"wave": number, "sessions_run": size, "signed_in": sum(t is not None for t in tokens),
            "turns": size * turns, "turns_without_reply": unanswered, "failures": failures,
            "wall_s": round(time.monotonic() - started, 1),
            "rss_mb": round(_status("VmRSS") / 1024, 1), "children_rss_mb": children_rss_mb(),
            "sessions": held["sessions"], "recorders": held["recorders"],
            "tasks": held["tasks"], "task_names": held["task_names"],
            "fds": len(os.listdir("/proc/self/fd")), "threads": len(os.listdir("/proc/self/task")),
            "objects": live_objects()}


def growth(first: tracemalloc.Snapshot, last: tracemalloc.Snapshot, top: int = 12) -> list[str]:
    """The allocations that grew most from ``first`` to ``last``, by traceback."""
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = last.filter_traces(ignore).compare_to(first.filter_traces(ignore), "traceback")
    lines = []
    for stat in stats[:top]:
        frames = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in stat.traceback[:6])
        lines.append(f"{stat.size_diff / 1024:+.0f} KiB ({stat.count_diff:+d} blocks): {frames}")
    return lines


async def soak(settings: Any, *, minutes: float, wave_size: int, turns: int,
               phrases: list[np.ndarray], models: Any = None, min_waves: int = 2,
               max_waves: int | None = None, trace: bool = False, speed: float = 1.0,
               signed_in: bool = True, ready_s: float = 300.0, log: Log = log) -> dict[str, Any]:
    """Run waves until ``minutes`` are up (at least ``min_waves``, at most ``max_waves``)."""
    server = Server(settings, models)
    started = time.monotonic()
    await asyncio.to_thread(server.start, ready_s)
    ready = {"ready_s": round(time.monotonic() - started, 1),
             "rss_ready_mb": round(_status("VmRSS") / 1024, 1), "idle_tasks": server.idle_tasks}
    log(f"server ready in {ready['ready_s']} s, RSS {ready['rss_ready_mb']} MB")
    log("wave   RSS MB  tasks  sessions  recorders  fds  threads  no reply  failed  wall s")
    if trace:
        tracemalloc.start(12)
    waves: list[dict[str, Any]] = []
    snapshots: list[tracemalloc.Snapshot] = []
    deadline = time.monotonic() + minutes * 60
    try:
        while len(waves) < min_waves or time.monotonic() < deadline:
            if max_waves is not None and len(waves) >= max_waves:
                break
            row = await wave(server, len(waves) + 1, wave_size, turns, phrases, speed, signed_in)
            waves.append(row)
            log(f"{row['wave']:>4} {row['rss_mb']:>8.1f} {row['tasks']:>6} {row['sessions']:>9} "
                f"{row['recorders']:>10} {row['fds']:>4} {row['threads']:>8} "
                f"{row['turns_without_reply']:>9} {len(row['failures']):>7} {row['wall_s']:>7}")
            if trace and len(waves) == 1:
                snapshots.append(tracemalloc.take_snapshot())
        if trace:
            snapshots.append(tracemalloc.take_snapshot())
    finally:
        await asyncio.to_thread(server.stop)
        if trace:
            tracemalloc.stop()
    return verdict(waves, ready, growth(*snapshots) if trace else None,
                   {"wave_size": wave_size, "turns": turns, "minutes": minutes})


def verdict(waves: list[dict[str, Any]], ready: dict[str, Any], traced: list[str] | None,
            run: dict[str, Any]) -> dict[str, Any]:
    """The JSON result: per-wave rows, the RSS ratio and what failed."""
    first, last = waves[0], waves[-1]
    ratio = round(last["rss_mb"] / first["rss_mb"], 4)
    problems = []
    if ratio > 1 + RSS_TOLERANCE:
        problems.append(f"RSS grew {100 * (ratio - 1):.1f} % from wave 1 to wave {last['wave']}")
    for row in waves:
        if row["sessions"] or row["recorders"]:
            problems.append(f"wave {row['wave']}: {row['sessions']} sessions, "
                            f"{row['recorders']} recorders left")
        if row["failures"]:
            problems.append(f"wave {row['wave']}: {len(row['failures'])} patients failed")
        if row["tasks"] > ready["idle_tasks"]:
            problems.append(f"wave {row['wave']}: {row['tasks']} server tasks, "
                            f"{ready['idle_tasks']} when idle: {row['task_names']}")
    left = {name: n for name, n in last["objects"].items() if n}
    if left:
        problems.append(f"per-session objects alive after the last wave: {left}")
    sessions = sum(w["sessions_run"] for w in waves)
    result = {**run, **ready, "waves": waves, "sessions_total": sessions,
              "rss_first_mb": first["rss_mb"], "rss_last_mb": last["rss_mb"],
              "rss_ratio": ratio, "rss_tolerance": RSS_TOLERANCE,
              "rss_mb_per_session_after_first_wave": round(
                  (last["rss_mb"] - first["rss_mb"]) / max(1, sessions - first["sessions_run"]), 3),
              "problems": problems, "passed": not problems, "cpu_count": os.cpu_count()}
    if traced is not None:
        result["tracemalloc_growth"] = traced
    return result


# ------------------------------------------------------------------ command line
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="how long to run waves")
    parser.add_argument("--wave-size", type=int, default=4, help="patients at once per wave")
    parser.add_argument("--turns", type=int, default=2, help="phrases each patient says (2-3)")
    parser.add_argument("--max-waves", type=int, default=None, help="stop after this many waves")
    parser.add_argument("--guests-only", action="store_true", help="no signed-in patients")
    parser.add_argument("--trace", action="store_true",
                        help="compare tracemalloc snapshots (slower; growth by traceback)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="server data dir to reuse (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args(argv)
    if not 0 < args.minutes <= 240:
        parser.error("--minutes must be more than 0 and at most 240")
    if not 1 <= args.wave_size <= 32:
        parser.error("--wave-size must be between 1 and 32")
    if not 1 <= args.turns <= 10:
        parser.error("--turns must be between 1 and 10")
    if args.max_waves is not None and args.max_waves < 2:
        parser.error("--max-waves must be at least 2 (the first wave is the reference)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        log("soak: espeak-ng and sox are required (apt-get install espeak-ng sox)")
        return 2
    from dhanvantri.log import configure
    from tests.speech import make_speech, read_pcm

    configure("WARNING")
    with tempfile.TemporaryDirectory(prefix="dhanvantri-soak-") as tmp:
        folder = Path(tmp)
        phrases = [read_pcm(make_speech(folder, text)) for text in PHRASES]
        settings = soak_settings(folder, args.wave_size, args.data_dir)
        result = asyncio.run(soak(settings, minutes=args.minutes, wave_size=args.wave_size,
                                  turns=args.turns, phrases=phrases, max_waves=args.max_waves,
                                  trace=args.trace, signed_in=not args.guests_only))
    log(f"RSS wave 1 {result['rss_first_mb']} MB -> wave {len(result['waves'])} "
        f"{result['rss_last_mb']} MB (x{result['rss_ratio']}); "
        f"{'PASS' if result['passed'] else 'FAIL: ' + '; '.join(result['problems'])}")
    for line in result.get("tracemalloc_growth", []):
        log("  " + line)
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
