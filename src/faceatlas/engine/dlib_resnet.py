"""dlib's face ResNet, read from its ``.dat`` file and run by ONNX Runtime.

dlib's own forward pass in the ``dlib-bin`` wheel has no BLAS and runs one
chip at a time. This module reads the same weights from dlib's serialised
network (``dlib_face_recognition_resnet_model_v1.dat``), rebuilds the network
as an ONNX graph in memory and runs it with ONNX Runtime in batches. The
embeddings equal dlib's within float32 rounding; the tests hold them to a
maximum absolute difference of 1e-4 on the same aligned chips.

The network (dlib's ``dnn_face_recognition_ex.cpp``) is: input 150x150 RGB,
``(pixel - mean) / 256``; a 7x7/2 convolution, affine, ReLU, 3x3/2 max pool;
residual blocks (conv 3x3, affine, ReLU, conv 3x3, affine, add, ReLU), the
first of each width downsampling by a stride-2 convolution with a 2x2/2
average-pooled shortcut; a global average pool; a 128-d linear layer without
bias. dlib convolutions with stride 2 have no padding, stride-1 ones pad by 1,
and an addition of tensors of different shapes zero-pads both to the larger.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from faceatlas.engine._onnx_graph import GraphBuilder
from faceatlas.errors import ConfigError
from faceatlas.types import record

__all__ = ["DlibNetwork", "Layer", "build_onnx", "read_dlib_network"]

F32 = npt.NDArray[np.float32]

_LAYER_TAGS = (
    b"input_rgb_image_sized",
    b"con_4",
    b"affine_",
    b"relu_",
    b"max_pool_2",
    b"avg_pool_2",
    b"add_prev_",
    b"fc_2",
)


@record
class Layer:
    """One layer of the serialised network, in input-to-output order."""

    kind: str
    weights: F32 | None = None
    bias: F32 | None = None
    window: tuple[int, int] = (0, 0)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)


@record
class DlibNetwork:
    """Input means (R, G, B) and the layers of a dlib face ResNet."""

    means: tuple[float, float, float]
    input_size: int
    layers: tuple[Layer, ...]


class _Reader:
    """dlib's serialisation primitives over a byte buffer."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def integer(self) -> int:
        control = self.data[self.pos]
        size = control & 0x0F
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def real(self) -> float:
        mantissa = self.integer()
        exponent = self.integer()
        return float(np.ldexp(float(mantissa), exponent))

    def string(self) -> str:
        size = self.integer()
        text = self.data[self.pos : self.pos + size].decode("ascii")
        self.pos += size
        return text

    def tensor(self) -> F32:
        version = self.integer()
        if version != 2:
            raise ConfigError(f"unexpected dlib tensor version {version}")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        raw = self.data[self.pos : self.pos + 4 * count]
        if len(raw) != 4 * count:
            raise ConfigError("truncated dlib tensor")
        self.pos += 4 * count
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)

    def alias_shape(self) -> tuple[int, int, int, int]:
        version = self.integer()
        if version != 1:
            raise ConfigError(f"unexpected dlib alias tensor version {version}")
        n, k, r, c = (self.integer() for _ in range(4))
        return n, k, r, c


