"""Execution providers for the ONNX Runtime sessions: which accelerator runs the models.

The settings name providers in order of preference (``FACEATLAS_EXECUTION_PROVIDERS``, e.g.
``cuda,cpu``). Those this onnxruntime build does not offer, and those it offers but cannot
start (a CUDA provider without the CUDA libraries), are dropped with a logged reason; CPU is
always last, so a session always opens. ``faceatlas models`` shows the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from faceatlas.choices import ExecutionProvider
from faceatlas.types import record

__all__ = [
    "ORT_NAMES",
    "ProviderChoice",
    "available_providers",
    "choose_providers",
    "onnx_session",
    "providers_of",
]

log = logging.getLogger(__name__)

ORT_NAMES: dict[ExecutionProvider, str] = {
    ExecutionProvider.CUDA: "CUDAExecutionProvider",
    ExecutionProvider.TENSORRT: "TensorrtExecutionProvider",
    ExecutionProvider.OPENVINO: "OpenVINOExecutionProvider",
    ExecutionProvider.COREML: "CoreMLExecutionProvider",
    ExecutionProvider.ROCM: "ROCMExecutionProvider",
    ExecutionProvider.DIRECTML: "DmlExecutionProvider",
    ExecutionProvider.CPU: "CPUExecutionProvider",
}
"""ONNX Runtime's name of each provider."""
INSTALL_HINT: dict[ExecutionProvider, str] = {
    ExecutionProvider.CUDA: "onnxruntime-gpu in place of onnxruntime",
    ExecutionProvider.TENSORRT: "onnxruntime-gpu, with TensorRT installed",
    ExecutionProvider.OPENVINO: "onnxruntime-openvino in place of onnxruntime",
    ExecutionProvider.COREML: "the onnxruntime wheel for macOS",
    ExecutionProvider.ROCM: "an onnxruntime build with ROCm",
    ExecutionProvider.DIRECTML: "onnxruntime-directml (Windows)",
}
"""What to install for a provider (``docs/operations.md``)."""


@record
class ProviderChoice:
    """Providers asked for, those in use (ONNX Runtime names, best first), and why each one
    asked for is not in use."""

    requested: tuple[ExecutionProvider, ...]
    active: tuple[str, ...]
    reasons: tuple[str, ...] = ()

    @property
    def fell_back(self) -> bool:
        return bool(self.reasons)

    def with_session(self, in_session: Sequence[str]) -> ProviderChoice:
        """This choice as a session took it: providers it could not start are reasons too."""
        started = tuple(p for p in self.active if p in in_session)
        failed = [p for p in self.active if p not in in_session]
        reasons = [*self.reasons, *(f"{p}: could not start; ONNX Runtime left it" for p in failed)]
        return ProviderChoice(self.requested, started, tuple(reasons))

    def joined(self, other: ProviderChoice) -> ProviderChoice:
        """The choice of an engine with two sessions: providers both run on, every reason."""
        active = tuple(p for p in self.active if p in other.active)
        reasons = tuple(dict.fromkeys((*self.reasons, *other.reasons)))
        return ProviderChoice(self.requested, active, reasons)

    def log_fallbacks(self) -> None:
        """Log (warning) why each provider asked for is not in use."""
        for reason in self.reasons:
            log.warning("execution provider fallback to CPU: %s", reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested": [p.value for p in self.requested],
            "active": list(self.active),
            "fallback_reasons": list(self.reasons),
        }


def available_providers() -> list[str]:
    """The providers this onnxruntime build offers (ONNX Runtime names)."""
    import onnxruntime as ort

    return list(ort.get_available_providers())


def choose_providers(
    requested: Sequence[ExecutionProvider], available: Sequence[str]
) -> ProviderChoice:
    """The requested providers this build offers, in order, then CPU; a reason for each
    requested one it does not offer."""
    active: list[str] = []
    reasons: list[str] = []
    for provider in requested:
        name = ORT_NAMES[provider]
        if name in available:
            if name not in active:
                active.append(name)
            continue
        reasons.append(
            f"{provider.value}: not available in this onnxruntime build (it offers "
            f"{', '.join(available) or 'nothing'}); it needs {INSTALL_HINT[provider]}"
        )
    cpu = ORT_NAMES[ExecutionProvider.CPU]
    if cpu in active:
        active.remove(cpu)
    return ProviderChoice(tuple(requested), (*active, cpu), tuple(reasons))


def onnx_session(
    model: bytes, providers: Sequence[ExecutionProvider], *, threads: int = 1
) -> tuple[Any, ProviderChoice]:
    """An ONNX Runtime session over a serialised model on the first of ``providers`` that
    works (CPU last), ``threads`` intra-op threads on CPU; with the choice it made (the engine
    logs its fallbacks once, :meth:`ProviderChoice.log_fallbacks`).

    One thread by default: ingest parallelism comes from worker processes.
    """
    import onnxruntime as ort

    choice = choose_providers(providers, available_providers())
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model, options, providers=list(choice.active))
    return session, choice.with_session(session.get_providers())


def providers_of(engine: object) -> ProviderChoice | None:
    """The providers a loaded engine's ONNX sessions run on; ``None`` before it loads, or for
    an engine without ONNX sessions (dlib's own backend)."""
    choice = getattr(engine, "providers", None)
    return choice if isinstance(choice, ProviderChoice) else None
