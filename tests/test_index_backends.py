"""Index backends at the protocol seam, on clustered unit vectors (no photos needed).

The Milvus tests run on Milvus Lite and on the session's real Milvus server
(``tests/milvus_server.py``), each server test in collections of its own prefix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from faceatlas import Settings
from faceatlas.errors import ModelMismatchError
from faceatlas.index import IvfIndex, IvfOptions, MilvusIndex, MilvusOptions
from faceatlas.index.ivf import nlist_for
from faceatlas.index.milvus import collection_name

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


def server_options(uri: str, tmp_path: Path) -> Iterator[MilvusOptions]:
    """Options for ``uri`` with a collection prefix of this test's own; its collections are
    dropped afterwards."""
    from pymilvus import MilvusClient

    prefix = "t_" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:16]
    yield MilvusOptions(uri=uri, collection_prefix=prefix)
    client = MilvusClient(uri=uri)
    for name in client.list_collections():
        if name.startswith(f"{prefix}_"):
            client.drop_collection(name)
    client.close()


@pytest.fixture(params=["lite", "server"])
def milvus_options(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MilvusOptions]:
    if request.param == "lite":
        yield MilvusOptions(uri=str(tmp_path / "milvus.db"))
        return
    yield from server_options(request.getfixturevalue("milvus_uri"), tmp_path)


def test_milvus_upserts_removes_guards_the_dimension_and_follows_the_index_type(
    tmp_path: Path, milvus_options: MilvusOptions
) -> None:
    x = clustered(300, 10, seed=3)
    ids = np.arange(1, 301, dtype=np.int64)
    options = milvus_options
    index = MilvusIndex(tmp_path, "m", DIM, options)
    try:
        index.add(ids, x)
        index.add(ids[:50], x[:50])  # a replayed batch adds nothing: no duplicates
        assert len(index) == 300
        assert [row[0].id for row in index.search(x[:3], 1)] == [1, 2, 3]
        assert index.remove(np.array([1, 2, 999], dtype=np.int64)) == 2
        assert len(index) == 298
        assert not {1, 2} & {h.id for row in index.search(x[:2], 300) for h in row}
        index.save(watermark=300)
    finally:
        index.close()
    with pytest.raises(ModelMismatchError):
        MilvusIndex(tmp_path, "m", DIM * 2, options).close()

    def lookup(wanted: object) -> dict[int, np.ndarray]:
        return {int(i): x[int(i) - 1] for i in wanted if int(i) > 2}  # type: ignore[attr-defined]

    # Reopened with another index type: the collection is re-indexed, and hits re-ranked.
    ivf = replace(options, index_type="IVF_FLAT", nlist=4, nprobe=4)
    again = MilvusIndex(tmp_path, "m", DIM, ivf, lookup)
    try:
        assert len(again) == 298 and again.state() is not None
        assert again.stats()["spec"] == "IVF_FLAT" and again.stats()["rerank"] is True
        hits = again.search(x[2:5], 2)
        assert [row[0].id for row in hits] == [3, 4, 5]
        assert np.isclose(hits[0][0].similarity, 1.0, atol=1e-5)
        assert again._client.describe_index(again.collection, "vector")["index_type"] == "IVF_FLAT"
        again.reset()  # a rebuild starts empty
        assert len(again) == 0 and again.search(x[:1], 5) == [[]]
    finally:
        again.close()


def test_milvus_server_keeps_models_apart_and_is_shared_between_clients(
    tmp_path: Path, milvus_uri: str
) -> None:
    """Two models in one server never mix, even with ids Milvus would spell alike; a second
    client (another process's view) sees every write, erasure and saved state at once."""
    from pymilvus import DataType, MilvusClient

    x = clustered(300, 10, seed=4)
    ids = np.arange(1, 301, dtype=np.int64)
    for options in server_options(milvus_uri, tmp_path):
        assert collection_name("p", "model-a") != collection_name("p", "model_a")
        first = MilvusIndex(tmp_path, "model-a", DIM, options)
        other_model = MilvusIndex(tmp_path / "b", "model_a", DIM * 2, options)
        second = MilvusIndex(tmp_path, "model-a", DIM, options)
        try:
            first.add(ids, x)
            other_model.add(ids[:5] + 1000, np.repeat(np.eye(1, DIM * 2, dtype=np.float32), 5, 0))
            first.save(watermark=300)
            assert len(second) == 300 and len(other_model) == 5
            assert second.state() is not None and second.state().watermark == 300  # type: ignore[union-attr]
            assert [row[0].id for row in second.search(x[:3], 1)] == [1, 2, 3]
            assert second.remove(np.array([1], dtype=np.int64)) == 1
            assert {h.id for h in first.search(x[:1], 300)[0]} == set(range(2, 301))
        finally:
            for index in (first, second, other_model):
                index.close()

        client = MilvusClient(uri=milvus_uri)  # a collection another model's index made
        schema = client.create_schema(description=f"faceatlas model_id=m dim={DIM}")
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
        client.create_collection(collection_name(options.collection_prefix, "n"), schema=schema)
        client.close()
        with pytest.raises(ModelMismatchError, match="holds m vectors"):
            MilvusIndex(tmp_path, "n", DIM, options)


def test_index_backend_is_a_closed_choice() -> None:
    assert Settings(index_backend="faiss-ivf").index_backend.value == "faiss-ivf"  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Settings(index_backend="annoy")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Settings(milvus_collection_prefix="bad-name")
