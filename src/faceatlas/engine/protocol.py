"""The seam between FaceAtlas and a face model: detect, align, embed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from faceatlas.engine.card import ModelCard
from faceatlas.types import Box, DetectedFace, Point, RGBImage, Vectors

__all__ = ["FaceEngine"]


@runtime_checkable
class FaceEngine(Protocol):
    """A face model. Construction is cheap; :meth:`load` reads weights.

    Implementations load lazily: every method below calls :meth:`load` first
    if needed, and nothing is read at import time.
    """

    @property
    def model_id(self) -> str:
        """Stable id of the embedding model; embeddings of different ids never mix."""
        ...

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        ...

    @property
    def card(self) -> ModelCard:
        """The model's own numbers: score scale and thresholds (:mod:`faceatlas.engine.card`)."""
        ...

    @property
    def thread_safe(self) -> bool:
        """Whether, once loaded, one instance may detect, align and embed for several threads
        at once (a server then runs searches side by side; otherwise they take turns)."""
        ...

    def load(self) -> None:
        """Read model weights now (idempotent)."""
        ...

    def detect(self, image: RGBImage) -> list[DetectedFace]:
        """Faces in ``image`` with boxes clipped to it, any order."""
        ...

    def locate(self, image: RGBImage, box: Box) -> DetectedFace:
        """Landmarks for a face known to lie in ``box`` (datasets with given face positions)."""
        ...

    def align(self, image: RGBImage, face: DetectedFace) -> RGBImage:
        """The aligned face chip the embedder expects, ``uint8`` ``(s, s, 3)``."""
        ...

    def embed_chips(self, chips: Sequence[RGBImage]) -> Vectors:
        """Unit-norm ``float32`` embeddings of shape ``(len(chips), dim)``."""
        ...

    def eyes_and_nose(self, face: DetectedFace) -> tuple[Point, Point, Point]:
        """Centres of the two eyes and the nose, read from the engine's own landmarks."""
        ...
