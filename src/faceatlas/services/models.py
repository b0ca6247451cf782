"""What runs the face models: the engine the settings name, its model, and the execution
providers its ONNX sessions run on (``faceatlas models``)."""

from __future__ import annotations

from typing import Any

from faceatlas.config import Settings
from faceatlas.engine import EngineSpec, create_engine
from faceatlas.engine.openvino_runtime import RuntimeInfo, runtime_of
from faceatlas.engine.providers import ProviderChoice, available_providers, providers_of
from faceatlas.types import picked, record

__all__ = ["EngineReport", "engine_report"]


@record
class EngineReport:
    """The configured engine, loaded: its model and where it runs. ``providers`` is ``None``
    for an engine without ONNX sessions (dlib with ``dlib_backend=dlib``)."""

    engine: str
    detector: str
    model_id: str
    dim: int
    available: tuple[str, ...]
    providers: ProviderChoice | None
    runtime: RuntimeInfo | None = None
    """What runs the models; ``None`` for dlib's own code."""

    def as_dict(self) -> dict[str, Any]:
        return {
            **picked(self, "engine", "detector", "model_id", "dim"),
            "available_providers": list(self.available),
            "execution_providers": None if self.providers is None else self.providers.as_dict(),
            "runtime": None if self.runtime is None else self.runtime.as_dict(),
        }


def engine_report(settings: Settings) -> EngineReport:
    """Load the engine ``settings`` name (its sessions open on the configured providers,
    falling back to CPU with a logged reason) and report what it runs on."""
    engine = create_engine(EngineSpec.from_settings(settings))
    engine.load()
    return EngineReport(
        engine=settings.engine.value,
        detector=settings.detector.value,
        model_id=engine.model_id,
        dim=engine.dim,
        available=tuple(available_providers()),
        providers=providers_of(engine),
        runtime=runtime_of(engine),
    )
