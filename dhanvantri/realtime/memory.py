"""Hand the heap's free pages back to the system once a consultation has gone.

A consultation's native work (Whisper in CTranslate2, Piper and Silero in onnxruntime, numpy
buffers) runs on several threads, and glibc gives each thread's allocations an arena of their
own. When the call ends, that memory is freed but stays in the arenas' free lists, in pieces
glibc does not return on its own. With Piper's arena that kept its peak (``pipeline/
tts_piper.py``) this is why the server's RSS rose ~5 MB per call and stayed
(``benchmarks/soak.py``). ``malloc_trim(0)`` walks every arena and releases the free pages
(1-16 ms with the models loaded, in a worker thread).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable
from functools import cache

log = logging.getLogger(__name__)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``; None on another C library (musl, macOS): nothing to do there."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return free heap pages to the system; blocking (a few ms): call from a thread.

    Returns:
        True when glibc released some memory.
    """
    trim = _malloc_trim()
    return bool(trim and trim(0))
