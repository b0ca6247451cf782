"""Erasure on every backend, and the FAISS IVF backend in a real atlas: training, exact
re-ranking, deletes, persistence and the automatic rebuild past its growth threshold."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from faceatlas import Atlas, Settings
from faceatlas.choices import IndexBackend
from faceatlas.errors import NotFoundError

from .conftest import BackendSettings, atlas_settings


def all_hit_ids(atlas: Atlas, vector: np.ndarray) -> set[int]:
    """Every id the index itself returns for ``vector`` (no threshold, no catalog filter)."""
    return {h.id for h in atlas.index.search(vector.reshape(1, -1), 1000)[0]}


@pytest.mark.milvus_server
def test_deleted_face_is_never_returned(
    people_atlas: Atlas, probe_photos: Path, atlas_settings: BackendSettings
) -> None:
    data = (probe_photos / "obama1.jpg").read_bytes()
    before = people_atlas.search(data, min_similarity=-1.0, top_k=100)
    victim = before.hits[0].face_id
    vector = people_atlas.catalog.vectors_for_faces(people_atlas.model_id, [victim])[victim]
    assert victim in all_hit_ids(people_atlas, vector)

    assert people_atlas.gallery.delete_faces([victim]) == 1
    assert people_atlas.gallery.delete_faces([victim]) == 0

    def check(atlas: Atlas) -> None:
        assert victim not in all_hit_ids(atlas, vector)
        after = atlas.search(data, min_similarity=-1.0, top_k=100)
        assert victim not in {h.face_id for h in after.hits}
        assert len(after.hits) == len(before.hits) - 1
        assert len(atlas.index) == atlas.catalog.counts()["embeddings"]
        with pytest.raises(NotFoundError):
            atlas.gallery.face(victim)
        with pytest.raises(NotFoundError):
            atlas.gallery.thumbnail(victim)

    check(people_atlas)
    root = people_atlas.root
    people_atlas.close()
    with Atlas.open(settings=atlas_settings(root)) as reopened:
        assert reopened.gallery.sync_index() == "ok"
        check(reopened)
        reopened.gallery.rebuild_index()
        check(reopened)


def ivf_settings(root: Path, growth_factor: float) -> Settings:
    """SQLite + FAISS IVF, trained as soon as it holds 8 vectors."""
    return atlas_settings(
        root,
        index_backend=IndexBackend.FAISS_IVF,
        ivf_train_min=8,
        ivf_growth_factor=growth_factor,
    )


def copy_photos(photos: list[Path], folder: Path) -> Path:
    folder.mkdir()
    for p in photos:
        shutil.copy(p, folder / p.name)
    return folder


def test_ivf_atlas_trains_reranks_deletes_and_rebuilds(
    tmp_path: Path, lfw_sample: list[Path]
) -> None:
    root = tmp_path / "atlas"
    settings = ivf_settings(root, growth_factor=2.0)
    with Atlas.open(settings=settings) as atlas:
        atlas.ingest(copy_photos(lfw_sample[:10], tmp_path / "first"))
        stats = atlas.index.stats()
        assert stats["backend"] == "faiss-ivf" and stats["trained"] is True
        assert stats["spec"].endswith(",SQ8") and stats["bytes_per_vector"] == 128 + 8
        trained_for = stats["trained_for"]
        assert trained_for <= atlas.catalog.counts()["embeddings"]

        atlas.ingest(copy_photos(lfw_sample[10:], tmp_path / "second"))
        n = atlas.catalog.counts()["embeddings"]
        assert n > 2 * trained_for  # grew past the threshold: rebuilt for the new size
        assert atlas.index.stats()["trained_for"] == n == len(atlas.index)
        assert atlas.gallery.sync_index() == "ok"

        ids, vectors = [], []
        for batch_ids, batch_vectors, _ in atlas.catalog.iter_embeddings(atlas.model_id):
            ids.extend(batch_ids.tolist())
            vectors.append(batch_vectors)
        matrix = np.concatenate(vectors)
        exact = matrix @ matrix.T
        for row in range(0, n, 5):  # re-ranked answers are exact search's, similarities included
            hits = atlas.index.search(matrix[row : row + 1], 5)[0]
            order = np.argsort(-exact[row])[:5]
            assert [h.id for h in hits] == [ids[j] for j in order]
            assert np.allclose([h.similarity for h in hits], exact[row][order], atol=1e-5)

        victims = ids[:3]
        assert atlas.gallery.delete_faces(victims) == 3
        for j in range(3):
            assert not set(victims) & all_hit_ids(atlas, matrix[j])
    with Atlas.open(settings=settings) as reopened:
        assert reopened.gallery.sync_index() == "ok" and len(reopened.index) == n - 3
        assert reopened.index.stats()["trained"] is True
        for j in range(3):
            assert not set(victims) & all_hit_ids(reopened, matrix[j])
