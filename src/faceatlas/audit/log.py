"""The audit log: one row per event, each carrying the SHA-256 of the one before.

``entry_hash = sha256(prev_hash || canonical JSON of the entry's fields)``,
with ``prev_hash`` of the first entry all zeros. The head (last sequence
number and hash) is also kept in ``atlas_meta`` so that deleting the newest
entries is detected, not only edits and deletions in the middle. Sequence
numbers are dense, so a deleted entry leaves a gap that names it.

On SQLite, triggers refuse UPDATE and DELETE on the table; the chain is what
detects an edit made by someone who bypasses them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import field
from datetime import UTC, datetime
from typing import Any, Literal

from faceatlas.audit.records import RECORD_ACTIONS, check_case_records
from faceatlas.store.audit import AuditQuery, AuditRecord, AuditRow, AuditStore, Link
from faceatlas.store.rows import Database
from faceatlas.types import record

__all__ = [
    "AuditEntry",
    "AuditEvent",
    "AuditLog",
    "ChainProblem",
    "VerifyReport",
    "recomputed_hash",
]

GENESIS = "0" * 64
EVENT_FIELDS = ("actor", "actor_role", "actor_unit", "action", "case_number", "purpose")
"""The fields an event gives and its entry keeps, in entry order."""


@record
class AuditEvent:
    """What happened, as given by the caller; ``details`` must be JSON-ready.

    Never put image bytes or embeddings in ``details``: a probe is recorded by
    its SHA-256 only.
    """

    actor: str
    actor_role: str
    actor_unit: str
    action: str
    case_number: str | None = None
    purpose: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@record
class AuditEntry(AuditRecord[dict[str, Any]]):
    """An entry as read: its ``details`` parsed from the JSON text the hash covers."""

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


FIELDS = tuple(f.name for f in dataclasses.fields(AuditEntry))
"""Every field of an entry, in order (the columns of an export)."""


@record
class ChainProblem:
    """One broken link. ``kind``: ``edited``, ``deleted``, ``relinked``, ``truncated`` or
    ``forged`` (a row outside the chain's sequence)."""

    seq: int
    kind: str
    message: str


@record
class VerifyReport:
    entries: int
    head_seq: int
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "problems": [
                {"seq": p.seq, "kind": p.kind, "message": p.message} for p in self.problems
            ],
        }


def _hash(prev_hash: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _body(seq: int, at: str, event_fields: dict[str, Any], details_json: str) -> dict[str, Any]:
    event = {name: event_fields[name] for name in EVENT_FIELDS}
    return {"seq": seq, "at": at, **event, "details": details_json}


def recomputed_hash(entry: AuditEntry) -> str:
    """The hash ``entry`` must carry, recomputed from its content and ``prev_hash``: an entry
    read back from an export is intact when this equals its ``entry_hash``."""
    details = json.dumps(entry.details, sort_keys=True, separators=(",", ":"))
    return _hash(entry.prev_hash, _body(entry.seq, entry.at, _event_fields(entry), details))


def _event_fields(event: AuditEvent | AuditRow | AuditEntry) -> dict[str, Any]:
    return {name: getattr(event, name) for name in EVENT_FIELDS}


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
        **_event_fields(row),
    )


_GROUPINGS: tuple[tuple[str, Literal["actor", "case_number"]], ...] = (
    ("by_user", "actor"),
    ("by_case", "case_number"),
)


