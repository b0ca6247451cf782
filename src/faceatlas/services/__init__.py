"""The use cases every front end (command line, REST API, web app) shares.

Each rule lives here once: a search needs a case number and an allowed purpose, uploads
and result counts are bounded, every search is audited, investigators open only what
their own searches showed them, administrators cannot demote themselves. Services take
plain inputs (bytes, strings, numbers, records, a :class:`~faceatlas.accounts.User`) and
raise the errors of :mod:`faceatlas.errors`; they know nothing of HTTP.

The names below load with their module on first use (PEP 562), so a command that needs
one service (``faceatlas stats``) does not import every other one: the case reports' PDF
library, the crawler, the identity clustering.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "faceatlas.cases": (
        "CaseRole",
        "CaseStatus",
        "Conclusion",
        "DecisionStatus",
        "DecisionView",
        "Feature",
        "Finding",
    ),
    "faceatlas.services.accounts": ("AccountDesk", "check_self_change", "local_operator"),
    "faceatlas.services.case_comparison": ("ComparedFace", "Comparison"),
    "faceatlas.services.cases": ("CaseService", "CaseView", "Submission"),
    "faceatlas.services.gate": ("EngineGate",),
    "faceatlas.services.identities": (
        "MAX_PROBE_PHOTOS",
        "NAMES_NOTICE",
        "IdentityDesk",
        "IdentitySearchOutcome",
        "IdentityView",
    ),
    "faceatlas.services.privacy": ("PrivacyDesk",),
    "faceatlas.services.records": ("SightingView", "sighting_view"),
    "faceatlas.services.search": (
        "LEADS_NOTICE",
        "MAX_TOP_K",
        "Interface",
        "SearchOutcome",
        "SearchRecord",
        "SearchRequest",
    ),
    "faceatlas.services.service": ("Service",),
}
"""The module each exported name lives in (the imports above, for the type checker)."""
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
