"""Prometheus metrics for ``/metrics``.

Labels carry only fixed names (stage, transport), never ids or patient data. Each application
owns its own registry so several apps in one process (tests) do not collide.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from dhanvantri.pipeline.batching import Batcher
from dhanvantri.pipeline.latency import STAGES, TurnTimes

# Voice-to-voice latency lives between a few hundred ms and a few seconds.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)


class ServerMetrics:
    """The realtime server's metrics, registered on their own registry."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        # Also told each reply's voice-to-voice, in seconds (admission control's pace).
        self.reply_listeners: list[Callable[[float], None]] = []
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.sessions_active = Gauge(
            "dhanvantri_sessions_active", "Consultations with a connected transport",
            ["transport"], registry=self.registry)
        self.sessions_total = Counter(
            "dhanvantri_sessions_total", "Consultations connected since start",
            ["transport"], registry=self.registry)
        self.sessions_rejected = Counter(
            "dhanvantri_sessions_rejected_total",
            "Consultations refused because the server was full",
            registry=self.registry)
        self.turns = Counter(
            "dhanvantri_turns_total", "Patient turns that ended (speech then silence)",
            registry=self.registry)
        self.voice_to_voice = Histogram(
            "dhanvantri_voice_to_voice_seconds",
            "From the patient's last speech sample to the first reply audio",
            buckets=LATENCY_BUCKETS, registry=self.registry)
        self.stage = Histogram(
            "dhanvantri_stage_latency_seconds",
            "From the patient's last speech sample to each pipeline milestone",
            ["stage"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.models_ready = Gauge(
            "dhanvantri_models_ready", "1 once every model is loaded", registry=self.registry)
        # Read from the shared speech-to-text model once loaded: decodes per turn show the
        # speculation thrown away, decodes per call how much merging happened.
        self.final_decodes = Gauge(
            "dhanvantri_stt_final_decodes", "Final decodes run since start (merged or not)",
            registry=self.registry)
        self.final_calls = Gauge(
            "dhanvantri_stt_final_calls", "Model calls that ran those final decodes",
            registry=self.registry)

    def watch_decodes(self, batcher: Batcher[Any, Any]) -> None:
        """Report the counts of the batcher that runs the final decodes."""
        self.final_decodes.set_function(lambda: float(batcher.items))
        self.final_calls.set_function(lambda: float(batcher.batches))

    def observe_turn(self, times: TurnTimes) -> None:
        """Record one answered turn's latencies (called when its first reply audio exists)."""
        for name in STAGES:
            at = times.at.get(name)
            if at is not None and times.speech_end:
                self.stage.labels(stage=name).observe(max(0.0, at - times.speech_end))
        first_audio = times.at.get("tts_first_audio")
        if first_audio is not None and times.speech_end:
            seconds = max(0.0, first_audio - times.speech_end)
            self.voice_to_voice.observe(seconds)
            for listener in self.reply_listeners:
                listener(seconds)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
