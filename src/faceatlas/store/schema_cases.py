"""Case tables (migration 8): cases, their members, probes, searches, candidates, examiner
decisions and verifications.

Decisions and verifications are never updated in place, except to record the sequence
number of the audit entry that carries their content hash once it is appended. Probe bytes
are set to NULL when the case's retention erases them; the row (with its SHA-256) stays.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from faceatlas.store.columns import keyed_table, owner, stamp

__all__ = [
    "CASE_TABLES",
    "case_candidates",
    "case_decisions",
    "case_members",
    "case_probes",
    "case_searches",
    "case_verifications",
    "cases",
    "metadata",
]

metadata = sa.MetaData()
"""The case tables' own metadata: they reference no table of another family."""


def _table(name: str, *columns: sa.schema.SchemaItem) -> sa.Table:
    return keyed_table(name, *columns, meta=metadata)


def _name(name: str, **options: Any) -> sa.Column[Any]:
    """A user name."""
    return sa.Column(name, sa.String(64), **{"nullable": False, **options})


def _examined(examiner: str, at: str, *between: sa.Column[Any]) -> tuple[sa.Column[Any], ...]:
    """An examiner's conclusion on the comparison form, with its content hash and audit entry
    (``between`` stand after the conclusion)."""
    return (
        _name(examiner),
        sa.Column("conclusion", sa.String(20), nullable=False),
        *between,
        sa.Column("form", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        stamp(at),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("audit_seq", sa.Integer),
    )


cases = _table(
    "cases",
    sa.Column("number", sa.String(64), nullable=False, unique=True),
    sa.Column("purpose", sa.String(100), nullable=False),
    sa.Column("legal_basis", sa.Text, nullable=False),
    _name("owner"),
    sa.Column("owner_unit", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("retention_until", sa.String(10), nullable=False),
    stamp(),
    stamp("closed_at", required=False),
    _name("closed_by", nullable=True),
)

case_members = sa.Table(
    "case_members",
    metadata,
    owner("case_id", "cases", primary_key=True),
    _name("username", primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    _name("added_by"),
    stamp("added_at"),
)
sa.Index("ix_case_members_user", case_members.c.username)

case_probes = _table(
    "case_probes",
    owner("case_id", "cases"),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary),
    _name("uploaded_by"),
    stamp("uploaded_at"),
    stamp("erased_at", required=False),
    sa.UniqueConstraint("case_id", "sha256", name="uq_case_probes_sha"),
)

case_searches = _table(
    "case_searches",
    owner("case_id", "cases"),
    owner("probe_id", "case_probes"),
    sa.Column("audit_seq", sa.Integer, nullable=False, unique=True),
    _name("searched_by"),
    sa.Column("model_id", sa.String(100), nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("threshold_source", sa.String(100), nullable=False),
    stamp("recorded_at"),
)

case_candidates = _table(
    "case_candidates",
    owner("search_id", "case_searches"),
    sa.Column("face_id", sa.Integer, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("similarity", sa.Float, nullable=False),
    sa.Column("score", sa.Float),
    sa.Column("estimated_fmr", sa.Float),
    sa.Column("estimated_fmr_upper", sa.Float),
    sa.Column("estimated_fpir", sa.Float),
    sa.Column("estimated_fpir_upper", sa.Float),
    sa.UniqueConstraint("search_id", "rank", name="uq_case_candidates_rank"),
)

case_decisions = _table(
    "case_decisions",
    owner("candidate_id", "case_candidates", unique=True),
    *_examined("examiner", "decided_at"),
)

case_verifications = _table(
    "case_verifications",
    owner("decision_id", "case_decisions"),
    *_examined("verifier", "verified_at", sa.Column("agrees", sa.Boolean, nullable=False)),
    sa.UniqueConstraint("decision_id", "verifier", name="uq_case_verifications_verifier"),
)

CASE_TABLES = (
    cases,
    case_members,
    case_probes,
    case_searches,
    case_candidates,
    case_decisions,
    case_verifications,
)
"""In creation order (each after the tables it references)."""
