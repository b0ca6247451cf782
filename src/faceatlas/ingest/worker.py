"""The per-item work of ingestion (decode, detect, align, embed), run in-process or in workers."""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import field
from multiprocessing import get_context
from typing import Protocol

from faceatlas.engine import EngineSpec, FaceEngine, analyze_faces, create_engine, decode_image
from faceatlas.engine.clip import ClipFacts, analyze_clip
from faceatlas.engine.video import VideoLimits, looks_like_video
from faceatlas.errors import FaceAtlasError
from faceatlas.types import AnalyzedFace, record

__all__ = ["Analysis", "AnalysisLimits", "Analyzer", "make_executor", "outcome"]


@record
class AnalysisLimits:
    max_pixels: int
    max_file_bytes: int
    thumbnail_px: int
    video: VideoLimits = field(default_factory=VideoLimits)


@record
class Analysis:
    """The outcome for one image or video: its size and faces (a video's: one per face
    track, with ``video`` telling what its analysis covered), or a failure code and message."""

    width: int = 0
    height: int = 0
    format: str = ""
    faces: tuple[AnalyzedFace, ...] = ()
    error_code: str | None = None
    error_message: str | None = None
    video: ClipFacts | None = None


class Analyzer:
    """Bytes in, :class:`Analysis` out. Never raises for bad input."""

    def __init__(self, engine: FaceEngine, limits: AnalysisLimits) -> None:
        self.engine = engine
        self.limits = limits

    def __call__(self, data: bytes) -> Analysis:
        try:
            if looks_like_video(data[:16]):
                return self._video(data)
            image = decode_image(
                data, max_pixels=self.limits.max_pixels, max_bytes=self.limits.max_file_bytes
            )
            faces = analyze_faces(self.engine, image.pixels, thumbnail_px=self.limits.thumbnail_px)
        except FaceAtlasError as exc:
            return Analysis(error_code=exc.code, error_message=exc.message)
        except Exception as exc:
            return Analysis(
                error_code="internal_error", error_message=f"{type(exc).__name__}: {exc}"
            )
        return Analysis(image.width, image.height, image.format, tuple(faces))

    def _video(self, data: bytes) -> Analysis:
        """A video: one face per face track (:mod:`faceatlas.engine.clip`)."""
        clip = analyze_clip(
            self.engine, data, self.limits.video, thumbnail_px=self.limits.thumbnail_px
        )
        faces = tuple(t.face for t in clip.tracks)
        return Analysis(clip.width, clip.height, clip.format, faces, video=clip.facts)


def outcome(future: Future[Analysis]) -> Analysis:
    """The analysis a future holds; ``worker_crashed`` when its worker process died."""
    try:
        return future.result()
    except BrokenProcessPool:
        return Analysis(
            error_code="worker_crashed", error_message="the worker process died on this item"
        )


class Executor(Protocol):
    def submit(self, data: bytes) -> Future[Analysis]: ...

    def close(self) -> None: ...


class _InlineExecutor:
    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def submit(self, data: bytes) -> Future[Analysis]:
        future: Future[Analysis] = Future()
        future.set_result(self.analyzer(data))
        return future

    def close(self) -> None:
        return None


class _WorkerState:
    """The analyzer of one worker process, built by the pool initializer."""

    analyzer: Analyzer | None = None


def _init_worker(spec: EngineSpec, limits: AnalysisLimits) -> None:
    import cv2

    cv2.setNumThreads(0)  # one worker process per core: OpenCV runs in the calling thread
    engine = create_engine(spec)
    engine.load()
    _WorkerState.analyzer = Analyzer(engine, limits)


def _analyze_in_worker(data: bytes) -> Analysis:
    analyzer = _WorkerState.analyzer
    if analyzer is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("worker used before initialisation")
    return analyzer(data)


class _PoolExecutor:
    """Spawned worker processes; a pool broken by a crashing worker is replaced."""

    def __init__(self, spec: EngineSpec, limits: AnalysisLimits, workers: int) -> None:
        self.spec = spec
        self.limits = limits
        self.workers = workers
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.spec, self.limits),
        )

    def submit(self, data: bytes) -> Future[Analysis]:
        try:
            return self.pool.submit(_analyze_in_worker, data)
        except BrokenProcessPool:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
            return self.pool.submit(_analyze_in_worker, data)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def make_executor(
    spec: EngineSpec, limits: AnalysisLimits, workers: int, engine: FaceEngine | None = None
) -> Executor:
    """An in-process executor for one worker, else a pool of spawned processes."""
    if workers <= 1:
        return _InlineExecutor(Analyzer(engine or create_engine(spec), limits))
    return _PoolExecutor(spec, limits, workers)
