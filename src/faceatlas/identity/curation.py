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

from faceatlas.errors import InvalidRequestError, NotFoundError
from faceatlas.identity.records import DecisionKind
from faceatlas.store.identities import IdentityRepository
from faceatlas.store.rows import Database

__all__ = ["label", "merge", "move", "reject", "split"]

MAX_LABEL_CHARS = 200


def _actor(actor: str) -> str:
    cleaned = actor.strip()
    if not cleaned:
        raise InvalidRequestError("a curation decision needs the name of who made it")
    if len(cleaned) > 200:
        raise InvalidRequestError("actor names are limited to 200 characters")
    return cleaned


def _require(rows: IdentityRepository, identity_id: int) -> list[int]:
    if not rows.identity_exists(identity_id):
        raise NotFoundError(f"identity {identity_id} does not exist")
    return rows.members([identity_id])[identity_id]


def _require_faces(rows: IdentityRepository, face_ids: Sequence[int]) -> None:
    if not face_ids:
        raise InvalidRequestError("name at least one face")
    found = rows.existing_faces(face_ids)
    missing = sorted(set(face_ids) - found)
    if missing:
        raise NotFoundError(f"face(s) {', '.join(map(str, missing))} do not exist")


def merge(db: Database, target: int, others: Sequence[int], actor: str) -> int:
    """Fold ``others`` into ``target``; every face of the result becomes manual.

    ``target`` keeps its label; when it has none it takes the first label
    among ``others``.
    """
    who = _actor(actor)
    sources = [i for i in dict.fromkeys(others) if i != target]
    if not sources:
        raise InvalidRequestError("name at least one other identity to merge")
    with IdentityRepository.write(db) as rows:
        faces = _require(rows, target)
        for other in sources:
            faces += _require(rows, other)
        names = rows.labels([target, *sources])
        rows.assign(dict.fromkeys(faces, target), manual=True, actor=who)
        if names.get(target) is None:
            inherited = next((names[o] for o in sources if names.get(o)), None)
            if inherited is not None:
                rows.set_label(target, inherited, who)
        for other in sources:
            rows.move_exclusions(other, target)  # ruled out of either: out of the merged person
            rows.record_decision(
                DecisionKind.MERGE, target, who, other_identity_id=other, face_ids=faces
            )
        rows.delete_empty_identities()
    return target


def split(db: Database, identity_id: int, face_ids: Sequence[int], actor: str) -> int:
    """Move ``face_ids`` out of ``identity_id`` into a new identity; returns its id.

    Both sides become manual, so reclustering cannot join them again.
    """
    who = _actor(actor)
    chosen = sorted(set(face_ids))
    with IdentityRepository.write(db) as rows:
        faces = _require(rows, identity_id)
        _require_faces(rows, chosen)
        outside = sorted(set(chosen) - set(faces))
        if outside:
            raise InvalidRequestError(
                f"face(s) {', '.join(map(str, outside))} are not in identity {identity_id}"
            )
        rest = [f for f in faces if f not in set(chosen)]
        if not rest:
            raise InvalidRequestError("a split must leave at least one face behind")
        new_id = rows.create_identity(who)
        rows.assign(dict.fromkeys(chosen, new_id), manual=True, actor=who)
        rows.assign(dict.fromkeys(rest, identity_id), manual=True, actor=who)
        rows.record_decision(
            DecisionKind.SPLIT, identity_id, who, other_identity_id=new_id, face_ids=chosen
        )
    return new_id


def move(db: Database, face_ids: Sequence[int], target: int | None, actor: str) -> int:
    """Place faces in ``target`` (a new identity when ``None``), manually; returns its id."""
    who = _actor(actor)
    chosen = sorted(set(face_ids))
    with IdentityRepository.write(db) as rows:
        _require_faces(rows, chosen)
        if target is None:
            target = rows.create_identity(who)
        else:
            _require(rows, target)
        before = rows.identities_of(chosen)
        rows.drop_exclusions(chosen, target)
        rows.assign(dict.fromkeys(chosen, target), manual=True, actor=who)
        sources = sorted(set(before.values()) - {target})
        detail = f"from {', '.join(map(str, sources))}" if sources else None
        rows.record_decision(DecisionKind.MOVE, target, who, face_ids=chosen, detail=detail)
        rows.delete_empty_identities()
    return target


def label(db: Database, identity_id: int, name: str | None, actor: str) -> None:
    """Name an identity (``None`` clears it). Its current faces become manual."""
    who = _actor(actor)
    cleaned = None if name is None else " ".join(name.split())
    if cleaned is not None and not cleaned:
        raise InvalidRequestError("a label cannot be empty; pass none to clear it")
    if cleaned is not None and len(cleaned) > MAX_LABEL_CHARS:
        raise InvalidRequestError(f"labels are limited to {MAX_LABEL_CHARS} characters")
    with IdentityRepository.write(db) as rows:
        faces = _require(rows, identity_id)
        rows.set_label(identity_id, cleaned, who)
        rows.assign(dict.fromkeys(faces, identity_id), manual=True, actor=who)
        rows.record_decision(DecisionKind.LABEL, identity_id, who, face_ids=faces, detail=cleaned)


def reject(db: Database, identity_id: int, face_ids: Sequence[int], actor: str) -> None:
    """ "Not this person": the faces leave ``identity_id`` and may never rejoin it."""
    who = _actor(actor)
    chosen = sorted(set(face_ids))
    with IdentityRepository.write(db) as rows:
        faces = _require(rows, identity_id)
        _require_faces(rows, chosen)
        rows.add_exclusions(identity_id, chosen, who)
        leaving = [f for f in chosen if f in set(faces)]
        rows.unassign(leaving)
        staying = [f for f in faces if f not in set(chosen)]
        rows.assign(dict.fromkeys(staying, identity_id), manual=True, actor=who)
        rows.record_decision(DecisionKind.REJECT, identity_id, who, face_ids=chosen)
        rows.delete_empty_identities()
