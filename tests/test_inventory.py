"""``faceatlas stats`` reads an embedded atlas without opening it (no NumPy, SQLAlchemy, FAISS
or engine runtime) and says exactly what opening it says; an atlas whose index is out of step,
or of another model, is opened as before."""

from __future__ import annotations

import json
import shutil
from contextlib import closing
from pathlib import Path

import pytest

from faceatlas.choices import EngineName
from faceatlas.engine import EngineSpec, create_engine, shipped_card
from faceatlas.engine.names import model_of
from faceatlas.errors import ModelMismatchError
from faceatlas.gallery import Gallery
from faceatlas.index.saved import INDEX_DIR
from faceatlas.search.fairness import FairScorer
from faceatlas.search.threshold import shipped_threshold
from faceatlas.services.inventory import atlas_inventory, opened_inventory
from faceatlas.store.summary import META_INDEX_DIRTY, threshold_meta_key
from tests.conftest import MODEL_ID, atlas_settings
from tests.test_cli_startup import stats_in_a_process

HEAVY = ("numpy", "sqlalchemy", "faiss", "onnxruntime", "faceatlas.gallery")


@pytest.fixture
def atlas_dir(people_atlas_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the session's known-people atlas."""
    root = tmp_path / "atlas"
    shutil.copytree(people_atlas_dir, root)
    return root


def test_stats_reads_an_atlas_in_step_without_heavy_imports(atlas_dir: Path) -> None:
    out, loaded = stats_in_a_process(atlas_dir, HEAVY)
    assert loaded == ""
    read = json.loads(out)
    assert read == opened_inventory(atlas_settings(atlas_dir))
    assert read["index"]["count"] == read["catalog"]["embeddings"] > 0


@pytest.mark.parametrize(
    "overrides",
    [{}, {"fair_scoring": False}, {"min_similarity": 0.61}],
    ids=["fair default", "model card", "settings"],
)
def test_the_threshold_in_force_is_the_one_an_opened_atlas_gives(
    atlas_dir: Path, overrides: dict[str, object]
) -> None:
    settings = atlas_settings(atlas_dir, **overrides)
    assert atlas_inventory(settings) == opened_inventory(settings)
    with closing(
        Gallery.open(settings)
    ) as gallery:  # a calibration comes first, but after settings
        gallery.catalog.set_meta(threshold_meta_key(gallery.model_id), "0.55")
    read = atlas_inventory(settings)
    assert read == opened_inventory(settings)
    first = "settings" if overrides.get("min_similarity") else "calibration"
    assert read["threshold"]["source"] == first


def test_an_index_out_of_step_is_opened_and_brought_in_step(atlas_dir: Path) -> None:
    settings = atlas_settings(atlas_dir)
    expected = opened_inventory(settings)
    shutil.rmtree(atlas_dir / INDEX_DIR)  # lost: rebuilt from the catalog, as any open does
    assert atlas_inventory(settings) == expected
    assert (atlas_dir / INDEX_DIR).is_dir()
    with closing(Gallery.open(settings)) as gallery:  # an erasure that stopped half way
        gallery.catalog.set_meta(META_INDEX_DIRTY, "1")
    assert atlas_inventory(settings) == expected
    with closing(Gallery.open(settings, guard_model=False)) as gallery:
        assert gallery.catalog.get_meta(META_INDEX_DIRTY) == "0"  # rebuilt by that open


def test_another_model_and_a_missing_atlas_are_opened_as_before(
    atlas_dir: Path, tmp_path: Path
) -> None:
    other = EngineName.DLIB if model_of(EngineName.SFACE)[0] == MODEL_ID else EngineName.SFACE
    with pytest.raises(ModelMismatchError):
        atlas_inventory(atlas_settings(atlas_dir, engine=other))
    fresh = atlas_inventory(atlas_settings(tmp_path / "new"))
    assert fresh["catalog"]["images"] == 0 and fresh["index"]["count"] == 0


def test_light_reads_agree_with_the_engines_and_the_scorers() -> None:
    for engine in EngineName:
        built = create_engine(EngineSpec.for_engine(engine))
        assert model_of(engine) == (built.model_id, built.dim)
        model_id = built.model_id
        scorer = FairScorer.shipped(model_id)
        assert shipped_threshold(model_id) == (None if scorer is None else scorer.threshold)
        assert shipped_card(model_id) == built.card
