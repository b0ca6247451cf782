"""Face engines behind the :class:`FaceEngine` protocol.

The names below load with their module on first use (:mod:`faceatlas.lazy`): which model an
engine makes (:mod:`faceatlas.engine.names`) is known without NumPy or ONNX Runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faceatlas.lazy import lazy_exports

if TYPE_CHECKING:
    from faceatlas.engine.analyze import analyze_faces, analyze_images, thumbnail_jpeg
    from faceatlas.engine.card import ModelCard, card_of
    from faceatlas.engine.decode import DecodedImage, decode_image
    from faceatlas.engine.protocol import FaceEngine
    from faceatlas.engine.spec import EngineSpec, create_engine, shipped_card

__all__ = [
    "DecodedImage",
    "EngineSpec",
    "FaceEngine",
    "ModelCard",
    "analyze_faces",
    "analyze_images",
    "card_of",
    "create_engine",
    "decode_image",
    "shipped_card",
    "thumbnail_jpeg",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "faceatlas.engine.analyze": ("analyze_faces", "analyze_images", "thumbnail_jpeg"),
        "faceatlas.engine.card": ("ModelCard", "card_of"),
        "faceatlas.engine.decode": ("DecodedImage", "decode_image"),
        "faceatlas.engine.protocol": ("FaceEngine",),
        "faceatlas.engine.spec": ("EngineSpec", "create_engine", "shipped_card"),
    },
)
