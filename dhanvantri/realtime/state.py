"""What the realtime routes share: settings, the models once loaded, the registry, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from dhanvantri.pipeline.voice import VoiceModels
from dhanvantri.realtime.consultations import ConsultationRegistry, NotReady
from dhanvantri.realtime.metrics import ServerMetrics
from dhanvantri.settings import Settings


@dataclass(eq=False)
class Runtime:
    """The realtime server's state, stored on the application as ``app[RUNTIME]``."""

    settings: Settings
    registry: ConsultationRegistry
    metrics: ServerMetrics = field(default_factory=ServerMetrics)
    models: VoiceModels | None = None
    load_error: str | None = None
    loaded: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
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

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` in the background, keeping a reference until it finishes."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


RUNTIME = web.AppKey("dhanvantri.realtime.runtime", Runtime)
