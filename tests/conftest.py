"""Shared fixtures: the real face photos in ``../shared/faces`` and small real atlases."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from faceatlas import Atlas, Settings

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    root = Path(os.environ.get("FACEATLAS_TEST_FACES", REPO_ROOT.parent / "shared" / "faces"))
    if not (root / "lfw" / "pairs.txt").is_file():
        pytest.fail(f"shared face photos not found at {root}; set FACEATLAS_TEST_FACES")
    return root


@pytest.fixture(scope="session")
def known_people(faces_dir: Path) -> Path:
    """face_recognition's KNN training photos: one folder per person."""
    return faces_dir / "face_recognition" / "examples" / "knn_examples" / "train"


@pytest.fixture(scope="session")
def probe_photos(faces_dir: Path) -> Path:
    """Different photos of the same people (``obama1.jpg``, ``alex_lacamoire1.jpg``, ...)."""
    return faces_dir / "face_recognition" / "examples" / "knn_examples" / "test"


def atlas_settings(atlas_dir: Path, **overrides: object) -> Settings:
    return Settings(atlas_dir=atlas_dir, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def people_atlas_dir(tmp_path_factory: pytest.TempPathFactory, known_people: Path) -> Path:
    """An atlas built once per session from the known-people photos. Copy before writing."""
    root = tmp_path_factory.mktemp("people-atlas")
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        report = atlas.ingest(known_people)
    assert report.counts["failed"] == 0
    return root


@pytest.fixture
def people_atlas(people_atlas_dir: Path, tmp_path: Path) -> Iterator[Atlas]:
    """A private, writable copy of the session's known-people atlas."""
    root = tmp_path / "atlas"
    shutil.copytree(people_atlas_dir, root)
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        yield atlas


@pytest.fixture(scope="session")
def lfw_sample(faces_dir: Path) -> list[Path]:
    """Two photos each of twelve LFW people with several photos (24 small photos)."""
    images = faces_dir / "lfw" / "images"
    people = [
        "Colin_Powell",
        "Tony_Blair",
        "Donald_Rumsfeld",
        "Gerhard_Schroeder",
        "Ariel_Sharon",
        "Hugo_Chavez",
        "Junichiro_Koizumi",
        "Jean_Chretien",
        "John_Ashcroft",
        "Jacques_Chirac",
        "Serena_Williams",
        "Vladimir_Putin",
    ]
    return [images / p / f"{p}_{n:04d}.jpg" for p in people for n in (1, 2)]
