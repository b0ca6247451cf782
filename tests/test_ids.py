"""Ids are never given out twice: after an erasure a new face does not take an old face's id."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from faceatlas import Atlas
from faceatlas.store import Catalog, CatalogWriter
from faceatlas.store import schema as t
from faceatlas.store.ids import HIGH_WATER_PREFIX

from .conftest import BackendSettings


def _face_and_image_ids(atlas: Atlas) -> tuple[set[int], set[int]]:
    with atlas.catalog.db.connect() as conn:
        faces = {int(r[0]) for r in conn.execute(sa.select(t.faces.c.id))}
        images = {int(r[0]) for r in conn.execute(sa.select(t.images.c.id))}
    return faces, images


def test_erased_face_and_image_ids_are_not_given_out_again(
    tmp_path: Path, faces_dir: Path, atlas_settings: BackendSettings
) -> None:
    lfw = faces_dir / "lfw" / "images"
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    shutil.copy(lfw / "Tony_Blair" / "Tony_Blair_0001.jpg", first)
    shutil.copy(lfw / "Tony_Blair" / "Tony_Blair_0002.jpg", first)
    shutil.copy(lfw / "Colin_Powell" / "Colin_Powell_0001.jpg", second)
    with Atlas.open(settings=atlas_settings(tmp_path / "atlas")) as atlas:
        atlas.ingest(first)
        faces, images = _face_and_image_ids(atlas)
        newest_image = max(images)
        atlas.privacy.erase_images([newest_image], actor="admin")  # the newest face and image go
        remaining_faces, remaining_images = _face_and_image_ids(atlas)
        assert max(faces) not in remaining_faces and newest_image not in remaining_images
        atlas.ingest(second)
        new_faces, new_images = _face_and_image_ids(atlas)
        added_faces, added_images = new_faces - remaining_faces, new_images - remaining_images
        assert added_faces and added_images
        assert min(added_faces) > max(faces)  # the erased face's id names nobody else
        assert min(added_images) > max(images)


def test_rows_of_one_transaction_take_consecutive_ids_and_leave_their_high_water(
    tmp_path: Path,
) -> None:
    """Many images written in one transaction (an ingest batch): ids one after another, the
    high water stored when the transaction commits, nothing stored when it rolls back."""
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.sqlite3'}")

    def add(w: CatalogWriter, n: int, tag: str) -> list[int]:
        return [
            w.add_image(
                sha256=f"{tag}{i:063d}",
                byte_size=1,
                width=1,
                height=1,
                format="JPEG",
                faces=[],
                model_id="m",
            )[0]
            for i in range(n)
        ]

    with catalog.writer() as w:
        first = add(w, 3, "a")
    assert first == [1, 2, 3]
    assert catalog.get_meta(HIGH_WATER_PREFIX + "images") == "3"
    with pytest.raises(RuntimeError), catalog.writer() as w:
        add(w, 2, "b")
        raise RuntimeError("the writer dies before its commit")
    assert catalog.get_meta(HIGH_WATER_PREFIX + "images") == "3"
    with catalog.writer() as w:
        assert add(w, 2, "c") == [4, 5]
    assert catalog.get_meta(HIGH_WATER_PREFIX + "images") == "5"
