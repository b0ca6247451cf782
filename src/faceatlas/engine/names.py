"""Which embedding model each engine makes, known without building or loading the engine (nor
importing NumPy): what an atlas's inventory checks its stored model against."""

from __future__ import annotations

from faceatlas.choices import EngineName

__all__ = ["DLIB_MODEL_ID", "SFACE_MODEL_ID", "model_of"]

SFACE_MODEL_ID = "sface-2021dec-int8bq"
DLIB_MODEL_ID = "dlib-resnet-v1"
_MODELS = {EngineName.SFACE: (SFACE_MODEL_ID, 128), EngineName.DLIB: (DLIB_MODEL_ID, 128)}


def model_of(engine: EngineName) -> tuple[str, int]:
    """``(model id, embedding dimension)`` of what ``engine`` makes (as the built engine's
    ``model_id`` and ``dim`` say: a test holds them equal)."""
    return _MODELS[engine]
