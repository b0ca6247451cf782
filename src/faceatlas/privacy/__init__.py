"""Privacy controls: opt-out by face, erasure, takedown, subject access, retention."""

from faceatlas.privacy.access import subject_access_export
from faceatlas.privacy.erasure import (
    ErasureCounts,
    ErasurePlan,
    erase_faces,
    erase_images,
    erase_source_url,
    host_matches,
    scrub_catalog,
    takedown_domain,
    taken_down_domains,
)
from faceatlas.privacy.log import PrivacyAction, read_actions
from faceatlas.privacy.matching import (
    OPTOUT_DEFAULT_MIN_SIMILARITY,
    OPTOUT_TARGET_FMR,
    Blocklist,
    best_similarity,
    optout_threshold,
)
from faceatlas.privacy.optout import (
    MAX_SELFIES,
    OptOutReceipt,
    OptOutRequest,
    OptOutStatus,
    approve_optout,
    get_optout,
    list_optouts,
    matching_faces,
    reject_optout,
    submit_optout,
)
from faceatlas.privacy.retention import RetentionReport, count_probes, keep_probe, run_retention

__all__ = [
    "MAX_SELFIES",
    "OPTOUT_DEFAULT_MIN_SIMILARITY",
    "OPTOUT_TARGET_FMR",
    "Blocklist",
    "ErasureCounts",
    "ErasurePlan",
    "OptOutReceipt",
    "OptOutRequest",
    "OptOutStatus",
    "PrivacyAction",
    "RetentionReport",
    "approve_optout",
    "best_similarity",
    "count_probes",
    "erase_faces",
    "erase_images",
    "erase_source_url",
    "get_optout",
    "host_matches",
    "keep_probe",
    "list_optouts",
    "matching_faces",
    "optout_threshold",
    "read_actions",
    "reject_optout",
    "run_retention",
    "scrub_catalog",
    "subject_access_export",
    "submit_optout",
    "takedown_domain",
    "taken_down_domains",
]
