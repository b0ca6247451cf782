"""Case tables (migration 8): cases, their members, probes, searches, candidates, examiner
decisions and verifications.

Decisions and verifications are never updated in place, except to record the sequence
number of the audit entry that carries their content hash once it is appended. Probe bytes
are set to NULL when the case's retention erases them; the row (with its SHA-256) stays.
"""

from __future__ import annotations

import sqlalchemy as sa

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

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("number", sa.String(64), nullable=False, unique=True),
    sa.Column("purpose", sa.String(100), nullable=False),
    sa.Column("legal_basis", sa.Text, nullable=False),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("owner_unit", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("retention_until", sa.String(10), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("closed_at", sa.String(40)),
    sa.Column("closed_by", sa.String(64)),
)

case_members = sa.Table(
    "case_members",
    metadata,
    sa.Column(
        "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("added_by", sa.String(64), nullable=False),
    sa.Column("added_at", sa.String(40), nullable=False),
)
sa.Index("ix_case_members_user", case_members.c.username)

case_probes = sa.Table(
    "case_probes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary),
    sa.Column("uploaded_by", sa.String(64), nullable=False),
    sa.Column("uploaded_at", sa.String(40), nullable=False),
    sa.Column("erased_at", sa.String(40)),
    sa.UniqueConstraint("case_id", "sha256", name="uq_case_probes_sha"),
)

case_searches = sa.Table(
    "case_searches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "probe_id", sa.Integer, sa.ForeignKey("case_probes.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("audit_seq", sa.Integer, nullable=False, unique=True),
    sa.Column("searched_by", sa.String(64), nullable=False),
    sa.Column("model_id", sa.String(100), nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("threshold_source", sa.String(100), nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
)

case_candidates = sa.Table(
    "case_candidates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "search_id",
        sa.Integer,
        sa.ForeignKey("case_searches.id", ondelete="CASCADE"),
        nullable=False,
    ),
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

case_decisions = sa.Table(
    "case_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "candidate_id",
        sa.Integer,
        sa.ForeignKey("case_candidates.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    sa.Column("examiner", sa.String(64), nullable=False),
    sa.Column("conclusion", sa.String(20), nullable=False),
    sa.Column("form", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("decided_at", sa.String(40), nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("audit_seq", sa.Integer),
)

case_verifications = sa.Table(
    "case_verifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "decision_id",
        sa.Integer,
        sa.ForeignKey("case_decisions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("verifier", sa.String(64), nullable=False),
    sa.Column("conclusion", sa.String(20), nullable=False),
    sa.Column("agrees", sa.Boolean, nullable=False),
    sa.Column("form", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("verified_at", sa.String(40), nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("audit_seq", sa.Integer),
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
