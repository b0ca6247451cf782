"""Engines own their numbers: every threshold the product applies comes from the model card
of the atlas's engine, and a model that states none is refused rather than given another
model's number."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from faceatlas import Atlas
from faceatlas.engine.card import ModelCard
from faceatlas.engine.sface_card import SFACE_CARD
from faceatlas.engine.sface_engine import SFaceEngine
from faceatlas.errors import ConfigError
from faceatlas.privacy import optout_threshold

from .conftest import atlas_settings
from .webfixtures import lfw, resized_copy

THIRD_MODEL_ID = "third-model-v1"
THIRD_CARD = replace(
    SFACE_CARD,
    model_id=THIRD_MODEL_ID,
    scale="SFace's scores under another name, with thresholds of its own",
    search_min_similarity=0.61,
    same_face_min_similarity=0.9995,
    optout_min_similarity=0.47,
    identity_min_similarity=0.55,
    identity_min_centroid_similarity=0.4,
    identity_split_mixed=False,
    probe_floors=None,
)


class ThirdEngine(SFaceEngine):
    """A third model at the engine seam: SFace's network under its own model id and card."""

    def __init__(self, card: ModelCard = THIRD_CARD) -> None:
        super().__init__()
        self._card = card

    @property
    def model_id(self) -> str:
        return THIRD_MODEL_ID

    @property
    def card(self) -> ModelCard:
        return self._card


def _photos(tmp_path: Path, faces_dir: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    powell = lfw(faces_dir, "Colin_Powell")
    (folder / "a_powell.jpg").write_bytes(powell)
    (folder / "b_powell_small.jpg").write_bytes(resized_copy(powell, 150, 60))
    (folder / "c_blair.jpg").write_bytes(lfw(faces_dir, "Tony_Blair", 10))
    return folder


def test_a_third_engine_brings_its_thresholds_to_ingest_search_optout_and_identities(
    tmp_path: Path, faces_dir: Path
) -> None:
    folder = _photos(tmp_path, faces_dir)
    settings = atlas_settings(tmp_path / "strict", near_duplicate_bits=4)
    with Atlas.open(settings=settings, engine=ThirdEngine()) as atlas:
        assert atlas.searcher.fair_scorer() is None  # no fair scorer ships for this model
        counts = atlas.ingest(folder, workers=1).counts
        # the resized copy scores below the card's 0.9995: dedupe keeps it as a new image
        assert counts["near_duplicates_rejected"] == 1 and counts["near_duplicates"] == 0
        assert atlas.threshold() == (0.61, "default")
        result = atlas.search(lfw(faces_dir, "Colin_Powell"))
        assert result.threshold == pytest.approx(0.61) and result.threshold_source == "default"
        assert result.hits and all(h.decision_score >= 0.61 for h in result.hits)
        assert optout_threshold(atlas.scope) == (0.47, "default")
        params = atlas.identities.params
        assert (params.min_similarity, params.min_centroid_similarity) == (0.55, 0.4)
        assert not params.split_mixed

    lax = replace(THIRD_CARD, same_face_min_similarity=0.5)
    settings = atlas_settings(tmp_path / "lax", near_duplicate_bits=4)
    with Atlas.open(settings=settings, engine=ThirdEngine(lax)) as atlas:
        counts = atlas.ingest(folder, workers=1).counts
        assert counts["near_duplicates"] == 1 and counts["near_duplicates_rejected"] == 0


def test_a_model_that_states_no_thresholds_is_refused_not_given_another_models(
    tmp_path: Path, faces_dir: Path
) -> None:
    unstated = ModelCard.unstated(THIRD_MODEL_ID)
    folder = _photos(tmp_path, faces_dir)
    with Atlas.open(
        settings=atlas_settings(tmp_path / "atlas"), engine=ThirdEngine(unstated)
    ) as atlas:
        with pytest.raises(ConfigError, match="states no search threshold"):
            atlas.search(lfw(faces_dir, "Colin_Powell"))
        with pytest.raises(ConfigError, match="states no same face threshold"):
            atlas.ingest(folder, workers=1)
        with pytest.raises(ConfigError, match="states no optout threshold"):
            optout_threshold(atlas.scope)
