"""Opt-out by face: a request with selfies, an administrator's decision, erasure, receipt.

The selfies are analysed in memory and only their templates (embeddings)
are kept; the photos themselves are never written anywhere. Templates stay
inactive until the request is approved; then they join the blocklist (search
hides matches, ingestion skips them) and every stored face matching them at
the erasure threshold is erased.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import asdict
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from faceatlas.errors import ConflictError, FaceAtlasError, InvalidRequestError, NotFoundError
from faceatlas.privacy.erasure import ErasureCounts, ErasurePlan, erase
from faceatlas.privacy.log import Actor, PrivacyEntry, mirror_to_audit, record_action
from faceatlas.privacy.matching import (
    META_BLOCKLIST_VERSION,
    best_similarity,
    optout_threshold,
    selfie_template,
)
from faceatlas.store import Catalog, utc_now
from faceatlas.store import privacy as stored
from faceatlas.types import JsonRecord, Vectors, record, record_dict

if TYPE_CHECKING:
    from faceatlas.privacy.scope import PrivacyScope

__all__ = [
    "MAX_SELFIES",
    "SELFIE_MAX_PIXELS",
    "OptOutReceipt",
    "OptOutRequest",
    "OptOutStatus",
    "approve_optout",
    "check_contact",
    "get_optout",
    "list_optouts",
    "matching_faces",
    "record_optout",
    "reject_optout",
    "submit_optout",
    "templates_from_selfies",
    "unprotected_optouts",
]

MAX_SELFIES = 10
SELFIE_ANALYSIS_PIXELS = 1_000_000
"""A larger selfie is shrunk to about this many pixels while it is decoded: its face still
spans hundreds of pixels, and the public form costs the server a fraction of a full decode."""
SELFIE_MAX_PIXELS = 16_000_000
"""Pixel limit of one selfie, checked from the header before any pixel is decoded: a phone's
selfie camera takes well under 16 MP, and the opt-out form is public, so a 40-megapixel canvas
is refused rather than analysed."""
_CONTACT = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,255}\.[^@\s<>.]{2,63}$")


class OptOutStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    """Approved; erasure started but not yet confirmed complete (approving again resumes it)."""
    COMPLETED = "completed"
    REJECTED = "rejected"


@record
class OptOutReceipt:
    """What the requester is told: counts only, never photos or vectors."""

    request_id: int
    completed_at: str
    threshold: float
    threshold_source: str
    templates: int
    erased: ErasureCounts

    def as_dict(self) -> dict[str, Any]:
        return {**record_dict(self, digits={"threshold": 4}), "blocked_from_now_on": True}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OptOutReceipt:
        return cls(
            request_id=int(data["request_id"]),
            completed_at=str(data["completed_at"]),
            threshold=float(data["threshold"]),
            threshold_source=str(data["threshold_source"]),
            templates=int(data["templates"]),
            erased=ErasureCounts(**data["erased"]),
        )


@record
class OptOutRequest(JsonRecord):
    id: int
    contact: str
    status: OptOutStatus
    channel: str
    created_at: str
    decided_at: str | None
    decided_by: str | None
    templates: int
    receipt: OptOutReceipt | None


def templates_from_selfies(scope: PrivacyScope, selfies: Sequence[bytes]) -> Vectors:
    """One template per selfie, float32 ``(n, dim)``; errors name the selfie by position."""
    if not 1 <= len(selfies) <= MAX_SELFIES:
        raise InvalidRequestError(f"send between 1 and {MAX_SELFIES} selfies")
    templates = []
    for i, data in enumerate(selfies, start=1):
        try:
            faces = scope.gallery.analyze_probe(
                data, max_pixels=SELFIE_MAX_PIXELS, fit_pixels=SELFIE_ANALYSIS_PIXELS
            )
            templates.append(selfie_template(faces))
        except FaceAtlasError as exc:
            exc.message = f"selfie {i}: {exc.message}"
            exc.args = (exc.message,)
            raise
    return np.stack(templates).astype(np.float32)


def submit_optout(
    scope: PrivacyScope, selfies: Sequence[bytes], contact: str, *, channel: str = "cli"
) -> OptOutRequest:
    """Record a request (pending, or carried out at once when auto-approval is on)."""
    check_contact(contact)
    return record_optout(scope, templates_from_selfies(scope, selfies), contact, channel=channel)


def check_contact(contact: str) -> None:
    if not _CONTACT.match(contact.strip()):
        raise InvalidRequestError("give a contact e-mail address for the receipt")


def record_optout(
    scope: PrivacyScope, templates: Vectors, contact: str, *, channel: str = "cli"
) -> OptOutRequest:
    """Store a request with its templates (from :func:`templates_from_selfies`); with
    auto-approval on, carry it out at once."""
    contact = contact.strip()
    check_contact(contact)
    with scope.gallery.catalog.writer() as w:
        request_id = stored.add_optout_request(
            w.conn,
            contact=contact,
            status=OptOutStatus.PENDING.value,
            channel=channel,
            model_id=scope.gallery.model_id,
            templates=templates,
        )
        by = Actor(channel, role="public")
        vectors = np.ascontiguousarray(templates, dtype=np.float32)
        details = {
            "templates": len(templates),
            "templates_sha256": hashlib.sha256(vectors.tobytes()).hexdigest(),
        }  # a restore checks the templates it brings back against this
        entry = PrivacyEntry("optout_requested", f"optout:{request_id}", by, details)
        record_action(w, entry)
    mirror_to_audit(scope, entry)
    if scope.gallery.settings.optout_auto_approve:
        approve_optout(scope, request_id, Actor("auto-approve"))
    return get_optout(scope, request_id)


def matching_faces(scope: PrivacyScope, templates: Vectors, threshold: float) -> dict[int, float]:
    """Every stored face (exact scan of the catalog) whose best similarity reaches ``threshold``."""
    found: dict[int, float] = {}
    for ids, vectors, _ in scope.gallery.catalog.iter_embeddings(scope.gallery.model_id):
        best = best_similarity(vectors, templates)
        for i in np.flatnonzero(best >= threshold):
            found[int(ids[i])] = float(best[i])
    return found


def approve_optout(
    scope: PrivacyScope,
    request_id: int,
    by: Actor,
    note: str | None = None,
    *,
    at_threshold: tuple[float, str] | None = None,
) -> OptOutReceipt:
    """Activate the request's templates and erase every matching face; returns the receipt.

    Approving a request whose erasure was interrupted resumes it. ``at_threshold`` (value and
    source) replaces the one in force: a restore replays an erasure at the threshold it was
    carried out with.
    """
    gallery = scope.gallery
    with gallery.writer_lock():
        request = get_optout(scope, request_id)
        if request.status in (OptOutStatus.COMPLETED, OptOutStatus.REJECTED):
            raise ConflictError(f"opt-out {request_id} is already {request.status.value}")
        threshold, source = at_threshold or optout_threshold(scope)
        with gallery.catalog.writer() as w:
            stored.activate_optout_templates(w.conn, request_id)
            stored.decide_optout(
                w.conn, request_id, status=OptOutStatus.APPROVED.value, actor=by.name, note=note
            )
            w.set_meta(META_BLOCKLIST_VERSION, str(time.time_ns()))
        templates = stored.request_templates(
            gallery.catalog, request_id, gallery.model_id, gallery.engine.dim
        )
        matches = matching_faces(scope, templates, threshold)
        details = {"threshold": round(threshold, 4), "templates": int(templates.shape[0])}
        entry = PrivacyEntry("optout_erasure", f"optout:{request_id}", by, details)
        counts = erase(scope, ErasurePlan(face_ids=set(matches)), entry)
        receipt = OptOutReceipt(
            request_id=request_id,
            completed_at=utc_now(),
            threshold=threshold,
            threshold_source=source,
            templates=int(templates.shape[0]),
            erased=counts,
        )
        with gallery.catalog.writer() as w:
            stored.store_optout_receipt(
                w.conn, request_id, status=OptOutStatus.COMPLETED.value, receipt=receipt.as_dict()
            )
    return receipt


def reject_optout(
    scope: PrivacyScope, request_id: int, by: Actor, note: str | None = None
) -> OptOutRequest:
    """Refuse a pending request; its templates are deleted."""
    with scope.gallery.writer_lock():
        request = get_optout(scope, request_id)
        if request.status is not OptOutStatus.PENDING:
            raise ConflictError(f"opt-out {request_id} is {request.status.value}, not pending")
        entry = PrivacyEntry("optout_rejected", f"optout:{request_id}", by)
        with scope.gallery.catalog.writer() as w:
            stored.delete_optout_templates(w.conn, request_id)
            stored.decide_optout(
                w.conn, request_id, status=OptOutStatus.REJECTED.value, actor=by.name, note=note
            )
            record_action(w, entry)
        mirror_to_audit(scope, entry)
    return get_optout(scope, request_id)


def _request(row: stored.OptOutRow) -> OptOutRequest:
    receipt = None if row.receipt is None else OptOutReceipt.from_dict(row.receipt)
    return OptOutRequest(**{**asdict(row), "status": OptOutStatus(row.status), "receipt": receipt})


def get_optout(scope: PrivacyScope, request_id: int) -> OptOutRequest:
    row = stored.optout_row(scope.gallery.catalog, request_id)
    if row is None:
        raise NotFoundError(f"opt-out request {request_id} does not exist")
    return _request(row)


def unprotected_optouts(catalog: Catalog, model_id: str) -> list[int]:
    """Approved opt-outs whose active templates are all of other models than ``model_id``.

    An atlas searching with ``model_id`` would no longer keep those people out of new
    ingestion or search results; the selfies are not kept to make new templates.
    """
    models = stored.active_template_models(catalog)
    return sorted(r for r, found in models.items() if model_id not in found)


def list_optouts(scope: PrivacyScope, status: OptOutStatus | None = None) -> list[OptOutRequest]:
    rows = stored.optout_rows(scope.gallery.catalog, None if status is None else status.value)
    return [_request(r) for r in rows]
