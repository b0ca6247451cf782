"""What an embedding model states about its own numbers: its score scale and the thresholds
that every part of FaceAtlas applies to its scores.

Similarities are cosines of unit-norm embeddings, so every model's scores lie in [-1, 1];
what a given cosine *means* differs from model to model (dlib's different-person pairs sit
near 0.85, SFace's near 0.1). A threshold is therefore only meaningful beside the model that
made the scores, and each engine ships a :class:`ModelCard` with its own. No part of the
product falls back to another model's number: a model that states no threshold for a use is
refused there until an atlas calibration (``faceatlas calibrate``) or a setting gives one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faceatlas.engine.probe_gate import ProbeFloors
from faceatlas.errors import ConfigError
from faceatlas.types import record

if TYPE_CHECKING:
    from faceatlas.engine.protocol import FaceEngine

__all__ = ["ModelCard", "card_of"]


@record
class ModelCard:
    """The numbers one embedding model owns.

    Every threshold is a cosine similarity on this model's scale. ``None`` means the model
    states none for that use: the use is refused unless calibrated or configured.
    """

    model_id: str
    scale: str
    """How the model's scores read: what typical same- and different-person pairs score."""
    search_min_similarity: float | None
    """Search threshold until ``faceatlas calibrate`` stores one for the atlas."""
    same_face_min_similarity: float | None
    """Similarity above which a face of a resized or re-encoded copy is the stored face
    (ingestion folds the copy into a sighting)."""
    optout_min_similarity: float | None
    """Similarity to an opt-out template at which a face is that person's, on an atlas
    without a calibration."""
    identity_min_similarity: float | None
    """Similarity at which two faces count as neighbours for identity clustering."""
    identity_min_centroid_similarity: float | None
    """Pairwise-equivalent similarity to an identity's centroid a face needs to join it."""
    identity_split_mixed: bool = False
    """Whether clustering splits an identity whose faces form two groups."""
    probe_floors: ProbeFloors | None = None
    """Measured probe quality floors; ``None``: no quality gate for this model."""

    @classmethod
    def unstated(cls, model_id: str) -> ModelCard:
        """The card of a model that states none of its numbers."""
        return cls(
            model_id=model_id,
            scale="unknown: this model states no thresholds",
            search_min_similarity=None,
            same_face_min_similarity=None,
            optout_min_similarity=None,
            identity_min_similarity=None,
            identity_min_centroid_similarity=None,
        )

    def required(self, name: str) -> float:
        """The threshold field ``name`` (``search_min_similarity``, ...), or
        :class:`ConfigError` where the model states none."""
        value = getattr(self, name)
        if value is None:
            use = name.removesuffix("_min_similarity").replace("_", " ")
            raise ConfigError(
                f"the model {self.model_id} states no {use} threshold: run `faceatlas "
                "calibrate` on the atlas or set one in the settings"
            )
        return float(value)


def card_of(engine: FaceEngine) -> ModelCard:
    """The card of ``engine``'s model: the engine's own card when it is for the model the
    engine reports, else an unstated card (a wrapped or renamed model inherits no numbers)."""
    card = engine.card
    if card.model_id == engine.model_id:
        return card
    return ModelCard.unstated(engine.model_id)
