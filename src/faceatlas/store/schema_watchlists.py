"""Watchlist and batch-search tables (migrations 10 and 11).

A watchlist entry belongs to a case (``case_id``); its probe embedding lives in
``watchlist_templates``, one row per entry, deleted when the entry ends (expired, case closed,
deleted), while the entry row stays as the record of what was watched, by whom and until when.
An alert names the stored face that matched; erasing the face erases its alerts (the face's
foreign key), the audit log keeps the alert's entry.
"""

from __future__ import annotations

import sqlalchemy as sa

from faceatlas.store.columns import keyed_table, owner, person, stamp, vector_columns

__all__ = [
    "BATCH_TABLES",
    "WATCHLIST_TABLES",
    "search_batches",
    "watchlist_alerts",
    "watchlist_entries",
    "watchlist_templates",
]

watchlist_entries = keyed_table(
    "watchlist_entries",
    sa.Column("case_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("label", sa.Text, nullable=False, server_default=""),
    sa.Column("probe_sha256", sa.String(64)),
    sa.Column("identity_id", sa.Integer),
    sa.Column("model_id", sa.String(100), nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("threshold_source", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("requested_days", sa.Integer, nullable=False),
    person("requested_by"),
    stamp("requested_at"),
    person("approved_by", required=False),
    stamp("approved_at", required=False),
    stamp("expires_at", required=False),
    person("renewed_by", required=False),
    stamp("renewed_at", required=False),
    sa.Column("ended_reason", sa.String(20)),
    person("ended_by", required=False),
    stamp("ended_at", required=False),
)
sa.Index("ix_watchlist_entries_status", watchlist_entries.c.status, watchlist_entries.c.case_id)

watchlist_templates = sa.Table(
    "watchlist_templates",
    watchlist_entries.metadata,
    owner("entry_id", "watchlist_entries", primary_key=True),
    *vector_columns(),
)

watchlist_alerts = keyed_table(
    "watchlist_alerts",
    owner("entry_id", "watchlist_entries"),
    sa.Column("case_id", sa.Integer, nullable=False),
    owner("face_id", "faces"),
    sa.Column("image_id", sa.Integer, nullable=False),
    sa.Column("similarity", sa.Float, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    stamp("raised_at"),
    sa.Column("audit_seq", sa.Integer),
    sa.Column("delivery", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    stamp("delivered_at", required=False),
    sa.UniqueConstraint("entry_id", "face_id", name="uq_watchlist_alerts_entry_face"),
)
sa.Index("ix_watchlist_alerts_case", watchlist_alerts.c.case_id, watchlist_alerts.c.id)
sa.Index("ix_watchlist_alerts_delivery", watchlist_alerts.c.delivery)

search_batches = keyed_table(
    "search_batches",
    sa.Column("case_number", sa.String(64), nullable=False),
    sa.Column("purpose", sa.String(100), nullable=False),
    person("created_by"),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    stamp(),
    stamp("started_at", required=False),
    stamp("finished_at", required=False),
    sa.Column("error", sa.Text),
    sa.Column("report", sa.Text),
)
"""Batch searches run as background jobs: progress, then the combined report (JSON)."""

WATCHLIST_TABLES = (watchlist_entries, watchlist_templates, watchlist_alerts)
BATCH_TABLES = (search_batches,)
