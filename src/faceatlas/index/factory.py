"""Build the index backend the settings choose."""

from __future__ import annotations

from pathlib import Path

from faceatlas.choices import IndexBackend
from faceatlas.config import Settings
from faceatlas.errors import ConfigError
from faceatlas.index.flat import FlatIndex
from faceatlas.index.ivf import IvfIndex, IvfOptions
from faceatlas.index.milvus import MilvusIndex, MilvusOptions
from faceatlas.index.protocol import VectorIndex, VectorLookup

__all__ = ["MILVUS_LITE_FILE", "open_index"]

MILVUS_LITE_FILE = "milvus.db"


def open_index(
    settings: Settings,
    directory: Path,
    model_id: str,
    dim: int,
    lookup: VectorLookup | None = None,
) -> VectorIndex:
    """The configured backend, holding ``dim``-d vectors of ``model_id``.

    ``directory`` keeps the local files (FAISS indexes, Milvus Lite data, saved
    states); ``lookup`` serves exact vectors for re-ranking approximate backends.
    """
    backend = settings.index_backend
    if backend is IndexBackend.FAISS_FLAT:
        return FlatIndex(directory, model_id, dim)
    if backend is IndexBackend.FAISS_IVF:
        options = IvfOptions(
            codes=settings.ivf_codes.value,
            nprobe=settings.ivf_nprobe,
            train_min=settings.ivf_train_min,
            growth_factor=settings.ivf_growth_factor,
            rerank_shortlist=settings.rerank_shortlist,
        )
        return IvfIndex(directory, model_id, dim, options, lookup)
    if backend is IndexBackend.MILVUS:
        token = settings.milvus_token.get_secret_value() if settings.milvus_token else None
        milvus = MilvusOptions(
            uri=settings.milvus_uri or str(directory / MILVUS_LITE_FILE),
            token=token,
            collection_prefix=settings.milvus_collection_prefix,
            index_type=settings.milvus_index_type.value,
            nlist=settings.milvus_nlist,
            nprobe=settings.ivf_nprobe,
            rerank_shortlist=settings.rerank_shortlist,
        )
        return MilvusIndex(directory, model_id, dim, milvus, lookup)
    raise ConfigError(f"unknown index backend {backend!r}")  # pragma: no cover - enum is closed
