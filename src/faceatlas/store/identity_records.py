"""Records of the identity tables: identity summaries and logged curation decisions."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from faceatlas.types import record, record_dict

__all__ = ["Decision", "DecisionKind", "IdentitySummary"]


class DecisionKind(StrEnum):
    MERGE = "merge"
    SPLIT = "split"
    MOVE = "move"
    LABEL = "label"
    REJECT = "reject"
    """"Not this person": the faces leave the identity and never rejoin it."""


@record
class Decision:
    """A manual curation decision and who made it."""

    id: int
    kind: DecisionKind
    identity_id: int
    other_identity_id: int | None
    face_ids: tuple[int, ...]
    detail: str | None
    actor: str
    at: str

    def as_dict(self) -> dict[str, Any]:
        return record_dict(self)


@record
class IdentitySummary:
    id: int
    label: str | None
    labelled_by: str | None
    faces: int
    manual_faces: int
    created_by: str
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return record_dict(self)
