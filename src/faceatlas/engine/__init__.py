"""Face engines behind the :class:`FaceEngine` protocol."""

from __future__ import annotations

from dataclasses import dataclass

from faceatlas.config import DEFAULT_MIN_SIMILARITY, DetectorKind, DlibBackend, EngineName, Settings
from faceatlas.engine.analyze import analyze_faces, thumbnail_jpeg
from faceatlas.engine.decode import DecodedImage, decode_image
from faceatlas.engine.protocol import FaceEngine
from faceatlas.errors import ConfigError

__all__ = [
    "DecodedImage",
    "EngineSpec",
    "FaceEngine",
    "analyze_faces",
    "create_engine",
    "decode_image",
    "default_min_similarity",
    "thumbnail_jpeg",
]


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """Everything needed to build an engine in another process (picklable)."""

    engine: EngineName = EngineName.DLIB
    detector: DetectorKind = DetectorKind.HOG
    upsample: int = 1
    min_face_px: int = 20
    dlib_backend: DlibBackend = DlibBackend.ONNX

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineSpec:
        return cls(
            engine=settings.engine,
            detector=settings.detector,
            upsample=settings.upsample,
            min_face_px=settings.min_face_px,
            dlib_backend=settings.dlib_backend,
        )

    @classmethod
    def for_engine(cls, engine: EngineName, **changes: object) -> EngineSpec:
        """The spec of ``engine`` with its default detector and upsampling, then ``changes``."""
        return cls.from_settings(Settings(engine=engine, **changes))  # type: ignore[arg-type]


def create_engine(spec: EngineSpec) -> FaceEngine:
    """Build (but do not load) the engine ``spec`` names."""
    if spec.engine is EngineName.DLIB:
        from faceatlas.engine.dlib_engine import DlibEngine, DlibOptions

        return DlibEngine(
            DlibOptions(
                detector=spec.detector,
                upsample=spec.upsample,
                min_face_px=spec.min_face_px,
                backend=spec.dlib_backend,
            )
        )
    if spec.engine is EngineName.SFACE:
        from faceatlas.engine.sface_engine import SFaceEngine, SFaceOptions

        if spec.detector is not DetectorKind.YUNET:
            raise ConfigError(f"engine sface detects with yunet, not {spec.detector}")
        return SFaceEngine(SFaceOptions(upsample=spec.upsample, min_face_px=spec.min_face_px))
    raise ConfigError(f"unknown engine {spec.engine!r}")


SFACE_MIN_SIMILARITY = 0.511
"""SFace search threshold used until ``faceatlas calibrate`` stores one for the atlas.

It is the SFace similarity at the same false-match rate as dlib's built-in
0.958 (2.6e-6 of the 29.6 million different-person pairs among LFW View 2's
photos; ``benchmarks/threshold_transfer.py``). OpenCV's published 0.363 lets
through about 1e-3 of those pairs: an accuracy point, too lax for 1:N search.
"""


def default_min_similarity(model_id: str) -> float:
    """The built-in search threshold for embeddings of ``model_id`` until one is calibrated."""
    from faceatlas.engine.sface_engine import SFACE_MODEL_ID

    if model_id == SFACE_MODEL_ID:
        return SFACE_MIN_SIMILARITY
    return DEFAULT_MIN_SIMILARITY
