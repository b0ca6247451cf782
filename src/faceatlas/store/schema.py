"""Catalog tables (SQLAlchemy Core), portable across SQLite and PostgreSQL.

Faces and embeddings are separate tables, one embedding row per face per
model id, so a model change re-embeds one table and keeps everything else.

This module holds the media tables (sources, images, sightings, faces,
embeddings, ingest bookkeeping, crawl frontier, calibrations) and re-exports
the identity, account/audit and privacy tables, so ``schema.<table>`` names
every table of the catalog.
"""

from __future__ import annotations

import sqlalchemy as sa

from faceatlas.store.columns import (
    box_columns,
    keyed_table,
    metadata,
    owner,
    page_context,
    quality_columns,
    stamp,
    vector_columns,
)
from faceatlas.store.schema_accounts import api_tokens, audit_log, ingest_jobs, users
from faceatlas.store.schema_identities import (
    face_identities,
    identities,
    identity_decisions,
    identity_exclusions,
)
from faceatlas.store.schema_privacy import (
    optout_requests,
    optout_templates,
    privacy_actions,
    probe_images,
    takedown_domains,
)
from faceatlas.store.schema_video import face_spans

__all__ = [
    "api_tokens",
    "atlas_meta",
    "audit_log",
    "calibrations",
    "crawl_frontier",
    "embeddings",
    "face_identities",
    "face_spans",
    "faces",
    "identities",
    "identity_decisions",
    "identity_exclusions",
    "image_hashes",
    "images",
    "ingest_checkpoints",
    "ingest_failures",
    "ingest_jobs",
    "ingest_runs",
    "metadata",
    "optout_requests",
    "optout_templates",
    "privacy_actions",
    "probe_images",
    "schema_migrations",
    "sightings",
    "sources",
    "takedown_domains",
    "thumbnails",
    "users",
]

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

sources = keyed_table(
    "sources",
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("locator", sa.Text, nullable=False),
    stamp(),
    sa.UniqueConstraint("kind", "locator", name="uq_sources_kind_locator"),
)

images = keyed_table(
    "images",
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("byte_size", sa.BigInteger, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("face_count", sa.Integer, nullable=False),
    stamp(),
)

sightings = keyed_table(
    "sightings",
    owner("image_id", "images"),
    owner("source_id", "sources"),
    sa.Column("locator", sa.Text, nullable=False),
    sa.Column("page_url", sa.Text, nullable=False, server_default=""),
    *page_context(),
    sa.Column("http_last_modified", sa.String(64)),
    sa.Column("file_size", sa.BigInteger),
    sa.Column("file_mtime_ns", sa.BigInteger),
    stamp("first_seen"),
    stamp("last_seen"),
    sa.UniqueConstraint("image_id", "locator", "page_url", name="uq_sightings_where"),
)
sa.Index("ix_sightings_locator", sightings.c.locator)

faces = keyed_table(
    "faces",
    owner("image_id", "images"),
    sa.Column("ordinal", sa.Integer, nullable=False),
    *box_columns(),
    sa.Column("landmarks", sa.Text, nullable=False),
    *quality_columns(),
    sa.UniqueConstraint("image_id", "ordinal", name="uq_faces_image_ordinal"),
)

thumbnails = sa.Table(
    "thumbnails",
    metadata,
    owner("face_id", "faces", primary_key=True),
    sa.Column("jpeg", sa.LargeBinary, nullable=False),
    stamp(),
)

embeddings = keyed_table(
    "embeddings",
    owner("face_id", "faces"),
    *vector_columns(),
    stamp(),
    sa.UniqueConstraint("face_id", "model_id", name="uq_embeddings_face_model"),
)
sa.Index("ix_embeddings_model", embeddings.c.model_id, embeddings.c.id)

ingest_runs = keyed_table(
    "ingest_runs",
    owner("source_id", "sources"),
    stamp("started_at"),
    stamp("finished_at", required=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("counts", sa.Text, nullable=False, server_default="{}"),
)

ingest_failures = keyed_table(
    "ingest_failures",
    owner("source_id", "sources"),
    sa.Column("locator", sa.Text, nullable=False),
    sa.Column("code", sa.String(60), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    stamp("at"),
    sa.UniqueConstraint("source_id", "locator", name="uq_failures_where"),
)

# --- migration 2: web provenance, near-duplicates, checkpoints, crawl frontier ---------

image_hashes = keyed_table(
    "image_hashes",
    owner("image_id", "images"),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("phash", sa.BigInteger),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("byte_size", sa.BigInteger, nullable=False),
    sa.Column("distance", sa.Integer, nullable=False),
    stamp(),
)
"""Every distinct content folded into an image: the original (distance 0) and each
resized or re-encoded copy, with its perceptual hash and distance in bits."""
sa.Index("ix_image_hashes_image", image_hashes.c.image_id)

ingest_checkpoints = sa.Table(
    "ingest_checkpoints",
    metadata,
    owner("source_id", "sources", primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("items_done", sa.BigInteger, nullable=False),
    stamp("updated_at"),
)
"""How many items of a stable-order source (WARC, URL list) are committed, in the
same transaction as those items, so a rerun skips them without reading."""

crawl_frontier = keyed_table(
    "crawl_frontier",
    owner("source_id", "sources"),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("page_url", sa.Text, nullable=False, server_default=""),
    sa.Column("depth", sa.Integer, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("outcome", sa.String(60)),
    *page_context(),
    stamp("discovered_at"),
    stamp("updated_at"),
    sa.UniqueConstraint("source_id", "kind", "url", "page_url", name="uq_frontier_entry"),
)
"""The crawler's on-disk frontier: pages to visit and images seen on pages, with state."""
sa.Index(
    "ix_frontier_state", crawl_frontier.c.source_id, crawl_frontier.c.state, crawl_frontier.c.id
)

# --- migration 5: calibrations ------------------------------------------------------------

calibrations = keyed_table(
    "calibrations",
    sa.Column("model_id", sa.String(100), nullable=False),
    stamp(),
    sa.Column("target_fmr", sa.Float, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("comparisons", sa.BigInteger, nullable=False),
    sa.Column("false_matches", sa.BigInteger, nullable=False),
    sa.Column("mapping", sa.Text, nullable=False),
    sa.Column("provenance", sa.Text, nullable=False),
)
sa.Index("ix_calibrations_model", calibrations.c.model_id, calibrations.c.id)
