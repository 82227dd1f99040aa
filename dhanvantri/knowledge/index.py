"""The persistent vector index of condition passages: chromadb on disk, driven through llama-index.

The index lives in ``<data_dir>/kb``. Its collection metadata records a fingerprint of the shipped
data files and of the embedding weights; when either changes the index is rebuilt. Chroma never
embeds anything itself (its default embedding function downloads a model): every vector comes
from our :class:`~dhanvantri.knowledge.embedder.Embedder`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dhanvantri.knowledge.conditions import data_digest, load_conditions, load_symptoms
from dhanvantri.knowledge.embedder import Embedder

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from dhanvantri.settings import Settings

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
log = logging.getLogger(__name__)

COLLECTION = "dhanvantri_conditions"
_FINGERPRINT_KEY = "dhanvantri_fingerprint"
_EMBED_BATCH = 8

Progress = Callable[[int, int], None]


def kb_dir(settings: Settings) -> Path:
    """Where the index is persisted: ``<data_dir>/kb``."""
    return settings.resolved_data_dir() / "kb"


def fingerprint(embedder: Embedder) -> str:
    """Identifies the data + model an index was built from."""
    return f"{data_digest()[:16]}|{embedder.model_id}"


def chroma_client(path: Path) -> ClientAPI:
    """A local persistent chroma client with telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path),
                                     settings=ChromaSettings(anonymized_telemetry=False))


def _existing(client: ClientAPI) -> Collection | None:
    try:
        return client.get_collection(COLLECTION, embedding_function=None)
    except Exception:  # chroma raises NotFoundError/ValueError depending on version
        return None


def is_current(path: Path, embedder: Embedder) -> bool:
    """True when an index built from the current data and model exists at ``path``."""
    if not path.is_dir():
        return False
    collection = _existing(chroma_client(path))
    if collection is None:
        return False
    meta = collection.metadata or {}
    return meta.get(_FINGERPRINT_KEY) == fingerprint(embedder) and collection.count() == len(
        load_conditions())


def build(path: Path, embedder: Embedder, progress: Progress | None = None) -> Collection:
    """(Re)build the index at ``path``: embed every condition passage and store it."""
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    started = time.perf_counter()
    client = chroma_client(path)
    if _existing(client) is not None:
        client.delete_collection(COLLECTION)
    collection = client.create_collection(
        COLLECTION, embedding_function=None,
        metadata={"hnsw:space": "cosine", _FINGERPRINT_KEY: fingerprint(embedder)})
    symptoms = load_symptoms()
    conditions = load_conditions()
    texts = [c.passage_text(symptoms) for c in conditions]
    vectors: list[Any] = []
    for start in range(0, len(texts), _EMBED_BATCH):
        vectors.extend(embedder.embed(texts[start:start + _EMBED_BATCH]))
        if progress:
            progress(len(vectors), len(texts))
    nodes = [TextNode(id_=c.id, text=text, embedding=[float(x) for x in vec],
                      metadata={"condition_id": c.id, "title": c.title, "system": c.system,
                                "source": c.source_text()})
             for c, text, vec in zip(conditions, texts, vectors, strict=True)]
    ChromaVectorStore(chroma_collection=collection).add(list[BaseNode](nodes))
    log.info("knowledge index built: %d passages in %.2f s", len(nodes),
             time.perf_counter() - started)
    return collection


def open_collection(path: Path, embedder: Embedder, progress: Progress | None = None
                    ) -> Collection:
    """The index at ``path``, built first if it is missing or stale."""
    if not is_current(path, embedder):
        return build(path, embedder, progress)
    collection = _existing(chroma_client(path))
    assert collection is not None  # is_current just saw it
    return collection


def llama_embedding(embedder: Embedder) -> Any:
    """Wrap our embedder as a llama-index ``BaseEmbedding`` (no network, no default model)."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class _Embedding(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, inner: Embedder) -> None:
            super().__init__(model_name=inner.model_id, embed_batch_size=_EMBED_BATCH)
            self._embedder = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed([query])[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return _Embedding(embedder)

