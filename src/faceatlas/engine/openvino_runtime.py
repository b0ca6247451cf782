"""OpenVINO's CPU plugin as the runtime of an engine's ONNX models, in fp32 or bfloat16.

:class:`OpenVinoSession` answers the calls the engines make of an ONNX Runtime session
(``run(names, feeds)``, ``get_inputs()``, ``get_outputs()``), so the engine code is the same
on both runtimes. Each model compiles for one inference thread and one stream with the
latency hint (ingest parallelism comes from worker processes) and the precision asked for.

A dynamic batch runs on a model compiled for any batch size, but OpenVINO runs a model
compiled for one shape faster (one thread, bf16, SFace: 7.5 ms a face at batch 1 against 9.2
on the dynamic model; 6.9 at batch 2, 6.4 at 4 and 8: ``benchmarks/ingest_profile.py``), so a
session may run a batch as chunks of fixed sizes (``static_batches``), each on a model compiled
for that size when the session is made; the outputs are those of the items one by one. The
sface engine runs only its recognizer here: YuNet's landmarks move in bfloat16 (the detector
stays on ONNX Runtime, :mod:`faceatlas.engine.sface_engine`).

bfloat16 runs as bfloat16 only on a CPU that computes it (AVX512_BF16 or AMX); elsewhere
OpenVINO runs fp32, and :class:`RuntimeInfo` says which (``faceatlas models``).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from faceatlas.choices import InferencePrecision, InferenceRuntime
from faceatlas.errors import ConfigError
from faceatlas.types import record

__all__ = [
    "ONNXRUNTIME_FP32",
    "OPENVINO_PRECISION",
    "OpenVinoSession",
    "RuntimeInfo",
    "openvino_session",
    "runtime_of",
]

log = logging.getLogger(__name__)

OPENVINO_PRECISION = {InferencePrecision.FP32: "f32", InferencePrecision.BF16: "bf16"}
"""OpenVINO's ``INFERENCE_PRECISION_HINT`` for each precision."""


@record
class RuntimeInfo:
    """What runs an engine's models: the runtime, the precision asked for, the precision the
    CPU computes in (``f32`` or ``bf16``) and whether the CPU offers bfloat16 (``None`` for
    ONNX Runtime, which does not say)."""

    runtime: InferenceRuntime
    precision: InferencePrecision
    computes: str
    bf16_capable: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime.value,
            "precision": self.precision.value,
            "computes": self.computes,
            "cpu_bf16": self.bf16_capable,
        }

    def describe(self) -> str:
        """One line: ``openvino, bf16 (computed as bf16; the CPU offers bf16)``."""
        text = f"{self.runtime.value}, {self.precision.value} (computed as {self.computes}"
        if self.bf16_capable is not None:
            text += "; the CPU offers bf16" if self.bf16_capable else "; no bf16 on this CPU"
        return text + ")"


ONNXRUNTIME_FP32 = RuntimeInfo(InferenceRuntime.ONNXRUNTIME, InferencePrecision.FP32, "f32")


@record
class _Port:
    """A model input or output as ONNX Runtime's ``NodeArg`` shows it: its name."""

    name: str


