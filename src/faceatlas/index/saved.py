"""A saved FAISS index's sidecar, read without FAISS or NumPy: what the index holds (model,
dimension, count, the catalog watermark it was saved at), and the flat index's figures.

The sidecar is written with the index file (:func:`faceatlas.index.files.write_index_files`)
and read back here as it was written; an index whose sidecar says it is in step with the
catalog holds what the catalog's embeddings of its model are, which is how ``faceatlas stats``
reports an index without loading it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FLAT_SPEC",
    "INDEX_DIR",
    "SavedState",
    "flat_stats",
    "in_step",
    "saved_state",
    "state_file",
]

INDEX_DIR = "index"
"""The index's folder in an atlas folder."""
FLAT_SPEC = "IDMap2,Flat"


def state_file(directory: Path, model_id: str, suffix: str = "") -> Path:
    """The sidecar of ``model_id``'s index (``suffix``: the backend's) in ``directory``."""
    return directory / f"{model_id}{suffix}.json"


# A plain frozen dataclass, not faceatlas.types.record: that module imports NumPy.
@dataclass(frozen=True, slots=True)
class SavedState:
    """What a saved index's sidecar says it holds (:class:`~faceatlas.index.IndexState`)."""

    model_id: str
    dim: int
    count: int
    watermark: int


def saved_state(directory: Path, model_id: str, suffix: str = "") -> SavedState | None:
    """The state a flat index of ``model_id`` was saved with, when both its files are there
    and the sidecar reads; ``None`` otherwise."""
    path = state_file(directory, model_id, suffix)
    if not (path.is_file() and path.with_suffix(".faiss").is_file()):
        return None
    try:
        raw = json.loads(path.read_text())
        return SavedState(
            str(raw["model_id"]), int(raw["dim"]), int(raw["count"]), int(raw["watermark"])
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None


def in_step(held: tuple[int, int] | None, catalog: tuple[int, int], *, dirty: bool) -> bool:
    """Whether an index that ``held`` ``(count, watermark)`` (``None``: nothing saved) holds
    exactly the catalog's embeddings, ``catalog`` ``(count, highest id)`` of its model, and
    no erasure left it dirty: then it needs no catch-up nor rebuild."""
    return not dirty and held is not None and held[1] == catalog[1] and held[0] == catalog[0]


def flat_stats(model_id: str, dim: int, count: int) -> dict[str, Any]:
    """The flat index's figures (:meth:`~faceatlas.index.FlatIndex.stats`) when it holds
    ``count`` vectors of ``dim`` dimensions: a float32 vector and an int64 id each."""
    return {
        "backend": "faiss-flat",
        "spec": FLAT_SPEC,
        "model_id": model_id,
        "dim": dim,
        "count": count,
        "bytes_per_vector": dim * 4 + 8,
        "memory_bytes": count * (dim * 4 + 8),
    }
