"""Retention: thumbnails, stored probe photos and privacy-log entries expire.

``run_retention`` deletes what is older than the configured number of days
and scrubs the write-ahead log. Running it again deletes nothing more: it is
safe to schedule (cron, systemd timer) as often as wanted.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from faceatlas.privacy.erasure import scrub_catalog
from faceatlas.privacy.log import Actor, PrivacyEntry, mirror_to_audit, record_action
from faceatlas.store.privacy import (
    count_probes,
    delete_privacy_actions_before,
    delete_probes_before,
    delete_thumbnails_before,
    keep_probe,
)
from faceatlas.types import record

if TYPE_CHECKING:
    from faceatlas.privacy.scope import PrivacyScope

__all__ = ["RetentionReport", "count_probes", "keep_probe", "run_retention"]

log = logging.getLogger(__name__)


@record
class RetentionReport:
    thumbnails: int
    probes: int
    audit_entries: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _cutoff(now: datetime, days: int) -> str:
    return (now - timedelta(days=days)).isoformat(timespec="seconds")


def run_retention(
    scope: PrivacyScope,
    *,
    now: datetime | None = None,
    actor: str = "retention",
    role: str = "operator",
) -> RetentionReport:
    """Delete expired thumbnails, probes and log entries; returns what was deleted.

    ``actor`` and ``role`` name who started the run in the logs (a scheduled run by default).
    """
    settings = scope.gallery.settings
    now = now or datetime.now(UTC)
    with scope.gallery.writer_lock(), scope.gallery.catalog.writer() as w:
        thumbs = probes = entries = 0
        if settings.retention_thumbnail_days is not None:
            thumbs = delete_thumbnails_before(
                w.conn, _cutoff(now, settings.retention_thumbnail_days)
            )
        probe_cut = (
            _cutoff(now, settings.retention_probe_days) if settings.store_probes else "9999"
        )  # probes are not to be kept at all when storing them is off
        probes = delete_probes_before(w.conn, probe_cut)
        if settings.retention_audit_days is not None:
            entries = delete_privacy_actions_before(
                w.conn, _cutoff(now, settings.retention_audit_days)
            )
        report = RetentionReport(thumbnails=thumbs, probes=probes, audit_entries=entries)
        entry = PrivacyEntry("retention", "atlas", Actor(actor, role=role), report.as_dict())
        if thumbs or probes or entries:
            record_action(w, entry, at=now.isoformat(timespec="seconds"))
    if thumbs or probes or entries:
        mirror_to_audit(scope, entry)
    scrub_catalog(scope.gallery.catalog)
    log.info("retention deleted %s", report.as_dict())
    return report
