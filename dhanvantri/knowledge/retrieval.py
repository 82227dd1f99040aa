"""Search over the condition knowledge base: :class:`KnowledgeBase` and :class:`Passage`."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from dhanvantri.knowledge import index
from dhanvantri.knowledge.conditions import Condition, Symptom, load_conditions, load_symptoms
from dhanvantri.knowledge.embedder import Embedder
from dhanvantri.knowledge.lexicon import find_symptoms, symptom

if TYPE_CHECKING:
    from dhanvantri.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Passage:
    """One search hit. ``score`` is the cosine similarity of query and passage (-1..1)."""

    id: str
    title: str
    score: float
    text: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``{"id", "title", "score", "text", "source"}``."""
        return asdict(self)


class KnowledgeBase:
    """The conditions, their embedder and the persistent vector index over their passages.

    Build one with :meth:`open`; :meth:`search` is synchronous and fast (one embedding and one
    vector query), so the voice pipeline may call it between turns.
    """

    def __init__(self, collection: Any, embedder: Embedder) -> None:
        from llama_index.core import VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.embedder = embedder
        self.conditions: tuple[Condition, ...] = load_conditions()
        self.symptoms: dict[str, Symptom] = load_symptoms()
        self._by_id = {c.id: c for c in self.conditions}
        self._index = VectorStoreIndex.from_vector_store(
            ChromaVectorStore(chroma_collection=collection),
            embed_model=index.llama_embedding(embedder))
        self._retrievers: dict[int, Any] = {}

    @classmethod
    def open(cls, settings: Settings | None = None, *, embedder: Embedder | None = None,
             progress: index.Progress | None = None) -> KnowledgeBase:
        """Load the embedder and the persistent index under ``<data_dir>/kb``, building it if
        missing or built from other data.

        Args:
            settings: server settings (default: :func:`dhanvantri.settings.get_settings`).
            embedder: embedding model (default: all-MiniLM-L6-v2 from its package).
            progress: ``progress(done, total)`` called while building.
        """
        if settings is None:
            from dhanvantri.settings import get_settings

            settings = get_settings()
        if embedder is None:
            from dhanvantri.knowledge.embedder import MiniLMEmbedder

            embedder = MiniLMEmbedder()
        started = time.perf_counter()
        collection = index.open_collection(index.kb_dir(settings), embedder, progress)
        kb = cls(collection, embedder)
        log.info("knowledge base open: %d conditions in %.2f s", len(kb.conditions),
                 time.perf_counter() - started)
        return kb

    def condition(self, condition_id: str) -> Condition:
        """A condition by id (``KeyError`` if unknown)."""
        return self._by_id[condition_id]

    def search(self, query: str, k: int = 3) -> list[Passage]:
        """The ``k`` passages closest in meaning to ``query``, best first.

        Args:
            query: patient words or a clinical phrase; empty text returns no passages.
            k: how many passages (1 or more).
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        if not query.strip():
            return []
        retriever = self._retrievers.get(k)
        if retriever is None:
            retriever = self._retrievers[k] = self._index.as_retriever(similarity_top_k=k)
        hits = retriever.retrieve(expand_query(query))
        out = []
        for hit in hits:
            meta = hit.node.metadata
            out.append(Passage(id=meta["condition_id"], title=meta["title"],
                               score=round(_cosine(hit.score), 4), text=hit.node.get_content(),
                               source=meta["source"]))
        return out


def expand_query(query: str) -> str:
    """Append the plain English labels of symptoms spotted in ``query``.

    The embedding model knows English; patients say "bukhar", "ulti", "kamar dard". The lexicon
    turns those words into labels the model understands ("fever", "vomiting", "back pain");
    denied symptoms are left out so "no fever" does not pull fever conditions up.
    """
    labels = [symptom(f.symptom).label for f in find_symptoms(query) if f.present]
    return f"{query} ({', '.join(labels)})" if labels else query


def _cosine(similarity: float | None) -> float:
    # llama-index's chroma store reports exp(-distance); with the cosine space the distance is
    # 1 - cos, so the cosine similarity comes back as 1 + ln(similarity).
    if not similarity or similarity <= 0:
        return -1.0
    return 1.0 + math.log(similarity)
