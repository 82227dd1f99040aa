"""The MiniLM encoder layers as an ONNX graph built in memory from the same weights.

No export tool and no torch: the graph is written node by node with ``onnx.helper`` and run by
onnxruntime, whose small-matrix kernels are about twice as fast as numpy's BLAS calls for a
20-token query. The numpy forward pass in :mod:`dhanvantri.knowledge.embedder` stays the
reference; tests check that both agree.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
_OPSET = 20  # Gelu is an operator from opset 20


def build_session(layers: list[Any], dim: int, heads: int, eps: float, threads: int) -> Any:
    """An onnxruntime session mapping ``x`` [B, L, dim] and ``bias`` [B, 1, 1, L] to hidden
    states [B, L, dim] through the encoder layers (``_Layer`` objects of the numpy model)."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []
    head_dim = dim // heads

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    qkv_shape = const("qkv_shape", np.array([0, 0, 3, heads, head_dim], dtype=np.int64))
    ctx_shape = const("ctx_shape", np.array([0, 0, dim], dtype=np.int64))
    scale = const("scale", np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    squeeze0 = const("axes0", np.array([0], dtype=np.int64))
    x = "x"
    for i, layer in enumerate(layers):
        p = f"l{i}_"
        qkv = node("Add", [node("MatMul", [x, const(p + "qkv_w", layer.qkv_w)], p + "qkv_mm"),
                           const(p + "qkv_b", layer.qkv_b)], p + "qkv")
        qkv = node("Transpose", [node("Reshape", [qkv, qkv_shape], p + "qkv_r")], p + "qkv_t",
                   perm=[2, 0, 3, 1, 4])
        nodes.append(helper.make_node("Split", [qkv], [p + "q5", p + "k5", p + "v5"], axis=0,
                                      num_outputs=3))
        q, k, v = (node("Squeeze", [p + n + "5", squeeze0], p + n) for n in ("q", "k", "v"))
        scores = node("MatMul", [q, node("Transpose", [k], p + "kt", perm=[0, 1, 3, 2])],
                      p + "scores")
        scores = node("Add", [node("Mul", [scores, scale], p + "scaled"), "bias"], p + "masked")
        probs = node("Softmax", [scores], p + "probs", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v], p + "ctx")], p + "ctx_t",
                   perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, ctx_shape], p + "ctx_r")
        out = node("Add", [node("MatMul", [ctx, const(p + "out_w", layer.out_w)], p + "out_mm"),
                           const(p + "out_b", layer.out_b)], p + "out")
        x = node("LayerNormalization", [node("Add", [x, out], p + "res1"),
                                        const(p + "ln1_w", layer.ln1[0]),
                                        const(p + "ln1_b", layer.ln1[1])], p + "ln1", axis=-1,
                 epsilon=eps)
        up = node("Add", [node("MatMul", [x, const(p + "up_w", layer.up_w)], p + "up_mm"),
                          const(p + "up_b", layer.up_b)], p + "up")
        down = node("MatMul", [node("Gelu", [up], p + "gelu"),
                               const(p + "down_w", layer.down_w)], p + "down_mm")
        down = node("Add", [down, const(p + "down_b", layer.down_b)], p + "down")
        x = node("LayerNormalization", [node("Add", [x, down], p + "res2"),
                                        const(p + "ln2_w", layer.ln2[0]),
                                        const(p + "ln2_b", layer.ln2[1])], p + "ln2", axis=-1,
                 epsilon=eps)
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes, "minilm_encoder",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "L", dim]),
         helper.make_tensor_value_info("bias", TensorProto.FLOAT, ["B", 1, 1, "L"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["B", "L", dim])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])
