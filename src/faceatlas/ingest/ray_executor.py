"""The per-item analysis on a Ray cluster (optional extra: ``pip install faceatlas[ray]``).

Each Ray actor builds and loads one face engine, then analyses images sent to
it: exactly the work a local worker process does. The calling process keeps
fetching, deduplication and every catalog and index write, in source order,
so a Ray run writes the same catalog and index as a local run and resumes the
same way. ``address`` is what ``ray.init`` takes: ``local`` starts a private
instance on this machine, ``auto`` joins the cluster this node belongs to,
``ray://head:10001`` connects through Ray Client.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from faceatlas.config_inference import ANALYSIS_GROUP
from faceatlas.engine import EngineSpec
from faceatlas.errors import ConfigError
from faceatlas.ingest.worker import (
    Analysis,
    AnalysisLimits,
    Analyze,
    Held,
    RecoveringExecutor,
    analyze_in_worker,
    init_worker,
)

__all__ = ["make_ray_executor"]

log = logging.getLogger(__name__)


class RayAnalyzer:
    """The body of one Ray actor: an engine loaded once, then many images, through the same
    ``analyze`` a local worker process runs."""

    def __init__(self, spec: EngineSpec, limits: AnalysisLimits, analyze: Analyze) -> None:
        init_worker(spec, limits)
        self._analyze = analyze

    def analyze(self, items: list[bytes]) -> list[Analysis]:
        return self._analyze(items)


class RayExecutor(RecoveringExecutor):
    """Round-robins groups of images over ``actors`` Ray actors; each image's result comes
    back as its own future. Ray restarts an actor whose process dies; the suspects of the
    group lost with it run on an actor of their own (the checker, started on the first death
    and replaced by a new one whenever it dies)."""

    def __init__(
        self,
        ray: Any,
        actors: list[Any],
        new_checker: Callable[[], Any],
        started_here: bool,
        group: int,
    ) -> None:
        super().__init__(group)
        self.ray = ray
        self.actors = actors
        self.new_checker = new_checker
        self._next = itertools.cycle(actors)
        self.started_here = started_here
        self._checker: Any = None

    def send(self, held: Held) -> None:
        self.sent(next(self._next).analyze.remote([d for d, _ in held]).future(), held)

    def died(self, done: Future[list[Analysis]]) -> bool:
        error = None if done.cancelled() else done.exception()
        return isinstance(error, self.ray.exceptions.RayActorError)

    def alone(self, data: bytes) -> Future[list[Analysis]]:
        if self._checker is None:
            self._checker = self.new_checker()
        future: Future[list[Analysis]] = self._checker.analyze.remote([data]).future()
        return future

    def lost_alone(self) -> None:
        self.ray.kill(self._checker)
        self._checker = None  # a new actor next: no call can reach the dead one

    def close(self) -> None:
        super().close()
        for actor in self.actors:
            self.ray.kill(actor)
        if self._checker is not None:
            self.ray.kill(self._checker)
        if self.started_here:
            self.ray.shutdown()


def _init(ray: Any, address: str, actors: int) -> None:
    kwargs: dict[str, Any] = {"address": address, "logging_level": logging.WARNING}
    if address == "local":
        kwargs.update(include_dashboard=False, num_cpus=max(1, actors))
    attempts = 3
    for attempt in range(1, attempts + 1):
        try:
            ray.init(**kwargs)
            return
        except Exception as exc:  # Ray raises plain exceptions for every start-up failure
            ray.shutdown()
            # a local instance can miss Ray's fixed start-up waits (its GCS port file, the
            # node's start-up) on a loaded machine or the first start after installation
            if address == "local" and attempt < attempts and "timed out" in str(exc).lower():
                log.warning("Ray start-up timed out; trying once more")
                continue
            raise ConfigError(f"cannot start or reach Ray at {address}: {exc}") from None


def make_ray_executor(
    address: str,
    spec: EngineSpec,
    limits: AnalysisLimits,
    actors: int,
    *,
    group: int = ANALYSIS_GROUP,
    analyze: Analyze = analyze_in_worker,
) -> RayExecutor:
    """Connect to Ray at ``address`` and start ``actors`` analysis actors (1 CPU each), which
    run ``analyze`` on each group, as local worker processes do."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs the Ray extra: pip install 'faceatlas[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        _init(ray, address, actors)
    # Ray restarts an actor whose process dies; the calls it was running fail (no retries)
    remote_cls = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)(RayAnalyzer)
    handles = [remote_cls.remote(spec, limits, analyze) for _ in range(max(1, actors))]
    # the checker takes no CPU of its own: it runs only once an actor has died
    checker = ray.remote(num_cpus=0, max_restarts=0)(RayAnalyzer)
    log.info("Ray: %d analysis actors at %s", len(handles), address)
    return RayExecutor(
        ray, handles, lambda: checker.remote(spec, limits, analyze), started_here, group
    )
