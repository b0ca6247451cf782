"""What privacy works on: the gallery it is given, the audit log its actions are mirrored to,
the opt-out blocklist, and the searcher whose threshold and calibration it reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faceatlas.audit import AuditLog
from faceatlas.gallery import Gallery
from faceatlas.search.searcher import Searcher
from faceatlas.types import record

if TYPE_CHECKING:
    from faceatlas.privacy.matching import Blocklist

__all__ = ["PrivacyScope"]


@record
class PrivacyScope:
    gallery: Gallery
    audit: AuditLog
    blocklist: Blocklist
    searcher: Searcher
