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
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from faceatlas.errors import AtlasLockedError, InvalidRequestError, NotFoundError
from faceatlas.ingest.takedown import host_matches, normalize_domain
from faceatlas.privacy.log import Actor, PrivacyEntry, log_entry, mirror_to_audit, record_action
from faceatlas.store import Catalog, CatalogWriter
from faceatlas.store import privacy_erasure as rows
from faceatlas.store.identities import delete_empty_identities
from faceatlas.store.privacy import Takedown, add_takedown, checkpoint_wal, takedowns
from faceatlas.types import record

if TYPE_CHECKING:
    from faceatlas.privacy.scope import PrivacyScope

__all__ = [
    "ErasureCounts",
    "ErasurePlan",
    "Takedown",
    "complete_takedowns",
    "erase",
    "erase_by_id",
    "erase_source_url",
    "host_matches",
    "normalize_domain",
    "scrub_catalog",
    "takedown_domain",
    "takedowns",
    "taken_down_domains",
]

log = logging.getLogger(__name__)


@record
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


def erase(scope: PrivacyScope, plan: ErasurePlan, entry: PrivacyEntry) -> ErasureCounts:
    """Carry out ``plan``; the caller holds the atlas writer lock. Always logs ``entry``,
    with what was erased added to its details."""
    if not plan:
        log_entry(scope, entry.with_details(erased=ErasureCounts().as_dict()))
        return ErasureCounts()
    gallery = scope.gallery
    gallery.mark_index_dirty()
    with gallery.catalog.writer() as w:
        counts, face_ids = _delete(w, plan)
        record_action(w, entry.with_details(erased=counts.as_dict()))
    removed = gallery.index.remove(np.asarray(sorted(face_ids), dtype=np.int64))
    _, watermark = gallery.catalog.embedding_watermark(gallery.model_id)
    gallery.index.save(watermark)
    gallery.catalog.set_meta("index_dirty", "0")
    scrub_catalog(gallery.catalog)
    counts = replace(counts, index_vectors=removed)
    mirror_to_audit(scope, entry.with_details(erased=counts.as_dict()))
    log.info("%s on %s erased %s", entry.action, entry.target, counts.as_dict())
    return counts


def _delete(w: CatalogWriter, plan: ErasurePlan) -> tuple[ErasureCounts, set[int]]:
    """Delete what ``plan`` names and what it leaves without purpose: images whose every
    sighting, or every face, is erased, and identities left with no face."""
    conn = w.conn
    drop_images = set(plan.image_ids)
    sightings = 0
    if plan.sighting_ids:
        touched, sightings = rows.delete_sightings(conn, plan.sighting_ids)
        drop_images |= touched - rows.images_with_sightings(conn, touched)  # seen nowhere else
    face_ids = set(plan.face_ids) | rows.faces_of_images(conn, drop_images)
    gone = rows.delete_faces(conn, face_ids)
    keep = gone.images - drop_images
    with_faces = rows.images_with_faces(conn, keep)
    drop_images |= keep - with_faces  # held faces, all erased: no purpose left
    rows.recount_faces(conn, with_faces)
    images, image_sightings = rows.delete_images(conn, drop_images)
    identities = 0
    if gone.identities:
        identities = delete_empty_identities(conn)
        rows.forget_identity_decisions(conn, gone.identities)  # they hold labels
    counts = ErasureCounts(
        faces=gone.faces,
        embeddings=gone.embeddings,
        thumbnails=gone.thumbnails,
        images=images,
        sightings=sightings + image_sightings,
        identities=identities,
    )
    return counts, face_ids


def scrub_catalog(catalog: Catalog) -> None:
    """Move the WAL into the main file and truncate it, so deleted bytes leave the WAL."""
    if not checkpoint_wal(catalog):
        log.warning("WAL checkpoint incomplete: a reader holds it; rerun `retention run` later")


# --- erasure by id, source URL and domain -------------------------------------------------


def erase_by_id(
    scope: PrivacyScope, kind: Literal["face", "image"], ids: Sequence[int], by: Actor
) -> ErasureCounts:
    """Erase faces (their image goes too when no face is left in it) or whole images (with
    every face and sighting of them) by id, all of which must exist; logged as
    ``erase_<kind>s``."""
    if not ids:
        raise InvalidRequestError(f"give at least one {kind} id")
    with scope.gallery.writer_lock():
        found = rows.existing_ids(scope.gallery.catalog, kind, ids)
        missing = sorted(set(ids) - found)
        if missing:
            raise NotFoundError(f"{kind} {', '.join(map(str, missing[:10]))} does not exist")
        plan = ErasurePlan(face_ids=found) if kind == "face" else ErasurePlan(image_ids=found)
        target = f"{kind}s:" + ",".join(map(str, sorted(found)))
        return erase(scope, plan, PrivacyEntry(f"erase_{kind}s", target, by))


def erase_source_url(scope: PrivacyScope, url: str, by: Actor) -> ErasureCounts:
    """Erase every sighting whose image locator or page URL is ``url``.

    Images seen only there are erased with their faces; images also seen
    elsewhere keep their other sightings.
    """
    url = url.strip()
    if not url:
        raise InvalidRequestError("give a source URL")
    with scope.gallery.writer_lock():
        found = rows.sightings_at_url(scope.gallery.catalog, url)
        plan = ErasurePlan(sighting_ids={s.id for s in found})
        return erase(scope, plan, PrivacyEntry("erase_source_url", f"url:{url}", by))


def takedown_domain(scope: PrivacyScope, domain: str, by: Actor) -> ErasureCounts:
    """Erase every sighting on ``domain`` (and subdomains), image URL or page URL.

    Images seen only on the domain disappear with their faces; images also
    seen elsewhere keep those other sightings. The domain is recorded first, in
    its own transaction, so ingestion refuses it from then on: an ingest running
    now (which holds the writer lock, so this call then fails with
    ``atlas_locked``) stops fetching it at its next batch and erases what it
    stored from it when it finishes. Taking a domain down again erases again.
    """
    domain = normalize_domain(domain)
    add_takedown(scope.gallery.catalog, domain, actor=by.name, case_ref=by.case_ref)
    try:
        with scope.gallery.writer_lock():
            return _erase_domain(scope, domain, by)
    except AtlasLockedError as exc:
        deferred = {"erasure": "deferred: the atlas writer is busy"}
        log_entry(scope, PrivacyEntry("takedown_recorded", f"domain:{domain}", by, deferred))
        raise AtlasLockedError(
            f"{exc.message}. The takedown of {domain} is recorded and ingestion refuses it "
            "from now on (a running ingest from its next batch, erasing what it stored from "
            "the domain when it finishes); take the domain down again once the atlas is free "
            "to erase what was stored before"
        ) from None


def _erase_domain(scope: PrivacyScope, domain: str, by: Actor) -> ErasureCounts:
    """Erase the domain's sightings; the caller holds the writer lock."""
    ids = {
        s.id
        for s in rows.sightings_mentioning(scope.gallery.catalog, domain)
        if host_matches(s.locator, domain) or host_matches(s.page_url, domain)
    }
    entry = PrivacyEntry("takedown_domain", f"domain:{domain}", by)
    return erase(scope, ErasurePlan(sighting_ids=ids), entry)


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
        counts = _erase_domain(scope, domain, Actor(entry.actor, entry.case_ref))
        for key, value in counts.as_dict().items():
            total[key] = total.get(key, 0) + value
    return ErasureCounts(**total)


def taken_down_domains(catalog: Catalog) -> list[str]:
    return [d.domain for d in takedowns(catalog)]
