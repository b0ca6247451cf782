"""Privacy administration for every front end, over one :class:`Service`.

Every action goes through the :class:`~faceatlas.atlas.Atlas` facade with the
signed-in user as the actor and their role, so the privacy log and the
hash-chained audit log name who did it (``privacy_<action>`` events; ids,
counts, URLs and domains only: never a selfie, a template, a contact address
or a label). Erasures, takedowns and subject access exports need a case
reference in the format of search case numbers. Actions that change faces or
the index, or run the face engine, hold the service's engine lock so they
never race a search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from faceatlas.accounts import User
from faceatlas.errors import InvalidRequestError
from faceatlas.privacy import (
    ErasureCounts,
    OptOutReceipt,
    OptOutRequest,
    OptOutStatus,
    PrivacyAction,
    RetentionReport,
    Takedown,
)
from faceatlas.services.accounts import audit_role
from faceatlas.services.service import Service

__all__ = ["MAX_IDS_PER_ERASURE", "PrivacyDesk"]

MAX_IDS_PER_ERASURE = 1000

T = TypeVar("T", contravariant=True)


class _Erasure(Protocol[T]):
    """An erasure of the :class:`~faceatlas.atlas.Atlas` facade, e.g. ``erase_faces``."""

    def __call__(
        self, what: T, /, *, actor: str, case_ref: str | None, role: str
    ) -> ErasureCounts: ...


class PrivacyDesk:
    """What an administrator does with opt-outs, erasure, takedowns, access and retention."""

    def __init__(self, service: Service, *, case_optional: bool = False) -> None:
        """``case_optional``: erasures may go without a case reference (the command line,
        run by the atlas's owner); one that is given must still be well-formed."""
        self.service = service
        self.atlas = service.atlas
        self.case_optional = case_optional

    def check_case_ref(self, case_ref: str | None) -> str:
        """The case reference, stripped; ``case_required`` when missing or malformed."""
        return self.service.cases.case_ref(case_ref)

    def _erasure_case(self, case_ref: str | None) -> str | None:
        if self.case_optional and not (case_ref or "").strip():
            return None
        return self.check_case_ref(case_ref)

    # --- opt-outs -----------------------------------------------------------------------

    def optouts(self, status: OptOutStatus | None = None) -> list[OptOutRequest]:
        return self.atlas.privacy.optouts(status)

    def optout(self, request_id: int) -> OptOutRequest:
        return self.atlas.privacy.optout(request_id)

    def approve(self, user: User, request_id: int, note: str | None) -> OptOutReceipt:
        """Approve an opt-out: its templates join the blocklist and matching faces are erased."""
        with self.service.gate.exclusive():
            return self.atlas.privacy.optout_approve(
                request_id, actor=user.username, note=_note(note), role=audit_role(user)
            )

    def reject(self, user: User, request_id: int, note: str | None) -> OptOutRequest:
        with self.service.gate.exclusive():
            return self.atlas.privacy.optout_reject(
                request_id, actor=user.username, note=_note(note), role=audit_role(user)
            )

    # --- erasure and takedown ------------------------------------------------------------

    def erase_faces(
        self, user: User, face_ids: Sequence[int], case_ref: str | None
    ) -> ErasureCounts:
        case = self._erasure_case(case_ref)
        return self._erase(user, case, self.atlas.privacy.erase_faces, _ids(face_ids, "face"))

    def erase_images(
        self, user: User, image_ids: Sequence[int], case_ref: str | None
    ) -> ErasureCounts:
        case = self._erasure_case(case_ref)
        return self._erase(user, case, self.atlas.privacy.erase_images, _ids(image_ids, "image"))

    def erase_url(self, user: User, url: str, case_ref: str | None) -> ErasureCounts:
        case = self._erasure_case(case_ref)
        return self._erase(user, case, self.atlas.privacy.erase_source_url, url)

    def takedown(self, user: User, domain: str, case_ref: str | None) -> ErasureCounts:
        """Erase a domain (subdomains included); every later ingestion refuses it."""
        case = self._erasure_case(case_ref)
        return self._erase(user, case, self.atlas.privacy.takedown_domain, domain)

    def _erase(self, user: User, case: str | None, erase: _Erasure[T], what: T) -> ErasureCounts:
        """``erase(what)`` as ``user`` under ``case``, alone at the engine gate."""
        with self.service.gate.exclusive():
            return erase(what, actor=user.username, case_ref=case, role=audit_role(user))

    def takedowns(self) -> list[Takedown]:
        return self.atlas.privacy.takedowns()

    # --- subject access, retention, log ----------------------------------------------------

    def subject_access(
        self,
        user: User,
        selfies: Sequence[bytes],
        *,
        requester: str,
        verified_by: str,
        case_ref: str,
        include_thumbnails: bool = True,
    ) -> dict[str, Any]:
        """The export for a requester whose identity ``verified_by`` checked out of band."""
        case = self.check_access_request(case_ref, requester, verified_by)
        for data in selfies:
            self.service.check_upload(data)
        with self.service.gate.shared():
            return self.atlas.privacy.subject_access(
                selfies,
                requester=requester.strip(),
                verified_by=verified_by.strip(),
                case_ref=case,
                include_thumbnails=include_thumbnails,
                actor=user.username,
                role=audit_role(user),
            )

    def check_access_request(self, case_ref: str | None, requester: str, verified_by: str) -> str:
        """A subject access request's case reference; ``invalid_request`` unless it names
        the requester and who verified them."""
        case = self.check_case_ref(case_ref)
        if not requester.strip() or not verified_by.strip():
            raise InvalidRequestError("name the requester and who verified their identity")
        return case

    def retention(self, user: User) -> RetentionReport:
        """Every retention rule at once: thumbnails, kept probes and the privacy log
        (:mod:`faceatlas.privacy.retention`, whose report this is), and the probes of closed
        cases whose retention date has come (each erasure audited as ``case_probes_erased``
        on its case)."""
        with self.service.gate.exclusive():
            report = self.atlas.privacy.run_retention(actor=user.username, role=audit_role(user))
            self.service.casework.desk.apply_retention(actor=user.username)
        return report

    def log(self, limit: int = 100) -> list[PrivacyAction]:
        return self.atlas.privacy.privacy_log(limit)


def _note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > 2000:
        raise InvalidRequestError("a decision note has at most 2000 characters")
    return text or None


def _ids(ids: Sequence[int], what: str) -> list[int]:
    if not ids:
        raise InvalidRequestError(f"give at least one {what} id")
    if len(ids) > MAX_IDS_PER_ERASURE:
        raise InvalidRequestError(f"at most {MAX_IDS_PER_ERASURE} {what} ids per request")
    return [int(i) for i in ids]
