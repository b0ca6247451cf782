"""Face engines behind the :class:`FaceEngine` protocol."""

from __future__ import annotations

from dataclasses import dataclass

from faceatlas.config import DetectorKind, EngineName, Settings
from faceatlas.engine.analyze import analyze_faces, thumbnail_jpeg
from faceatlas.engine.decode import DecodedImage, decode_image
from faceatlas.engine.protocol import FaceEngine

__all__ = [
    "DecodedImage",
    "EngineSpec",
    "FaceEngine",
    "analyze_faces",
    "create_engine",
    "decode_image",
    "thumbnail_jpeg",
]


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """Everything needed to build an engine in another process (picklable)."""

    engine: EngineName = EngineName.DLIB
    detector: DetectorKind = DetectorKind.HOG
    upsample: int = 1
    min_face_px: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineSpec:
        return cls(
            engine=settings.engine,
            detector=settings.detector,
            upsample=settings.upsample,
            min_face_px=settings.min_face_px,
        )


def create_engine(spec: EngineSpec) -> FaceEngine:
    """Build (but do not load) the engine ``spec`` names."""
    if spec.engine is EngineName.DLIB:
        from faceatlas.engine.dlib_engine import DlibEngine, DlibOptions

        return DlibEngine(
            DlibOptions(
                detector=spec.detector, upsample=spec.upsample, min_face_px=spec.min_face_px
            )
        )
    raise ValueError(f"unknown engine {spec.engine!r}")  # pragma: no cover - enum is exhaustive
