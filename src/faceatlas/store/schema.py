"""Catalog tables (SQLAlchemy Core), portable across SQLite and PostgreSQL.

Faces and embeddings are separate tables, one embedding row per face per
model id, so a model change re-embeds one table and keeps everything else.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata"]

metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.String(40), nullable=False),
)

atlas_meta = sa.Table(
    "atlas_meta",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("locator", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("kind", "locator", name="uq_sources_kind_locator"),
)

images = sa.Table(
    "images",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("byte_size", sa.BigInteger, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("face_count", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

sightings = sa.Table(
    "sightings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("locator", sa.Text, nullable=False),
    sa.Column("page_url", sa.Text, nullable=False, server_default=""),
    sa.Column("page_title", sa.Text),
    sa.Column("alt_text", sa.Text),
    sa.Column("caption", sa.Text),
    sa.Column("http_last_modified", sa.String(64)),
    sa.Column("file_size", sa.BigInteger),
    sa.Column("file_mtime_ns", sa.BigInteger),
    sa.Column("first_seen", sa.String(40), nullable=False),
    sa.Column("last_seen", sa.String(40), nullable=False),
    sa.UniqueConstraint("image_id", "locator", "page_url", name="uq_sightings_where"),
)
sa.Index("ix_sightings_locator", sightings.c.locator)

faces = sa.Table(
    "faces",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("ordinal", sa.Integer, nullable=False),
    sa.Column("box_left", sa.Integer, nullable=False),
    sa.Column("box_top", sa.Integer, nullable=False),
    sa.Column("box_right", sa.Integer, nullable=False),
    sa.Column("box_bottom", sa.Integer, nullable=False),
    sa.Column("landmarks", sa.Text, nullable=False),
    sa.Column("detector_score", sa.Float, nullable=False),
    sa.Column("sharpness", sa.Float, nullable=False),
    sa.Column("frontal", sa.Float, nullable=False),
    sa.Column("box_px", sa.Integer, nullable=False),
    sa.UniqueConstraint("image_id", "ordinal", name="uq_faces_image_ordinal"),
)

thumbnails = sa.Table(
    "thumbnails",
    metadata,
    sa.Column(
        "face_id", sa.Integer, sa.ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("jpeg", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

embeddings = sa.Table(
    "embeddings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("face_id", sa.Integer, sa.ForeignKey("faces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("model_id", sa.String(100), nullable=False),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("face_id", "model_id", name="uq_embeddings_face_model"),
)
sa.Index("ix_embeddings_model", embeddings.c.model_id, embeddings.c.id)

ingest_runs = sa.Table(
    "ingest_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("finished_at", sa.String(40)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("counts", sa.Text, nullable=False, server_default="{}"),
)

ingest_failures = sa.Table(
    "ingest_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("locator", sa.Text, nullable=False),
    sa.Column("code", sa.String(60), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.UniqueConstraint("source_id", "locator", name="uq_failures_where"),
)

# --- identities (migration 4) ------------------------------------------------------
# Manual decisions are keyed by face ids, never by embeddings, so they survive
# reclustering and re-embedding with another model.

identities = sa.Table(
    "identities",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("label", sa.Text),
    sa.Column("labelled_by", sa.String(200)),
    sa.Column("labelled_at", sa.String(40)),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sqlite_autoincrement=True,  # an id, once given out, never names another person
)

face_identities = sa.Table(
    "face_identities",
    metadata,
    sa.Column(
        "face_id", sa.Integer, sa.ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "identity_id",
        sa.Integer,
        sa.ForeignKey("identities.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("manual", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("assigned_by", sa.String(200), nullable=False),
    sa.Column("assigned_at", sa.String(40), nullable=False),
)
sa.Index("ix_face_identities_identity", face_identities.c.identity_id)

identity_exclusions = sa.Table(
    "identity_exclusions",
    metadata,
    sa.Column(
        "face_id", sa.Integer, sa.ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "identity_id",
        sa.Integer,
        sa.ForeignKey("identities.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("decided_by", sa.String(200), nullable=False),
    sa.Column("decided_at", sa.String(40), nullable=False),
)

identity_decisions = sa.Table(
    "identity_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("identity_id", sa.Integer, nullable=False),
    sa.Column("other_identity_id", sa.Integer),
    sa.Column("face_ids", sa.Text, nullable=False, server_default="[]"),
    sa.Column("detail", sa.Text),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
)

# --- migration 2: web provenance, near-duplicates, checkpoints, crawl frontier ---------

image_hashes = sa.Table(
    "image_hashes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("phash", sa.BigInteger),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("byte_size", sa.BigInteger, nullable=False),
    sa.Column("distance", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)
"""Every distinct content folded into an image: the original (distance 0) and each
resized or re-encoded copy, with its perceptual hash and distance in bits."""
sa.Index("ix_image_hashes_image", image_hashes.c.image_id)

ingest_checkpoints = sa.Table(
    "ingest_checkpoints",
    metadata,
    sa.Column(
        "source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("items_done", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
"""How many items of a stable-order source (WARC, URL list) are committed, in the
same transaction as those items, so a rerun skips them without reading."""

crawl_frontier = sa.Table(
    "crawl_frontier",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("page_url", sa.Text, nullable=False, server_default=""),
    sa.Column("depth", sa.Integer, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("outcome", sa.String(60)),
    sa.Column("page_title", sa.Text),
    sa.Column("alt_text", sa.Text),
    sa.Column("caption", sa.Text),
    sa.Column("discovered_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("source_id", "kind", "url", "page_url", name="uq_frontier_entry"),
)
"""The crawler's on-disk frontier: pages to visit and images seen on pages, with state."""
sa.Index(
    "ix_frontier_state", crawl_frontier.c.source_id, crawl_frontier.c.state, crawl_frontier.c.id
)


