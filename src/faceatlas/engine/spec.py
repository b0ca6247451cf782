"""What builds an engine: its spec (picklable, for other processes), the factory that builds
it without loading weights, and the cards of the models that ship."""

from __future__ import annotations

from dataclasses import fields

from faceatlas.choices import (
    DetectorKind,
    DlibBackend,
    EngineName,
    ExecutionProvider,
    InferencePrecision,
    InferenceRuntime,
)
from faceatlas.config import Settings
from faceatlas.engine.card import ModelCard
from faceatlas.engine.protocol import FaceEngine
from faceatlas.errors import ConfigError
from faceatlas.types import record

__all__ = ["EngineSpec", "create_engine", "shipped_card"]


@record
class EngineSpec:
    """Everything needed to build an engine in another process (picklable)."""

    engine: EngineName = EngineName.SFACE
    detector: DetectorKind = DetectorKind.YUNET
    upsample: int = 1
    min_face_px: int = 20
    dlib_backend: DlibBackend = DlibBackend.ONNX
    execution_providers: tuple[ExecutionProvider, ...] = (ExecutionProvider.CPU,)
    inference_runtime: InferenceRuntime = InferenceRuntime.ONNXRUNTIME
    inference_precision: InferencePrecision = InferencePrecision.FP32

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineSpec:
        """The spec's fields are the settings of the same names."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})

    @classmethod
    def for_engine(cls, engine: EngineName, **changes: object) -> EngineSpec:
        """The spec of ``engine`` with its default detector and upsampling, then ``changes``."""
        return cls.from_settings(Settings(engine=engine, **changes))  # type: ignore[arg-type]


def create_engine(spec: EngineSpec) -> FaceEngine:
    """Build (but do not load) the engine ``spec`` names; :class:`ConfigError` for a runtime
    the engine does not run on, or bfloat16 without OpenVINO."""
    if spec.engine is not EngineName.SFACE and spec.inference_runtime is InferenceRuntime.OPENVINO:
        raise ConfigError(
            f"engine {spec.engine} runs on onnxruntime or dlib, not inference_runtime=openvino "
            "(only the sface engine does)"
        )
    if (
        spec.inference_precision is InferencePrecision.BF16
        and spec.inference_runtime is not InferenceRuntime.OPENVINO
    ):
        raise ConfigError("inference_precision=bf16 needs inference_runtime=openvino")
    if spec.engine is EngineName.DLIB:
        from faceatlas.engine.dlib_engine import DlibEngine, DlibOptions

        return DlibEngine(
            DlibOptions(
                detector=spec.detector,
                upsample=spec.upsample,
                min_face_px=spec.min_face_px,
                backend=spec.dlib_backend,
                providers=spec.execution_providers,
            )
        )
    if spec.engine is EngineName.SFACE:
        from faceatlas.engine.sface_engine import SFaceEngine, SFaceOptions

        if spec.detector is not DetectorKind.YUNET:
            raise ConfigError(f"engine sface detects with yunet, not {spec.detector}")
        return SFaceEngine(
            SFaceOptions(
                upsample=spec.upsample,
                min_face_px=spec.min_face_px,
                providers=spec.execution_providers,
                runtime=spec.inference_runtime,
                precision=spec.inference_precision,
            )
        )
    raise ConfigError(f"unknown engine {spec.engine!r}")


def shipped_card(model_id: str) -> ModelCard:
    """The card of a model that ships with FaceAtlas; :class:`ConfigError` for any other."""
    from faceatlas.engine.dlib_engine import DLIB_CARD
    from faceatlas.engine.sface_card import SFACE_CARD

    for card in (SFACE_CARD, DLIB_CARD):
        if card.model_id == model_id:
            return card
    raise ConfigError(f"no model card ships for {model_id!r}")
