"""Erasure with one completeness guarantee, whatever selects the faces.

Every erasure removes, in one catalog transaction: the faces' rows, every
embedding of them (all models), their thumbnails, their identity assignments
and identities left with no face (label included), the sightings asked for,
and images left with no face (or, for sighting erasure, no sighting) that
held faces. The vector index is marked dirty before that transaction commits and
the ids are removed and the index saved after, so a crash in between forces a
rebuild from the catalog on the next open. Finally the SQLite write-ahead log
is checkpointed and truncated so erased bytes do not linger in it
(``secure_delete`` already zeroes them in the main file).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import sqlalchemy as sa

from faceatlas.errors import AtlasLockedError, InvalidRequestError, NotFoundError
from faceatlas.identity.store import delete_empty_identities
from faceatlas.ingest.takedown import host_matches, normalize_domain
from faceatlas.privacy.log import log_action, mirror_to_audit, record_action
from faceatlas.store import Catalog, utc_now
from faceatlas.store import schema as t

if TYPE_CHECKING:
    from faceatlas.privacy.scope import PrivacyScope

__all__ = [
    "ErasureCounts",
    "ErasurePlan",
    "Takedown",
    "complete_takedowns",
    "erase",
    "erase_faces",
    "erase_images",
    "erase_source_url",
    "host_matches",
    "normalize_domain",
    "scrub_catalog",
    "takedown_domain",
    "takedowns",
    "taken_down_domains",
]

log = logging.getLogger(__name__)

CHUNK = 500


@dataclass(frozen=True, slots=True)
class ErasureCounts:
    """What one erasure removed."""

    faces: int = 0
    embeddings: int = 0
    thumbnails: int = 0
    images: int = 0
    sightings: int = 0
    identities: int = 0
    """Identities (clusters, with any label) left with no face."""
    index_vectors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(slots=True)
class ErasurePlan:
    """What to erase: faces, whole images (with their faces) and single sightings."""

    face_ids: set[int] = field(default_factory=set)
    image_ids: set[int] = field(default_factory=set)
    sighting_ids: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.face_ids or self.image_ids or self.sighting_ids)


@dataclass(frozen=True, slots=True)
class _Audit:
    action: str
    actor: str
    target: str
    case_ref: str | None
    details: dict[str, Any]
    role: str = "operator"


def erase(
    scope: PrivacyScope,
    plan: ErasurePlan,
    *,
    action: str,
    actor: str,
    target: str,
    case_ref: str | None = None,
    details: dict[str, Any] | None = None,
    role: str = "operator",
) -> ErasureCounts:
    """Carry out ``plan``; the caller holds the atlas writer lock. Always logs the action.

    ``role`` is the actor's role in the audit log (``operator`` for the CLI, the
    signed-in user's role for the REST API and the web app).
    """
    return _carry_out(
        scope, plan, _Audit(action, actor, target, case_ref, dict(details or {}), role)
    )


def _carry_out(scope: PrivacyScope, plan: ErasurePlan, audit: _Audit) -> ErasureCounts:
    """:func:`erase`, with the log entry's fields in ``audit``."""
    if not plan:
        with scope.gallery.catalog.writer() as w:
            _record(w.conn, audit, ErasureCounts())
        _mirror(scope, audit, ErasureCounts())
        return ErasureCounts()
    scope.gallery.mark_index_dirty()
    with scope.gallery.catalog.writer() as w:
        counts, face_ids = _delete(w.conn, plan)
        _record(w.conn, audit, counts)
    removed = scope.gallery.index.remove(np.asarray(sorted(face_ids), dtype=np.int64))
    _, watermark = scope.gallery.catalog.embedding_watermark(scope.gallery.model_id)
    scope.gallery.index.save(watermark)
    scope.gallery.catalog.set_meta("index_dirty", "0")
    scrub_catalog(scope.gallery.catalog)
    counts = ErasureCounts(**{**counts.as_dict(), "index_vectors": removed})
    _mirror(scope, audit, counts)
    log.info("%s on %s erased %s", audit.action, audit.target, counts.as_dict())
    return counts


