"""Milvus as the vector engine: Milvus Lite inside the atlas folder, or a Milvus server/cluster.

One collection per embedding model (``<prefix>_<model id>``, see :func:`collection_name`)
with two fields, the int64 face id (primary key) and the float vector, searched by inner
product; its description names the model, and a collection of another model or dimension is
refused. Only ids not stored yet are inserted, so replaying a batch after a crash cannot
duplicate an id (an upsert would also delete each id, which on a server makes Milvus compact
and re-index every segment). Counts and lookups ask for ``Strong`` consistency (every write
acknowledged before them, by any process); searches for ``Session`` (this process's writes),
and ``Strong`` for the first one after each sync, which is when another process's writes
become the atlas's. The saved :class:`IndexState` (catalog watermark) sits beside the atlas in
a small JSON file, read again by :meth:`MilvusIndex.state`, because on a server the collection
is shared: a process sees the state another one saved with its writes. The atlas compares it
and the live count with the catalog and rebuilds when they disagree. With an approximate
Milvus index type, the shortlist is re-ranked with the catalog's exact vectors like the FAISS
IVF backend; an existing collection whose index differs from the settings is re-indexed.
"""

from __future__ import annotations

import hashlib
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
CONSISTENCY = "Strong"
"""Counts and the erasure's lookup, and the first search after a sync, see every write
acknowledged before them, by any process (a server waits up to a time tick, 200 ms by default)."""
SEARCH_CONSISTENCY = "Session"
"""Other searches, and the check for stored ids before an insert, see this process's own
writes; another process's reach them once a sync (:meth:`MilvusIndex.state`) has seen them
saved, and in any case within a time tick."""
DESCRIPTION = "faceatlas model_id={model_id} dim={dim}"
EVERY_ID = f"{ID_FIELD} >= {-(2**63) + 1}"
"""A filter matching every id (Milvus cannot parse the int64 minimum itself)."""


@record
class MilvusOptions:
    uri: str
    """``http://host:19530`` for a server or cluster; a local path for Milvus Lite."""
    token: str | None = None
    collection_prefix: str = "faceatlas"
    index_type: str = "FLAT"
    nlist: int = 1024
    nprobe: int | None = None
    """Lists scanned per query by IVF index types; ``None``: half of them. SFace's embeddings
    need it: at 1M faces on a server, half the lists (of 1024 per segment) found 0.996 of the
    hits above the search threshold that exact search finds, one in 8 only 0.94
    (``benchmarks/milvus_scale.py``, docs/scaling.md)."""
    rerank_shortlist: int = 64

    @property
    def is_lite(self) -> bool:
        return not re.match(r"^(https?|tcp|unix)://", self.uri)


