"""Switching an atlas to another model: faces are kept, every face is re-embedded, and an
index never mixes models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from faceatlas import Atlas
from faceatlas.choices import EngineName
from faceatlas.cli import app
from faceatlas.engine.dlib_engine import DLIB_CARD, DLIB_MODEL_ID
from faceatlas.engine.sface_engine import SFACE_MODEL_ID, SFaceEngine
from faceatlas.errors import ModelMismatchError
from faceatlas.search.fairness import FairScorer
from faceatlas.store import schema as t

from .conftest import atlas_settings


def face_rows(atlas_dir: Path) -> list[tuple[int, ...]]:
    engine = sa.create_engine(f"sqlite:///{atlas_dir / 'catalog.sqlite3'}")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                t.faces.c.id,
                t.faces.c.image_id,
                t.faces.c.box_left,
                t.faces.c.box_top,
                t.faces.c.box_right,
                t.faces.c.box_bottom,
            ).order_by(t.faces.c.id)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


@pytest.fixture(scope="module")
def dlib_people_atlas_dir(tmp_path_factory: pytest.TempPathFactory, known_people: Path) -> Path:
    """The known-people photos in an atlas built with the dlib engine, whatever the default."""
    root = tmp_path_factory.mktemp("dlib-people-atlas")
    with Atlas.open(settings=atlas_settings(root, engine=EngineName.DLIB)) as atlas:
        assert atlas.ingest(known_people).counts["failed"] == 0
    return root


@pytest.fixture
def dlib_atlas(dlib_people_atlas_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "atlas"
    shutil.copytree(dlib_people_atlas_dir, root)
    return root


def test_reembed_keeps_faces_and_switches_the_index(dlib_atlas: Path, probe_photos: Path) -> None:
    before = face_rows(dlib_atlas)
    report = Atlas.reembed(settings=atlas_settings(dlib_atlas, engine=EngineName.SFACE))
    assert report.complete and report.faces_failed == 0
    assert report.faces_embedded == report.faces_total == len(before) > 0
    assert face_rows(dlib_atlas) == before

    with pytest.raises(ModelMismatchError):
        Atlas.open(settings=atlas_settings(dlib_atlas, engine=EngineName.DLIB))
    with Atlas.open(settings=atlas_settings(dlib_atlas, engine=EngineName.SFACE)) as atlas:
        assert atlas.model_id == SFACE_MODEL_ID
        assert atlas.catalog.embedding_models() == {
            DLIB_MODEL_ID: len(before),
            SFACE_MODEL_ID: len(before),
        }
        assert len(atlas.index) == len(before)  # one model's vectors, not both
        assert atlas.stats()["embeddings_by_model"][SFACE_MODEL_ID] == len(before)
        result = atlas.search((probe_photos / "obama1.jpg").read_bytes())
        scorer = FairScorer.shipped(SFACE_MODEL_ID)
        assert scorer is not None and scorer.threshold != DLIB_CARD.search_min_similarity
        assert result.threshold_source == "fair default"
        assert result.threshold == scorer.threshold  # SFace's fair scale, not dlib's
        assert result.hits
        assert Path(result.hits[0].sightings[0].locator).parent.name == "obama"

    again = Atlas.reembed(settings=atlas_settings(dlib_atlas, engine=EngineName.SFACE))
    assert again.faces_embedded == 0 and again.faces_done_before == len(before)


def test_an_engine_of_another_model_is_refused(dlib_atlas: Path) -> None:
    with pytest.raises(ModelMismatchError):
        Atlas.open(
            settings=atlas_settings(dlib_atlas, engine=EngineName.DLIB), engine=SFaceEngine()
        )


def test_missing_images_stop_the_switch_unless_forced(tmp_path: Path, known_people: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("obama", "biden"):
        for src in sorted((known_people / name).glob("*.jpg"))[:2]:
            shutil.copy(src, photos / f"{name}-{src.name}")
    root = tmp_path / "atlas"
    with Atlas.open(settings=atlas_settings(root, engine=EngineName.DLIB)) as atlas:
        atlas.ingest(photos)
        faces = atlas.catalog.counts()["faces"]
    sorted(photos.iterdir())[0].unlink()
    runner = CliRunner()
    args = ["reembed", "--engine", "sface", "--atlas", str(root), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 9, result.output
    assert '"switched": false' in result.stdout and '"images_unreadable": 1' in result.stdout
    with Atlas.open(settings=atlas_settings(root, engine=EngineName.DLIB)) as atlas:
        assert atlas.model_id == DLIB_MODEL_ID  # not switched

    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    with Atlas.open(settings=atlas_settings(root, engine=EngineName.SFACE)) as atlas:
        assert atlas.model_id == SFACE_MODEL_ID
        assert 0 < len(atlas.index) < faces


def test_manual_identity_decisions_survive_reembedding(dlib_atlas: Path) -> None:
    with Atlas.open(settings=atlas_settings(dlib_atlas, engine=EngineName.DLIB)) as atlas:
        chosen = sorted(
            face_id
            for face_id, rec in atlas.catalog.faces(list(range(1, 200))).items()
            if Path(rec.sightings[0].locator).parent.name in ("obama", "biden")
        )
        assert len(chosen) >= 4
        identity = atlas.identities.move_faces(chosen, None, actor="analyst-1")
        atlas.identities.label_identity(identity, "Put together by hand", actor="analyst-1")
    Atlas.reembed(settings=atlas_settings(dlib_atlas, engine=EngineName.SFACE))
    with Atlas.open(settings=atlas_settings(dlib_atlas, engine=EngineName.SFACE)) as atlas:
        detail = atlas.identities.identity(identity)
        assert sorted(p.face_id for p in detail.photos) == chosen
        assert detail.summary.label == "Put together by hand"
        assert {d.actor for d in detail.decisions} == {"analyst-1"}