# --- accounts, jobs and audit (migration 3) ---------------------------------------

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("unit", sa.String(100), nullable=False, server_default=""),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.String(40), nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("name", sa.String(100), nullable=False, server_default=""),
    sa.Column("csrf_token", sa.String(64)),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.String(40), nullable=False),
    sa.Column("revoked_at", sa.String(40)),
)
sa.Index("ix_api_tokens_user", api_tokens.c.user_id)

ingest_jobs = sa.Table(
    "ingest_jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("started_at", sa.String(40)),
    sa.Column("finished_at", sa.String(40)),
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
    sa.Column("at", sa.String(40), nullable=False),
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

calibrations = sa.Table(
    "calibrations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_id", sa.String(100), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("target_fmr", sa.Float, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("comparisons", sa.BigInteger, nullable=False),
    sa.Column("false_matches", sa.BigInteger, nullable=False),
    sa.Column("mapping", sa.Text, nullable=False),
    sa.Column("provenance", sa.Text, nullable=False),
)
sa.Index("ix_calibrations_model", calibrations.c.model_id, calibrations.c.id)
# --- privacy (migration 6): opt-out requests, blocklist templates, action log, probes -----

optout_requests = sa.Table(
    "optout_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("contact", sa.String(320), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("decided_at", sa.String(40)),
    sa.Column("decided_by", sa.String(200)),
    sa.Column("note", sa.Text),
    sa.Column("receipt", sa.Text),
)

optout_templates = sa.Table(
    "optout_templates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "request_id",
        sa.Integer,
        sa.ForeignKey("optout_requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("model_id", sa.String(100), nullable=False),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)
sa.Index("ix_optout_templates_model", optout_templates.c.model_id, optout_templates.c.active)

privacy_actions = sa.Table(
    "privacy_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("case_ref", sa.String(200)),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=False, server_default="{}"),
)

takedown_domains = sa.Table(
    "takedown_domains",
    metadata,
    sa.Column("domain", sa.String(253), primary_key=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("case_ref", sa.String(200)),
)

probe_images = sa.Table(
    "probe_images",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)
