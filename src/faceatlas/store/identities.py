"""The identity tables: placements of faces in identities, exclusions, labels, decisions.

:class:`IdentityRepository` runs inside one connection (reads) or one transaction
(writes), opened with :meth:`IdentityRepository.read` or :meth:`IdentityRepository.write`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.identity_records import Decision, DecisionKind, IdentitySummary
from faceatlas.store.rows import Database, chunks, new_id, record_from, rows_in, utc_now

__all__ = ["IdentityRepository", "delete_empty_identities"]


def delete_empty_identities(conn: sa.Connection) -> int:
    """Delete identities no face belongs to any more; returns how many."""
    used = sa.select(t.face_identities.c.identity_id)
    return int(conn.execute(t.identities.delete().where(t.identities.c.id.not_in(used))).rowcount)


class IdentityRepository:
    """Identity rows, read and written through one connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @classmethod
    @contextmanager
    def read(cls, db: Database) -> Iterator[IdentityRepository]:
        """Reads through one connection."""
        with db.connect() as conn:
            yield cls(conn)

    @classmethod
    @contextmanager
    def write(cls, db: Database) -> Iterator[IdentityRepository]:
        """One transaction: everything inside commits together or not at all."""
        with db.begin() as conn:
            yield cls(conn)

    def create_identity(self, actor: str) -> int:
        return new_id(
            self.conn.execute(t.identities.insert().values(created_by=actor, created_at=utc_now()))
        )

    def identity_exists(self, identity_id: int) -> bool:
        row = self.conn.execute(
            sa.select(t.identities.c.id).where(t.identities.c.id == identity_id)
        )
        return row.first() is not None

    def assignments(self, *, manual_only: bool = False) -> tuple[dict[int, int], set[int]]:
        """``(face id -> identity id, manually placed face ids)``."""
        query = sa.select(
            t.face_identities.c.face_id, t.face_identities.c.identity_id, t.face_identities.c.manual
        )
        if manual_only:
            query = query.where(t.face_identities.c.manual.is_(True))
        assigned: dict[int, int] = {}
        manual: set[int] = set()
        for face_id, identity_id, is_manual in self.conn.execute(query):
            assigned[int(face_id)] = int(identity_id)
            if is_manual:
                manual.add(int(face_id))
        return assigned, manual

    def manual_among(self, face_ids: Sequence[int]) -> set[int]:
        """The faces among ``face_ids`` that a person placed."""
        fi = t.face_identities
        query = sa.select(fi.c.face_id).where(fi.c.manual.is_(True))
        return {int(r[0]) for r in rows_in(self.conn, query, fi.c.face_id, face_ids)}

    def exclusions(self) -> dict[int, frozenset[int]]:
        out: dict[int, set[int]] = {}
        rows = self.conn.execute(
            sa.select(t.identity_exclusions.c.face_id, t.identity_exclusions.c.identity_id)
        )
        for face_id, identity_id in rows:
            out.setdefault(int(face_id), set()).add(int(identity_id))
        return {f: frozenset(ids) for f, ids in out.items()}

    def pending_faces(self, model_id: str) -> list[int]:
        """Faces with an embedding of ``model_id`` and no identity, by id."""
        assigned = sa.select(t.face_identities.c.face_id)
        rows = self.conn.execute(
            sa.select(t.embeddings.c.face_id)
            .where(t.embeddings.c.model_id == model_id, t.embeddings.c.face_id.not_in(assigned))
            .order_by(t.embeddings.c.face_id)
        )
        return [int(r[0]) for r in rows]

    def assign(self, placements: Mapping[int, int], *, manual: bool, actor: str) -> None:
        """Place faces in identities, replacing any earlier placement of those faces."""
        if not placements:
            return
        faces = sorted(placements)
        for chunk in chunks(faces):
            self.conn.execute(
                t.face_identities.delete().where(t.face_identities.c.face_id.in_(chunk))
            )
        now = utc_now()
        self.conn.execute(
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

    def unassign(self, face_ids: Sequence[int]) -> None:
        for chunk in chunks(list(face_ids)):
            self.conn.execute(
                t.face_identities.delete().where(t.face_identities.c.face_id.in_(chunk))
            )

    def clear_automatic(self) -> None:
        """Drop every placement the clusterer made; manual ones stay."""
        self.conn.execute(t.face_identities.delete().where(t.face_identities.c.manual.is_(False)))

    def delete_empty_identities(self) -> int:
        return delete_empty_identities(self.conn)

    def add_exclusions(self, identity_id: int, face_ids: Sequence[int], actor: str) -> None:
        now = utc_now()
        for f in face_ids:
            exists = self.conn.execute(
                sa.select(t.identity_exclusions.c.face_id).where(
                    t.identity_exclusions.c.face_id == f,
                    t.identity_exclusions.c.identity_id == identity_id,
                )
            ).first()
            if exists is None:
                self.conn.execute(
                    t.identity_exclusions.insert().values(
                        face_id=f, identity_id=identity_id, decided_by=actor, decided_at=now
                    )
                )

    def members(self, identity_ids: Sequence[int]) -> dict[int, list[int]]:
        """Identity id -> its face ids (ascending)."""
        fi = t.face_identities
        out: dict[int, list[int]] = {i: [] for i in identity_ids}
        query = sa.select(fi.c.identity_id, fi.c.face_id).order_by(fi.c.face_id)
        for identity_id, face_id in rows_in(self.conn, query, fi.c.identity_id, identity_ids):
            out[int(identity_id)].append(int(face_id))
        return out

    def identities_of(self, face_ids: Sequence[int]) -> dict[int, int]:
        fi = t.face_identities
        query = sa.select(fi.c.face_id, fi.c.identity_id)
        return {int(f): int(i) for f, i in rows_in(self.conn, query, fi.c.face_id, face_ids)}

    def set_label(self, identity_id: int, label: str | None, actor: str) -> None:
        self.conn.execute(
            t.identities.update()
            .where(t.identities.c.id == identity_id)
            .values(label=label, labelled_by=actor, labelled_at=utc_now())
        )

    def summaries(
        self,
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
            record_from(IdentitySummary, r, manual_faces=int(r.manual or 0))
            for r in self.conn.execute(query)
        ]
        if identity_ids is not None:
            by_id = {s.id: s for s in out}
            out = [by_id[i] for i in identity_ids if i in by_id]
        return out

    def count_identities(self) -> int:
        return int(
            self.conn.execute(sa.select(sa.func.count()).select_from(t.identities)).scalar_one()
        )

    def labels(self, identity_ids: Sequence[int]) -> dict[int, str | None]:
        query = sa.select(t.identities.c.id, t.identities.c.label)
        rows = rows_in(self.conn, query, t.identities.c.id, identity_ids)
        return {int(i): lab for i, lab in rows}

    def record_decision(
        self,
        kind: DecisionKind,
        identity_id: int,
        actor: str,
        *,
        other_identity_id: int | None = None,
        face_ids: Sequence[int] = (),
        detail: str | None = None,
    ) -> None:
        self.conn.execute(
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

    def decisions(self, identity_id: int | None = None) -> list[Decision]:
        d = t.identity_decisions
        query = sa.select(d).order_by(d.c.id)
        if identity_id is not None:
            query = query.where(
                (d.c.identity_id == identity_id) | (d.c.other_identity_id == identity_id)
            )
        return [
            record_from(
                Decision,
                r,
                kind=DecisionKind(r.kind),
                face_ids=tuple(int(f) for f in json.loads(r.face_ids)),
            )
            for r in self.conn.execute(query)
        ]

    # --- what curation checks and carries over ---------------------------------------

    def existing_faces(self, face_ids: Sequence[int]) -> set[int]:
        """The faces among ``face_ids`` that exist."""
        rows = rows_in(self.conn, sa.select(t.faces.c.id), t.faces.c.id, face_ids)
        return {int(r[0]) for r in rows}

    def move_exclusions(self, source: int, target: int) -> None:
        """Faces ruled out of ``source`` become ruled out of ``target`` (same decider)."""
        ex = t.identity_exclusions
        rows = self.conn.execute(sa.select(ex).where(ex.c.identity_id == source)).all()
        for r in rows:
            self.add_exclusions(target, [int(r.face_id)], r.decided_by)
        self.conn.execute(ex.delete().where(ex.c.identity_id == source))

    def drop_exclusions(self, face_ids: Sequence[int], identity_id: int) -> None:
        """Let ``face_ids`` join ``identity_id`` again."""
        ex = t.identity_exclusions
        self.conn.execute(
            ex.delete().where(ex.c.face_id.in_(list(face_ids)), ex.c.identity_id == identity_id)
        )
