"""Opt-out matching: the strict erasure threshold, selfie templates and the blocklist.

A stored face matches an opt-out when its cosine similarity to any of the
request's templates reaches the **opt-out threshold** (:func:`optout_threshold`).
Matching faces are erased, later copies are refused at ingestion, and search
hides any hit that matches at that threshold. Erasure cannot be undone, so the
threshold is set by a false-erasure budget, not by search's needs:

* the ``optout_min_similarity`` setting, when set;
* else, when ``faceatlas calibrate`` has stored a calibration for the model,
  the lowest similarity whose calibrated false-match rate per comparison is at
  most :data:`OPTOUT_TARGET_FMR` (one opt-out with three selfies then erases
  about 0.05% of everyone else's faces at most); when the calibration cannot
  resolve that rate, its search threshold;
* else the model card's ``optout_min_similarity`` (:mod:`faceatlas.engine.card`),
  chosen on the dev half of LFW by the same budget; a model whose card states
  none refuses to carry out an opt-out (``config_error``) rather than guess.

The search threshold *setting* (``min_similarity``) never moves it. How the
constants were chosen, and what they achieve on LFW, is in docs/privacy.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from faceatlas.errors import InvalidRequestError, NoFaceError
from faceatlas.index.protocol import IndexHit
from faceatlas.ingest import FaceFilter
from faceatlas.store import Catalog
from faceatlas.store.privacy import active_templates
from faceatlas.types import AnalyzedFace, Vector, Vectors

if TYPE_CHECKING:
    from faceatlas.privacy.scope import PrivacyScope

__all__ = [
    "OPTOUT_ERASURE_BUDGET",
    "OPTOUT_TARGET_FMR",
    "Blocklist",
    "best_similarity",
    "optout_threshold",
    "selfie_template",
    "unblocked_hits",
]

OPTOUT_ERASURE_BUDGET = 5e-4
"""Share of everyone else's faces one opt-out may erase: 0.05%, half the 0.1% accepted. The
model cards' opt-out thresholds are the lowest that kept to it on the dev half of LFW."""
OPTOUT_TARGET_FMR = 1.5e-4
"""Per-comparison false-match rate of the opt-out threshold on a calibrated atlas: the
erasure budget shared by 3 selfies (rounded down)."""
MIN_EXPECTED_FALSE_MATCHES = 10
"""A calibration resolves a rate when it expects at least this many false matches at it."""
DOMINANT_FACE_RATIO = 2.0
"""A selfie with several faces is accepted when its largest face is this many times the next."""
META_BLOCKLIST_VERSION = "blocklist_version"


def optout_threshold(scope: PrivacyScope) -> tuple[float, str]:
    """The opt-out threshold in force and where it comes from."""
    if scope.gallery.settings.optout_min_similarity is not None:
        return scope.gallery.settings.optout_min_similarity, "settings"
    record = scope.searcher.calibration()
    # opt-out compares cosine similarities: a calibration of the fair score does not apply
    on_cosine = record is None or record.provenance.get("scoring", "cosine") == "cosine"
    mapping = scope.searcher.stored_fmr_mapping() if on_cosine else None
    if (
        mapping is not None
        and mapping.comparisons * OPTOUT_TARGET_FMR >= MIN_EXPECTED_FALSE_MATCHES
    ):
        allowed = mapping.false_matches <= OPTOUT_TARGET_FMR * mapping.comparisons
        return float(mapping.grid[int(np.argmax(allowed))]), "calibration"
    calibrated = scope.gallery.catalog.get_meta(f"calibrated_threshold:{scope.gallery.model_id}")
    if calibrated is not None and on_cosine:
        return float(calibrated), "calibrated search threshold"
    return scope.gallery.card.required("optout_min_similarity"), "default"


def best_similarity(vectors: Vectors, templates: Vectors) -> np.ndarray[Any, np.dtype[np.float32]]:
    """For each row of ``vectors`` (float32 ``(n, dim)``), its highest similarity to a template.

    Returns float32 ``(n,)``; ``-inf`` everywhere when there are no templates.
    """
    n = vectors.shape[0]
    if templates.shape[0] == 0 or n == 0:
        return np.full(n, -np.inf, dtype=np.float32)
    sims = np.asarray(vectors, dtype=np.float32) @ np.asarray(templates, dtype=np.float32).T
    return np.asarray(sims.max(axis=1), dtype=np.float32)


def selfie_template(faces: list[AnalyzedFace]) -> Vector:
    """The embedding of the requester's face in one selfie (faces largest first).

    A selfie must show one face, or one face clearly larger than any other:
    otherwise the request could opt out a bystander, so it is refused.
    """
    if not faces:
        raise NoFaceError("no face found in the selfie")
    if len(faces) > 1 and faces[0].box.area < DOMINANT_FACE_RATIO * faces[1].box.area:
        raise InvalidRequestError(
            "the selfie shows several faces of similar size; send a photo of only yourself"
        )
    return np.asarray(faces[0].embedding, dtype=np.float32)


class Blocklist:
    """Active opt-out templates of one model, reloaded when another process changes them.

    Holds templates only: the selfies they came from are never stored.
    """

    def __init__(self, catalog: Catalog, model_id: str, dim: int) -> None:
        self.catalog = catalog
        self.model_id = model_id
        self.dim = dim
        self._version: str | None = None
        self._templates: Vectors = np.zeros((0, dim), dtype=np.float32)

    def templates(self) -> Vectors:
        """Active templates, float32 ``(m, dim)``."""
        version = self.catalog.get_meta(META_BLOCKLIST_VERSION) or "0"
        if version != self._version:
            self._templates = active_templates(self.catalog, self.model_id, self.dim)
            self._version = version
        return self._templates

    def __len__(self) -> int:
        return int(self.templates().shape[0])

    def blocked(self, vectors: Vectors, threshold: float) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Bool ``(n,)``: which rows match an active template at ``threshold``."""
        return np.asarray(best_similarity(vectors, self.templates()) >= threshold)

    def face_filter(self, threshold: Callable[[], float]) -> FaceFilter:
        """An ingest :data:`~faceatlas.ingest.FaceFilter` dropping blocked faces.

        ``threshold`` is asked for only when there are active templates.
        """

        def keep_unblocked(faces: list[AnalyzedFace]) -> list[AnalyzedFace]:
            if not faces or len(self) == 0:
                return faces
            mask = self.blocked(np.stack([f.embedding for f in faces]), threshold())
            return [f for f, b in zip(faces, mask, strict=True) if not b]

        return keep_unblocked


def unblocked_hits(scope: PrivacyScope, hits: list[IndexHit]) -> list[IndexHit]:
    """Drop hits whose stored vector matches an active template at the opt-out threshold.

    Vectors come from the catalog, so this holds whatever index served the hits,
    including one saved before the opt-out.
    """
    if not hits or len(scope.blocklist) == 0:
        return hits
    vectors = scope.gallery.catalog.vectors_for_faces(scope.gallery.model_id, [h.id for h in hits])
    present = [h for h in hits if h.id in vectors]
    if not present:
        return []
    mask = scope.blocklist.blocked(
        np.stack([vectors[h.id] for h in present]), optout_threshold(scope)[0]
    )
    return [h for h, b in zip(present, mask, strict=True) if not b]
