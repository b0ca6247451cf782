"""The dlib engine on real photos, with the real models from the installed package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceatlas.choices import EngineName
from faceatlas.engine import EngineSpec, analyze_faces, create_engine, decode_image
from faceatlas.engine.dlib_engine import DlibEngine, dlib_model_paths
from faceatlas.engine.protocol import FaceEngine


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return create_engine(EngineSpec.for_engine(EngineName.DLIB))


def load(path: Path) -> np.ndarray:
    return decode_image(path.read_bytes(), max_pixels=40_000_000).pixels


def test_models_come_from_the_installed_package() -> None:
    paths = dlib_model_paths()
    assert all(p.is_file() and "site-packages" in str(p) for p in paths.values())


def test_construction_loads_nothing() -> None:
    engine = DlibEngine()
    assert engine._resnet is None
    assert isinstance(engine, FaceEngine)


def test_two_people_are_found_largest_first(engine: FaceEngine, faces_dir: Path) -> None:
    image = load(faces_dir / "face_recognition/examples/two_people.jpg")
    faces = analyze_faces(engine, image, thumbnail_px=128)
    assert len(faces) == 2
    assert faces[0].box.area >= faces[1].box.area
    for f in faces:
        assert f.embedding.shape == (128,) and f.embedding.dtype == np.float32
        assert abs(float(np.linalg.norm(f.embedding)) - 1.0) < 1e-5
        assert f.thumbnail_jpeg[:2] == b"\xff\xd8"
        assert 0.0 <= f.quality.frontal <= 1.0
        assert f.quality.sharpness > 0 and f.quality.box_px >= 20
        b = f.box
        assert 0 <= b.left < b.right <= image.shape[1] and 0 <= b.top < b.bottom <= image.shape[0]


def test_same_person_is_more_similar_than_different_people(
    engine: FaceEngine, faces_dir: Path
) -> None:
    lfw = faces_dir / "lfw/images"
    a1, a2 = (load(lfw / f"Colin_Powell/Colin_Powell_000{i}.jpg") for i in (1, 2))
    b1 = load(lfw / "Tony_Blair/Tony_Blair_0001.jpg")
    va1, va2, vb1 = (analyze_faces(engine, im, thumbnail_px=64)[0].embedding for im in (a1, a2, b1))
    assert float(va1 @ va2) > float(va1 @ vb1) + 0.05


def test_faceless_photo_has_no_faces(engine: FaceEngine, faces_dir: Path) -> None:
    image = load(faces_dir / "groups/dlib_voc/dogs.jpg")
    assert analyze_faces(engine, image, thumbnail_px=64) == []


def test_min_face_size_filters(faces_dir: Path) -> None:
    image = load(faces_dir / "face_recognition/examples/two_people.jpg")
    big_only = create_engine(EngineSpec(min_face_px=1000))
    assert big_only.detect(image) == []
