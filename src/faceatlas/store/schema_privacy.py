"""Privacy tables (migration 6): opt-out requests, blocklist templates, action log,
domain takedowns and stored probes."""

from __future__ import annotations

import sqlalchemy as sa

from faceatlas.store.columns import keyed_table, metadata, owner, person, stamp, vector_columns

__all__ = [
    "optout_requests",
    "optout_templates",
    "privacy_actions",
    "probe_images",
    "takedown_domains",
]

optout_requests = keyed_table(
    "optout_requests",
    sa.Column("contact", sa.String(320), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    stamp(),
    stamp("decided_at", required=False),
    person("decided_by", required=False),
    sa.Column("note", sa.Text),
    sa.Column("receipt", sa.Text),
)

optout_templates = keyed_table(
    "optout_templates",
    owner("request_id", "optout_requests"),
    *vector_columns(),
    sa.Column("active", sa.Boolean, nullable=False),
    stamp(),
)
sa.Index("ix_optout_templates_model", optout_templates.c.model_id, optout_templates.c.active)

privacy_actions = keyed_table(
    "privacy_actions",
    stamp("at"),
    sa.Column("action", sa.String(40), nullable=False),
    person("actor"),
    person("case_ref", required=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=False, server_default="{}"),
)

takedown_domains = sa.Table(
    "takedown_domains",
    metadata,
    sa.Column("domain", sa.String(253), primary_key=True),
    stamp("at"),
    person("actor"),
    person("case_ref", required=False),
)

probe_images = keyed_table(
    "probe_images",
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    stamp(),
)