def _record(conn: sa.Connection, audit: _Audit, counts: ErasureCounts) -> None:
    record_action(conn, audit.action, **_entry(audit, counts))


def _mirror(scope: PrivacyScope, audit: _Audit, counts: ErasureCounts) -> None:
    mirror_to_audit(scope, audit.action, role=audit.role, **_entry(audit, counts))


def _entry(audit: _Audit, counts: ErasureCounts) -> dict[str, Any]:
    """The log entry's fields, with what was erased."""
    return {
        "actor": audit.actor,
        "target": audit.target,
        "case_ref": audit.case_ref,
        "details": {**audit.details, "erased": counts.as_dict()},
    }


def _delete(conn: sa.Connection, plan: ErasurePlan) -> tuple[ErasureCounts, set[int]]:
    sightings_deleted = 0
    drop_images = set(plan.image_ids)
    if plan.sighting_ids:
        touched: set[int] = set()
        for chunk in _chunks(plan.sighting_ids):
            touched.update(
                conn.execute(
                    sa.select(t.sightings.c.image_id).where(t.sightings.c.id.in_(chunk))
                ).scalars()
            )
            sightings_deleted += conn.execute(
                t.sightings.delete().where(t.sightings.c.id.in_(chunk))
            ).rowcount
        seen_elsewhere = _with_rows(conn, t.sightings.c.image_id, touched)
        drop_images |= touched - seen_elsewhere
    face_ids = set(plan.face_ids)
    for chunk in _chunks(drop_images):
        face_ids.update(
            conn.execute(sa.select(t.faces.c.id).where(t.faces.c.image_id.in_(chunk))).scalars()
        )
    face_images: set[int] = set()
    touched_identities: set[int] = set()
    embeddings = thumbnails = faces = 0
    for chunk in _chunks(face_ids):
        face_images.update(
            conn.execute(sa.select(t.faces.c.image_id).where(t.faces.c.id.in_(chunk))).scalars()
        )
        touched_identities.update(
            conn.execute(
                sa.select(t.face_identities.c.identity_id).where(
                    t.face_identities.c.face_id.in_(chunk)
                )
            ).scalars()
        )
        embeddings += conn.execute(
            t.embeddings.delete().where(t.embeddings.c.face_id.in_(chunk))
        ).rowcount
        thumbnails += conn.execute(
            t.thumbnails.delete().where(t.thumbnails.c.face_id.in_(chunk))
        ).rowcount
        conn.execute(t.face_identities.delete().where(t.face_identities.c.face_id.in_(chunk)))
        conn.execute(
            t.identity_exclusions.delete().where(t.identity_exclusions.c.face_id.in_(chunk))
        )
        faces += conn.execute(t.faces.delete().where(t.faces.c.id.in_(chunk))).rowcount
    keep = face_images - drop_images
    with_faces = _with_rows(conn, t.faces.c.image_id, keep)
    drop_images |= keep - with_faces  # held faces, all erased: no purpose left
    for image_id in sorted(with_faces):
        remaining = conn.execute(
            sa.select(sa.func.count()).select_from(t.faces).where(t.faces.c.image_id == image_id)
        ).scalar_one()
        conn.execute(
            t.images.update().where(t.images.c.id == image_id).values(face_count=remaining)
        )
    images = 0
    for chunk in _chunks(drop_images):
        sightings_deleted += conn.execute(
            t.sightings.delete().where(t.sightings.c.image_id.in_(chunk))
        ).rowcount
        images += conn.execute(t.images.delete().where(t.images.c.id.in_(chunk))).rowcount
    counts = ErasureCounts(
        faces=faces,
        embeddings=embeddings,
        thumbnails=thumbnails,
        images=images,
        sightings=sightings_deleted,
        identities=_drop_empty_identities(conn, touched_identities),
    )
    return counts, face_ids


def _drop_empty_identities(conn: sa.Connection, touched: set[int]) -> int:
    """Delete identities left with no face, and their curation entries (which hold labels)."""
    if not touched:
        return 0
    dropped = delete_empty_identities(conn)
    gone = touched - _with_rows(conn, t.identities.c.id, touched)
    for chunk in _chunks(gone):
        conn.execute(
            t.identity_decisions.delete().where(
                t.identity_decisions.c.identity_id.in_(chunk)
                | t.identity_decisions.c.other_identity_id.in_(chunk)
            )
        )
    return dropped


