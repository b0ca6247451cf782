"""The Atlas facade on real photos: ingest, dedupe, search, index consistency, model guard."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from faceatlas import Atlas
from faceatlas.engine.dlib_engine import DlibEngine
from faceatlas.errors import InvalidRequestError, ModelMismatchError, NoFaceError

from .conftest import MODEL_ID, Backend, BackendSettings


def person_of(hit_locator: str) -> str:
    return Path(hit_locator).parent.name


def test_right_person_ranks_first(people_atlas: Atlas, probe_photos: Path) -> None:
    for probe, person in (("obama1.jpg", "obama"), ("alex_lacamoire1.jpg", "alex_lacamoire")):
        result = people_atlas.search((probe_photos / probe).read_bytes(), min_similarity=-1.0)
        assert result.hits, probe
        assert person_of(result.hits[0].sightings[0].locator) == person, probe
        sims = [h.similarity for h in result.hits]
        assert sims == sorted(sims, reverse=True)


def test_face_selection_in_a_group_photo(people_atlas: Atlas, probe_photos: Path) -> None:
    data = (probe_photos / "kit_with_rose.jpg").read_bytes()
    faces = people_atlas.detect(data)
    assert len(faces) == 2
    tops = {
        person_of(
            people_atlas.search(data, face=f.index, min_similarity=-1.0)
            .hits[0]
            .sightings[0]
            .locator
        )
        for f in faces
    }
    assert tops == {"kit_harington", "rose_leslie"}
    with pytest.raises(InvalidRequestError):
        people_atlas.search(data, face=5)


def test_threshold_filters_hits(people_atlas: Atlas, probe_photos: Path) -> None:
    data = (probe_photos / "obama1.jpg").read_bytes()
    everything = people_atlas.search(data, min_similarity=-1.0, top_k=100)
    strict = people_atlas.search(data, min_similarity=0.99, top_k=100)
    assert len(everything.hits) == len(people_atlas.index)
    assert all(h.similarity >= 0.99 for h in strict.hits)
    assert len(strict.hits) < len(everything.hits)


def test_no_face_raises(people_atlas: Atlas, faces_dir: Path) -> None:
    with pytest.raises(NoFaceError):
        people_atlas.search((faces_dir / "groups/dlib_voc/dogs.jpg").read_bytes())


def test_rerun_adds_nothing(people_atlas: Atlas, known_people: Path) -> None:
    before = people_atlas.catalog.counts()
    report = people_atlas.ingest(known_people)
    assert report.counts["unchanged"] == report.counts["items"] > 0
    assert people_atlas.catalog.counts() == before


def test_copy_of_a_photo_adds_a_sighting_not_an_image(
    people_atlas: Atlas, known_people: Path, tmp_path: Path
) -> None:
    copies = tmp_path / "copies"
    copies.mkdir()
    shutil.copy(known_people / "obama" / "obama.jpg", copies / "renamed.jpg")
    before = people_atlas.catalog.counts()
    report = people_atlas.ingest(copies)
    after = people_atlas.catalog.counts()
    assert report.counts["duplicates"] == 1
    assert after["images"] == before["images"] and after["faces"] == before["faces"]
    assert after["sightings"] == before["sightings"] + 1
    face_id = next(
        h.face_id
        for h in people_atlas.search(
            (copies / "renamed.jpg").read_bytes(), min_similarity=-1.0
        ).hits
        if h.similarity > 0.999
    )
    locators = {s.locator for s in people_atlas.gallery.face(face_id).sightings}
    assert (
        str(copies / "renamed.jpg") in locators
        and str(known_people / "obama" / "obama.jpg") in locators
    )


def test_bad_items_are_recorded_and_the_batch_goes_on(
    tmp_path: Path, lfw_sample: list[Path], atlas_settings: BackendSettings
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for p in lfw_sample[:3]:
        shutil.copy(p, folder / p.name)
    (folder / "notes.jpg").write_text("not an image")
    (folder / "cut.jpg").write_bytes(lfw_sample[3].read_bytes()[:2000])
    with Atlas.open(settings=atlas_settings(tmp_path / "atlas")) as atlas:
        report = atlas.ingest(folder)
        assert report.counts["new_images"] == 3
        assert report.counts["failed"] == 2
        assert {code for _, code, _ in report.failures} == {"image_decode_error"}
        failures = atlas.catalog.failures()
        assert {Path(f["locator"]).name for f in failures} == {"notes.jpg", "cut.jpg"}
        again = atlas.ingest(folder)
        assert atlas.catalog.counts()["failures"] == 2  # retried, not duplicated
        assert again.counts["new_images"] == 0


def test_index_is_rebuilt_from_the_catalog(
    people_atlas: Atlas, probe_photos: Path, atlas_settings: BackendSettings
) -> None:
    data = (probe_photos / "obama1.jpg").read_bytes()
    before = people_atlas.search(data, min_similarity=-1.0)
    root = people_atlas.root
    people_atlas.close()
    shutil.rmtree(root / "index")
    with Atlas.open(settings=atlas_settings(root)) as reopened:
        after = reopened.search(data, min_similarity=-1.0)
        assert [h.face_id for h in after.hits] == [h.face_id for h in before.hits]
        assert reopened.gallery.rebuild_index() == reopened.catalog.counts()["embeddings"]


def test_index_catches_up_after_a_lost_checkpoint(
    people_atlas: Atlas, lfw_sample: list[Path], tmp_path: Path, atlas_settings: BackendSettings
) -> None:
    root = people_atlas.root
    saved = {p.name: p.read_bytes() for p in (root / "index").iterdir() if p.is_file()}
    folder = tmp_path / "more"
    folder.mkdir()
    for p in lfw_sample[:4]:
        shutil.copy(p, folder / p.name)
    people_atlas.ingest(folder)
    people_atlas.close()
    for name, data in saved.items():  # the index as it was before that ingest
        (root / "index" / name).write_bytes(data)
    with Atlas.open(settings=atlas_settings(root)) as reopened:
        assert len(reopened.index) == reopened.catalog.counts()["embeddings"]
        assert reopened.gallery.sync_index() == "ok"


class OtherModelEngine(DlibEngine):
    @property
    def model_id(self) -> str:
        return "other-model"


class WiderEngine(DlibEngine):
    @property
    def dim(self) -> int:
        return 512


def test_mixing_models_is_refused(
    backend_people_atlas_dir: Path, tmp_path: Path, atlas_settings: BackendSettings
) -> None:
    root = tmp_path / "atlas"
    atlas_settings.clone(backend_people_atlas_dir, root)
    for engine in (OtherModelEngine(), WiderEngine()):
        with pytest.raises(ModelMismatchError, match=re.escape(f"this atlas holds {MODEL_ID} (")):
            Atlas.open(settings=atlas_settings(root), engine=engine)


def test_index_refuses_vectors_of_another_dimension(people_atlas: Atlas) -> None:
    with pytest.raises(ModelMismatchError):
        people_atlas.index.add(np.array([999], dtype=np.int64), np.ones((1, 64), dtype=np.float32))


def test_catalog_backend_and_migrations(
    people_atlas: Atlas, atlas_settings: BackendSettings
) -> None:
    engine = people_atlas.catalog.db
    with engine.connect() as conn:
        if atlas_settings.backend is Backend.POSTGRES_FAISS:
            assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
        else:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        versions = conn.execute(sa.text("SELECT version FROM schema_migrations")).scalars().all()
    assert 1 in versions
    expected = (
        "milvus-lite" if atlas_settings.backend is Backend.SQLITE_MILVUS_LITE else "faiss-flat"
    )
    assert people_atlas.stats()["index"]["backend"] == expected
