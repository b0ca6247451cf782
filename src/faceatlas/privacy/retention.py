"""Retention: thumbnails, stored probe photos and privacy-log entries expire.

``run_retention`` deletes what is older than the configured number of days
and scrubs the write-ahead log. Running it again deletes nothing more: it is
safe to schedule (cron, systemd timer) as often as wanted.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from faceatlas.privacy.erasure import scrub_catalog
from faceatlas.privacy.log import mirror_to_audit, record_action
from faceatlas.store import Catalog, utc_now
from faceatlas.store import schema as t

if TYPE_CHECKING:
    from faceatlas.privacy.scope import PrivacyScope

__all__ = ["RetentionReport", "count_probes", "keep_probe", "run_retention"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
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
            cut = _cutoff(now, settings.retention_thumbnail_days)
            thumbs = w.conn.execute(
                t.thumbnails.delete().where(t.thumbnails.c.created_at < cut)
            ).rowcount
        probe_cut = (
            _cutoff(now, settings.retention_probe_days) if settings.store_probes else "9999"
        )  # probes are not to be kept at all when storing them is off
        probes = w.conn.execute(
            t.probe_images.delete().where(t.probe_images.c.created_at < probe_cut)
        ).rowcount
        if settings.retention_audit_days is not None:
            cut = _cutoff(now, settings.retention_audit_days)
            entries = w.conn.execute(
                t.privacy_actions.delete().where(t.privacy_actions.c.at < cut)
            ).rowcount
        report = RetentionReport(thumbnails=thumbs, probes=probes, audit_entries=entries)
        if thumbs or probes or entries:
            record_action(
                w.conn,
                "retention",
                actor=actor,
                target="atlas",
                details=report.as_dict(),
                at=now.isoformat(timespec="seconds"),
            )
    if thumbs or probes or entries:
        mirror_to_audit(
            scope, "retention", actor=actor, target="atlas", details=report.as_dict(), role=role
        )
    scrub_catalog(scope.gallery.catalog)
    log.info("retention deleted %s", report.as_dict())
    return report


def keep_probe(catalog: Catalog, data: bytes) -> int:
    """Store a probe photo (only called when ``store_probes`` is on); returns its id."""
    with catalog.writer() as w:
        result = w.conn.execute(
            t.probe_images.insert().values(
                sha256=hashlib.sha256(data).hexdigest(), data=data, created_at=utc_now()
            )
        )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def count_probes(catalog: Catalog) -> int:
    with catalog.db.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(t.probe_images)).scalar_one()
        )