class AuditLog:
    """Appends and reads audit entries; :meth:`verify` checks the whole chain."""

    def __init__(self, db: Database) -> None:
        self.rows = AuditStore(db)
        self._lock = threading.Lock()

    def append(self, event: AuditEvent) -> AuditEntry:
        """Append one event. Concurrent writers (threads or processes) never fork the chain."""
        details_json = json.dumps(event.details, sort_keys=True, separators=(",", ":"))
        fields = _event_fields(event)
        with self._lock:
            for _attempt in range(50):
                row = self.rows.append(lambda last: _chained(last, fields, details_json))
                if row is not None:
                    return _entry(row)
                # another process took this sequence number; chain onto it
        raise RuntimeError("could not append to the audit log under contention")

    # --- reads ----------------------------------------------------------------------

    def entries(
        self,
        *,
        action: str | None = None,
        actors: Sequence[str] | None = None,
        actor: str | None = None,
        case_number: str | None = None,
        units: Sequence[str] | None = None,
        limit: int = 200,
        before_seq: int | None = None,
    ) -> list[AuditEntry]:
        """Newest first, filtered. ``units`` restricts to actors of those units."""
        query = AuditQuery(action, actors, actor, case_number, units, limit, before_seq)
        return [_entry(r) for r in self.rows.entries(query)]

    def summary(
        self, *, action: str = "search", units: Sequence[str] | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Counts of ``action`` entries by actor and by case number (optionally by unit)."""
        return {
            name: [
                {"key": key, "searches": n, "last_at": last_at}
                for key, n, last_at in self.rows.counts(by, action, units)
            ]
            for name, by in _GROUPINGS
        }

    def iter_all(self, batch: int = 1000) -> Iterator[AuditEntry]:
        for r in self.rows.rows(batch):
            yield _entry(r)

    # --- verification -------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Recompute the chain and report exactly which entries were edited or deleted, and
        which case decision or verification rows disagree with their entries
        (:mod:`faceatlas.audit.records`)."""
        problems: list[ChainProblem] = []
        expected_seq = 1
        prev_hash = GENESIS
        count = 0
        last_seq = 0
        recorded: list[tuple[int, str, dict[str, Any]]] = []
        for raw in self.rows.rows(2000):
            count += 1
            seq = raw.seq
            if raw.action in RECORD_ACTIONS:
                recorded.append((seq, raw.action, json.loads(raw.details)))
            if seq < expected_seq:
                problems.append(
                    ChainProblem(
                        seq,
                        "forged",
                        f"entry {seq} lies outside the chain (sequence numbers start at 1 "
                        "and only grow): a row was inserted by hand",
                    )
                )
                continue
            if seq > expected_seq:
                missing = (
                    f"entry {expected_seq}"
                    if seq == expected_seq + 1
                    else f"entries {expected_seq}-{seq - 1}"
                )
                for gone in range(expected_seq, seq):
                    problems.append(ChainProblem(gone, "deleted", f"{missing} deleted"))
            body = _body(seq, raw.at, _event_fields(raw), raw.details)
            recomputed = _hash(raw.prev_hash, body)
            if recomputed != raw.entry_hash:
                problems.append(
                    ChainProblem(
                        seq, "edited", f"entry {seq} edited: its content no longer matches its hash"
                    )
                )
            elif raw.prev_hash != prev_hash and seq == expected_seq:
                # Content and own hash agree, but the link to the entry before is broken:
                # the entry before was edited and re-hashed.
                problems.append(
                    ChainProblem(
                        seq - 1,
                        "edited",
                        f"entry {seq - 1} edited and re-hashed: entry {seq} no longer links to it",
                    )
                )
            prev_hash = raw.entry_hash
            expected_seq = seq + 1
            last_seq = seq
        head = self.rows.head()
        if head is not None:
            head_seq, head_hash = head
            if head_seq > last_seq:
                problems.append(
                    ChainProblem(
                        last_seq + 1,
                        "truncated",
                        f"entries {last_seq + 1}-{head_seq} deleted from the end of the log",
                    )
                )
            elif head_seq == last_seq and head_hash != prev_hash and last_seq > 0:
                problems.append(
                    ChainProblem(
                        last_seq, "edited", f"entry {last_seq} edited and re-hashed (head mismatch)"
                    )
                )
        elif count:
            problems.append(ChainProblem(last_seq, "truncated", "the audit head record is missing"))
        problems.extend(
            ChainProblem(p.seq, p.kind, p.message)
            for p in check_case_records(self.rows.db, recorded)
        )
        return VerifyReport(count, last_seq, tuple(problems))

    def last_entry(self) -> tuple[int, str] | None:
        """``(seq, entry_hash)`` of the newest entry, or None for an empty log."""
        return self.rows.newest()

    def entry_hashes(self, seqs: Sequence[int]) -> dict[int, str]:
        """The stored hash of each entry of ``seqs`` that exists."""
        return self.rows.entry_hashes(seqs)


def _chained(last: Link | None, fields: dict[str, Any], details_json: str) -> AuditRow:
    """The next entry after ``last`` (``None``: the first), hashed onto it."""
    seq = 1 if last is None else last[0] + 1
    prev = GENESIS if last is None else last[1]
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    entry_hash = _hash(prev, _body(seq, at, fields, details_json))
    return AuditRow(
        seq=seq,
        at=at,
        details=details_json,
        prev_hash=prev,
        entry_hash=entry_hash,
        **fields,
    )
