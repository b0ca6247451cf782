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

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from faceatlas.audit.records import RECORD_ACTIONS, check_case_records
from faceatlas.store import schema as t

__all__ = ["AuditEntry", "AuditEvent", "AuditLog", "ChainProblem", "VerifyReport"]

GENESIS = "0" * 64
HEAD_META = "audit_head"
FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_role",
    "actor_unit",
    "action",
    "case_number",
    "purpose",
    "details",
    "prev_hash",
    "entry_hash",
)


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    actor_role: str
    actor_unit: str
    action: str
    case_number: str | None
    purpose: str | None
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One broken link. ``kind``: ``edited``, ``deleted``, ``relinked``, ``truncated`` or
    ``forged`` (a row outside the chain's sequence)."""

    seq: int
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
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
    return {
        "seq": seq,
        "at": at,
        "actor": event_fields["actor"],
        "actor_role": event_fields["actor_role"],
        "actor_unit": event_fields["actor_unit"],
        "action": event_fields["action"],
        "case_number": event_fields["case_number"],
        "purpose": event_fields["purpose"],
        "details": details_json,
    }


def _entry(row: sa.Row[Any]) -> AuditEntry:
    m = row._mapping
    return AuditEntry(
        seq=int(m["seq"]),
        at=m["at"],
        actor=m["actor"],
        actor_role=m["actor_role"],
        actor_unit=m["actor_unit"],
        action=m["action"],
        case_number=m["case_number"],
        purpose=m["purpose"],
        details=json.loads(m["details"]),
        prev_hash=m["prev_hash"],
        entry_hash=m["entry_hash"],
    )


class AuditLog:
    """Appends and reads audit entries; :meth:`verify` checks the whole chain."""

    def __init__(self, db: sa.Engine) -> None:
        self.db = db
        self._lock = threading.Lock()

    def append(self, event: AuditEvent) -> AuditEntry:
        """Append one event. Concurrent writers (threads or processes) never fork the chain."""
        details_json = json.dumps(event.details, sort_keys=True, separators=(",", ":"))
        fields = {
            "actor": event.actor,
            "actor_role": event.actor_role,
            "actor_unit": event.actor_unit,
            "action": event.action,
            "case_number": event.case_number,
            "purpose": event.purpose,
        }
        with self._lock:
            for _attempt in range(50):
                try:
                    return self._append_once(fields, details_json)
                except IntegrityError:
                    continue  # another process took this sequence number; chain onto it
        raise RuntimeError("could not append to the audit log under contention")

    def _append_once(self, fields: dict[str, Any], details_json: str) -> AuditEntry:
        with self.db.begin() as conn:
            last = _newest(conn)
            seq = 1 if last is None else last[0] + 1
            prev = GENESIS if last is None else last[1]
            at = datetime.now(UTC).isoformat(timespec="milliseconds")
            body = _body(seq, at, fields, details_json)
            entry_hash = _hash(prev, body)
            conn.execute(
                t.audit_log.insert().values(
                    **fields,
                    seq=seq,
                    at=at,
                    details=details_json,
                    prev_hash=prev,
                    entry_hash=entry_hash,
                )
            )
            head = json.dumps({"seq": seq, "hash": entry_hash})
            updated = conn.execute(
                t.atlas_meta.update().where(t.atlas_meta.c.key == HEAD_META).values(value=head)
            ).rowcount
            if not updated:
                conn.execute(t.atlas_meta.insert().values(key=HEAD_META, value=head))
        return AuditEntry(
            seq=seq,
            at=at,
            details=json.loads(details_json),
            prev_hash=prev,
            entry_hash=entry_hash,
            **fields,
        )

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
        q = sa.select(t.audit_log).order_by(t.audit_log.c.seq.desc()).limit(limit)
        if action is not None:
            q = q.where(t.audit_log.c.action == action)
        if actor is not None:
            q = q.where(t.audit_log.c.actor == actor)
        if actors is not None:
            q = q.where(t.audit_log.c.actor.in_(list(actors)))
        if case_number is not None:
            q = q.where(t.audit_log.c.case_number == case_number)
        if units is not None:
            q = q.where(t.audit_log.c.actor_unit.in_(list(units)))
        if before_seq is not None:
            q = q.where(t.audit_log.c.seq < before_seq)
        with self.db.connect() as conn:
            return [_entry(r) for r in conn.execute(q).all()]

    def summary(
        self, *, action: str = "search", units: Sequence[str] | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Counts of ``action`` entries by actor and by case number (optionally by unit)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for name, col in (("by_user", t.audit_log.c.actor), ("by_case", t.audit_log.c.case_number)):
            q = (
                sa.select(col, sa.func.count(), sa.func.max(t.audit_log.c.at))
                .where(t.audit_log.c.action == action)
                .group_by(col)
                .order_by(sa.func.max(t.audit_log.c.at).desc())
            )
            if units is not None:
                q = q.where(t.audit_log.c.actor_unit.in_(list(units)))
            with self.db.connect() as conn:
                rows = conn.execute(q).all()
            out[name] = [{"key": r[0], "searches": int(r[1]), "last_at": r[2]} for r in rows]
        return out

    def iter_all(self, batch: int = 1000) -> Iterator[AuditEntry]:
        for r in self._rows_after(None, batch):
            yield _entry(r)

    def _rows_after(self, last: int | None, batch: int) -> Iterator[sa.Row[Any]]:
        """Every row with ``seq`` above ``last`` (``None``: every row, whatever its ``seq``, so
        that verification, export and every reader see one and the same set), in order, read
        ``batch`` rows at a time."""
        while True:
            q = sa.select(t.audit_log).order_by(t.audit_log.c.seq).limit(batch)
            if last is not None:
                q = q.where(t.audit_log.c.seq > last)
            with self.db.connect() as conn:
                rows = conn.execute(q).all()
            if not rows:
                return
            yield from rows
            last = int(rows[-1]._mapping["seq"])

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
        for raw in self._raw_rows():
            count += 1
            seq = int(raw["seq"])
            if raw["action"] in RECORD_ACTIONS:
                recorded.append((seq, raw["action"], json.loads(raw["details"])))
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
            body = _body(seq, raw["at"], raw, raw["details"])
            recomputed = _hash(raw["prev_hash"], body)
            if recomputed != raw["entry_hash"]:
                problems.append(
                    ChainProblem(
                        seq, "edited", f"entry {seq} edited: its content no longer matches its hash"
                    )
                )
            elif raw["prev_hash"] != prev_hash and seq == expected_seq:
                # Content and own hash agree, but the link to the entry before is broken:
                # the entry before was edited and re-hashed.
                problems.append(
                    ChainProblem(
                        seq - 1,
                        "edited",
                        f"entry {seq - 1} edited and re-hashed: entry {seq} no longer links to it",
                    )
                )
            prev_hash = raw["entry_hash"]
            expected_seq = seq + 1
            last_seq = seq
        head = self._head()
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
            ChainProblem(p.seq, p.kind, p.message) for p in check_case_records(self.db, recorded)
        )
        return VerifyReport(count, last_seq, tuple(problems))

    def last_entry(self) -> tuple[int, str] | None:
        """``(seq, entry_hash)`` of the newest entry, or None for an empty log."""
        with self.db.connect() as conn:
            return _newest(conn)

    def entry_hashes(self, seqs: Sequence[int]) -> dict[int, str]:
        """The stored hash of each entry of ``seqs`` that exists."""
        wanted = sorted(set(seqs))
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(t.audit_log.c.seq, t.audit_log.c.entry_hash).where(
                    t.audit_log.c.seq.in_(wanted)
                )
            ).all()
        return {int(r[0]): str(r[1]) for r in rows}

    def _raw_rows(self, batch: int = 2000) -> Iterator[dict[str, Any]]:
        for r in self._rows_after(None, batch):
            yield dict(r._mapping)

    def _head(self) -> tuple[int, str] | None:
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(t.atlas_meta.c.value).where(t.atlas_meta.c.key == HEAD_META)
            ).first()
        if row is None:
            return None
        data = json.loads(row[0])
        return int(data["seq"]), str(data["hash"])


def _newest(conn: sa.Connection) -> tuple[int, str] | None:
    """``(seq, entry_hash)`` of the entry with the highest sequence number."""
    row = conn.execute(
        sa.select(t.audit_log.c.seq, t.audit_log.c.entry_hash)
        .order_by(t.audit_log.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), str(row[1]))