class OpenVinoSession:
    """One ONNX model compiled by OpenVINO's CPU plugin, called like an ONNX Runtime session.

    ``static_batches`` (sizes, largest first): the model has one input whose first dimension
    is a batch; a batch runs as chunks of these sizes (the largest that fits, then smaller),
    each on a model compiled for it. Safe to call from several threads: each thread has its
    own infer requests.
    """

    def __init__(
        self,
        model: bytes,
        precision: InferencePrecision,
        *,
        static_batches: tuple[int, ...] = (),
    ) -> None:
        import onnx
        import openvino as ov

        graph = onnx.load_from_string(model).graph
        weights = {init.name for init in graph.initializer}
        self._inputs = [_Port(i.name) for i in graph.input if i.name not in weights]
        self._outputs = [_Port(o.name) for o in graph.output]
        self.core = ov.Core()
        """The OpenVINO core that compiled the model (its device properties are the CPU's)."""
        self._config = {
            "INFERENCE_NUM_THREADS": 1,
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": OPENVINO_PRECISION[precision],
        }
        self._model = self.core.read_model(model=model)
        self._dynamic = self._compile(self._model)
        self.computes = str(self._dynamic[0].get_property("INFERENCE_PRECISION_HINT"))
        self._static: dict[int, tuple[Any, list[int]]] = {}
        self._compiling = threading.Lock()
        self._local = threading.local()
        self._batches = tuple(sorted(static_batches, reverse=True))
        if self._batches:
            if len(self._inputs) != 1 or min(self._batches) != 1:
                raise ConfigError("static batches need a model of one input and a size of 1")
            self._item_dims = [
                d.get_length() for d in self._model.inputs[0].get_partial_shape()[1:]
            ]
            for size in self._batches:
                self._static_model(size)

    def _static_model(self, size: int) -> tuple[Any, list[int]]:
        """The model compiled for batches of ``size`` (compiled now if it is not yet)."""
        with self._compiling:
            compiled = self._static.get(size)
            if compiled is None:
                model = self._model.clone()
                model.reshape({self._inputs[0].name: [size, *self._item_dims]})
                compiled = self._static[size] = self._compile(model)
        return compiled

    def _compile(self, model: Any) -> tuple[Any, list[int]]:
        """``model`` compiled, with the position of each ONNX output among its outputs."""
        compiled = self.core.compile_model(model, "CPU", self._config)
        positions = []
        for port in self._outputs:
            found = [i for i, out in enumerate(compiled.outputs) if port.name in out.get_names()]
            if not found:
                raise ConfigError(f"OpenVINO's model has no output {port.name!r}")
            positions.append(found[0])
        return compiled, positions

    def get_inputs(self) -> list[_Port]:
        return list(self._inputs)

    def get_outputs(self) -> list[_Port]:
        return list(self._outputs)

    def run(self, names: Sequence[str] | None, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """The outputs ``names`` (all, in the model's order, for ``None``) for ``feeds``."""
        wanted = [p.name for p in self._outputs] if names is None else list(names)
        if not self._batches:
            return self._run_once(self._dynamic, wanted, feeds)
        (port,) = self._inputs
        batch = feeds[port.name]
        if len(batch) == 0:
            return self._run_once(self._dynamic, wanted, feeds)  # outputs of no items
        runs, start = [], 0
        while start < len(batch):
            size = next(b for b in self._batches if b <= len(batch) - start)
            chunk = {port.name: batch[start : start + size]}
            runs.append(self._run_once(self._static_model(size), wanted, chunk))
            start += size
        return [np.concatenate(parts) for parts in zip(*runs, strict=True)]

    def _run_once(
        self, compiled_at: tuple[Any, list[int]], wanted: list[str], feeds: Mapping[str, np.ndarray]
    ) -> list[np.ndarray]:
        compiled, positions = compiled_at
        requests: dict[int, Any] = self._local.__dict__.setdefault("requests", {})
        request = requests.get(id(compiled))
        if request is None:
            request = requests[id(compiled)] = compiled.create_infer_request()
        values = request.infer(dict(feeds)).to_tuple()
        by_name = {p.name: values[i] for p, i in zip(self._outputs, positions, strict=True)}
        return [np.asarray(by_name[name]) for name in wanted]


def openvino_session(
    model: bytes, precision: InferencePrecision, *, static_batches: tuple[int, ...] = ()
) -> tuple[OpenVinoSession, RuntimeInfo]:
    """A session over a serialised ONNX model on OpenVINO's CPU plugin, and what it runs in;
    :class:`ConfigError` when the ``openvino`` package is not installed."""
    if importlib.util.find_spec("openvino") is None:
        raise ConfigError(
            "inference_runtime=openvino needs the openvino package (pip install openvino)"
        )
    session = OpenVinoSession(model, precision, static_batches=static_batches)
    capabilities = [str(c) for c in session.core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")]
    computes = "bf16" if "bf" in session.computes.lower() else "f32"
    info = RuntimeInfo(InferenceRuntime.OPENVINO, precision, computes, "BF16" in capabilities)
    return session, info


def runtime_of(engine: object) -> RuntimeInfo | None:
    """What runs a loaded engine's models: its own account (the sface engine), ONNX Runtime in
    fp32 for an engine with ONNX sessions, ``None`` for one without (dlib's own backend)."""
    from faceatlas.engine.providers import providers_of

    runtime = getattr(engine, "runtime", None)
    if isinstance(runtime, RuntimeInfo):
        return runtime
    return ONNXRUNTIME_FP32 if providers_of(engine) is not None else None
