"""SQL for the identity tables (SQLAlchemy Core, inside the caller's transaction)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa

from faceatlas.identity.records import Decision, DecisionKind, IdentitySummary
from faceatlas.store import schema as t
from faceatlas.store.catalog import utc_now

__all__ = [
    "CLUSTER_ACTOR",
    "add_exclusions",
    "assign",
    "assignments",
    "create_identity",
    "decisions",
    "delete_empty_identities",
    "exclusions",
    "identity_exists",
    "members",
    "pending_faces",
    "record_decision",
    "summaries",
]

CLUSTER_ACTOR = "clustering"
"""``created_by``/``assigned_by`` of what the clusterer, not a person, decided."""

_CHUNK = 500


def _chunks(items: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(items), _CHUNK):
        yield list(items[start : start + _CHUNK])


def create_identity(conn: sa.Connection, actor: str) -> int:
    result = conn.execute(t.identities.insert().values(created_by=actor, created_at=utc_now()))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def identity_exists(conn: sa.Connection, identity_id: int) -> bool:
    row = conn.execute(sa.select(t.identities.c.id).where(t.identities.c.id == identity_id))
    return row.first() is not None


def assignments(
    conn: sa.Connection, *, manual_only: bool = False
) -> tuple[dict[int, int], set[int]]:
    """``(face id -> identity id, manually placed face ids)``."""
    query = sa.select(
        t.face_identities.c.face_id, t.face_identities.c.identity_id, t.face_identities.c.manual
    )
    if manual_only:
        query = query.where(t.face_identities.c.manual.is_(True))
    assigned: dict[int, int] = {}
    manual: set[int] = set()
    for face_id, identity_id, is_manual in conn.execute(query):
        assigned[int(face_id)] = int(identity_id)
        if is_manual:
            manual.add(int(face_id))
    return assigned, manual


def manual_among(conn: sa.Connection, face_ids: Sequence[int]) -> set[int]:
    """The faces among ``face_ids`` that a person placed."""
    out: set[int] = set()
    fi = t.face_identities
    for chunk in _chunks(list(face_ids)):
        rows = conn.execute(
            sa.select(fi.c.face_id).where(fi.c.face_id.in_(chunk), fi.c.manual.is_(True))
        )
        out.update(int(r[0]) for r in rows)
    return out


def exclusions(conn: sa.Connection) -> dict[int, frozenset[int]]:
    out: dict[int, set[int]] = {}
    rows = conn.execute(
        sa.select(t.identity_exclusions.c.face_id, t.identity_exclusions.c.identity_id)
    )
    for face_id, identity_id in rows:
        out.setdefault(int(face_id), set()).add(int(identity_id))
    return {f: frozenset(ids) for f, ids in out.items()}


def pending_faces(conn: sa.Connection, model_id: str) -> list[int]:
    """Faces with an embedding of ``model_id`` and no identity, by id."""
    assigned = sa.select(t.face_identities.c.face_id)
    rows = conn.execute(
        sa.select(t.embeddings.c.face_id)
        .where(t.embeddings.c.model_id == model_id, t.embeddings.c.face_id.not_in(assigned))
        .order_by(t.embeddings.c.face_id)
    )
    return [int(r[0]) for r in rows]


def assign(conn: sa.Connection, placements: Mapping[int, int], *, manual: bool, actor: str) -> None:
    """Place faces in identities, replacing any earlier placement of those faces."""
    if not placements:
        return
    faces = sorted(placements)
    for chunk in _chunks(faces):
        conn.execute(t.face_identities.delete().where(t.face_identities.c.face_id.in_(chunk)))
    now = utc_now()
    conn.execute(
        t.face_identities.insert(),
        [
            {
                "face_id": f,
                "identity_id": placements[f],
                "manual": manual,
                "assigned_by": actor,
                "assigned_at": now,
            }
            for f in faces
        ],
    )


def unassign(conn: sa.Connection, face_ids: Sequence[int]) -> None:
    for chunk in _chunks(list(face_ids)):
        conn.execute(t.face_identities.delete().where(t.face_identities.c.face_id.in_(chunk)))


def clear_automatic(conn: sa.Connection) -> None:
    """Drop every placement the clusterer made; manual ones stay."""
    conn.execute(t.face_identities.delete().where(t.face_identities.c.manual.is_(False)))


def delete_empty_identities(conn: sa.Connection) -> int:
    used = sa.select(t.face_identities.c.identity_id)
    return int(conn.execute(t.identities.delete().where(t.identities.c.id.not_in(used))).rowcount)


def add_exclusions(
    conn: sa.Connection, identity_id: int, face_ids: Sequence[int], actor: str
) -> None:
    now = utc_now()
    for f in face_ids:
        exists = conn.execute(
            sa.select(t.identity_exclusions.c.face_id).where(
                t.identity_exclusions.c.face_id == f,
                t.identity_exclusions.c.identity_id == identity_id,
            )
        ).first()
        if exists is None:
            conn.execute(
                t.identity_exclusions.insert().values(
                    face_id=f, identity_id=identity_id, decided_by=actor, decided_at=now
                )
            )


def members(conn: sa.Connection, identity_ids: Sequence[int]) -> dict[int, list[int]]:
    """Identity id -> its face ids (ascending)."""
    out: dict[int, list[int]] = {i: [] for i in identity_ids}
    for chunk in _chunks(list(identity_ids)):
        rows = conn.execute(
            sa.select(t.face_identities.c.identity_id, t.face_identities.c.face_id)
            .where(t.face_identities.c.identity_id.in_(chunk))
            .order_by(t.face_identities.c.face_id)
        )
        for identity_id, face_id in rows:
            out[int(identity_id)].append(int(face_id))
    return out


def identities_of(conn: sa.Connection, face_ids: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk in _chunks(list(face_ids)):
        rows = conn.execute(
            sa.select(t.face_identities.c.face_id, t.face_identities.c.identity_id).where(
                t.face_identities.c.face_id.in_(chunk)
            )
        )
        out.update({int(f): int(i) for f, i in rows})
    return out


def set_label(conn: sa.Connection, identity_id: int, label: str | None, actor: str) -> None:
    conn.execute(
        t.identities.update()
        .where(t.identities.c.id == identity_id)
        .values(label=label, labelled_by=actor, labelled_at=utc_now())
    )


def summaries(
    conn: sa.Connection,
    identity_ids: Sequence[int] | None = None,
    *,
    min_faces: int = 1,
    limit: int = 100,
    offset: int = 0,
) -> list[IdentitySummary]:
    """Identities with their face counts, largest first (or those asked for, in that order)."""
    fi = t.face_identities
    faces = sa.func.count(fi.c.face_id).label("faces")
    manual = sa.func.sum(sa.case((fi.c.manual.is_(True), 1), else_=0)).label("manual")
    query = (
        sa.select(t.identities, faces, manual)
        .join(fi, fi.c.identity_id == t.identities.c.id)
        .group_by(t.identities.c.id)
    )
    if identity_ids is not None:
        query = query.where(t.identities.c.id.in_(list(identity_ids)))
    else:
        query = (
            query.having(faces >= min_faces)
            .order_by(faces.desc(), t.identities.c.id)
            .limit(limit)
            .offset(offset)
        )
    out = [
        IdentitySummary(
            id=int(r.id),
            label=r.label,
            labelled_by=r.labelled_by,
            faces=int(r.faces),
            manual_faces=int(r.manual or 0),
            created_by=r.created_by,
            created_at=r.created_at,
        )
        for r in conn.execute(query)
    ]
    if identity_ids is not None:
        by_id = {s.id: s for s in out}
        out = [by_id[i] for i in identity_ids if i in by_id]
    return out


def count_identities(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(t.identities)).scalar_one())


def labels(conn: sa.Connection, identity_ids: Sequence[int]) -> dict[int, str | None]:
    out: dict[int, str | None] = {}
    for chunk in _chunks(list(identity_ids)):
        rows = conn.execute(
            sa.select(t.identities.c.id, t.identities.c.label).where(t.identities.c.id.in_(chunk))
        )
        out.update({int(i): lab for i, lab in rows})
    return out


def record_decision(
    conn: sa.Connection,
    kind: DecisionKind,
    identity_id: int,
    actor: str,
    *,
    other_identity_id: int | None = None,
    face_ids: Sequence[int] = (),
    detail: str | None = None,
) -> None:
    conn.execute(
        t.identity_decisions.insert().values(
            kind=kind.value,
            identity_id=identity_id,
            other_identity_id=other_identity_id,
            face_ids=json.dumps(sorted(face_ids)),
            detail=detail,
            actor=actor,
            at=utc_now(),
        )
    )


def decisions(conn: sa.Connection, identity_id: int | None = None) -> list[Decision]:
    d = t.identity_decisions
    query = sa.select(d).order_by(d.c.id)
    if identity_id is not None:
        query = query.where(
            (d.c.identity_id == identity_id) | (d.c.other_identity_id == identity_id)
        )
    return [
        Decision(
            id=int(r.id),
            kind=DecisionKind(r.kind),
            identity_id=int(r.identity_id),
            other_identity_id=None if r.other_identity_id is None else int(r.other_identity_id),
            face_ids=tuple(int(f) for f in json.loads(r.face_ids)),
            detail=r.detail,
            actor=r.actor,
            at=r.at,
        )
        for r in conn.execute(query)
    ]
