"""The per-item work of ingestion (decode, detect, align, embed), run in-process or in workers.

Executors take items one at a time and analyse them in groups of up to ``group`` images: the
faces of a group go through the recognizer in one batch (cheaper per face on runtimes that
batch, :mod:`faceatlas.engine.openvino_runtime`), and a worker process is sent a group at a
time. A group is sent when it is full or when :meth:`Executor.flush` says no more items are
coming for now; each item still gets its own future and its own outcome.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import field
from multiprocessing import get_context
from typing import Protocol, TypeVar

from faceatlas.config_inference import ANALYSIS_GROUP
from faceatlas.engine import (
    EngineSpec,
    FaceEngine,
    analyze_faces,
    analyze_images,
    create_engine,
    decode_image,
)
from faceatlas.engine.clip import ClipFacts, analyze_clip
from faceatlas.engine.decode import DecodedImage
from faceatlas.engine.video import VideoLimits, looks_like_video
from faceatlas.errors import FaceAtlasError
from faceatlas.types import AnalyzedFace, RGBImage, record

__all__ = [
    "Analysis",
    "AnalysisLimits",
    "Analyzer",
    "Executor",
    "GroupingExecutor",
    "RecoveringExecutor",
    "analyze_in_worker",
    "crashed",
    "init_worker",
    "make_executor",
    "outcome",
]

_T = TypeVar("_T")


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
        return self._guarded(self._one, data)

    def many(self, items: Sequence[bytes]) -> list[Analysis]:
        """The analysis of each of ``items``, in order; the faces of all the images among them
        embedded in one batch. Images are decoded one at a time. One bad item fails alone."""
        out: dict[int, Analysis] = {}
        decoded: list[tuple[int, int, int, str]] = []  # item, width, height, format

        def images() -> Iterator[RGBImage]:
            for i, data in enumerate(items):
                if looks_like_video(data[:16]):
                    out[i] = self._guarded(self._video, data)
                    continue
                try:
                    image = self._decode(data)
                except Exception as exc:
                    out[i] = _failure(exc)
                    continue
                decoded.append((i, image.width, image.height, image.format))
                yield image.pixels

        try:
            found = analyze_images(self.engine, images(), thumbnail_px=self.limits.thumbnail_px)
        except Exception:  # one image broke the shared step: each alone, so the rest still land
            return [out[i] if i in out else self(data) for i, data in enumerate(items)]
        for (i, width, height, format), faces in zip(decoded, found, strict=True):
            out[i] = Analysis(width, height, format, tuple(faces))
        return [out[i] for i in range(len(items))]

    def _guarded(self, analyse: Callable[[_T], Analysis], item: _T) -> Analysis:
        try:
            return analyse(item)
        except Exception as exc:
            return _failure(exc)

    def _decode(self, data: bytes) -> DecodedImage:
        return decode_image(
            data, max_pixels=self.limits.max_pixels, max_bytes=self.limits.max_file_bytes
        )

    def _one(self, data: bytes) -> Analysis:
        if looks_like_video(data[:16]):
            return self._video(data)
        return self._faces_of(self._decode(data))

    def _faces_of(self, image: DecodedImage) -> Analysis:
        faces = analyze_faces(self.engine, image.pixels, thumbnail_px=self.limits.thumbnail_px)
        return Analysis(image.width, image.height, image.format, tuple(faces))

    def _video(self, data: bytes) -> Analysis:
        """A video: one face per face track (:mod:`faceatlas.engine.clip`)."""
        clip = analyze_clip(
            self.engine, data, self.limits.video, thumbnail_px=self.limits.thumbnail_px
        )
        faces = tuple(t.face for t in clip.tracks)
        return Analysis(clip.width, clip.height, clip.format, faces, video=clip.facts)


def _failure(exc: Exception) -> Analysis:
    if isinstance(exc, FaceAtlasError):
        return Analysis(error_code=exc.code, error_message=exc.message)
    return Analysis(error_code="internal_error", error_message=f"{type(exc).__name__}: {exc}")


def crashed() -> Analysis:
    """The outcome of an image that took its worker process down with it."""
    return Analysis(
        error_code="worker_crashed", error_message="the worker process died on this item"
    )


def outcome(future: Future[Analysis]) -> Analysis:
    """The analysis a future holds; ``worker_crashed`` when its worker process died."""
    try:
        return future.result()
    except BrokenProcessPool:
        return crashed()


Held = list[tuple[bytes, "Future[Analysis]"]]
"""Items of a group and the futures their analyses go to."""


class Executor(Protocol):
    def submit(self, data: bytes) -> Future[Analysis]: ...

    def flush(self) -> None:
        """Send the items held for a group now (no more are coming for the moment)."""

    def close(self) -> None: ...


class GroupingExecutor:
    """Holds submitted items until ``group`` of them (or a :meth:`flush`), then sends them
    together through :meth:`send`."""

    def __init__(self, group: int) -> None:
        self.group = max(1, group)
        self._held: Held = []

    def submit(self, data: bytes) -> Future[Analysis]:
        future: Future[Analysis] = Future()
        self._held.append((data, future))
        if len(self._held) >= self.group:
            self.flush()
        return future

    def flush(self) -> None:
        held, self._held = self._held, []
        if held:
            self.send(held)

    def send(self, held: Held) -> None:  # pragma: no cover - every executor defines it
        raise NotImplementedError

    def close(self) -> None:
        return None


def settle(held: Held, done: Future[list[Analysis]]) -> None:
    """Each held item's future gets its analysis from its group's result ``done``, or the
    group's error."""
    try:
        analyses = done.result()
    except BaseException as exc:
        for _, future in held:
            future.set_exception(exc)
        return
    for (_, future), analysis in zip(held, analyses, strict=True):
        future.set_result(analysis)


