"""The numpy MiniLM embedder: shape, normalisation, determinism and known similarities."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.models


def test_shape_dtype_and_unit_length(embedder) -> None:
    vectors = embedder.embed(["fever and cough", "knee pain"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_deterministic_and_batch_independent(embedder) -> None:
    texts = ["a short one", "a much longer sentence about fever, chills and body ache at night"]
    batch = embedder.embed(texts)
    single = np.stack([embedder.embed_one(t) for t in texts])
    assert np.allclose(batch, single, atol=1e-5)  # padding must not leak into the mean
    assert np.array_equal(embedder.embed(texts), batch)


def test_matches_reference_similarities(embedder) -> None:
    # Values published for all-MiniLM-L6-v2 in the sentence-transformers quickstart.
    v = embedder.embed(["The weather is lovely today.", "It's so sunny outside!",
                        "He drove to the stadium."])
    sims = v @ v.T
    assert sims[0, 1] == pytest.approx(0.6660, abs=2e-3)
    assert sims[0, 2] == pytest.approx(0.1046, abs=2e-3)


def test_similar_sentences_are_closer_than_unrelated(embedder) -> None:
    a, b, c = embedder.embed(["I have a high fever and my body aches",
                              "high temperature with muscle pain",
                              "my knee hurts when I climb stairs"])
    assert a @ b > a @ c + 0.1


def test_long_text_is_truncated_not_rejected(embedder) -> None:
    assert embedder.embed_one("fever " * 1000).shape == (384,)


def test_onnx_and_numpy_backends_agree(embedder) -> None:
    from dhanvantri.knowledge.embedder import MiniLMEmbedder

    assert embedder.backend == "onnx"
    reference = MiniLMEmbedder(backend="numpy")
    texts = ["loose motions since yesterday", "fever " * 300, "ok"]
    assert np.allclose(embedder.embed(texts), reference.embed(texts), atol=1e-5)
