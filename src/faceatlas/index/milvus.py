"""Milvus as the vector engine: Milvus Lite inside the atlas folder, or a Milvus cluster.

One collection per embedding model (``<prefix>_<model id>``) with two fields, the
int64 face id (primary key) and the float vector, searched by inner product. Writes
are upserts, so replaying a batch after a crash cannot duplicate an id. The
saved :class:`IndexState` (catalog watermark) sits beside the atlas in a small JSON
file; the atlas compares it and the live count with the catalog on open and
rebuilds when they disagree. With an approximate Milvus index type, the shortlist
is re-ranked with the catalog's exact vectors like the FAISS IVF backend.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from faceatlas.errors import ConfigError, FaceIndexError, ModelMismatchError
from faceatlas.index.base import IndexBase
from faceatlas.index.protocol import Ids, IndexHit, IndexState, VectorLookup
from faceatlas.index.rerank import rerank, shortlist_size
from faceatlas.types import Vectors, record

__all__ = ["MilvusIndex", "MilvusOptions", "collection_name"]

log = logging.getLogger(__name__)

ID_FIELD = "id"
VECTOR_FIELD = "vector"
WRITE_BATCH = 5_000
MAX_LIMIT = 16_384
"""Milvus caps ``limit`` (top-k) per search."""


@record
class MilvusOptions:
    uri: str
    """``http://host:19530`` for a server or cluster; a local path for Milvus Lite."""
    token: str | None = None
    collection_prefix: str = "faceatlas"
    index_type: str = "FLAT"
    nlist: int = 1024
    nprobe: int | None = None
    """Lists scanned per query by IVF index types; ``None``: one in 8."""
    rerank_shortlist: int = 64

    @property
    def is_lite(self) -> bool:
        return not re.match(r"^(https?|tcp|unix)://", self.uri)


def collection_name(prefix: str, model_id: str) -> str:
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', model_id)}"