def _with_rows(conn: sa.Connection, column: sa.Column[Any], ids: Iterable[int]) -> set[int]:
    """The subset of ``ids`` that still appear in ``column``."""
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(conn.execute(sa.select(column).where(column.in_(chunk)).distinct()).scalars())
    return found


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    items = sorted(ids)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def scrub_catalog(catalog: Catalog) -> None:
    """Move the WAL into the main file and truncate it, so deleted bytes leave the WAL."""
    if catalog.db.dialect.name != "sqlite":
        return
    with catalog.db.connect() as conn:
        busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
    if busy is not None and busy[0]:
        log.warning("WAL checkpoint incomplete: a reader holds it; rerun `retention run` later")


# --- erasure by id -------------------------------------------------------------------


def _existing(catalog: Catalog, column: sa.Column[Any], ids: Sequence[int], what: str) -> set[int]:
    wanted = set(ids)
    with catalog.db.connect() as conn:
        found = _with_rows(conn, column, wanted)
    missing = sorted(wanted - found)
    if missing:
        raise NotFoundError(f"{what} {', '.join(map(str, missing[:10]))} does not exist")
    return found


def erase_faces(
    scope: PrivacyScope,
    face_ids: Sequence[int],
    *,
    actor: str,
    case_ref: str | None = None,
    role: str = "operator",
) -> ErasureCounts:
    """Erase faces by id (their image goes too when no face is left in it)."""
    return _erase_by_id(scope, "face", face_ids, actor=actor, case_ref=case_ref, role=role)


def erase_images(
    scope: PrivacyScope,
    image_ids: Sequence[int],
    *,
    actor: str,
    case_ref: str | None = None,
    role: str = "operator",
) -> ErasureCounts:
    """Erase images by id with every face and sighting of them."""
    return _erase_by_id(scope, "image", image_ids, actor=actor, case_ref=case_ref, role=role)


def _erase_by_id(
    scope: PrivacyScope,
    kind: Literal["face", "image"],
    ids: Sequence[int],
    *,
    actor: str,
    case_ref: str | None,
    role: str,
) -> ErasureCounts:
    """Erase the faces or images ``ids``, all of which must exist; logged as ``erase_<kind>s``."""
    if not ids:
        raise InvalidRequestError(f"give at least one {kind} id")
    column = t.faces.c.id if kind == "face" else t.images.c.id
    with scope.gallery.writer_lock():
        found = _existing(scope.gallery.catalog, column, ids, kind)
        plan = ErasurePlan(face_ids=found) if kind == "face" else ErasurePlan(image_ids=found)
        target = f"{kind}s:" + ",".join(map(str, sorted(found)))
        return _carry_out(scope, plan, _Audit(f"erase_{kind}s", actor, target, case_ref, {}, role))


def erase_source_url(
    scope: PrivacyScope,
    url: str,
    *,
    actor: str,
    case_ref: str | None = None,
    role: str = "operator",
) -> ErasureCounts:
    """Erase every sighting whose image locator or page URL is ``url``.

    Images seen only there are erased with their faces; images also seen
    elsewhere keep their other sightings.
    """
    url = url.strip()
    if not url:
        raise InvalidRequestError("give a source URL")
    with scope.gallery.writer_lock():
        return _erase_sightings(
            scope,
            (t.sightings.c.locator == url) | (t.sightings.c.page_url == url),
            lambda _locator, _page_url: True,
            _Audit("erase_source_url", actor, f"url:{url}", case_ref, {}, role),
        )


def _erase_sightings(
    scope: PrivacyScope,
    where: sa.ColumnElement[bool],
    keep: Callable[[str, str], bool],
    audit: _Audit,
) -> ErasureCounts:
    """Erase the sightings ``where`` selects and ``keep`` confirms from their image and
    page URLs; the caller holds the writer lock."""
    with scope.gallery.catalog.db.connect() as conn:
        rows = conn.execute(
            sa.select(t.sightings.c.id, t.sightings.c.locator, t.sightings.c.page_url).where(where)
        ).all()
    ids = {int(sid) for sid, locator, page_url in rows if keep(locator, page_url)}
    return _carry_out(scope, ErasurePlan(sighting_ids=ids), audit)


