"""Clinical knowledge: conditions, retrieval, intake state and prescription drafts.

A pure library: it never imports the pipeline or realtime packages. Heavy imports (numpy model,
chromadb, llama-index) happen on first use, not at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dhanvantri.knowledge.retrieval import KnowledgeBase, Passage

__all__ = ["KnowledgeBase", "Passage"]


def __getattr__(name: str) -> Any:
    # Lazy so `import dhanvantri.knowledge.cli` stays light for `dhanvantri --help`.
    if name in __all__:
        from dhanvantri.knowledge import retrieval

        return getattr(retrieval, name)
    raise AttributeError(name)
