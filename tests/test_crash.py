"""SIGKILL in the middle of an ingest, then a rerun, gives what one clean run gives."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from faceatlas import Atlas

from .conftest import atlas_settings, kill_once_committed


def ingest_command(folder: Path, atlas: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "faceatlas",
        "ingest",
        str(folder),
        "--atlas",
        str(atlas),
        "--quiet",
    ]


def snapshot(atlas_dir: Path) -> dict[str, Any]:
    """Everything that matters in the catalog and the index, keyed by content."""
    with Atlas.open(settings=atlas_settings(atlas_dir)) as atlas:
        db = sqlite3.connect(atlas_dir / "catalog.sqlite3")
        images = db.execute(
            "SELECT id, sha256, width, height, face_count FROM images ORDER BY id"
        ).fetchall()
        faces = db.execute(
            "SELECT f.id, i.sha256, f.ordinal, f.box_left, f.box_top, f.box_right, f.box_bottom, e.vector "
            "FROM faces f JOIN images i ON i.id = f.image_id JOIN embeddings e ON e.face_id = f.id ORDER BY f.id"
        ).fetchall()
        sightings = db.execute(
            "SELECT i.sha256, s.locator FROM sightings s JOIN images i ON i.id = s.image_id ORDER BY 1, 2"
        ).fetchall()
        db.close()
        index = atlas.index
        raw = index._index  # the FAISS IDMap2: read back every stored vector by id
        index_vectors = {int(fid): raw.reconstruct(int(fid)).tobytes() for fid, *_ in faces}
        assert len(index) == len(faces)
        return {
            "images": images,
            "faces": faces,
            "sightings": sightings,
            "index": index_vectors,
        }


def test_kill_midway_then_rerun_equals_clean_run(tmp_path: Path, faces_dir: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    people = sorted((faces_dir / "lfw/images").glob("A*"))[:60]
    for person in people:
        for photo in sorted(person.glob("*.jpg"))[:1]:
            shutil.copy(photo, folder / photo.name)
    n_photos = len(list(folder.iterdir()))
    env = {**os.environ, "FACEATLAS_COMMIT_EVERY": "3", "FACEATLAS_INDEX_CHECKPOINT_EVERY": "7"}

    killed = tmp_path / "killed"
    committed = kill_once_committed(ingest_command(folder, killed), env, killed, 12)
    assert 12 <= committed < n_photos

    subprocess.run(ingest_command(folder, killed), env=env, check=True)
    clean = tmp_path / "clean"
    subprocess.run(ingest_command(folder, clean), env=env, check=True)

    a, b = snapshot(killed), snapshot(clean)
    assert len(a["images"]) == n_photos
    assert a == b
    vectors = np.stack([np.frombuffer(v, dtype=np.float32) for v in a["index"].values()])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
