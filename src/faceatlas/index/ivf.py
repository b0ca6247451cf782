"""Approximate search for large local atlases: FAISS IVF with SQ8/PQ codes plus exact re-ranking.

Life cycle:

* Until it holds ``train_min`` vectors the index keeps them exactly (``IDMap2,Flat``),
  so a small atlas gets exact answers and nothing is trained on too few points.
* Then it trains ``IVF<nlist>,<codes>`` on the atlas's own vectors (k-means for the
  coarse lists, the code books for SQ8/PQ) and moves every vector into it.
* When the index has grown past ``growth_factor`` times the size it was trained for,
  :meth:`needs_rebuild` turns true and the atlas rebuilds it from the catalog; the
  rebuild trains lists sized for the new count.

Searches scan ``nprobe`` lists over the compressed codes, take a shortlist and
re-rank it with the exact float32 vectors from a :data:`VectorLookup` (the catalog),
so reported similarities are exact and erased faces drop out. Deletes remove ids
from the inverted lists immediately.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from faceatlas.errors import FaceIndexError
from faceatlas.index.base import FaissIndexBase, faiss_hits
from faceatlas.index.protocol import Ids, IndexHit, IndexState, VectorLookup
from faceatlas.index.rerank import rerank, shortlist_size
from faceatlas.types import Vectors, record

__all__ = ["IvfIndex", "IvfOptions", "nlist_for"]

MIN_POINTS_PER_LIST = 39
"""FAISS's own floor: fewer training points per centroid than this gives poor lists."""
TRAIN_POINTS_PER_LIST = 48
"""Training sample size per list; more costs time and hardly moves the centroids."""
KMEANS_ITERATIONS = 10
PROBE_FRACTION_INVERSE = 8
"""Default scan: 1/8 of the lists (at 1M faces: recall of the mated face 0.996 of exact's,
see docs/scaling.md)."""
HNSW_QUANTIZER_FROM = 4096
"""From this many lists the coarse quantizer is an HNSW graph over the centroids, so that
assigning a vector to its list (on add and on search) does not scan every centroid."""
ADD_EF_SEARCH = 32
"""HNSW beam while assigning added vectors to their list (top-1 only)."""
PQ_MIN_TRAIN = 10_000
"""PQ code books have 256 centroids per sub-space and need about 39 x 256 points."""


@record
class IvfOptions:
    codes: str = "SQ8"
    """FAISS code spec after the lists: ``SQ8``, ``PQ16``, ``PQ32``, ``PQ64``."""
    nprobe: int | None = None
    """Lists scanned per query; ``None``: one in ``PROBE_FRACTION_INVERSE`` of the lists."""
    train_min: int = 20_000
    growth_factor: float = 4.0
    rerank_shortlist: int = 64
    seed: int = 1234


