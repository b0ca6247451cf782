"""The rules every search follows, whatever front end asks: a case number and an allowed
purpose, a bounded upload, a bounded number of results, and one audit event per search.

Records here are plain: front ends render them (JSON, HTML, tables) and never compute a
rule of their own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import field
from enum import StrEnum
from typing import Any

from faceatlas.audit import AuditEntry
from faceatlas.choices import MAX_TOP_K
from faceatlas.config import Settings
from faceatlas.errors import CaseRequiredError, ImageTooLargeError, InvalidRequestError
from faceatlas.identity import IdentitySearchResult
from faceatlas.search import SearchResult
from faceatlas.search.bands import similarity_band
from faceatlas.types import record

__all__ = [
    "LEADS_NOTICE",
    "MAX_TOP_K",
    "CaseRule",
    "Interface",
    "Leads",
    "SearchOutcome",
    "SearchRecord",
    "SearchRequest",
    "check_upload",
    "probe_digests",
    "resolve_top_k",
    "search_parameters",
]

LEADS_NOTICE = (
    "Results are investigative leads, not identifications. A similar face is not the same "
    "person: verify every lead independently before acting on it."
)
CASE_FORMAT = "letters, digits, '.', '_', '/', '-'; 3-64 characters"


class Interface(StrEnum):
    """The front end a search came through (recorded in its audit event)."""

    API = "api"
    WEB = "web"
    CLI = "cli"


@record
class SearchRequest:
    case_number: str
    purpose: str
    face: int | None = None
    top_k: int | None = None
    threshold: float | None = None
    interface: str = Interface.API.value


@record
class SearchRecord:
    """What a search's audit event records besides who, case and purpose: its
    parameters, the ids of the faces shown, and kind-specific fields (``extra``)."""

    parameters: dict[str, Any]
    result_face_ids: list[int]
    extra: dict[str, Any] = field(default_factory=dict)


class Leads:
    """A search's outcome as every front end shows it: the hits in plain-language bands,
    under the search's audit entry, with the digests of the probe photos."""

    __slots__ = ()

    audit: AuditEntry
    result: SearchResult | IdentitySearchResult

    def scores(self) -> list[float]:
        """What each hit's band is read from, in rank order."""
        raise NotImplementedError

    def probes(self) -> dict[str, Any]:
        """The probe photos' digests, by the name the JSON view gives them."""
        raise NotImplementedError

    @property
    def bands(self) -> list[tuple[str, str]]:
        """Each hit's plain-language band ``(band, explanation)``, in rank order."""
        return [similarity_band(s, self.result.threshold) for s in self.scores()]

    def as_dict(self) -> dict[str, Any]:
        """The hits as shown (each with its band), under the audit entry's sequence number,
        case and purpose, the leads notice and the probes' digests."""
        shown = self.result.as_dict()
        for hit, (band, text) in zip(shown["hits"], self.bands, strict=True):
            hit["band"] = band
            hit["band_text"] = text
        return {
            "search_id": self.audit.seq,
            "case_number": self.audit.case_number,
            "purpose": self.audit.purpose,
            "notice": LEADS_NOTICE,
            **self.probes(),
            **shown,
        }


@record
class SearchOutcome(Leads):
    result: SearchResult
    audit: AuditEntry
    probe_sha256: str

    def scores(self) -> list[float]:
        return [h.decision_score for h in self.result.hits]

    def probes(self) -> dict[str, Any]:
        return {"probe_sha256": self.probe_sha256}


class CaseRule:
    """Case numbers (searches) and case references (privacy actions) in the configured
    format, and purposes from the configured list."""

    def __init__(self, settings: Settings) -> None:
        self.purposes = tuple(settings.search_purposes)
        self._pattern = re.compile(settings.case_number_pattern)

    def case_number(self, case_number: str | None) -> str:
        """A search's case number, stripped; ``case_required`` when missing or malformed."""
        return self._case(case_number, "every search", "case number")

    def case_ref(self, case_ref: str | None) -> str:
        """A privacy action's case reference, stripped; ``case_required`` when missing or
        malformed."""
        return self._case(case_ref, "this privacy action", "case reference")

    def _case(self, value: str | None, needs: str, what: str) -> str:
        case = (value or "").strip()
        if not case:
            raise CaseRequiredError(f"{needs} needs a {what}")
        if not self._pattern.fullmatch(case):
            raise CaseRequiredError(f"the {what} has an invalid format ({CASE_FORMAT})")
        return case

    def check(self, case_number: str | None, purpose: str | None) -> tuple[str, str]:
        """``(case, purpose)`` of a search, stripped; ``case_required`` unless both hold."""
        case = self.case_number(case_number)
        why = (purpose or "").strip()
        if why not in self.purposes:
            raise CaseRequiredError(
                "every search needs a purpose from the list: " + "; ".join(self.purposes)
            )
        return case, why


def check_upload(settings: Settings, data: bytes) -> None:
    """``image_too_large`` when an uploaded photo passes ``max_upload_bytes``."""
    if len(data) > settings.max_upload_bytes:
        raise ImageTooLargeError(
            f"upload is {len(data)} bytes, limit is {settings.max_upload_bytes}"
        )


def resolve_top_k(settings: Settings, top_k: int | None) -> int:
    """The number of results a search returns: ``top_k``, or the configured default;
    ``invalid_request`` outside 1 to :data:`MAX_TOP_K`."""
    k = settings.top_k if top_k is None else top_k
    if not 1 <= k <= MAX_TOP_K:
        raise InvalidRequestError(f"top_k must be between 1 and {MAX_TOP_K}")
    return k


def probe_digests(probes: Sequence[bytes]) -> list[str]:
    """The probes' SHA-256 digests (what the audit log keeps instead of the photos)."""
    return [hashlib.sha256(data).hexdigest() for data in probes]


def search_parameters(result: SearchResult, top_k: int) -> dict[str, Any]:
    """What a face search's audit entry records of how it searched."""
    return {
        "face": result.selected,
        "faces_in_probe": len(result.probe_faces),
        "top_k": top_k,
        "threshold": round(result.threshold, 4),
        "threshold_source": result.threshold_source,
        "model_id": result.model_id,
    }