@dataclass(frozen=True, slots=True)
class Takedown:
    """A taken-down domain: when, by whom, under which case."""

    domain: str
    at: str
    actor: str
    case_ref: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def takedown_domain(
    scope: PrivacyScope,
    domain: str,
    *,
    actor: str,
    case_ref: str | None = None,
    role: str = "operator",
) -> ErasureCounts:
    """Erase every sighting on ``domain`` (and subdomains), image URL or page URL.

    Images seen only on the domain disappear with their faces; images also
    seen elsewhere keep those other sightings. The domain is recorded first, in
    its own transaction, so ingestion refuses it from then on: an ingest running
    now (which holds the writer lock, so this call then fails with
    ``atlas_locked``) stops fetching it at its next batch and erases what it
    stored from it when it finishes. Taking a domain down again erases again.
    """
    domain = normalize_domain(domain)
    with scope.gallery.catalog.writer() as w:
        exists = w.conn.execute(
            sa.select(t.takedown_domains.c.domain).where(t.takedown_domains.c.domain == domain)
        ).first()
        if exists is None:
            w.conn.execute(
                t.takedown_domains.insert().values(
                    domain=domain, at=utc_now(), actor=actor[:200], case_ref=case_ref
                )
            )
    try:
        with scope.gallery.writer_lock():
            return _erase_domain(scope, domain, actor=actor, case_ref=case_ref, role=role)
    except AtlasLockedError as exc:
        log_action(
            scope,
            "takedown_recorded",
            actor=actor,
            target=f"domain:{domain}",
            case_ref=case_ref,
            details={"erasure": "deferred: the atlas writer is busy"},
            role=role,
        )
        raise AtlasLockedError(
            f"{exc.message}. The takedown of {domain} is recorded and ingestion refuses it "
            "from now on (a running ingest from its next batch, erasing what it stored from "
            "the domain when it finishes); take the domain down again once the atlas is free "
            "to erase what was stored before"
        ) from None


def _erase_domain(
    scope: PrivacyScope, domain: str, *, actor: str, case_ref: str | None, role: str
) -> ErasureCounts:
    """Erase the domain's sightings; the caller holds the writer lock."""
    pattern = f"%{domain}%"
    return _erase_sightings(
        scope,
        t.sightings.c.locator.like(pattern) | t.sightings.c.page_url.like(pattern),
        lambda locator, page_url: host_matches(locator, domain) or host_matches(page_url, domain),
        _Audit("takedown_domain", actor, f"domain:{domain}", case_ref, {}, role),
    )


def complete_takedowns(scope: PrivacyScope, domains: Iterable[str]) -> ErasureCounts:
    """Erase what an ingest stored from ``domains``, taken down while it ran.

    Called by the ingest that holds the writer lock, once it has finished; logged
    as a takedown by the administrator who recorded it.
    """
    total: dict[str, int] = {}
    recorded = {d.domain: d for d in takedowns(scope.gallery.catalog)}
    for domain in sorted(domains):
        entry = recorded.get(domain)
        if entry is None:
            continue
        counts = _erase_domain(
            scope, domain, actor=entry.actor, case_ref=entry.case_ref, role="operator"
        )
        for key, value in counts.as_dict().items():
            total[key] = total.get(key, 0) + value
    return ErasureCounts(**total)


def takedowns(catalog: Catalog) -> list[Takedown]:
    """Every taken-down domain, alphabetically."""
    with catalog.db.connect() as conn:
        rows = conn.execute(
            sa.select(t.takedown_domains).order_by(t.takedown_domains.c.domain)
        ).all()
    return [Takedown(str(r.domain), str(r.at), str(r.actor), r.case_ref) for r in rows]


def taken_down_domains(catalog: Catalog) -> list[str]:
    return [d.domain for d in takedowns(catalog)]