def nlist_for(n: int) -> int:
    """Inverted lists for ``n`` vectors: the power of two nearest ``2 sqrt(n)``, at most ``n/39``."""
    if n <= 0:
        return 1
    target = 2.0 * math.sqrt(n)
    nlist = 2 ** round(math.log2(max(target, 1.0)))
    return int(max(1, min(nlist, n // MIN_POINTS_PER_LIST)))


@dataclass(slots=True)
class _Plan:
    trained: bool = False
    nlist: int = 0
    trained_for: int = 0
    """Vector count the lists were sized for; past ``growth_factor`` times this, rebuild."""
    expected: int = 0
    """Size announced by the last reset (the count before it), used to size the lists."""


class IvfIndex(FaissIndexBase):
    """FAISS IVF + SQ8/PQ codes, exact re-ranking from ``lookup``, automatic (re)training.

    Files: ``<dir>/<model_id>.ivf.faiss`` and ``<dir>/<model_id>.ivf.json``.
    """

    suffix = ".ivf"

    def __init__(
        self,
        directory: Path,
        model_id: str,
        dim: int,
        options: IvfOptions | None = None,
        lookup: VectorLookup | None = None,
    ) -> None:
        super().__init__(directory, model_id, dim)
        self.options = options or IvfOptions()
        self.lookup = lookup
        self._plan = _Plan()
        self._load()

    @property
    def trained(self) -> bool:
        return self._plan.trained

    @property
    def nlist(self) -> int:
        return self._plan.nlist

    def _train_min(self) -> int:
        floor = PQ_MIN_TRAIN if self.options.codes.startswith("PQ") else 1
        return max(self.options.train_min, floor)

    # --- persistence ----------------------------------------------------------------

    def _load(self) -> None:
        saved = self._read_saved(state_key="state")
        if saved is None:
            return
        state, raw, index = saved
        if raw.get("codes") != self.options.codes:
            return  # built with other codes: rebuilt from the catalog
        try:
            plan = _Plan(**raw["plan"])
        except (TypeError, KeyError):
            return  # unreadable: treated as absent, and rebuilt from the catalog
        self._index = index
        self._plan = plan
        self._saved = state
        self._set_nprobe()

    def save(self, watermark: int) -> None:
        state = IndexState(self._model_id, self._dim, len(self), watermark)
        sidecar = {"state": asdict(state), "plan": asdict(self._plan), "codes": self.options.codes}
        self._write_saved(sidecar)
        self._saved = state

    # --- writes ---------------------------------------------------------------------

    def reset(self) -> None:
        """Drop every vector; the count held now sizes the lists of the rebuild that follows."""
        expected = max(len(self), self._plan.expected)
        self._index = self._fresh()
        self._plan = _Plan(expected=expected)

    def plan_for(self, count: int) -> None:
        """Announce that about ``count`` vectors are coming, so the lists are sized once for them."""
        self._plan.expected = max(self._plan.expected, count)

    def add(self, ids: Ids, vectors: Vectors) -> None:
        if len(ids) == 0:
            return
        vecs = self._checked_vectors(ids, vectors)
        with self._assigning():
            self._index.add_with_ids(vecs, np.ascontiguousarray(ids, dtype=np.int64))
        if not self._plan.trained:
            planned = max(len(self), self._plan.expected)
            nlist = nlist_for(planned)
            train_at = max(self._train_min(), min(planned, TRAIN_POINTS_PER_LIST * nlist))
            if len(self) >= train_at:
                self._train(planned)

    def _train(self, planned: int) -> None:
        """Train lists and codes on the exactly held vectors and move them into the IVF."""
        faiss = self._faiss
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        vecs = self._index.index.reconstruct_n(0, len(self))
        nlist = min(nlist_for(planned), max(1, len(ids) // MIN_POINTS_PER_LIST))
        ivf = faiss.index_factory(
            self._dim, _spec(nlist, self.options.codes), faiss.METRIC_INNER_PRODUCT
        )
        ivf.cp.niter = KMEANS_ITERATIONS
        ivf.cp.seed = self.options.seed
        if hasattr(ivf, "pq"):
            ivf.do_polysemous_training = False  # no Hamming filtering is used; it costs minutes
            ivf.pq.cp.niter = KMEANS_ITERATIONS
        sample_n = min(len(ids), max(TRAIN_POINTS_PER_LIST * nlist, self._train_min()))
        rng = np.random.default_rng(self.options.seed)
        sample = vecs[np.sort(rng.choice(len(ids), size=sample_n, replace=False))]
        ivf.train(sample)
        ivf.add_with_ids(vecs, ids)
        self._index = ivf
        self._plan = _Plan(trained=True, nlist=nlist, trained_for=planned, expected=planned)
        self._set_nprobe()

    @property
    def nprobe(self) -> int:
        """Lists scanned per query now (the setting, or 1/8 of the lists when unset)."""
        if self.options.nprobe is not None:
            return min(self.options.nprobe, max(1, self._plan.nlist))
        return max(1, self._plan.nlist // PROBE_FRACTION_INVERSE)

    def set_nprobe(self, nprobe: int) -> None:
        """Lists scanned per query from now on (a recall / latency trade; no rebuild needed)."""
        if nprobe < 1:
            raise FaceIndexError("nprobe must be at least 1")
        self.options = replace(self.options, nprobe=nprobe)
        self._set_nprobe()

    @contextmanager
    def _assigning(self) -> Iterator[None]:
        """Adding needs only each vector's nearest list, so an HNSW quantizer searches with a
        small beam meanwhile (a search's beam must cover ``nprobe`` lists: at 10M faces 2,048
        against 32, which made adding 10M vectors take tens of minutes)."""
        quantizer = (
            self._faiss.downcast_index(self._index.quantizer) if self._plan.trained else None
        )
        if quantizer is None or not hasattr(quantizer, "hnsw"):
            yield
            return
        quantizer.hnsw.efSearch = ADD_EF_SEARCH
        try:
            yield
        finally:
            self._set_nprobe()

    def _set_nprobe(self) -> None:
        if not self._plan.trained:
            return
        self._index.nprobe = self.nprobe
        quantizer = self._faiss.downcast_index(self._index.quantizer)
        if hasattr(quantizer, "hnsw"):
            quantizer.hnsw.efSearch = max(64, 2 * self.nprobe)

    # --- reads ----------------------------------------------------------------------

    def search(self, queries: Vectors, k: int) -> list[list[IndexHit]]:
        q = self._checked_queries(queries)
        if len(self) == 0 or k <= 0:
            return [[] for _ in range(q.shape[0])]
        if not self._plan.trained or self.lookup is None:
            return faiss_hits(*self._index.search(q, min(k, len(self))))
        fetch = min(shortlist_size(k, self.options.rerank_shortlist), len(self))
        _, ids = self._index.search(q, fetch)
        candidates = [[int(i) for i in row if i >= 0] for row in ids]
        return rerank(q, candidates, self.lookup, k)

    def needs_rebuild(self) -> bool:
        plan = self._plan
        return plan.trained and len(self) > plan.trained_for * self.options.growth_factor

    def stats(self) -> dict[str, Any]:
        n = len(self)
        if self._plan.trained:
            per_vector = int(self._index.code_size) + 8  # code + id in the inverted list
            fixed = self._plan.nlist * self._dim * 4 + _codec_bytes(self._index)
            spec = _spec(self._plan.nlist, self.options.codes)
        else:
            per_vector = self._dim * 4 + 8
            fixed = 0
            spec = "IDMap2,Flat (exact until trained)"
        return {
            "backend": "faiss-ivf",
            "spec": spec,
            "model_id": self._model_id,
            "dim": self._dim,
            "count": n,
            "trained": self._plan.trained,
            "nlist": self._plan.nlist,
            "nprobe": self.nprobe if self._plan.trained else None,
            "trained_for": self._plan.trained_for,
            "rerank": self.lookup is not None,
            "rerank_shortlist": self.options.rerank_shortlist,
            "bytes_per_vector": per_vector,
            "memory_bytes": n * per_vector + fixed,
        }


def _spec(nlist: int, codes: str) -> str:
    quantizer = "_HNSW32" if nlist >= HNSW_QUANTIZER_FROM else ""
    return f"IVF{nlist}{quantizer},{codes}"


def _codec_bytes(index: Any) -> int:
    pq = getattr(index, "pq", None)
    if pq is not None:
        return int(pq.M * pq.ksub * pq.dsub * 4)
    sq = getattr(index, "sq", None)
    if sq is not None:
        return int(sq.trained.size() * 4)
    return 0
