"""Named, versioned schema migrations, applied in order and recorded.

Each migration is a function of a connection. Never edit one that has
shipped: add a new one. Table definitions live in :mod:`schema`; a migration
creates the tables it introduces from there, so SQLite and PostgreSQL share
one path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from faceatlas.store import schema, schema_cases, schema_watchlists
from faceatlas.types import record

__all__ = ["GENERATION_META", "MIGRATIONS", "Migration", "apply_migrations"]


@record
class Migration:
    version: int
    name: str
    apply: Callable[[sa.Connection], None]


def _create(*tables: sa.Table) -> Callable[[sa.Connection], None]:
    def run(conn: sa.Connection) -> None:
        for table in tables:
            table.create(conn, checkfirst=True)

    return run


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "core catalog: sources, images, sightings, faces, thumbnails, embeddings, ingest runs",
        _create(
            schema.atlas_meta,
            schema.sources,
            schema.images,
            schema.sightings,
            schema.faces,
            schema.thumbnails,
            schema.embeddings,
            schema.ingest_runs,
            schema.ingest_failures,
        ),
    ),
    Migration(
        2,
        "web ingestion: image content hashes (near-duplicates), ingest checkpoints, crawl frontier",
        _create(schema.image_hashes, schema.ingest_checkpoints, schema.crawl_frontier),
    ),
    Migration(
        4,
        "identities: clusters of faces, manual assignments, exclusions, curation log",
        _create(
            schema.identities,
            schema.face_identities,
            schema.identity_exclusions,
            schema.identity_decisions,
        ),
    ),
    Migration(
        3,
        "accounts, sessions and API tokens, ingest jobs, hash-chained audit log",
        lambda conn: _accounts_and_audit(conn),
    ),
    Migration(
        5,
        "calibrations: score-to-false-match-rate mappings with provenance",
        _create(schema.calibrations),
    ),
    Migration(
        6,
        "privacy: opt-out requests, blocklist templates, privacy action log, takedowns, probes",
        _create(
            schema.optout_requests,
            schema.optout_templates,
            schema.privacy_actions,
            schema.takedown_domains,
            schema.probe_images,
        ),
    ),
    Migration(
        7,
        "catalog generation: a counter every change to the stored embeddings bumps (triggers), "
        "so every process sees another's ingest or erasure on its next request",
        lambda conn: _generation_triggers(conn),
    ),
    Migration(
        8,
        "cases: members, probes, searches, candidates, examiner decisions and verifications",
        _create(*schema_cases.CASE_TABLES),
    ),
    Migration(9, "video: the time span of each face track of a video", _create(schema.face_spans)),
    Migration(
        10,
        "watchlists: case-bound entries, their probe templates, alerts and webhook deliveries",
        _create(*schema_watchlists.WATCHLIST_TABLES),
    ),
    Migration(
        11,
        "batch searches: background jobs with progress and their combined report",
        _create(*schema_watchlists.BATCH_TABLES),
    ),
)

GENERATION_META = "catalog_generation"
"""``atlas_meta`` key of the counter that triggers bump on every insert into or delete from
``embeddings``, whichever process or code path makes it."""

_SQLITE_GENERATION = tuple(
    f"CREATE TRIGGER IF NOT EXISTS embeddings_generation_{event.lower()} AFTER {event} "
    "ON embeddings BEGIN UPDATE atlas_meta SET value = CAST(value AS INTEGER) + 1 "
    f"WHERE key = '{GENERATION_META}'; END"
    for event in ("INSERT", "DELETE")
)
_POSTGRES_GENERATION = (
    "CREATE OR REPLACE FUNCTION faceatlas_bump_generation() RETURNS trigger AS $$ BEGIN "
    f"UPDATE atlas_meta SET value = (value::bigint + 1)::text WHERE key = '{GENERATION_META}'; "
    "RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER embeddings_generation AFTER INSERT OR DELETE ON embeddings "
    "FOR EACH STATEMENT EXECUTE FUNCTION faceatlas_bump_generation()",
)


def _generation_triggers(conn: sa.Connection) -> None:
    conn.execute(schema.atlas_meta.insert().values(key=GENERATION_META, value="0"))
    ddl = _SQLITE_GENERATION if conn.dialect.name == "sqlite" else _POSTGRES_GENERATION
    for statement in ddl:
        conn.exec_driver_sql(statement)


_AUDIT_GUARDS = (
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)


def _accounts_and_audit(conn: sa.Connection) -> None:
    _create(schema.users, schema.api_tokens, schema.ingest_jobs, schema.audit_log)(conn)
    if conn.dialect.name == "sqlite":
        # Defence in depth: the hash chain detects tampering; these refuse casual edits.
        for ddl in _AUDIT_GUARDS:
            conn.exec_driver_sql(ddl)


def apply_migrations(db: sa.Engine) -> list[int]:
    """Apply every migration not yet recorded; returns the versions applied."""
    applied_now: list[int] = []
    with db.begin() as conn:
        schema.schema_migrations.create(conn, checkfirst=True)
    for migration in sorted(MIGRATIONS, key=lambda m: m.version):
        with db.begin() as conn:
            done = conn.execute(
                sa.select(schema.schema_migrations.c.version).where(
                    schema.schema_migrations.c.version == migration.version
                )
            ).first()
            if done is not None:
                continue
            migration.apply(conn)
            conn.execute(
                schema.schema_migrations.insert().values(
                    version=migration.version,
                    name=migration.name,
                    applied_at=datetime.now(UTC).isoformat(),
                )
            )
            applied_now.append(migration.version)
    return applied_now
