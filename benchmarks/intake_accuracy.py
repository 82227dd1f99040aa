"""Intake accuracy on speech: scripted consultations spoken through the WebSocket, then scored.

Each script in ``intake_scripts.json`` is a consultation of 4-7 patient answers. Every line is
spoken by espeak-ng in each accent (``--voices``) and streamed, in 20 ms frames as a microphone
sends them, to the real server (in this process: real models, SQLite in a temporary folder,
sign-in required, the patient signed in by phone OTP with the code read from the console
notifier's log line). The next line waits until the assistant's reply has played. After the
hang-up the stored record is read through the API (``GET /api/v1/consultations/{id}``, as the
patient) and its intake is scored against the script: per field, facts right / facts said (a
field the record lacks counts as missed). The record's patient turns must equal the final patient
transcripts the server sent, in order; their word error rate against the script is reported, and
so is the score of the same lines typed into the intake (no speech) as a ceiling.

    .venv/bin/python benchmarks/intake_accuracy.py --json
    .venv/bin/python benchmarks/intake_accuracy.py --voices en-us,hi --scripts sore_throat

Exit codes: 0 done, 1 a consultation failed or its record differs from what was said, 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[1:1] = [str(HERE.parent), str(HERE)]  # tests.support and make_speech from a checkout

from make_speech import make  # noqa: E402

from dhanvantri.pipeline.bench import percentile, read_wav  # noqa: E402
from tests.support.patient import Patient  # noqa: E402
from tests.support.waiting import INTERVAL_S, wait_until_async  # noqa: E402

SCRIPTS = HERE / "intake_scripts.json"
VOICES = ("en-us", "en-gb", "en-029", "en-gb-scotland", "hi")  # hi: English words, Hindi voice
FIELDS = ("symptoms.present", "symptoms.denied", "duration_days", "severity", "age_years", "sex",
          "pregnant", "allergies", "medications", "conditions", "weight_kg",
          "vitals.temperature_f", "character")
LISTS = ("allergies", "medications", "conditions")
# How far a recorded number may be from the one said (temperatures come as 101 or 101.0).
TOLERANCE = {"duration_days": 0.01, "age_years": 0.5, "weight_kg": 0.5,
             "vitals.temperature_f": 0.15}
API = "/api/v1"
RATE = 16000
PAUSE = np.zeros(RATE, np.int16)  # after each line: the pause that ends a turn
FRAME = np.zeros(RATE // 50, np.int16)  # the 20 ms of silence a live microphone keeps sending
# Speech goes out at real-time pace by default, as a live microphone sends it: faster, the
# transcriber sees the pauses in a line differently (and doubled some lines' text at 4x).
SPEED = 1.0
REPLY_LIMIT_S = 120.0  # a line whose reply has not played by then counts as without reply
CLOSE_LIMIT_S = 60.0
CODE_LINE = re.compile(r"one-time login code for \S+: (\d{6})")
NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}
MISSING = object()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ scoring (pure)
def lookup(intake: dict[str, Any], dotted: str) -> Any:
    """``intake["vitals"]["temperature_f"]`` for ``"vitals.temperature_f"``.

    MISSING when the record has no such field (``vitals``); None when it has the field but not
    this reading (``vitals`` keeps only the readings the patient gave).
    """
    top, *rest = dotted.split(".")
    if top not in intake:
        return MISSING
    value = intake[top]
    for key in rest:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _text(value: Any) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", str(value).lower()).split())


def _same(field: str, said: Any, recorded: Any) -> bool:
    if field in TOLERANCE:
        return isinstance(recorded, int | float) and abs(recorded - said) <= TOLERANCE[field]
    if isinstance(said, bool) or said is None:
        return recorded is said
    return _text(recorded) == _text(said)


def _item(field: str, name: str, said: Any, recorded: Any, right: bool) -> dict[str, Any]:
    missing = recorded is MISSING
    return {"field": field, "name": name, "said": said, "recorded": None if missing else recorded,
            "right": bool(right) and not missing, "missing": missing}


def score_intake(expected: dict[str, Any], intake: dict[str, Any]) -> list[dict[str, Any]]:
    """One item per fact the script said: was it recorded, and right?

    Symptoms count one fact each (present or denied); a list field one fact (the set said, or
    "none" which needs the record's ``no_<field>`` flag); ``character`` one per symptom. A
    field the record does not have at all is ``missing`` (and not right).
    """
    items = []
    entries = {s.get("key"): s for s in intake.get("symptoms") or []}
    for sid, present in expected.get("symptoms", {}).items():
        got = entries.get(sid, {}).get("present") if "symptoms" in intake else MISSING
        items.append(_item("symptoms.present" if present else "symptoms.denied", sid, present,
                           got, got is present))
    # No symptom heard at all says nothing about whether the record keeps characters.
    described = not entries or any("character" in s for s in entries.values())
    for sid, said in expected.get("character", {}).items():
        got = entries.get(sid, {}).get("character") if described else MISSING
        items.append(_item("character", sid, said, got, _same("character", said, got)))
    for field in FIELDS:
        if field not in expected or field.startswith("symptoms.") or field == "character":
            continue
        said, got = expected[field], lookup(intake, field)
        if field in LISTS:
            right = got is not MISSING and {_text(v) for v in got or []} == {_text(v)
                                                                               for v in said}
            right = right and (bool(said) or intake.get(f"no_{field}") is True)
        else:
            right = got is not MISSING and _same(field, said, got)
        items.append(_item(field, field, said, got, right))
    return items


def tally(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per field: facts said, right, missing (no such key in the record) and the accuracy."""
    out = {}
    for field in FIELDS:
        mine = [i for i in items if i["field"] == field]
        out[field] = _ratio(sum(i["right"] for i in mine), len(mine))
        out[field]["missing"] = sum(i["missing"] for i in mine)
    return out


def _ratio(right: int, said: int) -> dict[str, Any]:
    return {"said": said, "right": right, "accuracy": round(right / said, 3) if said else None}


def words(text: str) -> list[str]:
    """Lowercase words without punctuation, small numbers as digits ("three" and "3" agree)."""
    return [NUMBER_WORDS.get(w, w) for w in re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()]


def edits(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level Levenshtein distance (substitutions, insertions, deletions)."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref != hyp))
    return row[-1]


def text_baseline(script: dict[str, Any]) -> list[dict[str, Any]]:
    """The script's lines typed into the intake (no speech, no questions): the ceiling."""
    from dhanvantri.knowledge.intake import IntakeState

    state = IntakeState()
    for line in script["lines"]:
        state.update(line)
    return score_intake(script["expected"], state.as_record())


# ------------------------------------------------------------------ the server and sign-in
class CodeCatcher(logging.Handler):
    """The login codes the console notifier writes, read here as an operator reads them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.codes: list[str] = []
        logging.getLogger("dhanvantri.notify").addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if found := CODE_LINE.search(record.getMessage()):
            self.codes.append(found.group(1))


def server_settings(folder: Path) -> Any:
    from dhanvantri.settings import Settings

    # Sign-in is required (a record is kept only for signed-in patients); the benchmark signs in
    # once a consultation, which the default OTP rate limit would soon refuse.
    return Settings(data_dir=folder / "data", require_auth=True,
                    database_url=f"sqlite+aiosqlite:///{folder / 'intake.sqlite3'}",
                    otp_rate_limit="1000/minute", login_rate_limit="1000/minute")


async def poll(check: Any, limit: float, what: str) -> Any:
    """:func:`wait_until_async` for a check that is itself async (an HTTP read)."""
    deadline = time.monotonic() + limit
    while not (value := await check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {limit:g} s waiting for {what}")
        await asyncio.sleep(INTERVAL_S)
    return value


async def request(http: Any, method: str, url: str, expect: int, **kwargs: Any) -> Any:
    async with http.request(method, url, **kwargs) as response:
        if response.status != expect:
            raise RuntimeError(f"{method} {url}: {response.status} {await response.text()}")
        return await response.json()


async def sign_in(http: Any, base: str, phone: str, codes: CodeCatcher) -> str:
    """A patient's access token, by phone OTP through the API."""
    sent = len(codes.codes)
    challenge = await request(http, "POST", f"{base}{API}/auth/otp/request", 202,
                              json={"phone": phone})
    new = await wait_until_async(lambda: codes.codes[sent:], 10, what="the login code")
    pair = await request(http, "POST", f"{base}{API}/auth/otp/verify", 200,
                         json={"challenge_id": challenge["challenge_id"], "code": new[-1]})
    return str(pair["access_token"])


# ------------------------------------------------------------------ one consultation
def reply_played(events: list[dict[str, Any]]) -> bool:
    """The reply to the patient's last final line started (metrics) and stopped (listening)."""
    heard = [i for i, e in enumerate(events) if e.get("type") == "transcript"
             and e.get("role") == "patient" and e.get("final") and e.get("text", "").strip()]
    if not heard:
        return False
    replies = [i for i, e in enumerate(events) if e.get("type") == "metrics" and i > heard[-1]]
    return bool(replies) and any(e == {"type": "state", "value": "listening"}
                                 for e in events[replies[0] + 1:])


async def say_line(patient: Patient, audio: np.ndarray, speed: float) -> bool:
    """Speak one line, then send silence until its reply has played; False if none came."""
    mark = len(patient.events)
    await patient.say(np.concatenate([audio, PAUSE]), speed=speed)
    deadline = time.monotonic() + REPLY_LIMIT_S
    while not reply_played(patient.events[mark:]):
        if time.monotonic() > deadline:
            return False
        await patient.say(FRAME)  # paced at real time: the microphone stays open
    return True


async def consult(http: Any, base: str, token: str, lines: list[np.ndarray], speed: float
                  ) -> tuple[Patient, int, float]:
    """A whole consultation; the patient's side, lines without reply, when it hung up."""
    auth = {"Authorization": f"Bearer {token}"}
    body = await request(http, "POST", f"{base}{API}/consultations", 201, headers=auth)
    ws = await http.ws_connect(body["ws_url"])
    await ws.send_json({"type": "start", "sample_rate": RATE, "encoding": "pcm_s16le",
                        "access_token": token})
    patient = Patient(ws, RATE)
    patient.consultation_id = body["id"]
    unanswered = 0
    try:
        answer = await patient.wait_for(lambda e: e.get("type") in ("ready", "error"), 30)
        if answer["type"] != "ready":
            raise RuntimeError(f"start refused: {answer.get('code')}")
        await patient.say(PAUSE[: RATE // 2])
        for audio in lines:
            unanswered += not await say_line(patient, audio, speed)
    finally:
        hung_up = time.monotonic()
        await patient.hang_up()
    return patient, unanswered, hung_up


async def run_one(http: Any, base: str, codes: CodeCatcher, phone: str, voice: str,
                  script: dict[str, Any], lines: list[np.ndarray], speed: float
                  ) -> dict[str, Any]:
    """Sign in, consult, read the record back and score it."""
    token = await sign_in(http, base, phone, codes)
    patient, unanswered, hung_up = await consult(http, base, token, lines, speed)
    auth = {"Authorization": f"Bearer {token}"}

    async def closed() -> dict[str, Any] | None:
        items = (await request(http, "GET", f"{base}{API}/consultations", 200,
                               headers=auth))["items"]
        return items[0] if items and items[0]["status"] != "active" else None

    summary = await poll(closed, CLOSE_LIMIT_S, "the record to close")
    close_ms = (time.monotonic() - hung_up) * 1e3
    record = await request(http, "GET", f"{base}{API}/consultations/{summary['id']}", 200,
                           headers=auth)
    heard = [e["text"].strip() for e in patient.events if e.get("type") == "transcript"
             and e.get("role") == "patient" and e.get("final") and e["text"].strip()]
    stored = [t["text"] for t in record["turns"] if t["role"] == "patient"]
    reference = words(" ".join(script["lines"]))
    items = score_intake(script["expected"], record["intake"])
    return {"voice": voice, "script": script["name"], "record_id": summary["id"],
            "status": record["status"], "lines": len(lines), "lines_without_reply": unanswered,
            "patient_turns": len(stored), "turns_match": stored == heard,
            "word_edits": edits(reference, words(" ".join(stored))),
            "reference_words": len(reference), "heard": stored, "close_ms": round(close_ms, 1),
            **_ratio(sum(i["right"] for i in items), len(items)), "items": items}


# ------------------------------------------------------------------ the run
def synthesise(folder: Path, voices: list[str], scripts: list[dict[str, Any]]
               ) -> dict[tuple[str, str], list[np.ndarray]]:
    """Every line of every script in every voice, as 16 kHz mono samples."""
    return {(voice, s["name"]): [read_wav(make(folder, f"{voice}-{s['name']}-{n}", line,
                                               voice=voice, quiet=True))
                                 for n, line in enumerate(s["lines"])]
            for voice in voices for s in scripts}


async def run(voices: list[str], scripts: list[dict[str, Any]], runs: int, speed: float,
              ready_limit: float) -> dict[str, Any]:
    import aiohttp

    from tests.support.server import run_app_in_background

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dhanvantri-intake-") as tmp:
        folder = Path(tmp)
        speech = await asyncio.to_thread(synthesise, folder / "speech", voices, scripts)
        codes = CodeCatcher()
        server = run_app_in_background(server_settings(folder))
        rows: list[dict[str, Any]] = []
        try:
            await asyncio.to_thread(server.wait_ready, ready_limit)
            ready_s = time.monotonic() - started
            log(f"models ready after {ready_s:.1f} s")
            async with aiohttp.ClientSession() as http:
                for n in range(runs):
                    for voice in voices:
                        for script in scripts:
                            rows.append(await _safe_run(http, server.url, codes, n, len(rows),
                                                        voice, script, speech[voice, script[
                                                            "name"]], speed))
        finally:
            logging.getLogger("dhanvantri.notify").removeHandler(codes)
            await asyncio.to_thread(server.stop)
    result = summarise(rows, voices, scripts, runs, ready_s, time.monotonic() - started)
    return {**result, "speed": speed}


async def _safe_run(http: Any, base: str, codes: CodeCatcher, n: int, index: int, voice: str,
                    script: dict[str, Any], lines: list[np.ndarray], speed: float
                    ) -> dict[str, Any]:
    began = time.monotonic()
    try:
        row = await run_one(http, base, codes, f"98765{43210 + index:05d}", voice, script,
                            lines, speed)
    except Exception as exc:  # one broken consultation is reported, the run goes on
        row = {"voice": voice, "script": script["name"], "error": f"{type(exc).__name__}: {exc}"}
    row.update(run=n + 1, wall_s=round(time.monotonic() - began, 1))
    log(f"run {n + 1} {voice:>15} {script['name']:<14} "
        + (row["error"] if "error" in row else
           f"{row['right']}/{row['said']} right, turns match {row['turns_match']}, "
           f"{row['lines_without_reply']} without reply, {row['wall_s']} s"))
    return row


def _group(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    out = {}
    for name in dict.fromkeys(r[key] for r in rows):
        mine = [r for r in rows if r[key] == name and "error" not in r]
        out[name] = _ratio(sum(r["right"] for r in mine), sum(r["said"] for r in mine))
        out[name]["turn_wer"] = _wer(mine)
    return out


def _wer(rows: list[dict[str, Any]]) -> float | None:
    total = sum(r["reference_words"] for r in rows)
    return round(sum(r["word_edits"] for r in rows) / total, 3) if total else None


def summarise(rows: list[dict[str, Any]], voices: list[str], scripts: list[dict[str, Any]],
              runs: int, ready_s: float, wall_s: float) -> dict[str, Any]:
    done = [r for r in rows if "error" not in r]
    close = [r["close_ms"] for r in done]
    per_script = _group(rows, "script")
    ceiling: list[dict[str, Any]] = []
    for script in scripts:
        typed = text_baseline(script)
        ceiling += typed
        per_script.setdefault(script["name"], _ratio(0, 0))["text_accuracy"] = _ratio(
            sum(i["right"] for i in typed), len(typed))["accuracy"]
    return {
        "voices": voices, "scripts": [s["name"] for s in scripts], "runs": runs,
        "fields": tally([i for r in done for i in r["items"]]),
        "overall": _ratio(sum(r["right"] for r in done), sum(r["said"] for r in done)),
        "text_baseline": _ratio(sum(i["right"] for i in ceiling), len(ceiling)),
        "per_voice": _group(rows, "voice"), "per_script": per_script,
        "turns_match": bool(done) and all(r["turns_match"] for r in done),
        "turn_wer": _wer(done),
        "lines_without_reply": sum(r["lines_without_reply"] for r in done),
        "failed": [f"{r['voice']}/{r['script']}: {r['error']}" for r in rows if "error" in r],
        "timings": {"close_ms_p50": percentile(close, 50) if close else None,
                    "close_ms_p95": percentile(close, 95) if close else None,
                    "models_ready_s": round(ready_s, 1), "wall_s": round(wall_s, 1)},
        "consultations": rows,
    }


def table(result: dict[str, Any]) -> str:
    """The result for people (stderr)."""
    def row(name: str, r: dict[str, Any], extra: str = "") -> str:
        accuracy = "-" if r["accuracy"] is None else f"{r['accuracy']:.2f}"
        return f"{name:<22}{r['right']:>5}/{r['said']:<5}{accuracy:>9}{extra}"

    lines = [f"{'field':<22}{'right/said':>11}{'accuracy':>9}  no such key in the record"]
    lines += [row(f, r, f"  {r['missing'] or ''}") for f, r in result["fields"].items()]
    lines += [row("overall", result["overall"]), row("typed text (ceiling)",
                                                     result["text_baseline"]), "",
              f"{'voice':<22}{'right/said':>11}{'accuracy':>9}  turn WER"]
    lines += [row(v, r, f"  {r['turn_wer']}") for v, r in result["per_voice"].items()]
    lines += ["", f"{'script':<22}{'right/said':>11}{'accuracy':>9}  typed text"]
    lines += [row(s, r, f"  {r.get('text_accuracy')}") for s, r in result["per_script"].items()]
    t = result["timings"]
    lines += ["", f"record turns equal the patient's final transcripts: {result['turns_match']}; "
              f"turn WER {result['turn_wer']}; lines without reply "
              f"{result['lines_without_reply']}; failed {len(result['failed'])}",
              f"hang-up -> record closed: p50 {t['close_ms_p50']} ms, p95 {t['close_ms_p95']} ms"
              f"; models ready {t['models_ready_s']} s; wall {t['wall_s']} s"]
    return "\n".join(lines)


# ------------------------------------------------------------------ command line
def espeak_voices() -> set[str]:
    listing = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True,
                             check=True).stdout.splitlines()[1:]
    return {line.split()[1] for line in listing if len(line.split()) > 1}


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[dict[str, Any]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", default=",".join(VOICES),
                        help=f"espeak-ng voices (accents), comma-separated (default {VOICES})")
    parser.add_argument("--scripts", default="", help="script names, comma-separated (all)")
    parser.add_argument("--runs", type=int, default=1, help="times to play every consultation")
    parser.add_argument("--speed", type=float, default=SPEED,
                        help=f"speech sent at this many times real time (default {SPEED:g})")
    parser.add_argument("--ready-limit", type=float, default=600.0,
                        help="seconds to wait for the models to load")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args(argv)
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        parser.error("espeak-ng and sox are needed (apt-get install espeak-ng sox)")
    args.voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    if not args.voices:
        parser.error("--voices: name at least one espeak-ng voice")
    if unknown := set(args.voices) - espeak_voices():
        parser.error(f"--voices: unknown to espeak-ng: {sorted(unknown)}")
    everything = json.loads(SCRIPTS.read_text())["scripts"]
    wanted = [s.strip() for s in args.scripts.split(",") if s.strip()] or [
        s["name"] for s in everything]
    if unknown := set(wanted) - {s["name"] for s in everything}:
        parser.error(f"--scripts: no such script {sorted(unknown)}; see {SCRIPTS.name}")
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be between 1 and 20")
    if not 0.5 <= args.speed <= 8:
        parser.error("--speed must be between 0.5 and 8")
    return args, [s for s in everything if s["name"] in wanted]


def main(argv: list[str] | None = None) -> int:
    args, scripts = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    try:
        result = asyncio.run(run(args.voices, scripts, args.runs, args.speed,
                                 args.ready_limit))
    except (AssertionError, RuntimeError) as exc:  # the models did not load, or too slowly
        log(f"intake_accuracy: {exc}")
        return 1
    log(table(result))
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    return 1 if result["failed"] or not result["turns_match"] else 0


if __name__ == "__main__":
    sys.exit(main())
