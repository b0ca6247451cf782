"""Does a faster ingest store the same faces? Checks for ``core_benchmark.py``.

* :func:`stored_faces`: the vectors an atlas stored, photo by photo (by SHA-256, in face order);
* :func:`single_photo_faces`: the vectors of the same photos analysed one by one on the plain
  path that search uses (``decode_image`` + ``analyze_faces``), no batching, no catalog;
* :func:`compare`: same number of faces on every photo, the largest difference between
  vectors and the lowest cosine between the two vectors of a face (unit vectors); a file saved
  by ``--vectors-out`` from another checkout (say main) compares the same way, so a change to
  the ingest path is checked against the code before it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceatlas import Atlas
from faceatlas.engine import analyze_faces, decode_image

__all__ = [
    "Agreement",
    "compare",
    "load_vectors",
    "save_vectors",
    "single_photo_faces",
    "stored_faces",
]

PhotoFaces = dict[str, np.ndarray]
"""SHA-256 of a photo -> its face vectors, ``float32 (faces, dim)``, in the atlas's face order."""


@dataclass(frozen=True, slots=True)
class Agreement:
    photos: int
    faces: int
    photos_with_other_face_count: int
    max_abs_vector_diff: float
    cosines: tuple[float, ...] = ()
    """The cosine between the two vectors of each face compared (photos of equal face count)."""

    @property
    def min_cosine(self) -> float:
        return min(self.cosines, default=1.0)

    def under(self, bar: float) -> int:
        """Faces whose two vectors are less alike than cosine ``bar``."""
        return sum(c < bar for c in self.cosines)

    def line(self, what: str) -> str:
        same = self.photos_with_other_face_count == 0
        counts = (
            "same face count on every photo"
            if same
            else (f"face count differs on {self.photos_with_other_face_count} photos")
        )
        spread = ""
        if self.cosines:
            median, first = np.percentile(self.cosines, [50, 1])
            spread = f" (median {median:.6f}, 1st percentile {first:.6f})"
        return (
            f"{what}: {self.photos} photos, {self.faces} faces, {counts}, "
            f"max |vector difference| {self.max_abs_vector_diff:.2e}, "
            f"lowest cosine {self.min_cosine:.6f}{spread}"
        )


def stored_faces(atlas: Atlas, photos: list[Path]) -> PhotoFaces:
    """Every one of ``photos``: a photo stored without faces (or not stored) has none."""
    by_photo: dict[str, list[tuple[int, np.ndarray]]] = {}
    for face_ids, vectors, _ in atlas.catalog.iter_embeddings(atlas.model_id):
        records = atlas.catalog.faces([int(i) for i in face_ids])
        for face_id, vector in zip(face_ids, vectors, strict=True):
            face = records[int(face_id)]
            by_photo.setdefault(face.image.sha256, []).append((face.ordinal, vector))
    out: PhotoFaces = {}
    for path in photos:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        faces = sorted(by_photo.get(sha, []), key=lambda f: f[0])
        out[sha] = _stacked([v for _, v in faces], atlas.engine.dim)
    return out


def _stacked(vectors: list[np.ndarray], dim: int) -> np.ndarray:
    return np.stack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)


def single_photo_faces(atlas: Atlas, photos: list[Path]) -> PhotoFaces:
    out: PhotoFaces = {}
    for path in photos:
        data = path.read_bytes()
        pixels = decode_image(data, max_pixels=atlas.settings.max_pixels).pixels
        faces = analyze_faces(atlas.engine, pixels, thumbnail_px=atlas.settings.thumbnail_px)
        out[hashlib.sha256(data).hexdigest()] = _stacked(
            [f.embedding for f in faces], atlas.engine.dim
        )
    return out


def compare(ours: PhotoFaces, reference: PhotoFaces) -> Agreement:
    """Over the photos both hold (a reference saved from another photo set shares fewer)."""
    other_count = 0
    worst = 0.0
    cosines: list[float] = []
    faces = 0
    common = sorted(set(ours) & set(reference))
    for sha in common:
        a, b = ours[sha], reference[sha]
        faces += len(a)
        if len(a) != len(b):
            other_count += 1
        elif len(a):
            worst = max(worst, float(np.abs(a - b).max()))
            cosines.extend(float(c) for c in np.sum(a * b, axis=1))
    return Agreement(len(common), faces, other_count, worst, tuple(cosines))


def save_vectors(faces: PhotoFaces, path: Path) -> None:
    np.savez_compressed(path, **faces)


def load_vectors(path: Path) -> PhotoFaces:
    with np.load(path) as data:
        return {name: data[name] for name in data.files}
