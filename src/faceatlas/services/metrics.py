"""Prometheus metrics of the serving process (``GET /metrics``; docs/operations.md).

Events of this process are counted as they happen: search latency by stage, sign-in
failures, HTTP requests. State is read from the atlas when scraped: index size, ingest
totals of every run in any process (the catalog's run counts), jobs queued and running, the
audit chain's length. Each :class:`~faceatlas.services.Service` has its own registry, never
the process-wide default one. Labels are fixed words (stages, reasons, failure codes, route
templates), never user input, face data or credentials.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _exposition
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from faceatlas.atlas import Atlas
from faceatlas.choices import MetricsAccess
from faceatlas.config import Settings
from faceatlas.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from faceatlas.store.jobs import JobStore
from faceatlas.store.runs import IngestTotals
from faceatlas.timing import StageTimer
from faceatlas.types import record

__all__ = [
    "CONTENT_TYPE",
    "JOB_STATES",
    "LOGIN_FAILURE_REASONS",
    "SEARCH_STAGES",
    "ServiceMetrics",
    "check_scrape",
]

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
SEARCH_STAGES = ("decode", "detect", "embed", "index", "catalog")
"""The stages a face search is timed in (:class:`~faceatlas.timing.StageTimer` names)."""
LOGIN_FAILURE_REASONS = ("wrong_password", "throttled")
JOB_STATES = ("queued", "running")
STAGE_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SEARCH_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
INGEST_COUNTS = (
    ("faceatlas_ingest_items", "items", "Source items read by ingest runs (any outcome)."),
    ("faceatlas_ingest_images", "new_images", "New images stored by ingest runs."),
    ("faceatlas_ingest_faces", "faces", "Faces stored by ingest runs."),
)


def check_scrape(settings: Settings, client: str, bearer: str | None) -> None:
    """Whether this client may read the metrics (``FACEATLAS_METRICS``): ``not_found`` when
    they are off; with ``localhost``, ``forbidden`` unless the client is this machine; with
    ``token``, ``unauthenticated`` unless ``bearer`` is ``FACEATLAS_METRICS_TOKEN``."""
    mode = settings.metrics
    if mode is MetricsAccess.OFF:
        raise NotFoundError("metrics are off (FACEATLAS_METRICS=off)")
    if mode is MetricsAccess.LOCALHOST:
        if not _is_loopback(client):
            raise PermissionDeniedError("metrics are served to this machine only")
        return
    expected = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if not bearer or not expected or not hmac.compare_digest(bearer, expected):
        raise AuthenticationError("metrics need the bearer token FACEATLAS_METRICS_TOKEN")


def _is_loopback(client: str) -> bool:
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False


class ServiceMetrics:
    """The registry of one service, its event metrics and the collector of atlas state."""

    def __init__(self, atlas: Atlas, jobs: JobStore) -> None:
        self.registry = CollectorRegistry()
        self.search_stage = Histogram(
            "faceatlas_search_stage_seconds",
            "Seconds a face search spent per stage (decode, detect, embed, index, catalog).",
            ["stage"],
            buckets=STAGE_BUCKETS_S,
            registry=self.registry,
        )
        self.search = Histogram(
            "faceatlas_search_seconds",
            "Seconds per accountable search (by face or identity): the search and its audit entry.",
            buckets=SEARCH_BUCKETS_S,
            registry=self.registry,
        )
        self.login_failures = Counter(
            "faceatlas_login_failures",
            "Refused sign-ins: wrong_password (or unknown user), throttled (made to wait).",
            ["reason"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "faceatlas_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        for stage in SEARCH_STAGES:
            self.search_stage.labels(stage)
        for reason in LOGIN_FAILURE_REASONS:
            self.login_failures.labels(reason)
        self.registry.register(_AtlasState(atlas, jobs))

    def observe_stages(self, timer: StageTimer) -> None:
        for stage, seconds in timer.seconds.items():
            self.search_stage.labels(stage).observe(seconds)

    def observe_search(self, seconds: float) -> None:
        self.search.observe(seconds)

    def login_failed(self, reason: str) -> None:
        self.login_failures.labels(reason).inc()

    def http_request(self, method: str, route: str, status: int) -> None:
        self.http_requests.labels(method, route, str(status)).inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus's text format (:data:`CONTENT_TYPE`)."""
        return _exposition(self.registry)


@record
class _AtlasState(Collector):
    """Reads the atlas when scraped; a part that cannot be read is left out and logged."""

    atlas: Atlas
    jobs: JobStore

    def collect(self) -> Iterator[Metric]:
        for part in (self._index, self._ingest, self._jobs, self._audit):
            try:
                yield from part()
            except Exception:  # a scrape must answer whatever one reading does
                log.exception("metrics: %s could not be read", part.__name__.strip("_"))

    def _index(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily("faceatlas_index_vectors", "Vectors in the serving index.")
        gauge.add_metric([], len(self.atlas.index))
        yield gauge

    def _ingest(self) -> Iterator[Metric]:
        totals = IngestTotals(self.atlas.catalog.db).totals()
        for name, key, text in INGEST_COUNTS:
            family = CounterMetricFamily(name, text)
            family.add_metric([], totals[key])
            yield family
        failures = CounterMetricFamily(
            "faceatlas_ingest_failures",
            "Items that failed in ingest runs, by failure code (docs/ingestion.md).",
            labels=["code"],
        )
        for key, count in sorted(totals.items()):
            if key.startswith("failed:"):
                failures.add_metric([key.removeprefix("failed:")], count)
        yield failures

    def _jobs(self) -> Iterator[Metric]:
        counts = self.jobs.status_counts()
        gauge = GaugeMetricFamily(
            "faceatlas_jobs", "Ingest jobs of this server queued or running.", labels=["status"]
        )
        for state in JOB_STATES:
            gauge.add_metric([state], counts.get(state, 0))
        yield gauge

    def _audit(self) -> Iterator[Metric]:
        last = self.atlas.audit.last_entry()
        gauge = GaugeMetricFamily(
            "faceatlas_audit_entries", "Entries in the hash-chained audit log (its head seq)."
        )
        gauge.add_metric([], 0 if last is None else last[0])
        yield gauge
