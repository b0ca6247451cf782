"""Manual curation: merge, split, move a face, label, and "not this person".

Every decision is stored keyed by face ids (never by embeddings) and logged
with who made it. Faces a person placed are *manual*: clustering never moves
them, and they vote for their identity when new faces arrive, so decisions
survive reclustering and re-embedding with another model. "Not this person"
is an exclusion: the face leaves the identity and never rejoins it; the faces
that stay are confirmed (made manual) so the identity keeps its id.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from faceatlas.errors import InvalidRequestError, NotFoundError
from faceatlas.identity import store
from faceatlas.identity.records import DecisionKind
from faceatlas.store import schema as t

__all__ = ["label", "merge", "move", "reject", "split"]

MAX_LABEL_CHARS = 200


def _actor(actor: str) -> str:
    cleaned = actor.strip()
    if not cleaned:
        raise InvalidRequestError("a curation decision needs the name of who made it")
    if len(cleaned) > 200:
        raise InvalidRequestError("actor names are limited to 200 characters")
    return cleaned


def _require(conn: sa.Connection, identity_id: int) -> list[int]:
    if not store.identity_exists(conn, identity_id):
        raise NotFoundError(f"identity {identity_id} does not exist")
    return store.members(conn, [identity_id])[identity_id]


def _require_faces(conn: sa.Connection, face_ids: Sequence[int]) -> None:
    if not face_ids:
        raise InvalidRequestError("name at least one face")
    found = {
        int(r[0])
        for r in conn.execute(sa.select(t.faces.c.id).where(t.faces.c.id.in_(list(face_ids))))
    }
    missing = sorted(set(face_ids) - found)
    if missing:
        raise NotFoundError(f"face(s) {', '.join(map(str, missing))} do not exist")


def merge(db: sa.Engine, target: int, others: Sequence[int], actor: str) -> int:
    """Fold ``others`` into ``target``; every face of the result becomes manual.

    ``target`` keeps its label; when it has none it takes the first label
    among ``others``.
    """
    who = _actor(actor)
    sources = [i for i in dict.fromkeys(others) if i != target]
    if not sources:
        raise InvalidRequestError("name at least one other identity to merge")
    with db.begin() as conn:
        faces = _require(conn, target)
        for other in sources:
            faces += _require(conn, other)
        names = store.labels(conn, [target, *sources])
        store.assign(conn, dict.fromkeys(faces, target), manual=True, actor=who)
        if names.get(target) is None:
            inherited = next((names[o] for o in sources if names.get(o)), None)
            if inherited is not None:
                store.set_label(conn, target, inherited, who)
        for other in sources:
            _carry_exclusions(conn, other, target)
            store.record_decision(
                conn, DecisionKind.MERGE, target, who, other_identity_id=other, face_ids=faces
            )
        store.delete_empty_identities(conn)
    return target


def _carry_exclusions(conn: sa.Connection, source: int, target: int) -> None:
    """Faces ruled out of a merged identity stay ruled out of the merged person."""
    ex = t.identity_exclusions
    rows = conn.execute(sa.select(ex).where(ex.c.identity_id == source)).all()
    for r in rows:
        store.add_exclusions(conn, target, [int(r.face_id)], r.decided_by)
    conn.execute(ex.delete().where(ex.c.identity_id == source))


def split(db: sa.Engine, identity_id: int, face_ids: Sequence[int], actor: str) -> int:
    """Move ``face_ids`` out of ``identity_id`` into a new identity; returns its id.

    Both sides become manual, so reclustering cannot join them again.
    """
    who = _actor(actor)
    chosen = sorted(set(face_ids))
    with db.begin() as conn:
        faces = _require(conn, identity_id)
        _require_faces(conn, chosen)
        outside = sorted(set(chosen) - set(faces))
        if outside:
            raise InvalidRequestError(
                f"face(s) {', '.join(map(str, outside))} are not in identity {identity_id}"
            )
        rest = [f for f in faces if f not in set(chosen)]
        if not rest:
            raise InvalidRequestError("a split must leave at least one face behind")
        new_id = store.create_identity(conn, who)
        store.assign(conn, dict.fromkeys(chosen, new_id), manual=True, actor=who)
        store.assign(conn, dict.fromkeys(rest, identity_id), manual=True, actor=who)
        store.record_decision(
            conn, DecisionKind.SPLIT, identity_id, who, other_identity_id=new_id, face_ids=chosen
        )
    return new_id


def move(db: sa.Engine, face_ids: Sequence[int], target: int | None, actor: str) -> int:
    """Place faces in ``target`` (a new identity when ``None``), manually; returns its id."""
    who = _actor(actor)
    chosen = sorted(set(face_ids))
    with db.begin() as conn:
        _require_faces(conn, chosen)
        if target is None:
            target = store.create_identity(conn, who)
        else:
            _require(conn, target)
        before = store.identities_of(conn, chosen)
        conn.execute(
            t.identity_exclusions.delete().where(
                t.identity_exclusions.c.face_id.in_(chosen),
                t.identity_exclusions.c.identity_id == target,
            )
        )
        store.assign(conn, dict.fromkeys(chosen, target), manual=True, actor=who)
        sources = sorted(set(before.values()) - {target})
        detail = f"from {', '.join(map(str, sources))}" if sources else None
        store.record_decision(conn, DecisionKind.MOVE, target, who, face_ids=chosen, detail=detail)
        store.delete_empty_identities(conn)
    return target


def label(db: sa.Engine, identity_id: int, name: str | None, actor: str) -> None:
    """Name an identity (``None`` clears it). Its current faces become manual."""
    who = _actor(actor)
    cleaned = None if name is None else " ".join(name.split())
    if cleaned is not None and not cleaned:
        raise InvalidRequestError("a label cannot be empty; pass none to clear it")
    if cleaned is not None and len(cleaned) > MAX_LABEL_CHARS:
        raise InvalidRequestError(f"labels are limited to {MAX_LABEL_CHARS} characters")
    with db.begin() as conn:
        faces = _require(conn, identity_id)
        store.set_label(conn, identity_id, cleaned, who)
        store.assign(conn, dict.fromkeys(faces, identity_id), manual=True, actor=who)
        store.record_decision(
            conn, DecisionKind.LABEL, identity_id, who, face_ids=faces, detail=cleaned
        )


def reject(db: sa.Engine, identity_id: int, face_ids: Sequence[int], actor: str) -> None:
    """ "Not this person": the faces leave ``identity_id`` and may never rejoin it."""
    who = _actor(actor)
    chosen = sorted(set(face_ids))
    with db.begin() as conn:
        faces = _require(conn, identity_id)
        _require_faces(conn, chosen)
        store.add_exclusions(conn, identity_id, chosen, who)
        leaving = [f for f in chosen if f in set(faces)]
        store.unassign(conn, leaving)
        staying = [f for f in faces if f not in set(chosen)]
        store.assign(conn, dict.fromkeys(staying, identity_id), manual=True, actor=who)
        store.record_decision(conn, DecisionKind.REJECT, identity_id, who, face_ids=chosen)
        store.delete_empty_identities(conn)
