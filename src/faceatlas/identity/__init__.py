"""Identities: faces clustered into people, manual curation, name evidence, identity search."""

from faceatlas.identity.clustering import ClusterOutcome, ClusterParams, ClusterState, cluster_faces
from faceatlas.identity.evidence import extract_names, name_candidates, names_from_file_name
from faceatlas.identity.ranking import IdentityScore, probe_vector, rank_identities
from faceatlas.identity.records import (
    ClusterReport,
    Decision,
    DecisionKind,
    IdentityDetail,
    IdentityHit,
    IdentityPhoto,
    IdentitySearchResult,
    IdentitySummary,
    NameCandidate,
)
from faceatlas.identity.search import search_identities
from faceatlas.identity.service import Identities

__all__ = [
    "ClusterOutcome",
    "ClusterParams",
    "ClusterReport",
    "ClusterState",
    "Decision",
    "DecisionKind",
    "Identities",
    "IdentityDetail",
    "IdentityHit",
    "IdentityPhoto",
    "IdentityScore",
    "IdentitySearchResult",
    "IdentitySummary",
    "NameCandidate",
    "cluster_faces",
    "extract_names",
    "name_candidates",
    "names_from_file_name",
    "probe_vector",
    "rank_identities",
    "search_identities",
]
