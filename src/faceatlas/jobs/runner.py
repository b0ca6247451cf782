"""Ingestion jobs run one at a time in a background thread of the serving process.

A job names a source *kind* and a *target*; a registered factory turns them
into a :class:`JobInput` (a path the server chose, and its source kind) or any
:class:`Source`. Factories decide what a target may be (see
:mod:`faceatlas.jobs.targets`): names of folders an operator listed in
``Settings.ingest_folders`` and files found by listing them, so no path typed
by a user reaches the filesystem. Further kinds plug in with
:meth:`JobRunner.register`.

Each job ingests through its own :class:`Atlas` instance (its own engine and
index object), under the atlas writer lock; the serving atlas catches its
index up from the catalog when the job ends.
"""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from faceatlas.config import Settings
from faceatlas.errors import FaceAtlasError, InvalidRequestError
from faceatlas.ingest import IngestProgress, Source, SourceKind
from faceatlas.jobs.targets import (
    LIST_SUFFIXES,
    WARC_SUFFIXES,
    JobInput,
    folder_target,
    listed_files,
    listed_target,
)
from faceatlas.jobs.worker import WorkQueue
from faceatlas.store.jobs import JobRecord, JobStore
from faceatlas.types import Closing

if TYPE_CHECKING:
    from faceatlas.atlas import Atlas

__all__ = ["JobRecord", "JobRunner", "SourceFactory"]

log = logging.getLogger(__name__)

SourceFactory = Callable[[str, Settings], "JobInput | Source"]
"""``(target, settings) -> JobInput | Source``; raises :class:`InvalidRequestError`
for a bad target."""

URL_LIST_DIR = "jobs"
"""Folder inside the atlas where posted URL lists are written, under names the server picks."""
UPLOADS_DIR = "uploads"
"""Folder inside the atlas where uploaded files wait for their job, one folder per upload;
each is removed when its job ends, and any left by a stopped server when the next starts."""
MAX_POSTED_URLS = 10_000


