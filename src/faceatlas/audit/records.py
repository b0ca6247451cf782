"""Case records against the audit log: every decision and verification row must agree with
the audit entry that recorded it.

A row's stored hash must equal the SHA-256 of its content recomputed now, and the
``content_sha256`` its audit entry recorded; an entry must name a row that still exists.
So editing a row (with or without its stored hash), deleting it, or linking it to another
entry is found, and the audit chain itself shows any edit of the entries.
"""

from __future__ import annotations

from collections.abc import Iterable

from faceatlas.store.case_decisions import DecisionStore
from faceatlas.store.case_records import DecisionRecord, VerificationRecord, content_sha256
from faceatlas.store.rows import Database
from faceatlas.types import record

__all__ = ["RECORD_ACTIONS", "RecordProblem", "check_case_records"]

RECORD_ACTIONS = {"case_decision": "decision", "case_verification": "verification"}
"""Audit actions that record a case row, and the kind of row."""


@record
class RecordProblem:
    """A row that disagrees with the log. ``seq``: its audit entry (0 when it has none);
    ``kind``: ``record_edited``, ``record_deleted`` or ``record_unlogged``."""

    seq: int
    kind: str
    message: str


def check_case_records(
    db: Database, entries: Iterable[tuple[int, str, dict[str, object]]]
) -> list[RecordProblem]:
    """Compare every decision and verification row with the audit entries that recorded
    them. ``entries``: ``(seq, action, details)`` of the log's entries (any order; those of
    other actions are skipped)."""
    logged: dict[tuple[str, int], tuple[int, str]] = {}
    for seq, action, details in entries:
        kind = RECORD_ACTIONS.get(action)
        if kind is None:
            continue
        row_id = details.get(f"{kind}_id")
        if isinstance(row_id, int):
            logged[(kind, row_id)] = (seq, str(details.get("content_sha256", "")))
    store = DecisionStore(db)
    problems: list[RecordProblem] = []
    rows: list[DecisionRecord | VerificationRecord] = [
        *store.iter_decisions(),
        *store.iter_verifications(),
    ]
    for row in rows:
        kind = "decision" if isinstance(row, DecisionRecord) else "verification"
        seq, recorded = logged.pop((kind, row.id), (0, ""))
        name = f"{kind} {row.id}"
        if not seq:
            problems.append(RecordProblem(0, "record_unlogged", f"{name} has no audit entry"))
            continue
        recomputed = content_sha256(row.content())
        if recomputed != recorded or row.content_sha256 != recorded or row.audit_seq != seq:
            problems.append(
                RecordProblem(
                    seq,
                    "record_edited",
                    f"{name} was edited: its content no longer matches the hash in entry {seq}",
                )
            )
    for (kind, row_id), (seq, _) in sorted(logged.items(), key=lambda kv: kv[1][0]):
        problems.append(
            RecordProblem(seq, "record_deleted", f"{kind} {row_id} recorded in entry {seq} is gone")
        )
    return problems
