"""A WebSocket client streams a WAV of speech and gets transcripts and reply audio: real models."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import WSMsgType

from dhanvantri.pipeline.bench import read_wav
from dhanvantri.pipeline.voice import VoiceModels
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.state import RUNTIME
from tests.realtime.conftest import make_settings, start
from tests.support.patient import stream

pytestmark = [pytest.mark.models, pytest.mark.asyncio(loop_scope="session")]


async def test_streamed_wav_gets_transcripts_and_reply_audio(
        real_models: VoiceModels, speech_file: Any, tmp_path: Path) -> None:
    wav = read_wav(speech_file("I have had a fever and a dry cough for three days."))
    silence = np.zeros(16000, np.int16)
    client = await start(create_app(make_settings(tmp_path), models=real_models))
    try:
        cid = (await (await client.post("/api/v1/consultations")).json())["id"]
        ws = await client.ws_connect(f"/api/v1/consultations/{cid}/ws")
        await ws.send_json({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"})
        assert json.loads((await ws.receive(timeout=5)).data)["type"] == "ready"
        # Speech, then the silence a live microphone keeps sending while the reply plays (up
        # to a minute: a busy machine slows the models, and this test is about behaviour).
        sender = asyncio.ensure_future(stream(ws, np.concatenate([silence[:8000], wav,
                                                                  *[silence] * 60])))
        events: list[dict[str, Any]] = []
        reply = bytearray()
        last_audio = None
        while not sender.done():
            try:
                msg = await ws.receive(timeout=0.5)
            except TimeoutError:
                if reply and last_audio and time.monotonic() - last_audio > 1.0:
                    break  # the reply has finished playing
                continue
            if msg.type is WSMsgType.BINARY:
                reply += msg.data
                last_audio = time.monotonic()
            elif msg.type is WSMsgType.TEXT:
                events.append(json.loads(msg.data))
        sender.cancel()
        kinds = [(e["type"], e.get("role") or e.get("value")) for e in events]
        heard = " ".join(e["text"] for e in events if e["type"] == "transcript"
                         and e["role"] == "patient" and e["final"]).lower()
        assert "fever" in heard and "cough" in heard
        said = " ".join(e["text"] for e in events
                        if e["type"] == "transcript" and e["role"] == "assistant")
        assert said.strip(), kinds
        metrics = [e for e in events if e["type"] == "metrics"]
        assert metrics and metrics[0]["turn"] == 1
        assert {"turn_end", "stt_final", "tts_first_audio"} <= set(metrics[0]["ms"])
        audio = np.frombuffer(bytes(reply), "<i2")
        assert len(audio) > 16000 * 0.5 and np.abs(audio).max() > 1000
        await ws.send_json({"type": "hangup"})
        await ws.receive(timeout=5)
        await asyncio.sleep(0.1)
        assert len(client.app[RUNTIME].registry) == 0
    finally:
        await client.close()