class JobRunner(WorkQueue["JobInput | Source", JobRecord]):
    """Queue of ingestion jobs, persisted in ``ingest_jobs``, run by one thread."""

    what = "ingest job"
    noun = "job"
    thread_name = "ingest-jobs"
    interrupted = "the server stopped before the job finished; start it again to resume"
    rows: JobStore

    def __init__(self, atlas: Atlas, *, on_finished: Callable[[], None] | None = None) -> None:
        super().__init__(JobStore(atlas.catalog.db))
        self.atlas = atlas
        self._factories: dict[str, SourceFactory] = {
            "folder": folder_target,
            "warc": listed_target(SourceKind.WARC, WARC_SUFFIXES),
            "urls": listed_target(SourceKind.URLS, LIST_SUFFIXES),
        }
        self._on_finished = on_finished
        self._scratch: dict[int, Path] = {}
        # Live progress stays in memory: the ingest holds the catalog's write transaction
        # while it reports progress, so writing progress rows then would wait on itself.
        self._live: dict[int, IngestProgress] = {}
        self._live_lock = threading.Lock()

    def register(self, kind: str, factory: SourceFactory) -> None:
        """Add a source kind (for example ``url_list`` or ``warc``)."""
        self._factories[kind] = factory

    @property
    def kinds(self) -> list[str]:
        return sorted(self._factories)

    def start(self) -> None:
        """Remove the uploads of jobs that can no longer run (left by a stopped server), then
        mark unfinished jobs interrupted and start the thread."""
        uploads = self.atlas.root / UPLOADS_DIR
        if uploads.is_dir():
            for leftover in uploads.iterdir():
                shutil.rmtree(leftover, ignore_errors=True)
        super().start()

    # --- API ------------------------------------------------------------------------------

    def submit(self, kind: str, target: str, created_by: str) -> JobRecord:
        factory = self._factories.get(kind)
        if factory is None:
            raise InvalidRequestError(f"unknown job kind {kind!r}; one of: {', '.join(self.kinds)}")
        source = factory(target, self.atlas.settings)
        return self._enqueue(kind, target, created_by, source)

    def submit_urls(self, urls: list[str], created_by: str) -> JobRecord:
        """A URL-list job from posted URLs (image URL, optionally a space and its page URL).

        The list is written to a file the server names inside the atlas; each URL
        is then fetched under the crawler's rules (robots.txt, SSRF guard, limits).
        """
        lines = [u.strip() for u in urls if u.strip() and not u.strip().startswith("#")]
        if not lines:
            raise InvalidRequestError("the URL list is empty")
        if len(lines) > MAX_POSTED_URLS:
            raise InvalidRequestError(f"at most {MAX_POSTED_URLS} URLs per posted list")
        for line in lines:
            bits = line.split()
            if len(bits) > 2 or not all(b.startswith(("http://", "https://")) for b in bits):
                raise InvalidRequestError(
                    "each line must be an http(s) image URL, optionally followed by its page URL"
                )
        folder = self.atlas.root / URL_LIST_DIR
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"urls-{uuid.uuid4().hex}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self._enqueue(
            "urls", f"{len(lines)} posted URL(s)", created_by, JobInput(path, SourceKind.URLS)
        )

    def new_scratch(self) -> Path:
        """A new empty folder inside the atlas for one upload's files (see
        :meth:`submit_built`, which removes it when the job ends)."""
        folder = self.atlas.root / UPLOADS_DIR / uuid.uuid4().hex
        folder.mkdir(mode=0o700, parents=True)
        return folder

    def submit_built(
        self,
        kind: str,
        target: str,
        created_by: str,
        build: Callable[[int], JobInput | Source],
        scratch: Path | None = None,
    ) -> JobRecord:
        """A job whose source ``build`` makes from the job's id (uploads name their source
        after their job); ``scratch``, the folder holding its files, is removed when the job
        ends, however it ends."""
        job_id = self.rows.add(kind, target, created_by)
        try:
            source = build(job_id)
        except BaseException:
            self.rows.fail(job_id, "the job's source could not be prepared")
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        if scratch is not None:
            self._scratch[job_id] = scratch
        self._put(job_id, source)
        return self.get(job_id)

    def targets(self) -> dict[str, list[str]]:
        """What each built-in kind may name, from the configured folders' listings."""
        folders = self.atlas.settings.ingest_folders
        out: dict[str, list[str]] = {"folder": sorted(folders), "warc": [], "urls": []}
        for name, folder in sorted(folders.items()):
            out["warc"] += [f"{name}/{f}" for f in listed_files(folder, WARC_SUFFIXES)]
            out["urls"] += [f"{name}/{f}" for f in listed_files(folder, LIST_SUFFIXES)]
        return out

    def _enqueue(
        self, kind: str, target: str, created_by: str, source: JobInput | Source
    ) -> JobRecord:
        job_id = self.rows.add(kind, target, created_by)
        self._put(job_id, source)
        return self.get(job_id)

    def _row(self, job_id: int) -> JobRecord | None:
        job = self.rows.get(job_id)
        return None if job is None else self._with_live(job)

    def _with_live(self, job: JobRecord) -> JobRecord:
        with self._live_lock:
            live = self._live.get(job.id)
        if live is None or job.status != "running":
            return job
        return replace(job, done=live.done, total=live.total, faces=live.faces)

    def list(self, limit: int = 50) -> list[JobRecord]:
        return [self._with_live(job) for job in self.rows.newest(limit)]

    # --- worker --------------------------------------------------------------------------

    def _crashed(self, job_id: int) -> None:
        self._after_job()

    def _done(self, job_id: int) -> None:
        with self._live_lock:
            self._live.pop(job_id, None)
        scratch = self._scratch.pop(job_id, None)
        if scratch is not None:  # the upload's files, once its job has ended
            shutil.rmtree(scratch, ignore_errors=True)

    def _after_job(self) -> None:
        """Run the after-job hook (the server's index catch-up) before the job reads as done."""
        if self._on_finished is None:
            return
        try:
            self._on_finished()
        except Exception:
            log.exception("after-job hook failed")

    def _run(self, job_id: int, source: JobInput | Source) -> None:
        from faceatlas.atlas import Atlas

        self.rows.start(job_id)

        def on_progress(p: IngestProgress) -> None:
            with self._live_lock:
                self._live[job_id] = p

        try:
            with Atlas.open(settings=self.atlas.settings) as job_atlas:
                if isinstance(source, JobInput):
                    report = job_atlas.ingest(source.path, kind=source.kind, progress=on_progress)
                else:
                    report = job_atlas.ingest(source, progress=on_progress)
        except FaceAtlasError as exc:
            self._after_job()
            self.rows.fail(job_id, f"{exc.code}: {exc.message}")
            return
        finally:
            if isinstance(source, Closing):
                source.close()
        self._after_job()
        summary = report.as_dict()
        summary["failures"] = summary["failures"][:50]  # type: ignore[index]
        self.rows.finish(
            job_id, items=report.counts["items"], faces=report.counts["faces"], report=summary
        )
        with self._live_lock:
            self._live.pop(job_id, None)
        log.info("ingest job %d finished: %s", job_id, dict(report.counts))
