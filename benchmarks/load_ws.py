"""Load test: N concurrent WebSocket consultations replaying speech at real-time pace.

Starts ``dhanvantri serve`` as a subprocess on a free loopback port (its own data dir), waits
for ``/healthz``, then for each N in ``--clients`` runs N patients at once. Each patient speaks
``--turns`` phrases (espeak-ng + sox speech), sending 20 ms frames in real time and silence
between phrases as a live microphone does. Voice-to-voice is measured at the client: from the
moment the frame holding the last audible speech sample was sent to the first reply-audio
frame received (turns with no reply within 30 s are counted apart). CPU is the
server process tree's (server + embedded LLM) user+system time from ``/proc``, per session.

    python benchmarks/load_ws.py --clients 1,2,4 --turns 2 --json
    python benchmarks/load_ws.py --clients 4,8 --llm stand-in --json   # the LLM served elsewhere

With ``--cluster`` the servers run as deployed (docs/deploy.md): ``--servers`` processes on one
PostgreSQL database and one Redis bus, behind HAProxy with deploy/haproxy.cfg; the patients speak
to the proxy, and the CPU of the servers, the proxy, Redis and PostgreSQL is reported apart.

    python benchmarks/load_ws.py --cluster --servers 3 --clients 6 --json

With ``--llm stand-in`` the server talks to :mod:`benchmarks.stand_in_llm` (in this process: it
streams at a hosted model's pace and its CPU is not the server's), as it would to a hosted model.

Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # tests.support from a checkout

from tests.speech import make_speech, read_pcm
from tests.support.patient import Patient
from tests.support.server import ServerProcess

FRAME_MS = 20
RATE = 16000
STEP = RATE * FRAME_MS // 1000
TARGET_P95_MS = 1500.0
PHRASES = (
    "I have had a fever and a dry cough for three days.",
    "I have a headache and my throat is sore.",
    "My stomach hurts after I eat.",
)
REPLY_SETTLE_S = 1.0  # reply finished when no audio arrived for this long
TURN_LIMIT_S = 30.0  # per turn: no reply by then counts as "without reply"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def speech_tools(program: str) -> bool:
    """True when espeak-ng and sox are installed; else says so on stderr for ``program``."""
    if shutil.which("espeak-ng") and shutil.which("sox"):
        return True
    log(f"{program}: espeak-ng and sox are required (apt-get install espeak-ng sox)")
    return False


# ------------------------------------------------------------------ speech and statistics
def _frame_end(audio: np.ndarray, threshold: int, which: int) -> int:
    loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > threshold)
    if not len(loud):
        return len(audio)
    return min(len(audio), (int(loud[which]) // STEP + 1) * STEP)


def voiced_length(audio: np.ndarray, threshold: int = 300) -> int:
    """Samples up to the end of the 20 ms frame holding the last audible sample."""
    return _frame_end(audio, threshold, -1)


def voiced_onset(audio: np.ndarray, threshold: int = 300) -> int:
    """Samples up to the end of the 20 ms frame holding the first audible sample: that frame is
    the speech onset, and the silence a clip starts with comes before it."""
    return _frame_end(audio, threshold, 0)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[rank], 1)


# ------------------------------------------------------------------ the server process
def _ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo += [int(c) for c in task.read_text().split()]
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants (the embedded LLM)."""
    total = 0
    for p in _tree(pid):
        try:
            total += _ticks(p)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def named(command: str) -> list[int]:
    """Processes whose command name is ``command`` (PostgreSQL's, Redis's)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip() == command:
                pids.append(int(stat.parent.name))
        except OSError:
            pass
    return pids


def group_cpu(groups: dict[str, Callable[[], list[int]]]) -> dict[str, float]:
    """CPU seconds of each group's processes (and their descendants) now."""
    return {name: sum(cpu_seconds(pid) for pid in pids()) for name, pids in groups.items()}


def launch(folder: Path, max_sessions: int, llm_url: str = "",
           extra: dict[str, str] | None = None, name: str = "server") -> ServerProcess:
    """Start ``dhanvantri serve`` on a free loopback port; its stderr goes to ``name``.log.
    ``llm_url``: an OpenAI-compatible endpoint (empty: the embedded model); ``extra``: more
    settings."""
    env = {**os.environ, **(extra or {}), "DHANVANTRI_LLM_BASE_URL": llm_url,
           "DHANVANTRI_LLM_MODEL": "stand-in",
           "DHANVANTRI_DATA_DIR": str(folder / name / "data"),
           "DHANVANTRI_MAX_SESSIONS": str(max_sessions), "DHANVANTRI_LOG_LEVEL": "WARNING",
           # Guests: the load is on the transports and the pipeline, not on sign-in.
           "DHANVANTRI_REQUIRE_AUTH": "0",
           # Every client comes from 127.0.0.1: lift the per-address limit on guests.
           "DHANVANTRI_CONSULTATIONS_PER_ADDRESS": "0",
           # The capacity itself is measured: admission control would refuse the next level.
           "DHANVANTRI_ADMISSION_SLOW_MS": "0",
           "HF_HUB_OFFLINE": "1", "ORT_DISABLE_TELEMETRY": "1"}
    return ServerProcess(lambda port: [sys.executable, "-m", "dhanvantri.cli", "serve", "--host",
                                       "127.0.0.1", "--port", str(port)],
                         log=folder / f"{name}.log", env=env)


