"""Account, job and audit tables (migration 3): users, credentials, ingest jobs, audit log."""

from __future__ import annotations

import sqlalchemy as sa

from faceatlas.store.columns import keyed_table, metadata, owner, stamp

__all__ = ["api_tokens", "audit_log", "ingest_jobs", "users"]

users = keyed_table(
    "users",
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("unit", sa.String(100), nullable=False, server_default=""),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
    stamp(),
)

api_tokens = keyed_table(
    "api_tokens",
    owner("user_id", "users"),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("name", sa.String(100), nullable=False, server_default=""),
    sa.Column("csrf_token", sa.String(64)),
    stamp(),
    stamp("expires_at"),
    stamp("revoked_at", required=False),
)
sa.Index("ix_api_tokens_user", api_tokens.c.user_id)

ingest_jobs = keyed_table(
    "ingest_jobs",
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    stamp(),
    stamp("started_at", required=False),
    stamp("finished_at", required=False),
    sa.Column("done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("total", sa.Integer),
    sa.Column("faces", sa.Integer, nullable=False, server_default="0"),
    sa.Column("report", sa.Text, nullable=False, server_default="{}"),
    sa.Column("error", sa.Text),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    stamp("at"),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("actor_role", sa.String(20), nullable=False),
    sa.Column("actor_unit", sa.String(100), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("case_number", sa.String(64)),
    sa.Column("purpose", sa.String(100)),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
)
sa.Index("ix_audit_actor", audit_log.c.actor)
sa.Index("ix_audit_case", audit_log.c.case_number)