def _tag_positions(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Positions just after each serialised layer tag, in file order."""
    found: list[tuple[int, bytes]] = []
    for tag in _LAYER_TAGS:
        needle = struct.pack("BB", 1, len(tag)) + tag
        start = data.find(needle)
        while start != -1:
            found.append((start + len(needle), tag))
            start = data.find(needle, start + 1)
    return iter(sorted(found))


def _parse_layer(tag: bytes, r: _Reader) -> Layer:
    if tag == b"con_4":
        params = r.tensor().reshape(-1)
        filters = r.integer()
        nr, nc = r.integer(), r.integer()
        stride = (r.integer(), r.integer())
        padding = (r.integer(), r.integer())
        shape = r.alias_shape()
        r.alias_shape()
        size = int(np.prod(shape))
        weights = params[:size].reshape(shape)
        bias = params[size : size + filters]
        if shape[0] != filters or bias.shape != (filters,):
            raise ConfigError("inconsistent dlib convolution layer")
        return Layer("con", weights, bias, (nr, nc), stride, padding)
    if tag == b"affine_":
        params = r.tensor().reshape(-1)
        gamma = r.alias_shape()
        beta = r.alias_shape()
        if gamma != beta or gamma[2:] != (1, 1):
            raise ConfigError("only per-channel dlib affine layers are supported")
        k = gamma[1]
        return Layer("affine", params[:k].copy(), params[k : 2 * k].copy())
    if tag in (b"max_pool_2", b"avg_pool_2"):
        nr, nc = r.integer(), r.integer()
        stride = (r.integer(), r.integer())
        padding = (r.integer(), r.integer())
        kind = "max_pool" if tag == b"max_pool_2" else "avg_pool"
        return Layer(kind, window=(nr, nc), stride=stride, padding=padding)
    if tag == b"fc_2":
        outputs, inputs = r.integer(), r.integer()
        params = r.tensor().reshape(-1)
        if params.size != inputs * outputs:
            raise ConfigError("only dlib fully connected layers without bias are supported")
        return Layer("fc", params.reshape(inputs, outputs))
    return Layer(tag.decode().rstrip("_"))


def read_dlib_network(path: Path) -> DlibNetwork:
    """Read a dlib face ResNet from ``path``. Raises :class:`ConfigError` if it is not one."""
    data = path.read_bytes()
    means: tuple[float, float, float] | None = None
    size = 0
    layers: list[Layer] = []
    for pos, tag in _tag_positions(data):
        r = _Reader(data, pos)
        if tag == b"input_rgb_image_sized":
            means = (r.real(), r.real(), r.real())
            size = r.integer()
            continue
        layers.append(_parse_layer(tag, r))
    if means is None or not layers:
        raise ConfigError(f"{path} is not a serialised dlib face ResNet")
    _check_structure(layers)
    return DlibNetwork(means, size, tuple(layers))


def _check_structure(layers: list[Layer]) -> None:
    kinds = [layer.kind for layer in layers]
    stem = ["con", "affine", "relu", "max_pool"]
    if kinds[:4] != stem or kinds[-2:] != ["avg_pool", "fc"]:
        raise ConfigError("unexpected dlib network layout (stem or head)")
    for block in _blocks(kinds[4:-2]):
        if block[:5] != ["con", "affine", "relu", "con", "affine"] or block[-2:] != [
            "add_prev",
            "relu",
        ]:
            raise ConfigError("unexpected dlib network layout (residual block)")


def _blocks(kinds: list[str]) -> Iterator[list[str]]:
    start = 0
    for i, kind in enumerate(kinds):
        if kind == "relu" and i > 0 and kinds[i - 1] == "add_prev":
            yield kinds[start : i + 1]
            start = i + 1
    if start != len(kinds):
        raise ConfigError("unexpected dlib network layout (trailing layers)")


def build_onnx(network: DlibNetwork) -> bytes:
    """An ONNX model (serialised) computing dlib's raw descriptors.

    Input ``chips``: ``float32`` ``(n, 150, 150, 3)`` RGB pixel values 0-255.
    Output ``descriptors``: ``float32`` ``(n, 128)``, not normalised.
    """
    g = GraphBuilder()
    size = network.input_size
    x = g.input("chips", ["n", size, size, 3])
    x = g.node("Transpose", [x], perm=[0, 3, 1, 2])
    means = np.asarray(network.means, dtype=np.float32).reshape(1, 3, 1, 1)
    x = g.node("Sub", [x, g.const(means)])
    x = g.node("Mul", [x, g.const(np.asarray(1.0 / 256.0, dtype=np.float32))])
    shape = (3, size, size)
    layers = list(network.layers)
    x, shape = _conv_affine(g, x, shape, layers[0], layers[1])
    x = g.node("Relu", [x])
    x, shape = _pool(g, x, shape, layers[3])
    i = 4
    while i < len(layers) - 2:
        block_in, in_shape = x, shape
        y, y_shape = _conv_affine(g, x, shape, layers[i], layers[i + 1])
        y = g.node("Relu", [y])
        y, y_shape = _conv_affine(g, y, y_shape, layers[i + 3], layers[i + 4])
        i += 5
        shortcut, s_shape = block_in, in_shape
        if layers[i].kind == "avg_pool":
            shortcut, s_shape = _pool(g, block_in, in_shape, layers[i])
            i += 1
        x, shape = _padded_add(g, y, y_shape, shortcut, s_shape)
        x = g.node("Relu", [x])
        i += 2  # add_prev, relu
    x = g.node("GlobalAveragePool", [x])
    x = g.node("Flatten", [x], axis=1)
    fc = layers[-1].weights
    assert fc is not None
    x = g.node("MatMul", [x, g.const(fc)])
    g.output(x, "descriptors", ["n", int(fc.shape[1])])
    return g.serialize("dlib-face-resnet-v1")


def _conv_affine(
    g: GraphBuilder, x: str, shape: tuple[int, int, int], conv: Layer, affine: Layer
) -> tuple[str, tuple[int, int, int]]:
    """A dlib convolution followed by its affine layer, folded into one ONNX Conv."""
    assert conv.kind == "con" and affine.kind == "affine"
    assert conv.weights is not None and conv.bias is not None
    assert affine.weights is not None and affine.bias is not None
    gamma, beta = affine.weights, affine.bias
    weights = (conv.weights * gamma.reshape(-1, 1, 1, 1)).astype(np.float32)
    bias = (conv.bias * gamma + beta).astype(np.float32)
    (kh, kw), (sy, sx), (py, px) = conv.window, conv.stride, conv.padding
    out = g.node(
        "Conv",
        [x, g.const(weights), g.const(bias)],
        kernel_shape=[kh, kw],
        strides=[sy, sx],
        pads=[py, px, py, px],
    )
    h = (shape[1] + 2 * py - kh) // sy + 1
    w = (shape[2] + 2 * px - kw) // sx + 1
    return out, (int(weights.shape[0]), h, w)


def _pool(
    g: GraphBuilder, x: str, shape: tuple[int, int, int], layer: Layer
) -> tuple[str, tuple[int, int, int]]:
    (kh, kw), (sy, sx), (py, px) = layer.window, layer.stride, layer.padding
    op = "MaxPool" if layer.kind == "max_pool" else "AveragePool"
    out = g.node(op, [x], kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px])
    h = (shape[1] + 2 * py - kh) // sy + 1
    w = (shape[2] + 2 * px - kw) // sx + 1
    return out, (shape[0], h, w)


def _padded_add(
    g: GraphBuilder, a: str, a_shape: tuple[int, int, int], b: str, b_shape: tuple[int, int, int]
) -> tuple[str, tuple[int, int, int]]:
    """dlib's ``add_prev``: the sum of two tensors zero-padded to the larger of each dimension."""
    shape = (max(a_shape[0], b_shape[0]), max(a_shape[1], b_shape[1]), max(a_shape[2], b_shape[2]))
    a = _pad_to(g, a, a_shape, shape)
    b = _pad_to(g, b, b_shape, shape)
    return g.node("Add", [a, b]), shape


def _pad_to(
    g: GraphBuilder, x: str, shape: tuple[int, int, int], target: tuple[int, int, int]
) -> str:
    if shape == target:
        return x
    ends = [0] + [t - s for s, t in zip(shape, target, strict=True)]
    pads = np.asarray([0, 0, 0, 0, *ends], dtype=np.int64)
    return g.node("Pad", [x, g.const(pads)], mode="constant")