# ------------------------------------------------------------------ one patient
def first_after(times: list[float], since: float) -> float | None:
    """The first of ``times`` (arrivals, in order) later than ``since``, or None."""
    return next((t for t in times if t > since), None)


def reply_settled(patient: Patient, since: float) -> bool:
    """Reply audio came after ``since`` and none for ``REPLY_SETTLE_S`` since: it has played."""
    heard = first_after(patient.audio_at, since)
    return heard is not None and time.monotonic() - patient.audio_at[-1] > REPLY_SETTLE_S


def longest_stall(times: list[float], first: float | None) -> float | None:
    """The longest wait between reply-audio frames after ``first``, less the frame's own
    20 ms: audio is sent at real-time pace, so this is silence the patient hears mid-reply
    (a later phrase not synthesised in time), not a pause the voice makes (that is audio)."""
    if first is None:
        return None
    heard = [t for t in times if t >= first]
    gaps = [b - a for a, b in itertools.pairwise(heard) if b - a < REPLY_SETTLE_S]
    return round(max(0.0, max(gaps, default=0.0) - FRAME_MS / 1000) * 1e3, 1)


async def listen(patient: Patient, done: Callable[[], bool], deadline: float) -> bool:
    """Send the silence a live microphone sends until ``done()`` or the ``deadline``
    (``time.monotonic()``) passes; returns ``done()``."""
    silence = np.zeros(STEP, dtype=np.int16)
    while not done() and time.monotonic() < deadline:
        await patient.say(silence)
    return done()


