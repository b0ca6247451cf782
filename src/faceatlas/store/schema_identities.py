"""Identity tables (migration 4): faces clustered into people, and every manual decision.

Manual decisions are keyed by face ids, never by embeddings, so they survive
reclustering and re-embedding with another model.
"""

from __future__ import annotations

import sqlalchemy as sa

from faceatlas.store.columns import keyed_table, metadata, owner, person, stamp

__all__ = ["face_identities", "identities", "identity_decisions", "identity_exclusions"]

identities = keyed_table(
    "identities",
    sa.Column("label", sa.Text),
    person("labelled_by", required=False),
    stamp("labelled_at", required=False),
    person("created_by"),
    stamp(),
    sqlite_autoincrement=True,  # an id, once given out, never names another person
)

face_identities = sa.Table(
    "face_identities",
    metadata,
    owner("face_id", "faces", primary_key=True),
    owner("identity_id", "identities"),
    sa.Column("manual", sa.Boolean, nullable=False, server_default=sa.false()),
    person("assigned_by"),
    stamp("assigned_at"),
)
sa.Index("ix_face_identities_identity", face_identities.c.identity_id)

identity_exclusions = sa.Table(
    "identity_exclusions",
    metadata,
    owner("face_id", "faces", primary_key=True),
    owner("identity_id", "identities", primary_key=True),
    person("decided_by"),
    stamp("decided_at"),
)

identity_decisions = keyed_table(
    "identity_decisions",
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("identity_id", sa.Integer, nullable=False),
    sa.Column("other_identity_id", sa.Integer),
    sa.Column("face_ids", sa.Text, nullable=False, server_default="[]"),
    sa.Column("detail", sa.Text),
    person("actor"),
    stamp("at"),
)
