"""A small builder for ONNX graphs assembled in memory, and ONNX Runtime sessions."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from faceatlas.choices import ExecutionProvider
from faceatlas.engine.providers import onnx_session

__all__ = ["GraphBuilder", "cpu_session"]

OPSET = 17


class GraphBuilder:
    """Nodes, constants, one input and one output; names are generated."""

    def __init__(self) -> None:
        from onnx import helper

        self._helper = helper
        self._nodes: list[Any] = []
        self._inits: list[Any] = []
        self._inputs: list[Any] = []
        self._outputs: list[Any] = []
        self._count = 0

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def input(self, name: str, shape: list[int | str]) -> str:
        from onnx import TensorProto

        self._inputs.append(self._helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        return name

    def output(self, value: str, name: str, shape: list[int | str]) -> None:
        from onnx import TensorProto

        self.node("Identity", [value], out=name)
        self._outputs.append(self._helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))

    def const(self, array: npt.NDArray[Any]) -> str:
        from onnx import numpy_helper

        name = self._name("c")
        self._inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], *, out: str | None = None, **attrs: Any) -> str:
        name = out or self._name(op.lower())
        self._nodes.append(self._helper.make_node(op, inputs, [name], **attrs))
        return name

    def serialize(self, graph_name: str) -> bytes:
        h = self._helper
        graph = h.make_graph(self._nodes, graph_name, self._inputs, self._outputs, self._inits)
        model = h.make_model(graph, opset_imports=[h.make_opsetid("", OPSET)])
        model.ir_version = 8
        data: bytes = model.SerializeToString()
        return data


def cpu_session(model: bytes, *, threads: int = 1) -> Any:
    """An ONNX Runtime CPU session over a serialised model, ``threads`` intra-op threads
    (sessions on the configured providers: :func:`faceatlas.engine.providers.onnx_session`)."""
    session, _ = onnx_session(model, (ExecutionProvider.CPU,), threads=threads)
    return session