async def consult(http: Any, url: str, index: int, phrases: list[np.ndarray], turns: int,
                  rows: list[dict[str, Any]]) -> None:
    """One patient says ``turns`` phrases, each followed by the silence a live microphone sends
    until the reply has played; a row per turn goes to ``rows`` as it ends."""
    patient = await Patient.join(http, url)
    try:
        await patient.say(np.zeros(RATE // 2, np.int16))
        for turn in range(turns):
            phrase = phrases[(index + turn) % len(phrases)]
            voiced = voiced_length(phrase)
            speech_end = await patient.say(phrase[:voiced])
            await patient.say(phrase[voiced:])
            await listen(patient, functools.partial(reply_settled, patient, speech_end),
                         speech_end + TURN_LIMIT_S)
            first = first_after(patient.audio_at, speech_end)
            rows.append({"client": index, "turn": turn + 1, "server_ms": None,
                         "v2v_ms": round((first - speech_end) * 1e3, 1) if first else None,
                         "stall_ms": longest_stall(patient.audio_at, first)})
    finally:
        await patient.hang_up()
        server = [e for e in patient.events if e.get("type") == "metrics"]
        for row in rows:
            match = next((e for e in server if e.get("turn") == row["turn"]), None)
            row["server_ms"] = match["ms"] if match else None


async def run_level(url: str, groups: dict[str, Callable[[], list[int]]], n: int,
                    phrases: list[np.ndarray], turns: int) -> dict[str, Any]:
    """N patients at once; latency percentiles and CPU per session (of every group of
    processes: the servers, and in a cluster the proxy, Redis and PostgreSQL)."""
    import aiohttp

    per_patient: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    cpu_before = group_cpu(groups)
    client_before = time.process_time()
    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        results = await asyncio.gather(*(consult(http, url, i, phrases, turns, per_patient[i])
                                         for i in range(n)), return_exceptions=True)
    wall = time.monotonic() - started
    failures = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    rows = [row for mine in per_patient for row in mine]
    v2v = [r["v2v_ms"] for r in rows if r["v2v_ms"] is not None]
    stalls = [r["stall_ms"] for r in rows if r["stall_ms"] is not None]
    server = [r["server_ms"]["tts_first_audio"] for r in rows
              if r["server_ms"] and "tts_first_audio" in r["server_ms"]]
    level: dict[str, Any] = {
        "clients": n, "turns": len(rows), "turns_without_reply": len(rows) - len(v2v),
        "failures": failures, "v2v_ms_p50": percentile(v2v, 50), "v2v_ms_p95": percentile(v2v, 95),
        "v2v_ms_mean": round(statistics.fmean(v2v), 1) if v2v else None,
        "stall_ms_p95": percentile(stalls, 95), "stall_ms_max": max(stalls, default=None),
        "turns_with_stall_over_100ms": sum(1 for s in stalls if s > 100),
        "server_tts_first_audio_ms_p50": percentile(server, 50),
        "server_tts_first_audio_ms_p95": percentile(server, 95),
        "wall_s": round(wall, 2), "turn_rows": rows,
    }
    used = {name: round(cpu - cpu_before[name], 2) for name, cpu in group_cpu(groups).items()}
    level["cpu_s"] = used
    # This process: the patients (and the stand-in LLM), on the same cores as the server.
    level["load_client_cpu_s"] = round(time.process_time() - client_before, 2)
    level["server_cpu_s"] = used["servers"]
    level["cpu_cores_per_session"] = round(sum(used.values()) / wall / n, 3)
    return level


@contextlib.asynccontextmanager
async def deployment(folder: Path, args: argparse.Namespace, max_sessions: int, llm_url: str
                     ) -> AsyncIterator[tuple[str, dict[str, Callable[[], list[int]]], float]]:
    """The server(s) to load, ready: (the URL patients use, the process groups whose CPU is
    counted, seconds to ready)."""
    extra: dict[str, str] = {}
    schema = prefix = ""
    if args.cluster:
        schema, prefix = f"load_{secrets.token_hex(6)}", f"load-{secrets.token_hex(6)}:"
        # As compose.yaml configures its servers: one database, one bus, one secret, the proxy.
        extra = {"DHANVANTRI_DATABASE_URL": args.database_url,
                 "DHANVANTRI_DATABASE_SCHEMA": schema, "DHANVANTRI_BUS": "redis",
                 "DHANVANTRI_REDIS_URL": args.redis_url, "DHANVANTRI_BUS_PREFIX": prefix,
                 "DHANVANTRI_JWT_SECRET": secrets.token_urlsafe(48),
                 "DHANVANTRI_TRUSTED_PROXIES": "127.0.0.1"}
        # Migrated once, before the servers start (as compose's migrate job does).
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "dhanvantri.cli", "db", "upgrade"], check=True,
            env={**os.environ, **extra, "DHANVANTRI_DATA_DIR": str(folder / "db")},
            stdout=subprocess.DEVNULL)
    log(f"starting {args.servers} server(s) (max_sessions={max_sessions}, llm={args.llm}, "
        f"cluster={args.cluster})")
    started = time.monotonic()
    servers = [launch(folder, max_sessions, llm_url, extra, f"server{i}")
               for i in range(1, args.servers + 1)]
    try:
        for server in servers:
            await asyncio.to_thread(server.wait_healthy, args.ready_limit)
        ready_s = round(time.monotonic() - started, 2)
        groups: dict[str, Callable[[], list[int]]] = {
            "servers": lambda: [s.process.pid for s in servers]}
        if not args.cluster:
            log(f"server ready in {ready_s} s at {servers[0].url}")
            yield servers[0].url, groups, ready_s
            return
        from tests.support.proxy import haproxy

        with haproxy(folder, servers) as (url, proxy):
            groups |= {"proxy": lambda: [proxy], "redis": lambda: named("redis-server"),
                       "postgres": lambda: named("postgres")}
            log(f"servers ready in {ready_s} s behind {url}")
            yield url, groups, ready_s
    finally:
        for server in servers:
            server.stop(30)
        if schema:
            await drop_schema(args.database_url, schema)


async def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await engine.dispose()


