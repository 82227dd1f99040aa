"""Registers the knowledge index build as a ``dhanvantri setup`` step.

Imported by ``dhanvantri setup``; the step embeds every condition into the persistent index
under ``<data_dir>/kb`` and is skipped when an index of the current data and model exists.
"""

from __future__ import annotations

from collections.abc import Callable

from dhanvantri.models import SetupStep, setup_step


def _is_done() -> bool:
    from dhanvantri.knowledge import index
    from dhanvantri.knowledge.embedder import MiniLMEmbedder
    from dhanvantri.settings import get_settings

    return index.is_current(index.kb_dir(get_settings()), MiniLMEmbedder())


def _build(progress: Callable[[int, int], None]) -> None:
    from dhanvantri.knowledge import index
    from dhanvantri.knowledge.embedder import MiniLMEmbedder
    from dhanvantri.settings import get_settings

    index.build(index.kb_dir(get_settings()), MiniLMEmbedder(), progress)


STEP = setup_step(SetupStep("knowledge index (embed conditions)", _is_done, _build))
