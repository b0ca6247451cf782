"""SQL for erasure: finding and deleting faces, images and sightings, in chunks.

The deletes run inside the caller's transaction (``catalog.writer()``); what an erasure
takes with it (images left empty, identities left empty) is decided by
:mod:`faceatlas.privacy.erasure`. Image content hashes go with their image (cascade).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.catalog import Catalog
from faceatlas.types import record

__all__ = [
    "CHUNK",
    "FacesDeleted",
    "SightingRow",
    "delete_faces",
    "delete_images",
    "delete_sightings",
    "existing_ids",
    "faces_of_images",
    "forget_identity_decisions",
    "images_with_faces",
    "images_with_sightings",
    "recount_faces",
    "sightings_at_url",
    "sightings_mentioning",
]

CHUNK = 500
"""Ids per statement (SQLite allows a few hundred bound parameters at the least)."""


@record
class FacesDeleted:
    """Rows deleted with a set of faces, and what they belonged to."""

    faces: int
    embeddings: int
    thumbnails: int
    images: frozenset[int]
    """Images that held the faces."""
    identities: frozenset[int]
    """Identities the faces were assigned to."""


@record
class SightingRow:
    id: int
    locator: str
    page_url: str


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    items = sorted(ids)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _with_rows(conn: sa.Connection, column: sa.Column[Any], ids: Iterable[int]) -> set[int]:
    """The subset of ``ids`` that appear in ``column``."""
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(conn.execute(sa.select(column).where(column.in_(chunk)).distinct()).scalars())
    return found


def _select_in(
    conn: sa.Connection, column: sa.Column[Any], key: sa.Column[Any], ids: Iterable[int]
) -> set[int]:
    """Every ``column`` value of the rows whose ``key`` is in ``ids``."""
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(conn.execute(sa.select(column).where(key.in_(chunk))).scalars())
    return found


def _delete_in(conn: sa.Connection, table: sa.Table, key: sa.Column[Any], ids: list[int]) -> int:
    return int(conn.execute(table.delete().where(key.in_(ids))).rowcount)


def existing_ids(catalog: Catalog, kind: Literal["face", "image"], ids: Iterable[int]) -> set[int]:
    """The subset of ``ids`` that are stored faces (or images)."""
    column = t.faces.c.id if kind == "face" else t.images.c.id
    with catalog.db.connect() as conn:
        return _with_rows(conn, column, ids)


def images_with_faces(conn: sa.Connection, image_ids: Iterable[int]) -> set[int]:
    """The subset of ``image_ids`` that still hold a face."""
    return _with_rows(conn, t.faces.c.image_id, image_ids)


def images_with_sightings(conn: sa.Connection, image_ids: Iterable[int]) -> set[int]:
    """The subset of ``image_ids`` that still have a sighting."""
    return _with_rows(conn, t.sightings.c.image_id, image_ids)


def faces_of_images(conn: sa.Connection, image_ids: Iterable[int]) -> set[int]:
    return _select_in(conn, t.faces.c.id, t.faces.c.image_id, image_ids)


def _sightings(catalog: Catalog, where: sa.ColumnElement[bool]) -> list[SightingRow]:
    s = t.sightings
    with catalog.db.connect() as conn:
        rows = conn.execute(sa.select(s.c.id, s.c.locator, s.c.page_url).where(where)).all()
    return [SightingRow(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def sightings_at_url(catalog: Catalog, url: str) -> list[SightingRow]:
    """Sightings whose image locator or page URL is ``url``."""
    return _sightings(catalog, (t.sightings.c.locator == url) | (t.sightings.c.page_url == url))


def sightings_mentioning(catalog: Catalog, text: str) -> list[SightingRow]:
    """Sightings whose image locator or page URL contains ``text`` (a superset to filter)."""
    pattern = f"%{text}%"
    return _sightings(
        catalog, t.sightings.c.locator.like(pattern) | t.sightings.c.page_url.like(pattern)
    )


def delete_sightings(conn: sa.Connection, sighting_ids: Iterable[int]) -> tuple[set[int], int]:
    """Delete sightings by id; returns ``(the images they were of, how many were deleted)``."""
    images: set[int] = set()
    deleted = 0
    for chunk in _chunks(sighting_ids):
        images.update(_select_in(conn, t.sightings.c.image_id, t.sightings.c.id, chunk))
        deleted += _delete_in(conn, t.sightings, t.sightings.c.id, chunk)
    return images, deleted


def delete_faces(conn: sa.Connection, face_ids: Iterable[int]) -> FacesDeleted:
    """Delete faces with every embedding (all models), thumbnail, identity assignment and
    identity exclusion of them."""
    images: set[int] = set()
    identities: set[int] = set()
    embeddings = thumbnails = faces = 0
    for chunk in _chunks(face_ids):
        images.update(_select_in(conn, t.faces.c.image_id, t.faces.c.id, chunk))
        identities.update(
            _select_in(conn, t.face_identities.c.identity_id, t.face_identities.c.face_id, chunk)
        )
        embeddings += _delete_in(conn, t.embeddings, t.embeddings.c.face_id, chunk)
        thumbnails += _delete_in(conn, t.thumbnails, t.thumbnails.c.face_id, chunk)
        _delete_in(conn, t.face_identities, t.face_identities.c.face_id, chunk)
        _delete_in(conn, t.identity_exclusions, t.identity_exclusions.c.face_id, chunk)
        faces += _delete_in(conn, t.faces, t.faces.c.id, chunk)
    return FacesDeleted(faces, embeddings, thumbnails, frozenset(images), frozenset(identities))


def recount_faces(conn: sa.Connection, image_ids: Iterable[int]) -> None:
    """Set each image's ``face_count`` to the faces it still holds."""
    for image_id in sorted(image_ids):
        remaining = conn.execute(
            sa.select(sa.func.count()).select_from(t.faces).where(t.faces.c.image_id == image_id)
        ).scalar_one()
        conn.execute(
            t.images.update().where(t.images.c.id == image_id).values(face_count=remaining)
        )


def delete_images(conn: sa.Connection, image_ids: Iterable[int]) -> tuple[int, int]:
    """Delete images (with their content hashes) and their sightings; their faces must be
    gone already. Returns ``(images, sightings)`` deleted."""
    images = sightings = 0
    for chunk in _chunks(image_ids):
        sightings += _delete_in(conn, t.sightings, t.sightings.c.image_id, chunk)
        images += _delete_in(conn, t.images, t.images.c.id, chunk)
    return images, sightings


def forget_identity_decisions(conn: sa.Connection, identity_ids: Iterable[int]) -> None:
    """Delete the curation decisions (which hold labels) naming any of ``identity_ids`` that
    no longer exist."""
    ids = set(identity_ids)
    gone = ids - _with_rows(conn, t.identities.c.id, ids)
    d = t.identity_decisions
    for chunk in _chunks(gone):
        conn.execute(
            d.delete().where(d.c.identity_id.in_(chunk) | d.c.other_identity_id.in_(chunk))
        )
