"""Load test: N concurrent WebSocket consultations replaying speech at real-time pace.

Starts ``dhanvantri serve`` as a subprocess on a free loopback port (its own data dir), waits
for ``/healthz``, then for each N in ``--clients`` runs N patients at once. Each patient speaks
``--turns`` phrases (espeak-ng + sox speech), sending 20 ms frames in real time and silence
between phrases as a live microphone does. Voice-to-voice is measured at the client: from the
moment the frame holding the last audible speech sample was sent to the first reply-audio
frame received (turns with no reply within 30 s are counted apart). CPU is the
server process tree's (server + embedded LLM) user+system time from ``/proc``, per session.

    python benchmarks/load_ws.py --clients 1,2,4 --turns 2 --json

Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

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


# ------------------------------------------------------------------ speech and statistics
def make_speech(folder: Path, text: str, index: int) -> np.ndarray:
    """16 kHz mono int16 samples of espeak-ng saying ``text``."""
    raw, wav = folder / f"p{index}.raw.wav", folder / f"p{index}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(wav)], check=True)
    with wave.open(str(wav)) as f:
        return np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16).copy()


def voiced_length(audio: np.ndarray, threshold: int = 300) -> int:
    """Samples up to the end of the 20 ms frame holding the last audible sample."""
    loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > threshold)
    if not len(loud):
        return len(audio)
    return min(len(audio), (int(loud[-1]) // STEP + 1) * STEP)


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


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(folder: Path, max_sessions: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``dhanvantri serve`` on a free loopback port; its stderr goes to server.log."""
    port = free_port()
    env = {**os.environ, "DHANVANTRI_DATA_DIR": str(folder / "data"),
           "DHANVANTRI_MAX_SESSIONS": str(max_sessions), "DHANVANTRI_LOG_LEVEL": "WARNING",
           "HF_HUB_OFFLINE": "1", "ORT_DISABLE_TELEMETRY": "1"}
    with open(folder / "server.log", "wb") as errors:  # the child keeps its own descriptor
        process = subprocess.Popen([sys.executable, "-m", "dhanvantri.cli", "serve", "--host",
                                    "127.0.0.1", "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=errors)
    return process, f"http://127.0.0.1:{port}"


async def wait_ready(process: subprocess.Popen[bytes], url: str, folder: Path,
                     limit: float) -> float:
    """Seconds until ``/healthz`` answered 200 (models loaded)."""
    import aiohttp

    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - started < limit:
            if process.poll() is not None:
                raise RuntimeError("server exited:\n" + (folder / "server.log").read_text()[-2000:])
            try:
                async with http.get(url + "/healthz") as response:
                    if response.status == 200:
                        return round(time.monotonic() - started, 2)
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
    raise TimeoutError(f"server not ready after {limit:.0f} s")


def stop_server(process: Any) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ------------------------------------------------------------------ one patient
class Patient:
    """One WebSocket consultation replaying phrases in real time."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.audio_at: list[float] = []
        self.events: list[dict[str, Any]] = []
        self.turns: list[dict[str, Any]] = []

    async def _read(self, ws: Any) -> None:
        import aiohttp

        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.BINARY:
                self.audio_at.append(time.monotonic())
            elif msg.type is aiohttp.WSMsgType.TEXT:
                self.events.append(json.loads(msg.data))

    async def _send(self, ws: Any, audio: np.ndarray, clock: list[float]) -> float:
        """Send in real time; ``clock`` holds the next frame's due time. Returns when done."""
        for offset in range(0, len(audio), STEP):
            await asyncio.sleep(max(0.0, clock[0] - time.monotonic()))
            await ws.send_bytes(audio[offset:offset + STEP].astype("<i2").tobytes())
            clock[0] += FRAME_MS / 1000
        return time.monotonic()

    async def run(self, http: Any, url: str, phrases: list[np.ndarray], turns: int) -> None:
        async with http.post(url + "/api/v1/consultations") as response:
            if response.status != 201:
                text = await response.text()
                raise RuntimeError(f"consultation refused: {response.status} {text}")
            body = await response.json()
        ws = await http.ws_connect(body["ws_url"])
        await ws.send_json({"type": "start", "sample_rate": RATE, "encoding": "pcm_s16le"})
        ready = await ws.receive(timeout=10)
        assert json.loads(ready.data)["type"] == "ready"
        reader = asyncio.ensure_future(self._read(ws))
        silence = np.zeros(STEP, dtype=np.int16)
        clock = [time.monotonic()]
        try:
            await self._send(ws, np.zeros(RATE // 2, np.int16), clock)
            for turn in range(turns):
                phrase = phrases[(self.index + turn) % len(phrases)]
                voiced = voiced_length(phrase)
                speech_end = await self._send(ws, phrase[:voiced], clock)
                await self._send(ws, phrase[voiced:], clock)
                first = None
                while time.monotonic() - speech_end < TURN_LIMIT_S:
                    await self._send(ws, silence, clock)
                    heard = [t for t in self.audio_at if t > speech_end]
                    if heard:
                        first = first or heard[0]
                        if time.monotonic() - heard[-1] > REPLY_SETTLE_S:
                            break
                self.turns.append({"client": self.index, "turn": turn + 1,
                                   "v2v_ms": round((first - speech_end) * 1e3, 1)
                                   if first else None})
            await ws.send_json({"type": "hangup"})
        finally:
            await ws.close()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        server = [e for e in self.events if e.get("type") == "metrics"]
        for row in self.turns:
            match = next((e for e in server if e.get("turn") == row["turn"]), None)
            row["server_ms"] = match["ms"] if match else None


async def run_level(url: str, pid: int | None, n: int, phrases: list[np.ndarray],
                    turns: int) -> dict[str, Any]:
    """N patients at once; latency percentiles and CPU per session."""
    import aiohttp

    patients = [Patient(i) for i in range(n)]
    cpu_before = cpu_seconds(pid) if pid else None
    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        results = await asyncio.gather(*(p.run(http, url, phrases, turns) for p in patients),
                                       return_exceptions=True)
    wall = time.monotonic() - started
    failures = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    rows = [row for p in patients for row in p.turns]
    v2v = [r["v2v_ms"] for r in rows if r["v2v_ms"] is not None]
    server = [r["server_ms"]["tts_first_audio"] for r in rows
              if r["server_ms"] and "tts_first_audio" in r["server_ms"]]
    level: dict[str, Any] = {
        "clients": n, "turns": len(rows), "turns_without_reply": len(rows) - len(v2v),
        "failures": failures, "v2v_ms_p50": percentile(v2v, 50), "v2v_ms_p95": percentile(v2v, 95),
        "v2v_ms_mean": round(statistics.fmean(v2v), 1) if v2v else None,
        "server_tts_first_audio_ms_p50": percentile(server, 50),
        "server_tts_first_audio_ms_p95": percentile(server, 95),
        "wall_s": round(wall, 2), "turn_rows": rows,
    }
    if pid:
        used = cpu_seconds(pid) - cpu_before
        level["server_cpu_s"] = round(used, 2)
        level["cpu_cores_per_session"] = round(used / wall / n, 3)
    return level


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    levels = sorted(set(args.clients))
    with tempfile.TemporaryDirectory(prefix="dhanvantri-load-") as tmp:
        folder = Path(tmp)
        phrases = [make_speech(folder, text, i) for i, text in enumerate(PHRASES)]
        log(f"starting server (max_sessions={max(levels)})")
        process, url = launch(folder, max(levels))
        try:
            ready_s = await wait_ready(process, url, folder, args.ready_limit)
            log(f"server ready in {ready_s} s at {url}")
            results = []
            for n in levels:
                log(f"running {n} concurrent session(s) x {args.turns} turn(s)")
                level = await asyncio.wait_for(run_level(url, process.pid, n, phrases, args.turns),
                                               timeout=args.turns * (TURN_LIMIT_S + 10) + 30)
                log(f"  N={n}: v2v p50 {level['v2v_ms_p50']} ms, p95 {level['v2v_ms_p95']} ms, "
                    f"{level.get('cpu_cores_per_session')} cores/session, "
                    f"{level['turns_without_reply']} without reply, "
                    f"{len(level['failures'])} failed")
                results.append(level)
        finally:
            stop_server(process)
    ok = [r["clients"] for r in results if r["v2v_ms_p95"] is not None and not r["failures"]
          and r["turns_without_reply"] == 0 and r["v2v_ms_p95"] <= TARGET_P95_MS]
    return {"levels": results, "target_p95_ms": TARGET_P95_MS,
            "largest_n_meeting_target": max(ok) if ok else 0, "server_ready_s": ready_s,
            "cpu_count": os.cpu_count(), "turns_per_client": args.turns}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,2,4",
                        help="comma-separated numbers of concurrent sessions (default 1,2,4)")
    parser.add_argument("--turns", type=int, default=2, help="phrases each patient says")
    parser.add_argument("--ready-limit", type=float, default=240.0,
                        help="seconds to wait for the server's models")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args(argv)
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
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        log("load_ws: espeak-ng and sox are required (apt-get install espeak-ng sox)")
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
