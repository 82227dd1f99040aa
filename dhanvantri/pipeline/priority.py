"""Lower the CPU priority of the calling thread, for work that has time to spare.

On a loaded server the cores go first to the work a patient is waiting for (a final
transcript, the first phrase of a reply) and then to work with slack (the later phrases of a
reply, which have until the first has played; live captions). Linux keeps a nice value per
thread, so a worker thread can lower its own priority; the scheduler still gives it every idle
cycle, so nothing is slower on an idle machine. Threads inherit the value of the thread that
creates them (CTranslate2's workers too), and an unprivileged thread cannot raise it again:
work meant to run at normal priority must never run on a lowered thread.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def lower_thread_priority(nice: int) -> bool:
    """Raise the calling thread's nice value to ``nice``; True if done. A thread already at
    that value or above (a server started under ``nice``) keeps its own: this only lowers."""
    if nice <= 0 or not hasattr(os, "setpriority") or nice <= thread_nice():
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(nice, 19))
    except OSError as exc:  # a platform without per-thread priorities: run as is
        log.warning("thread priority unchanged: %s", exc)
        return False
    return True


def thread_nice() -> int:
    """The calling thread's nice value (0 where threads have none of their own)."""
    if not hasattr(os, "getpriority"):
        return 0
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def made_at_priority(nice: int, make: Callable[[], T]) -> T:
    """``make()``, run on a new thread whose nice value is ``nice``: the threads it starts
    (CTranslate2's workers) are born with that priority and keep it."""
    if nice <= 0:
        return make()
    made: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        lower_thread_priority(nice)
        try:
            made.append(make())
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=run, name="low-priority-start")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return made[0]
