"""Logging set-up: to stderr, structured, with ids and timings only.

Patient text must never be passed to a logger; the privacy layer adds a filter that masks
anything that looks like PHI as a second line of defence.
"""

from __future__ import annotations

import logging
import sys


def configure(level: str = "INFO") -> None:
    """Send log records to stderr (stdout is reserved for ``--json`` output)."""
    root = logging.getLogger()
    if any(getattr(h, "_dhanvantri", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._dhanvantri = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    from dhanvantri.privacy.logfilter import install_log_filter

    install_log_filter(root)
    for noisy in ("aioice", "aiortc", "httpx", "openai", "httpcore", "chromadb", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
