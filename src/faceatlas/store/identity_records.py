"""Records of the identity tables: identity summaries and logged curation decisions."""

from __future__ import annotations

from enum import StrEnum

from faceatlas.types import JsonRecord, record

__all__ = ["Decision", "DecisionKind", "IdentitySummary"]


class DecisionKind(StrEnum):
    MERGE = "merge"
    SPLIT = "split"
    MOVE = "move"
    LABEL = "label"
    REJECT = "reject"
    """"Not this person": the faces leave the identity and never rejoin it."""


@record
class Decision(JsonRecord):
    """A manual curation decision and who made it."""

    id: int
    kind: DecisionKind
    identity_id: int
    other_identity_id: int | None
    face_ids: tuple[int, ...]
    detail: str | None
    actor: str
    at: str


@record
class IdentitySummary(JsonRecord):
    id: int
    label: str | None
    labelled_by: str | None
    faces: int
    manual_faces: int
    created_by: str
    created_at: str
