"""Background tasks owned by one object (a desk, a live session): kept referenced until they
end, failures logged, all cancelled together when the owner closes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any


class Background:
    """A set of running tasks.

    Args:
        log: where failures are reported.
        what: names the owner in the failure message.
    """

    def __init__(self, log: logging.Logger, what: str) -> None:
        self.log, self.what = log, what
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` until it ends or :meth:`cancel_all`."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("%s: task %s failed", self.what, task.get_name(),
                           exc_info=task.exception())

    async def settle(self, seconds: float, *, skip: str = "") -> None:
        """Give the running tasks (all but the one named ``skip``) ``seconds`` to finish."""
        pending = [t for t in self._tasks if t.get_name() != skip]
        if pending:
            await asyncio.wait(pending, timeout=seconds)

    async def cancel_all(self) -> None:
        """Cancel every task and wait for them to finish."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