async def decode_counts(url: str) -> tuple[float, float] | None:
    """The server's final decodes and the model calls that ran them (its ``/metrics``)."""
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        text = await response.text()
    found = dict(re.findall(r"^(dhanvantri_stt_final_\w+) ([0-9.e+]+)$", text, re.M))
    if "dhanvantri_stt_final_decodes" not in found:
        return None
    return (float(found["dhanvantri_stt_final_decodes"]),
            float(found["dhanvantri_stt_final_calls"]))


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    levels = sorted(set(args.clients))
    with tempfile.TemporaryDirectory(prefix="dhanvantri-load-") as tmp:
        folder = Path(tmp)
        phrases = [read_pcm(make_speech(folder, text)) for text in PHRASES]
        stand_in = None
        if args.llm == "stand-in":
            from stand_in_llm import StandInLLM  # beside this file

            stand_in = StandInLLM(ttft_ms=args.llm_ttft_ms, tokens_per_s=args.llm_tokens_per_s)
            await stand_in.start()
        llm_url = stand_in.base_url if stand_in else ""
        try:
            async with deployment(folder, args, max(levels), llm_url) as (url, groups, ready_s):
                results = []
                for n in levels:
                    log(f"running {n} concurrent session(s) x {args.turns} turn(s)")
                    before = None if args.cluster else await decode_counts(url)
                    level = await asyncio.wait_for(
                        run_level(url, groups, n, phrases, args.turns),
                        timeout=args.turns * (TURN_LIMIT_S + 10) + 30)
                    if before is not None and (after := await decode_counts(url)):
                        decodes, calls = (a - b for a, b in zip(after, before, strict=True))
                        level["stt_final_decodes_per_turn"] = round(
                            decodes / max(1, level["turns"]), 2)
                        level["stt_final_decodes_per_call"] = round(decodes / max(1, calls), 2)
                    log(f"  N={n}: v2v p50 {level['v2v_ms_p50']} ms, "
                        f"p95 {level['v2v_ms_p95']} ms, "
                        f"stall p95 {level['stall_ms_p95']} ms, "
                        f"{level['cpu_cores_per_session']} cores/session, "
                        f"{level['turns_without_reply']} without reply, "
                        f"{len(level['failures'])} failed")
                    results.append(level)
        finally:
            if stand_in is not None:
                await stand_in.stop()
    ok = [r["clients"] for r in results if r["v2v_ms_p95"] is not None and not r["failures"]
          and r["turns_without_reply"] == 0 and r["v2v_ms_p95"] <= TARGET_P95_MS]
    return {"levels": results, "target_p95_ms": TARGET_P95_MS,
            "largest_n_meeting_target": max(ok) if ok else 0, "server_ready_s": ready_s,
            "cpu_count": os.cpu_count(), "turns_per_client": args.turns,
            "servers": args.servers, "cluster": args.cluster,
            "llm": {"kind": args.llm, "requests": stand_in.requests if stand_in else None,
                    **({"ttft_ms": args.llm_ttft_ms, "tokens_per_s": args.llm_tokens_per_s}
                       if stand_in else {})}}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,2,4",
                        help="comma-separated numbers of concurrent sessions (default 1,2,4)")
    parser.add_argument("--turns", type=int, default=2, help="phrases each patient says")
    parser.add_argument("--ready-limit", type=float, default=240.0,
                        help="seconds to wait for the server's models")
    parser.add_argument("--llm", choices=("embedded", "stand-in"), default="embedded",
                        help="the server's LLM: its embedded model, or a stand-in for a hosted "
                             "one (benchmarks/stand_in_llm.py)")
    parser.add_argument("--llm-ttft-ms", type=float, default=400.0,
                        help="stand-in: first token after (ms)")
    parser.add_argument("--llm-tokens-per-s", type=float, default=60.0,
                        help="stand-in: tokens a second")
    parser.add_argument("--cluster", action="store_true",
                        help="run as deployed: PostgreSQL, Redis and HAProxy in front")
    parser.add_argument("--servers", type=int, default=1,
                        help="server processes (more than one needs --cluster)")
    parser.add_argument("--database-url", default=os.environ.get(
        "DHANVANTRI_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
                        help="--cluster: the PostgreSQL database")
    parser.add_argument("--redis-url", default=os.environ.get(
        "DHANVANTRI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), help="--cluster: the bus")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args(argv)
    if not 1 <= args.servers <= 8 or (args.servers > 1 and not args.cluster):
        parser.error("--servers must be 1 to 8, and more than 1 needs --cluster")
    if args.cluster and not shutil.which("haproxy"):
        parser.error("--cluster needs haproxy (apt-get install haproxy)")
    try:
        args.clients = [int(n) for n in args.clients.split(",") if n.strip()]
    except ValueError:
        parser.error("--clients must be comma-separated integers, e.g. 1,2,4")
    if not args.clients or min(args.clients) < 1 or max(args.clients) > 32:
        parser.error("--clients values must be between 1 and 32")
    if not 1 <= args.turns <= 20:
        parser.error("--turns must be between 1 and 20")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not speech_tools("load_ws"):
        return 2
    result = asyncio.run(main_async(args))
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"{'N':>3} {'turns':>5} {'v2v p50':>8} {'v2v p95':>8} {'cores/session':>13}")
        for r in result["levels"]:
            print(f"{r['clients']:>3} {r['turns']:>5} {r['v2v_ms_p50']!s:>8} "
                  f"{r['v2v_ms_p95']!s:>8} {r.get('cpu_cores_per_session')!s:>13}")
        print(f"largest N with p95 <= {TARGET_P95_MS:.0f} ms: "
              f"{result['largest_n_meeting_target']}")
    failed = any(r["failures"] for r in result["levels"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