class MilvusIndex(IndexBase):
    """The :class:`VectorIndex` protocol over one Milvus collection."""

    def __init__(
        self,
        state_dir: Path,
        model_id: str,
        dim: int,
        options: MilvusOptions,
        lookup: VectorLookup | None = None,
    ) -> None:
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise ConfigError("the milvus backend needs the pymilvus package") from exc
        super().__init__(model_id, dim)
        self.state_dir = state_dir
        self.options = options
        self.lookup = lookup
        self.collection = collection_name(options.collection_prefix, model_id)
        if options.is_lite:
            Path(options.uri).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._client: Any = MilvusClient(uri=options.uri, token=options.token or "")
        except Exception as exc:
            raise FaceIndexError(f"cannot connect to Milvus at {self._safe_uri()}: {exc}") from exc
        self._closed = False
        self._ensure_collection()
        self._saved = self._load_state()

    @property
    def state_path(self) -> Path:
        return self.state_dir / f"{self._model_id}.milvus.json"

    def _safe_uri(self) -> str:
        return re.sub(r"//[^@/]*@", "//***@", self.options.uri)

    def _state_uri(self) -> str:
        """Where the vectors live, as recorded in the state (Lite: relative, so a copy still matches)."""
        if self.options.is_lite:
            return f"lite:{Path(self.options.uri).name}"
        return self._safe_uri()

    def _approximate(self) -> bool:
        return self.options.index_type != "FLAT"

    # --- collection -----------------------------------------------------------------

    def _ensure_collection(self) -> None:
        from pymilvus import DataType

        client = self._client
        if client.has_collection(self.collection):
            dim = _collection_dim(client.describe_collection(self.collection))
            if dim is not None and dim != self._dim:
                raise ModelMismatchError(
                    f"Milvus collection {self.collection} holds {dim}-d vectors, "
                    f"expected {self._dim}-d"
                )
            client.load_collection(self.collection)
            return
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(ID_FIELD, DataType.INT64, is_primary=True)
        schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=self._dim)
        params = client.prepare_index_params()
        index_params: dict[str, Any] = {}
        if self.options.index_type.startswith("IVF"):
            index_params["nlist"] = self.options.nlist
        if self.options.index_type == "IVF_PQ":
            index_params.update(m=max(1, self._dim // 4), nbits=8)
        if self.options.index_type == "HNSW":
            index_params.update(M=16, efConstruction=200)
        params.add_index(
            field_name=VECTOR_FIELD,
            index_type=self.options.index_type,
            metric_type="IP",
            params=index_params,
        )
        client.create_collection(
            self.collection, schema=schema, index_params=params, consistency_level="Strong"
        )
        client.load_collection(self.collection)

    # --- state ----------------------------------------------------------------------

    def _load_state(self) -> IndexState | None:
        try:
            raw = json.loads(self.state_path.read_text())
            state = IndexState(**raw["state"])
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if raw.get("collection") != self.collection or raw.get("uri") != self._state_uri():
            return None
        self._check_saved(state, self.state_path)
        return state

    def save(self, watermark: int) -> None:
        self._client.flush(self.collection)
        state = IndexState(self._model_id, self._dim, len(self), watermark)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".json.tmp")
        tmp.write_text(
            json.dumps(
                {"state": asdict(state), "collection": self.collection, "uri": self._state_uri()}
            )
        )
        os.replace(tmp, self.state_path)
        self._saved = state

    # --- writes ---------------------------------------------------------------------

    def __len__(self) -> int:
        rows = self._client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def reset(self) -> None:
        self._client.drop_collection(self.collection)
        self._ensure_collection()

    def add(self, ids: Ids, vectors: Vectors) -> None:
        if len(ids) == 0:
            return
        vecs = self._checked_vectors(ids, vectors)
        id_list = [int(i) for i in ids]
        for start in range(0, len(id_list), WRITE_BATCH):
            rows = [
                {ID_FIELD: i, VECTOR_FIELD: v}
                for i, v in zip(
                    id_list[start : start + WRITE_BATCH],
                    vecs[start : start + WRITE_BATCH].tolist(),
                    strict=True,
                )
            ]
            self._client.upsert(self.collection, rows)

    def remove(self, ids: Ids) -> int:
        if len(ids) == 0:
            return 0
        id_list = [int(i) for i in ids]
        present = 0
        for start in range(0, len(id_list), WRITE_BATCH):
            chunk = id_list[start : start + WRITE_BATCH]
            found = self._client.query(
                self.collection, filter=f"{ID_FIELD} in {chunk}", output_fields=[ID_FIELD]
            )
            present += len(found)
            self._client.delete(self.collection, ids=chunk)
        return present

    # --- reads ----------------------------------------------------------------------

    def search(self, queries: Vectors, k: int) -> list[list[IndexHit]]:
        q = self._checked_queries(queries)
        if k <= 0 or q.shape[0] == 0:
            return [[] for _ in range(q.shape[0])]
        rerank_it = self._approximate() and self.lookup is not None
        fetch = shortlist_size(k, self.options.rerank_shortlist) if rerank_it else k
        params: dict[str, Any] = {"metric_type": "IP", "params": {}}
        if self.options.index_type.startswith("IVF"):
            params["params"]["nprobe"] = self.options.nprobe or max(1, self.options.nlist // 8)
        if self.options.index_type == "HNSW":
            params["params"]["ef"] = max(fetch, 64)
        result = self._client.search(
            self.collection,
            data=q.tolist(),
            limit=min(fetch, MAX_LIMIT),
            anns_field=VECTOR_FIELD,
            search_params=params,
            output_fields=[ID_FIELD],
        )
        raw = [[(int(h["id"]), float(h["distance"])) for h in row] for row in result]
        if rerank_it and self.lookup is not None:
            return rerank(q, [[i for i, _ in row] for row in raw], self.lookup, k)
        return [[IndexHit(i, s) for i, s in row[:k]] for row in raw]

    def needs_rebuild(self) -> bool:
        return False  # Milvus builds and compacts its own segment indexes

    def stats(self) -> dict[str, Any]:
        return {
            "backend": "milvus-lite" if self.options.is_lite else "milvus",
            "spec": self.options.index_type,
            "uri": self._safe_uri(),
            "collection": self.collection,
            "model_id": self._model_id,
            "dim": self._dim,
            "count": len(self),
            "rerank": self._approximate() and self.lookup is not None,
            "bytes_per_vector": _bytes_per_vector(self.options.index_type, self._dim),
        }

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._client.close()
        finally:
            if self.options.is_lite:
                _release_lite(self.options.uri)


def _collection_dim(description: dict[str, Any]) -> int | None:
    for field in description.get("fields", []):
        if field.get("name") == VECTOR_FIELD:
            dim = field.get("params", {}).get("dim")
            return None if dim is None else int(dim)
    return None


def _bytes_per_vector(index_type: str, dim: int) -> int:
    """Approximate index bytes per vector held by the query nodes (codes + int64 id)."""
    codes = {"IVF_SQ8": dim, "IVF_PQ": dim // 4, "HNSW": dim * 4 + 2 * 16 * 4}
    return codes.get(index_type, dim * 4) + 8


def _release_lite(uri: str) -> None:
    """Stop this process's Milvus Lite server for ``uri`` so its files are closed and complete."""
    try:
        from milvus_lite.server_manager import server_manager_instance
    except ImportError:  # pragma: no cover - older milvus-lite
        return
    server_manager_instance.release_server(uri)
    log.debug("released Milvus Lite at %s", uri)
