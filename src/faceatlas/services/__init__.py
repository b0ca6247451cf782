"""The use cases every front end (command line, REST API, web app) shares.

Each rule lives here once: a search needs a case number and an allowed purpose, uploads
and result counts are bounded, every search is audited, investigators open only what
their own searches showed them, administrators cannot demote themselves. Services take
plain inputs (bytes, strings, numbers, records, a :class:`~faceatlas.accounts.User`) and
raise the errors of :mod:`faceatlas.errors`; they know nothing of HTTP.
"""

from faceatlas.cases import (
    CaseRole,
    CaseStatus,
    Conclusion,
    DecisionStatus,
    DecisionView,
    Feature,
    Finding,
)
from faceatlas.services.accounts import AccountDesk, check_self_change, local_operator
from faceatlas.services.case_comparison import ComparedFace, Comparison
from faceatlas.services.cases import CaseService, CaseView, Submission
from faceatlas.services.gate import EngineGate
from faceatlas.services.identities import (
    MAX_PROBE_PHOTOS,
    NAMES_NOTICE,
    IdentityDesk,
    IdentitySearchOutcome,
    IdentityView,
)
from faceatlas.services.privacy import PrivacyDesk
from faceatlas.services.records import SightingView, sighting_view
from faceatlas.services.search import (
    LEADS_NOTICE,
    MAX_TOP_K,
    Interface,
    SearchOutcome,
    SearchRecord,
    SearchRequest,
)
from faceatlas.services.service import Service

__all__ = [
    "LEADS_NOTICE",
    "MAX_PROBE_PHOTOS",
    "MAX_TOP_K",
    "NAMES_NOTICE",
    "AccountDesk",
    "CaseRole",
    "CaseService",
    "CaseStatus",
    "CaseView",
    "ComparedFace",
    "Comparison",
    "Conclusion",
    "DecisionStatus",
    "DecisionView",
    "EngineGate",
    "Feature",
    "Finding",
    "IdentityDesk",
    "IdentitySearchOutcome",
    "IdentityView",
    "Interface",
    "PrivacyDesk",
    "SearchOutcome",
    "SearchRecord",
    "SearchRequest",
    "Service",
    "SightingView",
    "Submission",
    "check_self_change",
    "local_operator",
    "sighting_view",
]
