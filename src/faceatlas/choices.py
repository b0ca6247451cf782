"""The enumerated choices of the settings (engines, detectors, index backends), and which
settings default per engine."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

MAX_TOP_K = 1000
"""The most results one search may return (a search asks for 1 to this many)."""
__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_DEFAULTS",
    "ENGINE_DETECTORS",
    "MAX_TOP_K",
    "DetectorKind",
    "DlibBackend",
    "EngineName",
    "ExecutionProvider",
    "IndexBackend",
    "InferencePrecision",
    "InferenceRuntime",
    "IvfCodes",
    "LogFormat",
    "MetricsAccess",
    "MilvusIndexType",
    "SourceKind",
]


class EngineName(StrEnum):
    DLIB = "dlib"
    SFACE = "sface"


class DetectorKind(StrEnum):
    HOG = "hog"
    CNN = "cnn"
    YUNET = "yunet"


class DlibBackend(StrEnum):
    """What runs the dlib ResNet: ONNX Runtime (batched, same embeddings) or dlib itself."""

    ONNX = "onnx"
    DLIB = "dlib"


DEFAULT_ENGINE = EngineName.SFACE
ENGINE_DEFAULTS: dict[EngineName, dict[str, Any]] = {
    EngineName.DLIB: {"detector": DetectorKind.HOG, "upsample": 1},
    EngineName.SFACE: {"detector": DetectorKind.YUNET, "upsample": 1},
}
"""Settings whose default depends on the engine: used when not given. Thresholds are not
among them: each engine's model card states its own (:mod:`faceatlas.engine.card`)."""
ENGINE_DETECTORS: dict[EngineName, frozenset[DetectorKind]] = {
    EngineName.DLIB: frozenset({DetectorKind.HOG, DetectorKind.CNN}),
    EngineName.SFACE: frozenset({DetectorKind.YUNET}),
}


class IndexBackend(StrEnum):
    """Where the vectors are searched. See ``docs/scaling.md``."""

    FAISS_FLAT = "faiss-flat"
    FAISS_IVF = "faiss-ivf"
    MILVUS = "milvus"


class IvfCodes(StrEnum):
    """Compressed codes kept in memory by the FAISS IVF index (bytes per vector at 128-d)."""

    SQ8 = "SQ8"
    PQ16 = "PQ16"
    PQ32 = "PQ32"
    PQ64 = "PQ64"


class MilvusIndexType(StrEnum):
    FLAT = "FLAT"
    IVF_FLAT = "IVF_FLAT"
    IVF_SQ8 = "IVF_SQ8"
    IVF_PQ = "IVF_PQ"
    HNSW = "HNSW"


class ExecutionProvider(StrEnum):
    """What runs the ONNX models (``docs/operations.md``); CPU is always the last resort."""

    CUDA = "cuda"
    TENSORRT = "tensorrt"
    OPENVINO = "openvino"
    COREML = "coreml"
    ROCM = "rocm"
    DIRECTML = "directml"
    CPU = "cpu"


class InferenceRuntime(StrEnum):
    """What runs the SFace engine's models: ONNX Runtime (the default, on the execution
    providers) or OpenVINO's CPU plugin (``docs/operations.md``)."""

    ONNXRUNTIME = "onnxruntime"
    OPENVINO = "openvino"


class InferencePrecision(StrEnum):
    """The arithmetic the models run in: fp32, or bfloat16 (OpenVINO only; computed as bf16
    only on a CPU that has it, fp32 elsewhere)."""

    FP32 = "fp32"
    BF16 = "bf16"


class MetricsAccess(StrEnum):
    """Who may read ``/metrics``: nobody, clients on this machine, or holders of the token."""

    OFF = "off"
    LOCALHOST = "localhost"
    TOKEN = "token"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class SourceKind(StrEnum):
    """What ``faceatlas ingest PATH`` reads. ``auto`` decides by the file name."""

    AUTO = "auto"
    FOLDER = "folder"
    WARC = "warc"
    URLS = "urls"