def collection_name(prefix: str, model_id: str) -> str:
    """``<prefix>_<model id>``; characters Milvus refuses become ``_`` and a short digest of the
    exact model id is appended, so ids that differ only there (``a-b``, ``a.b``) stay apart."""
    safe = re.sub(r"[^A-Za-z0-9_]", "_", model_id)
    if safe == model_id:
        return f"{prefix}_{safe}"
    return f"{prefix}_{safe}_{hashlib.sha256(model_id.encode()).hexdigest()[:8]}"


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
        self._strong_search = True
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
        from pymilvus import DataType, MilvusException

        client = self._client
        if client.has_collection(self.collection):
            self._check_collection(client.describe_collection(self.collection))
            self._ensure_index()
            client.load_collection(self.collection)
            return
        schema = client.create_schema(
            auto_id=False,
            enable_dynamic_field=False,
            description=DESCRIPTION.format(model_id=self._model_id, dim=self._dim),
        )
        schema.add_field(ID_FIELD, DataType.INT64, is_primary=True)
        schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=self._dim)
        try:
            client.create_collection(
                self.collection,
                schema=schema,
                index_params=self._index_params(),
                consistency_level=CONSISTENCY,
            )
        except MilvusException:
            if not client.has_collection(self.collection):  # else another process made it
                raise
        client.load_collection(self.collection)

    def _check_collection(self, description: dict[str, Any]) -> None:
        """Refuse a collection of another dimension, or made for another model."""
        dim = _collection_dim(description)
        if dim is not None and dim != self._dim:
            raise ModelMismatchError(
                f"Milvus collection {self.collection} holds {dim}-d vectors, expected {self._dim}-d"
            )
        made_for = re.match(r"faceatlas model_id=(\S+) ", str(description.get("description", "")))
        if made_for is not None and made_for.group(1) != self._model_id:
            raise ModelMismatchError(
                f"Milvus collection {self.collection} holds {made_for.group(1)} vectors, "
                f"expected {self._model_id}"
            )

    def _index_params(self) -> Any:
        params = self._client.prepare_index_params()
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
        return params

    def _ensure_index(self) -> None:
        """Build the index the settings ask for when the collection has another (or none)."""
        from pymilvus import MilvusException

        client = self._client
        try:
            current = client.describe_index(self.collection, VECTOR_FIELD) or {}
        except MilvusException:  # raised when the collection has no index at all
            current = {}
        wanted_nlist = (
            str(self.options.nlist) if self.options.index_type.startswith("IVF") else None
        )
        if (
            current.get("index_type") == self.options.index_type
            and current.get("metric_type") == "IP"
            and (wanted_nlist is None or str(current.get("nlist")) == wanted_nlist)
        ):
            return
        log.info(
            "re-indexing Milvus collection %s: %s -> %s",
            self.collection,
            current.get("index_type"),
            self.options.index_type,
        )
        client.release_collection(self.collection)
        if current:
            client.drop_index(self.collection, current.get("index_name", VECTOR_FIELD))
        client.create_index(self.collection, self._index_params())

    # --- state ----------------------------------------------------------------------

    def state(self) -> IndexState | None:
        """The state last saved by any process (on a server the collection is shared). The
        next search waits for every write acknowledged before it (``Strong``)."""
        self._saved = self._load_state()
        self._strong_search = True
        return self._saved

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
        if self.options.is_lite:
            self._client.flush(self.collection)  # Lite persists on flush; a server's log is durable
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
        rows = self._client.query(
            self.collection,
            filter="",
            output_fields=["count(*)"],
            consistency_level=CONSISTENCY,
        )
        return int(rows[0]["count(*)"])

    def reset(self) -> None:
        """Delete every vector; the collection, its index and its load stay (loading a new
        collection takes a server seconds). Dropped and made again if anything is left."""
        self._client.delete(self.collection, filter=EVERY_ID)
        if len(self) != 0:
            self._client.drop_collection(self.collection)
            self._ensure_collection()

    def add(self, ids: Ids, vectors: Vectors) -> None:
        """Insert the ids not stored yet. An id names one catalog embedding for good (ids are
        never reused), so a stored id already holds this vector: a replayed batch adds nothing.
        (An upsert would also delete every id it writes, and on a server those deletes make
        Milvus compact and re-index every segment they touch.)"""
        if len(ids) == 0:
            return
        vecs = self._checked_vectors(ids, vectors)
        id_list = [int(i) for i in ids]
        for start in range(0, len(id_list), WRITE_BATCH):
            chunk = id_list[start : start + WRITE_BATCH]
            stored = self._stored(chunk, SEARCH_CONSISTENCY)
            rows = [
                {ID_FIELD: i, VECTOR_FIELD: v}
                for i, v in zip(chunk, vecs[start : start + WRITE_BATCH], strict=True)
                if i not in stored
            ]  # numpy rows: pymilvus packs their bytes, a third less client time than lists
            if rows:
                self._client.insert(self.collection, rows)

    def _stored(self, chunk: list[int], consistency: str) -> set[int]:
        """Which of ``chunk`` the collection holds."""
        found = self._client.query(
            self.collection,
            filter=f"{ID_FIELD} in {chunk}",
            output_fields=[ID_FIELD],
            consistency_level=consistency,
        )
        return {int(row[ID_FIELD]) for row in found}

    def remove(self, ids: Ids) -> int:
        if len(ids) == 0:
            return 0
        id_list = [int(i) for i in ids]
        present = 0
        for start in range(0, len(id_list), WRITE_BATCH):
            chunk = id_list[start : start + WRITE_BATCH]
            present += len(self._stored(chunk, CONSISTENCY))
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
            params["params"]["nprobe"] = self.options.nprobe or max(1, self.options.nlist // 2)
        if self.options.index_type == "HNSW":
            params["params"]["ef"] = max(fetch, 64)
        result = self._client.search(
            self.collection,
            data=q.tolist(),
            limit=min(fetch, MAX_LIMIT),
            anns_field=VECTOR_FIELD,
            search_params=params,
            output_fields=[ID_FIELD],
            consistency_level=CONSISTENCY if self._strong_search else SEARCH_CONSISTENCY,
        )
        self._strong_search = False
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
