"""The privacy controls of one atlas as one object (``atlas.privacy``): opt-out requests and
their decisions, erasure, takedowns, subject access, retention and the privacy log. The rules
are in the modules beside this one (see docs/privacy.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from faceatlas.privacy.access import subject_access_export
from faceatlas.privacy.erasure import (
    ErasureCounts,
    Takedown,
    erase_by_id,
    erase_source_url,
    takedown_domain,
    takedowns,
)
from faceatlas.privacy.log import Actor, PrivacyAction, read_actions
from faceatlas.privacy.optout import (
    OptOutReceipt,
    OptOutRequest,
    OptOutStatus,
    approve_optout,
    get_optout,
    list_optouts,
    record_optout,
    reject_optout,
    submit_optout,
    templates_from_selfies,
)
from faceatlas.privacy.retention import RetentionReport, run_retention
from faceatlas.privacy.scope import PrivacyScope
from faceatlas.types import Vectors

__all__ = ["PrivacyControls"]

Ids = Sequence[int]


class PrivacyControls:
    """Opt-out, erasure, takedown, subject access and retention over one privacy scope."""

    def __init__(self, scope: PrivacyScope) -> None:
        self.scope = scope

    def optout_request(
        self, selfies: Sequence[bytes], contact: str, *, channel: str = "cli"
    ) -> OptOutRequest:
        """Record an opt-out (selfies are analysed in memory and never stored)."""
        return submit_optout(self.scope, selfies, contact, channel=channel)

    def optout_templates(self, selfies: Sequence[bytes]) -> Vectors:
        """The templates of an opt-out's selfies (analysed in memory, never stored)."""
        return templates_from_selfies(self.scope, selfies)

    def optout_record(
        self, templates: Vectors, contact: str, *, channel: str = "cli"
    ) -> OptOutRequest:
        """Store an opt-out request with templates from :meth:`optout_templates`."""
        return record_optout(self.scope, templates, contact, channel=channel)

    def optout_approve(
        self, request_id: int, *, actor: str, note: str | None = None, role: str = "operator"
    ) -> OptOutReceipt:
        return approve_optout(self.scope, request_id, Actor(actor, role=role), note)

    def optout_reject(
        self, request_id: int, *, actor: str, note: str | None = None, role: str = "operator"
    ) -> OptOutRequest:
        return reject_optout(self.scope, request_id, Actor(actor, role=role), note)

    def optout(self, request_id: int) -> OptOutRequest:
        return get_optout(self.scope, request_id)

    def optouts(self, status: OptOutStatus | None = None) -> list[OptOutRequest]:
        return list_optouts(self.scope, status)

    def erase_faces(
        self, face_ids: Ids, *, actor: str, case_ref: str | None = None, role: str = "operator"
    ) -> ErasureCounts:
        """Erase faces by id (their image goes too when no face is left in it)."""
        return erase_by_id(self.scope, "face", face_ids, Actor(actor, case_ref, role))

    def erase_images(
        self, image_ids: Ids, *, actor: str, case_ref: str | None = None, role: str = "operator"
    ) -> ErasureCounts:
        """Erase images by id with every face and sighting of them."""
        return erase_by_id(self.scope, "image", image_ids, Actor(actor, case_ref, role))

    def erase_source_url(
        self, url: str, *, actor: str, case_ref: str | None = None, role: str = "operator"
    ) -> ErasureCounts:
        """Erase the sightings at an image or page URL (images seen only there go too)."""
        return erase_source_url(self.scope, url, Actor(actor, case_ref, role))

    def takedown_domain(
        self, domain: str, *, actor: str, case_ref: str | None = None, role: str = "operator"
    ) -> ErasureCounts:
        """Erase a domain (subdomains included) and refuse it in every later ingest."""
        return takedown_domain(self.scope, domain, Actor(actor, case_ref, role))

    def takedowns(self) -> list[Takedown]:
        """The taken-down domains, with when, by whom and the case reference."""
        return takedowns(self.scope.gallery.catalog)

    def subject_access(
        self,
        selfies: Sequence[bytes],
        *,
        requester: str,
        verified_by: str,
        case_ref: str,
        include_thumbnails: bool = True,
        actor: str | None = None,
        role: str = "operator",
    ) -> dict[str, Any]:
        """Export what the atlas holds matching a verified requester's selfies (logged).

        ``actor`` is who carries the export out (``verified_by`` when not given).
        """
        by = Actor(actor or verified_by, case_ref, role)
        return subject_access_export(
            self.scope,
            selfies,
            requester=requester,
            verified_by=verified_by,
            by=by,
            include_thumbnails=include_thumbnails,
        )

    def run_retention(
        self, *, now: datetime | None = None, actor: str = "retention", role: str = "operator"
    ) -> RetentionReport:
        return run_retention(self.scope, now=now, actor=actor, role=role)

    def privacy_log(self, limit: int = 100) -> list[PrivacyAction]:
        return read_actions(self.scope.gallery.catalog, limit=limit)