class _InlineExecutor(GroupingExecutor):
    def __init__(self, analyzer: Analyzer, group: int) -> None:
        super().__init__(group)
        self.analyzer = analyzer

    def send(self, held: Held) -> None:
        done: Future[list[Analysis]] = Future()
        done.set_result(self.analyzer.many([data for data, _ in held]))
        settle(held, done)


class _WorkerState:
    """The analyzer of one worker process, built by the pool initializer."""

    analyzer: Analyzer | None = None


def init_worker(spec: EngineSpec, limits: AnalysisLimits) -> None:
    """Build and load this worker process's engine (a pool's initializer, a Ray actor's start)."""
    engine = create_engine(spec)
    engine.load()
    _WorkerState.analyzer = Analyzer(engine, limits)


def analyze_in_worker(items: list[bytes]) -> list[Analysis]:
    """A group's analyses by this process's engine (after :func:`init_worker`)."""
    analyzer = _WorkerState.analyzer
    if analyzer is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("worker used before initialisation")
    return analyzer.many(items)


Analyze = Callable[[list[bytes]], list[Analysis]]
"""What a worker process runs on a group's bytes (picklable: a module-level function)."""


Suspect = tuple[bytes, "Future[Analysis]"]
"""An image whose worker died under its group, and the future its analysis goes to."""


class RecoveringExecutor(GroupingExecutor):
    """Groups sent to worker processes that can die (a native crash on a hostile file, the
    kernel's OOM killer). The images of a group lost with its worker become *suspects*: each
    is analysed again alone, one at a time, on a worker that runs nothing else
    (:meth:`alone`), so an image that kills its worker there is the one that does: it alone
    is ``worker_crashed``, and the images beside it get their analyses. Suspects are checked
    in a thread of their own, never in a runtime's completion callback (Ray forbids calling
    Ray there)."""

    def __init__(self, group: int) -> None:
        super().__init__(group)
        self._suspects: queue.Queue[Suspect | None] = queue.Queue()
        self._checking: threading.Thread | None = None
        self._starting = threading.Lock()

    def sent(self, done: Future[list[Analysis]], held: Held) -> None:
        """``held``, sent as one group whose result is ``done``, is settled when it completes."""
        done.add_done_callback(lambda d: self._settle(d, held))

    def died(self, done: Future[list[Analysis]]) -> bool:  # pragma: no cover - overridden
        """Whether ``done`` (completed) failed because its worker process died."""
        raise NotImplementedError

    def alone(self, data: bytes) -> Future[list[Analysis]]:  # pragma: no cover - overridden
        """The analysis of one image on a worker that runs nothing else."""
        raise NotImplementedError

    def lost_alone(self) -> None:
        """The worker of :meth:`alone` died; the next call must reach a live one."""

    def _settle(self, done: Future[list[Analysis]], held: Held) -> None:
        if not self.died(done):
            settle(held, done)
            return
        with self._starting:
            if self._checking is None:
                self._checking = threading.Thread(
                    target=self._check_suspects, name="ingest-suspects", daemon=True
                )
                self._checking.start()
        for suspect in held:
            self._suspects.put(suspect)

    def _check_suspects(self) -> None:
        while (suspect := self._suspects.get()) is not None:
            done = self.alone(suspect[0])
            wait([done])
            if self.died(done):  # alone on its worker: this image took it down
                suspect[1].set_result(crashed())
                self.lost_alone()
            else:
                settle([suspect], done)

    def close(self) -> None:
        if self._checking is not None:
            self._suspects.put(None)
            self._checking.join()


class _PoolExecutor(RecoveringExecutor):
    """Spawned worker processes. A worker that dies breaks the pool: the pool is replaced on
    the next group, and the suspects run in a one-worker pool of their own."""

    def __init__(
        self,
        spec: EngineSpec,
        limits: AnalysisLimits,
        workers: int,
        group: int,
        analyze: Analyze = analyze_in_worker,
    ) -> None:
        super().__init__(group)
        self.spec = spec
        self.limits = limits
        self.workers = workers
        self.analyze = analyze
        self.pool = self._new_pool(workers)
        self._alone: ProcessPoolExecutor | None = None

    def _new_pool(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=init_worker,
            initargs=(self.spec, self.limits),
        )

    def _submit(
        self, pool: ProcessPoolExecutor, workers: int, items: list[bytes]
    ) -> tuple[ProcessPoolExecutor, Future[list[Analysis]]]:
        """Submit to ``pool``, or to a new one if a dead worker broke it."""
        try:
            return pool, pool.submit(self.analyze, items)
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)
            pool = self._new_pool(workers)
            return pool, pool.submit(self.analyze, items)

    def send(self, held: Held) -> None:
        self.pool, group = self._submit(self.pool, self.workers, [d for d, _ in held])
        self.sent(group, held)

    def died(self, done: Future[list[Analysis]]) -> bool:
        return not done.cancelled() and isinstance(done.exception(), BrokenProcessPool)

    def alone(self, data: bytes) -> Future[list[Analysis]]:
        self._alone, done = self._submit(self._alone or self._new_pool(1), 1, [data])
        return done

    def close(self) -> None:
        super().close()
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self._alone is not None:
            self._alone.shutdown(wait=True, cancel_futures=True)


def make_executor(
    spec: EngineSpec,
    limits: AnalysisLimits,
    workers: int,
    engine: FaceEngine | None = None,
    *,
    group: int = ANALYSIS_GROUP,
) -> Executor:
    """An in-process executor for one worker, else a pool of spawned processes; both analyse
    ``group`` images at a time."""
    if workers <= 1:
        return _InlineExecutor(Analyzer(engine or create_engine(spec), limits), group)
    return _PoolExecutor(spec, limits, workers, group)
