"""One embedding per dataset photo, cached on disk and computed in parallel.

Evaluation photos hold one subject. The face used is the detection nearest
the image centre; when the detector finds none, the centred box that the
dataset documents (LFW photos are centred on the face) is used instead, and
the fallback is counted in the results.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from faceatlas.choices import EngineName, InferencePrecision, InferenceRuntime
from faceatlas.engine import EngineSpec, FaceEngine, create_engine, decode_image
from faceatlas.errors import FaceAtlasError
from faceatlas.types import Box, Vectors, record

__all__ = ["EmbeddingSet", "StatusCounts", "default_cache_dir", "embed_photos"]

STATUS_DETECTED = 0
STATUS_FALLBACK = 1
STATUS_FAILED = 2
CACHE_REVISION = 2
"""Bumped whenever the embedding of a photo would change, so stale caches are not reused."""
ENGINE_REVISIONS = {EngineName.SFACE: 3}
"""The same per engine (SFace 2: a second look, at 640 px, on a padded canvas when YuNet finds
no face; 3: then looks at turned copies, :mod:`faceatlas.engine.second_looks`)."""
CENTRE_FRACTION = 0.44
"""Side of the fallback box as a fraction of the shorter image side (LFW: 110 of 250 px)."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("FACEATLAS_CACHE_DIR", Path.home() / ".cache" / "faceatlas"))


class StatusCounts:
    """How many photos of a record with a per-photo ``status`` array were embedded from the
    centred-box fallback, and how many were unreadable."""

    __slots__ = ()
    status: np.ndarray

    @property
    def fallback_count(self) -> int:
        return int((self.status == STATUS_FALLBACK).sum())

    @property
    def failed_count(self) -> int:
        return int((self.status == STATUS_FAILED).sum())


@record
class EmbeddingSet(StatusCounts):
    """``vectors[i]`` (unit norm, float32 ``(n, dim)``) belongs to ``paths[i]``.

    ``status[i]``: 0 detected, 1 centred-box fallback, 2 unreadable (zero vector).
    """

    paths: tuple[str, ...]
    vectors: Vectors
    status: np.ndarray

    def lookup(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.paths)}


def _embed_one(engine: FaceEngine, path: str) -> tuple[np.ndarray, int]:
    try:
        image = decode_image(Path(path).read_bytes(), max_pixels=40_000_000).pixels
    except (OSError, FaceAtlasError):
        return np.zeros(engine.dim, dtype=np.float32), STATUS_FAILED
    height, width = image.shape[:2]
    cx, cy = width / 2.0, height / 2.0
    faces = engine.detect(image)
    status = STATUS_DETECTED
    if faces:
        face = min(faces, key=lambda f: (f.box.center[0] - cx) ** 2 + (f.box.center[1] - cy) ** 2)
    else:
        half = CENTRE_FRACTION * min(width, height) / 2.0
        box = Box(int(cx - half), int(cy - half), int(cx + half), int(cy + half))
        face = engine.locate(image, box)
        status = STATUS_FALLBACK
    vector = engine.embed_chips([engine.align(image, face)])[0]
    return vector, status


class _Worker:
    engine: FaceEngine | None = None


def _init(spec: EngineSpec) -> None:
    _Worker.engine = create_engine(spec)
    _Worker.engine.load()


def _work(paths: list[str]) -> list[tuple[np.ndarray, int]]:
    assert _Worker.engine is not None
    return [_embed_one(_Worker.engine, p) for p in paths]


def _cache_file(cache_dir: Path, spec: EngineSpec, model_id: str, paths: Sequence[str]) -> Path:
    key = f"{CACHE_REVISION}|{model_id}|{spec.engine}|{spec.detector}|{spec.upsample}|{spec.min_face_px}"
    if spec.engine in ENGINE_REVISIONS:
        key += f"|{ENGINE_REVISIONS[spec.engine]}"
    if spec.inference_runtime is not InferenceRuntime.ONNXRUNTIME:
        key += f"|{spec.inference_runtime}"
    if spec.inference_precision is not InferencePrecision.FP32:
        key += f"|{spec.inference_precision}"  # keys of the default runtime stay as they were
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir / "embeddings" / f"{model_id}-{digest}.npz"


def embed_photos(
    paths: Sequence[Path],
    spec: EngineSpec,
    *,
    workers: int = 1,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EmbeddingSet:
    """Embeddings for ``paths``, reusing and extending the on-disk cache."""
    engine = create_engine(spec)
    wanted = [str(p.resolve()) for p in paths]
    cache = _cache_file(cache_dir or default_cache_dir(), spec, engine.model_id, wanted)
    known: dict[str, tuple[np.ndarray, int]] = {}
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            for p, v, s in zip(
                data["paths"].tolist(), data["vectors"], data["status"], strict=True
            ):
                known[str(p)] = (v, int(s))
    todo = [p for p in dict.fromkeys(wanted) if p not in known]
    chunk = 32
    batches = [todo[i : i + chunk] for i in range(0, len(todo), chunk)]

    def save() -> None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        keys = list(known)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")  # runs side by side never share it
        np.savez(
            tmp,
            paths=np.asarray(keys),
            vectors=np.stack([known[k][0] for k in keys]).astype(np.float32),
            status=np.asarray([known[k][1] for k in keys], dtype=np.int8),
        )
        os.replace(tmp, cache)

    done = 0
    if batches:
        with ExitStack() as stack:
            results: Iterable[list[tuple[np.ndarray, int]]]
            if workers <= 1:
                engine.load()
                results = ([_embed_one(engine, p) for p in b] for b in batches)
            else:
                pool = stack.enter_context(
                    ProcessPoolExecutor(
                        workers,
                        mp_context=get_context("spawn"),
                        initializer=_init,
                        initargs=(spec,),
                    )
                )
                results = pool.map(_work, batches)
            for i, (batch, out) in enumerate(zip(batches, results, strict=True)):
                known.update(zip(batch, out, strict=True))
                done += len(batch)
                if progress:
                    progress(done, len(todo))
                if i % 50 == 49:
                    save()
        save()
    return EmbeddingSet(
        paths=tuple(wanted),
        vectors=np.stack([known[p][0] for p in wanted]).astype(np.float32)
        if wanted
        else np.zeros((0, engine.dim), np.float32),
        status=np.asarray([known[p][1] for p in wanted], dtype=np.int8),
    )
