"""Index backends at the protocol seam, on clustered unit vectors (no photos needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from faceatlas import Settings
from faceatlas.errors import ModelMismatchError
from faceatlas.index import IvfIndex, IvfOptions, MilvusIndex, MilvusOptions
from faceatlas.index.ivf import nlist_for

DIM = 32


def clustered(n: int, clusters: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM)).astype(np.float32)
    x = centres[rng.integers(0, clusters, n)] + 0.3 * rng.standard_normal((n, DIM)).astype(
        np.float32
    )
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_nlist_grows_with_the_atlas_and_respects_the_training_floor() -> None:
    assert nlist_for(10) == 1
    assert nlist_for(20_000) == 256
    assert nlist_for(1_000_000) == 2048
    assert nlist_for(10_000_000) == 8192
    assert all(n >= 39 * nlist_for(n) for n in (39, 100, 5_000, 77_777))


def test_ivf_trains_at_its_threshold_and_survives_save_and_load(tmp_path: Path) -> None:
    x = clustered(6_000, 40)
    ids = np.arange(100, 6_100, dtype=np.int64)
    options = IvfOptions(train_min=4_000, nprobe=4)
    index = IvfIndex(tmp_path, "m", DIM, options, lookup=None)
    index.add(ids[:3_000], x[:3_000])
    assert not index.trained and index.stats()["bytes_per_vector"] == DIM * 4 + 8
    index.add(ids[3_000:], x[3_000:])
    assert index.trained and index.nlist == nlist_for(6_000) > 1
    assert index.stats()["bytes_per_vector"] == DIM + 8
    before = index.search(x[:50], 5)
    index.save(watermark=42)

    reopened = IvfIndex(tmp_path, "m", DIM, options, lookup=None)
    assert reopened.trained and len(reopened) == 6_000
    assert reopened.state() is not None and reopened.state().watermark == 42  # type: ignore[union-attr]
    assert reopened.search(x[:50], 5) == before
    assert reopened.remove(ids[:10]) == 10 and reopened.remove(ids[:10]) == 0
    assert not {h.id for row in reopened.search(x[:10], 20) for h in row} & set(ids[:10].tolist())

    with pytest.raises(ModelMismatchError):
        IvfIndex(tmp_path, "m", DIM * 2, options)


def test_ivf_asks_for_a_rebuild_past_its_growth_factor_and_sizes_it(tmp_path: Path) -> None:
    x = clustered(8_000, 40, seed=1)
    ids = np.arange(8_000, dtype=np.int64)
    index = IvfIndex(tmp_path, "m", DIM, IvfOptions(train_min=1_000, growth_factor=3.0))
    index.add(ids[:1_000], x[:1_000])
    assert index.trained and index.stats()["trained_for"] == 1_000
    index.add(ids[1_000:3_000], x[1_000:3_000])
    assert not index.needs_rebuild()
    index.add(ids[3_000:], x[3_000:])
    assert index.needs_rebuild()
    index.reset()  # what Gallery.rebuild_index does, then it adds everything back
    for start in range(0, 8_000, 1_000):
        index.add(ids[start : start + 1_000], x[start : start + 1_000])
    assert not index.needs_rebuild()
    assert index.stats()["trained_for"] == 8_000 and index.nlist == nlist_for(8_000)
    assert index.stats()["nprobe"] == index.nlist // 8  # unset: one list in 8
    index.set_nprobe(3)
    assert index.stats()["nprobe"] == 3


def test_ivf_pq_codes_rerank_to_exact_similarities(tmp_path: Path) -> None:
    x = clustered(10_000, 60, seed=2)
    ids = np.arange(10_000, dtype=np.int64)

    def lookup(wanted: object) -> dict[int, np.ndarray]:
        return {int(i): x[int(i)] for i in wanted}  # type: ignore[attr-defined]

    index = IvfIndex(
        tmp_path, "m", DIM, IvfOptions(codes="PQ8", train_min=10_000, nprobe=16), lookup
    )
    index.add(ids, x)
    assert index.trained and index.stats()["bytes_per_vector"] == 8 + 8
    queries = x[:200]
    hits = index.search(queries, 3)
    exact = queries @ x.T
    top = np.argsort(-exact, axis=1)[:, :3]
    assert sum(row[0].id == int(t[0]) for row, t in zip(hits, top, strict=True)) >= 198
    for q, row in enumerate(hits):
        assert np.allclose([h.similarity for h in row], exact[q, [h.id for h in row]], atol=1e-5)


def test_milvus_lite_upserts_removes_and_guards_the_dimension(tmp_path: Path) -> None:
    x = clustered(300, 10, seed=3)
    ids = np.arange(1, 301, dtype=np.int64)
    options = MilvusOptions(uri=str(tmp_path / "milvus.db"))
    index = MilvusIndex(tmp_path, "m", DIM, options)
    try:
        index.add(ids, x)
        index.add(ids[:50], x[:50])  # a replayed batch: upserts, no duplicates
        assert len(index) == 300
        assert index.search(x[:3], 1) == [
            [h] for h in (index.search(x[:3], 1)[i][0] for i in range(3))
        ]
        assert [row[0].id for row in index.search(x[:3], 1)] == [1, 2, 3]
        assert index.remove(np.array([1, 2, 999], dtype=np.int64)) == 2
        assert len(index) == 298
        assert not {1, 2} & {h.id for row in index.search(x[:2], 300) for h in row}
        index.save(watermark=300)
    finally:
        index.close()
    with pytest.raises(ModelMismatchError):
        MilvusIndex(tmp_path, "m", DIM * 2, options).close()
    again = MilvusIndex(tmp_path, "m", DIM, options)
    try:
        assert len(again) == 298 and again.state() is not None
    finally:
        again.close()


def test_index_backend_is_a_closed_choice() -> None:
    assert Settings(index_backend="faiss-ivf").index_backend.value == "faiss-ivf"  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Settings(index_backend="annoy")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Settings(milvus_collection_prefix="bad-name")
