"""Images analysed in groups (their faces embedded in one batch): each item keeps its own outcome,
the same faces and vectors as when analysed alone, and a bad item fails alone, in a group and in
an ingest run whose groups are cut short by the end of the source."""

from __future__ import annotations

import io
import shutil
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import numpy as np
from PIL import Image

from faceatlas import Atlas
from faceatlas.config_inference import INGEST_WINDOW_BYTES
from faceatlas.engine import EngineSpec, create_engine
from faceatlas.ingest import FolderSource, IngestOptions, run_ingest
from faceatlas.ingest.source import SourceItem
from faceatlas.ingest.worker import (
    Analysis,
    AnalysisLimits,
    Analyzer,
    GroupingExecutor,
    Held,
    _PoolExecutor,
    make_executor,
    outcome,
    settle,
)

from .conftest import atlas_settings
from .crashkit import POISON, crash_on_poison

LIMITS = AnalysisLimits(max_pixels=40_000_000, max_file_bytes=50 << 20, thumbnail_px=96)


def faceless_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 140, 200)).save(out, format="JPEG")
    return out.getvalue()


def group_items(lfw_sample: list[Path], faces_dir: Path) -> list[bytes]:
    good = [p.read_bytes() for p in lfw_sample[:3]]
    crowd = (faces_dir / "groups" / "dlib_voc" / "2008_002470.jpg").read_bytes()
    return [
        good[0],
        b"this is not an image",
        crowd,
        good[1][: len(good[1]) // 3],  # truncated
        faceless_jpeg(),
        good[2],
    ]


def same_analysis(a: Analysis, b: Analysis) -> None:
    assert (a.error_code, a.width, a.height, a.format) == (
        b.error_code,
        b.width,
        b.height,
        b.format,
    )
    assert [f.box for f in a.faces] == [f.box for f in b.faces]
    for x, y in zip(a.faces, b.faces, strict=True):
        assert np.abs(x.embedding - y.embedding).max() <= 1e-5
        assert x.quality == y.quality
        assert x.thumbnail_jpeg[:2] == b"\xff\xd8"


def test_a_group_gives_each_item_what_it_gets_alone(
    lfw_sample: list[Path], faces_dir: Path
) -> None:
    analyzer = Analyzer(create_engine(EngineSpec()), LIMITS)
    items = group_items(lfw_sample, faces_dir)
    together = analyzer.many(items)
    alone = [analyzer(data) for data in items]
    for a, b in zip(together, alone, strict=True):
        same_analysis(a, b)
    codes = [a.error_code for a in together]
    assert codes[0] is None and codes[2] is None and codes[4] is None and codes[5] is None
    assert codes[1] is not None and codes[3] is not None  # not an image; truncated
    assert len(together[2].faces) >= 3  # the group photo
    assert together[4].faces == ()  # no face is not a failure
    assert [len(a.faces) for a in together[::5]] == [1, 1]


def test_the_executor_sends_full_groups_and_flushes_the_rest(
    lfw_sample: list[Path], faces_dir: Path
) -> None:
    analyzer = Analyzer(create_engine(EngineSpec()), LIMITS)
    items = group_items(lfw_sample, faces_dir)
    executor = make_executor(EngineSpec(), LIMITS, 1, analyzer.engine, group=4)
    futures = [executor.submit(data) for data in items]
    assert [f.done() for f in futures] == [True] * 4 + [False] * 2  # a full group ran
    executor.flush()
    assert all(f.done() for f in futures)
    for future, data in zip(futures, items, strict=True):
        same_analysis(outcome(future), analyzer(data))


def test_an_ingest_run_in_groups_stores_every_good_image_and_records_the_bad_one(
    tmp_path: Path, lfw_sample: list[Path]
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, photo in enumerate(lfw_sample[:6]):
        (folder / f"{i}.jpg").write_bytes(photo.read_bytes())
    (folder / "3.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    with Atlas.open(settings=atlas_settings(tmp_path / "atlas", analysis_group=4)) as atlas:
        report = atlas.ingest(folder)
        assert report.counts["new_images"] == 5, report.failures
        assert [loc.rsplit("/", 1)[-1] for loc, _, _ in report.failures] == ["3.jpg"]
        alone = atlas_settings(tmp_path / "alone", analysis_group=1)
        with Atlas.open(settings=alone) as single:
            single.ingest(folder)
            assert single.catalog.counts() == atlas.catalog.counts()


def test_a_worker_that_dies_takes_no_image_with_it_when_they_can_be_analysed_again(
    lfw_sample: list[Path],
) -> None:
    """A worker process killed under a group (as a native crash would) breaks the pool; the
    images of the groups it took down are analysed again alone, and each gets its own
    analysis."""
    items = [p.read_bytes() for p in lfw_sample[:6]]
    executor = make_executor(EngineSpec(), LIMITS, 2, group=4)
    try:
        futures = [executor.submit(data) for data in items]  # a full group goes out
        executor.flush()  # and the other two
        pool = executor.pool  # type: ignore[attr-defined]
        victim = next(iter(pool._processes.values()))  # still loading its models
        victim.kill()
        analyses = [outcome(f) for f in futures]
        assert executor._alone is not None  # type: ignore[attr-defined]  # the pool broke
    finally:
        executor.close()
    assert [a.error_code for a in analyses] == [None] * 6
    assert [len(a.faces) for a in analyses] == [1] * 6


def test_an_image_that_kills_its_worker_every_time_fails_alone(lfw_sample: list[Path]) -> None:
    """The image that kills a worker again when analysed alone is the only one lost; the images
    in flight beside it when the pool broke, in its group and the other, are analysed."""
    items = [p.read_bytes() for p in lfw_sample[:7]]
    items.insert(2, POISON)
    executor = _PoolExecutor(EngineSpec(), LIMITS, 2, group=4, analyze=crash_on_poison)
    try:
        futures = [executor.submit(data) for data in items]  # two full groups go out
        analyses = [outcome(f) for f in futures]
    finally:
        executor.close()
    assert [a.error_code for a in analyses] == [None, None, "worker_crashed"] + [None] * 5
    assert [len(a.faces) for i, a in enumerate(analyses) if i != 2] == [1] * 7
    plain = Analyzer(create_engine(EngineSpec()), LIMITS)
    for i, (a, data) in enumerate(zip(analyses, items, strict=True)):
        if i != 2:
            same_analysis(a, plain(data))


class OneAtATime:
    """The real engine, but its recognizer refuses batches of more than one face (a runtime
    that fails on a group's shared step)."""

    def __init__(self) -> None:
        self.inner = create_engine(EngineSpec())

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def embed_chips(self, chips: list[np.ndarray]) -> np.ndarray:
        if len(chips) > 1:
            raise RuntimeError("no batches here")
        return self.inner.embed_chips(chips)


def test_when_the_shared_step_fails_each_image_is_analysed_alone(lfw_sample: list[Path]) -> None:
    items = [p.read_bytes() for p in lfw_sample[:3]] + [b"not an image"]
    analyses = Analyzer(OneAtATime(), LIMITS).many(items)  # type: ignore[arg-type]
    assert [len(a.faces) for a in analyses[:3]] == [1, 1, 1]
    assert analyses[3].error_code is not None
    plain = Analyzer(create_engine(EngineSpec()), LIMITS)
    for a, data in zip(analyses, items, strict=True):
        same_analysis(a, plain(data))


class Recording(GroupingExecutor):
    """The in-process analysis in groups, recording the most file bytes it held at once (the
    group it sends: every item of it was held until then)."""

    def __init__(self, group: int) -> None:
        super().__init__(group)
        self.analyzer = Analyzer(create_engine(EngineSpec()), LIMITS)
        self.most_held = 0

    def send(self, held: Held) -> None:
        self.most_held = max(self.most_held, sum(len(data) for data, _ in held))
        done: Future[list[Analysis]] = Future()
        done.set_result(self.analyzer.many([data for data, _ in held]))
        settle(held, done)


class SlowFolder(FolderSource):
    """A folder whose reads take a while, recording the most file bytes being read at once."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, max_file_bytes=50 << 20)
        self.lock = threading.Lock()
        self.reading = 0
        self.most_reading = 0

    def read(self, item: SourceItem) -> bytes:
        size = item.file_size or 0
        with self.lock:
            self.reading += size
            self.most_reading = max(self.most_reading, self.reading)
        try:
            time.sleep(0.05)
            return super().read(item)
        finally:
            with self.lock:
                self.reading -= size


def photo_folder(lfw_sample: list[Path], tmp_path: Path) -> tuple[Path, list[int]]:
    """16 LFW photos in a folder, and their sizes from smallest to largest."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for photo in lfw_sample[:16]:
        shutil.copy(photo, folder)
    return folder, sorted(p.stat().st_size for p in folder.iterdir())


def run_window(
    tmp_path: Path, name: str, source: FolderSource, window_bytes: int, fetch_threads: int
) -> Recording:
    """Ingest ``source`` into a new atlas in groups of 8 with the given window; every photo
    must be stored."""
    executor = Recording(group=8)
    with Atlas.open(settings=atlas_settings(tmp_path / name)) as atlas:
        options = IngestOptions(
            model_id=atlas.model_id,
            same_face_min_similarity=atlas.card.required("same_face_min_similarity"),
            window=32,
            window_bytes=window_bytes,
            fetch_threads=fetch_threads,
        )
        with atlas.gallery.writer_lock():
            report = run_ingest(atlas.catalog, atlas.index, source, executor, options)
        assert report.counts["new_images"] == 16
        assert atlas.catalog.counts()["faces"] >= 16
    return executor


def test_a_run_holds_no_more_file_bytes_for_analysis_than_its_window(
    lfw_sample: list[Path], tmp_path: Path
) -> None:
    """Past ``window_bytes`` of fetched files held for analysis, no new item is read: the group
    held for analysis is sent short, and every photo is still stored."""
    folder, sizes = photo_folder(lfw_sample, tmp_path)
    budget = 2 * sizes[0]

    def most_held(window_bytes: int, name: str) -> int:
        # one read at a time: the window is passed by one file at most
        source = FolderSource(folder, max_file_bytes=50 << 20)
        return run_window(tmp_path, name, source, window_bytes, fetch_threads=1).most_held

    assert most_held(budget, "tight") < budget + sizes[-1]  # the last one read may pass it
    assert most_held(INGEST_WINDOW_BYTES, "default") >= sum(sizes[:8])  # a full group


def test_files_being_read_count_against_the_window(lfw_sample: list[Path], tmp_path: Path) -> None:
    """A file's size is known before its read: with many fetch threads, the files being read
    count against ``window_bytes`` from the start of their reads, so no more of them are read at
    once than the window lets in; with a large window, the threads read side by side."""
    folder, sizes = photo_folder(lfw_sample, tmp_path)
    budget = 2 * sizes[0]

    def most_reading(window_bytes: int, name: str) -> int:
        source = SlowFolder(folder)
        run_window(tmp_path, name, source, window_bytes, fetch_threads=8)
        return source.most_reading

    assert most_reading(budget, "tight") < budget + sizes[-1]
    assert most_reading(INGEST_WINDOW_BYTES, "default") >= sum(sizes[:4])  # side by side
