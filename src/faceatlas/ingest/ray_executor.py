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
from concurrent.futures import Future
from typing import Any

from faceatlas.config_inference import ANALYSIS_GROUP
from faceatlas.engine import EngineSpec, create_engine
from faceatlas.errors import ConfigError
from faceatlas.ingest.worker import (
    Analysis,
    AnalysisLimits,
    Analyzer,
    GroupingExecutor,
    Held,
    settle,
)

__all__ = ["make_ray_executor"]

log = logging.getLogger(__name__)


class RayAnalyzer:
    """The body of one Ray actor: an engine loaded once, then many images."""

    def __init__(self, spec: EngineSpec, limits: AnalysisLimits) -> None:
        engine = create_engine(spec)
        engine.load()
        self.analyzer = Analyzer(engine, limits)

    def analyze(self, items: list[bytes]) -> list[Analysis]:
        return self.analyzer.many(items)


class RayExecutor(GroupingExecutor):
    """Round-robins groups of images over ``actors`` Ray actors; each image's result comes
    back as its own future."""

    def __init__(self, ray: Any, actors: list[Any], started_here: bool, group: int) -> None:
        super().__init__(group)
        self.ray = ray
        self.actors = actors
        self._next = itertools.cycle(actors)
        self.started_here = started_here

    def send(self, held: Held) -> None:
        ref = next(self._next).analyze.remote([data for data, _ in held])
        done: Future[list[Analysis]] = ref.future()
        done.add_done_callback(lambda d: settle(held, d))

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
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
) -> RayExecutor:
    """Connect to Ray at ``address`` and start ``actors`` analysis actors (1 CPU each)."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs the Ray extra: pip install 'faceatlas[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        _init(ray, address, actors)
    remote_cls = ray.remote(num_cpus=1)(RayAnalyzer)
    handles = [remote_cls.remote(spec, limits) for _ in range(max(1, actors))]
    log.info("Ray: %d analysis actors at %s", len(handles), address)
    return RayExecutor(ray, handles, started_here, group)
