"""What the realtime routes share: settings, the models once loaded, the registry, metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from dhanvantri.background import Background
from dhanvantri.pipeline.voice import VoiceModels
from dhanvantri.realtime.consultations import ConsultationRegistry, NotReady
from dhanvantri.realtime.metrics import ServerMetrics
from dhanvantri.settings import Settings

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Runtime:
    """The realtime server's state, stored on the application as ``app[RUNTIME]``."""

    settings: Settings
    registry: ConsultationRegistry
    metrics: ServerMetrics = field(default_factory=ServerMetrics)
    models: VoiceModels | None = None
    load_error: str | None = None
    loaded: asyncio.Event = field(default_factory=asyncio.Event)
    background: Background = field(default_factory=lambda: Background(log, "server"))
    # Sees each event a consultation sends its patient: (consultation id, event, a sender to
    # that patient). The physician desk raises escalations from it (``app._hook_desk``).
    on_event: Callable[[str, dict[str, Any], Callable[[dict[str, Any]], None]], None] | None = None

    @property
    def status(self) -> str:
        """One of "ready", "loading" or "failed"."""
        if self.models is not None:
            return "ready"
        return "failed" if self.load_error else "loading"

    def require_models(self) -> VoiceModels:
        """The models; raises :class:`NotReady` (503) while they load."""
        if self.models is None:
            raise NotReady("the server is still loading its models" if not self.load_error
                           else "the server failed to load its models")
        return self.models


RUNTIME = web.AppKey("dhanvantri.realtime.runtime", Runtime)
