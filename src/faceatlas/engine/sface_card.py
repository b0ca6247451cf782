"""SFace's own numbers (:class:`ModelCard`): kept apart from the engine so that they can be
read without loading ONNX Runtime."""

from __future__ import annotations

from faceatlas.engine.card import ModelCard
from faceatlas.engine.names import SFACE_MODEL_ID
from faceatlas.engine.probe_gate import ProbeFloors

__all__ = ["SFACE_CARD", "SFACE_MODEL_ID", "SFACE_PROBE_FLOORS"]

SFACE_PROBE_FLOORS = ProbeFloors(
    box_px_refuse=22,
    box_px_warn=32,
    sharpness_refuse=4.0,
    sharpness_warn=40.0,
    exposure_dark_refuse=0.0,
    exposure_dark_warn=0.1,
    exposure_bright_warn=0.7,
    exposure_bright_refuse=0.8,
)
"""Probe quality floors, from ``benchmarks/probe_quality.py --half calibration`` (LFW probes as
taken and shrunk, blurred, darkened, over-exposed; each signal binned over its own
degradations): refuse where the probe's own person is missed at least half the time (faces
under 22 px: FNIR 0.68; sharpness below 4: 0.79 to 0.83; exposure above 0.8: 0.55 to 0.70), warn
where FNIR is at least twice that of photos as taken (0.080): faces under 32 px (0.23 to 0.42),
sharpness under 40 (0.16 to 0.30), exposure under 0.1 (0.15 to 0.23) or over 0.7 (0.49). No
darkness measured reached FNIR 0.5, so dark faces are never refused. Held-out figures:
docs/fairness.md. (Faces under 22 px came into reach with detection's tilted second looks, which
find many faces of shrunk photos that YuNet's first look scores just under its bar.)"""
SFACE_CARD = ModelCard(
    model_id=SFACE_MODEL_ID,
    scale="cosine of 128-d SFace embeddings: different people mostly -0.1 to 0.4, the same "
    "person mostly 0.4 to 0.9, republished copies of one photo mostly 0.75 and above",
    search_min_similarity=0.511,
    # The SFace similarity at the same false-match rate as dlib's built-in search threshold
    # (2.6e-6 of the 29.6 million different-person pairs among LFW View 2's photos;
    # benchmarks/threshold_transfer.py). OpenCV's published 0.363 lets through about 1e-3 of
    # those pairs: an accuracy point, too lax for 1:N search. With fair scoring on (the
    # default) the shipped fair scorer's threshold applies instead (docs/fairness.md).
    same_face_min_similarity=0.75,
    # The 1st percentile of what republished copies (250 px q90, 180 px q70, 120 px q50)
    # score against their original on the calibration half of LFW (0.759), rounded down;
    # no different-person pair there scores above 0.45 (benchmarks/same_face.py,
    # docs/models.md#model-cards).
    optout_min_similarity=0.42,
    # The lowest similarity (0.005 steps) at which one opt-out with 3 selfies erased at most
    # 0.05% of everyone else's faces on the dev half of LFW
    # (benchmarks/privacy_optout.py --engine sface --split dev).
    identity_min_similarity=0.5,
    identity_min_centroid_similarity=0.344,
    # Chosen on the dev half of LFW's people (benchmarks/identities_select.py,
    # docs/identities.md); 0.344 is dlib's 0.92 carried over at equal false-match rate.
    identity_split_mixed=True,
    # On LFW's dev half splitting costs 0.0008 BCubed F1 and gains identity-level search 5 of
    # 1,480 probes (docs/identities.md).
    probe_floors=SFACE_PROBE_FLOORS,
)
"""SFace's numbers; every threshold is a cosine on SFace's scale."""
