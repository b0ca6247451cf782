"""SQL for the privacy tables: the privacy log, opt-out requests and their templates,
taken-down domains, stored probe photos, retention's deletes and the write-ahead-log scrub.

Functions taking ``conn`` run inside the caller's transaction (``catalog.writer()``);
those taking ``catalog`` read, or write in a transaction of their own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np
import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.catalog import Catalog, utc_now
from faceatlas.store.rows import record_from
from faceatlas.types import Vectors, record

__all__ = [
    "MAX_LABEL",
    "OptOutRow",
    "PrivacyAction",
    "Takedown",
    "activate_optout_templates",
    "active_template_models",
    "active_templates",
    "add_optout_request",
    "add_privacy_action",
    "add_takedown",
    "checkpoint_wal",
    "count_probes",
    "decide_optout",
    "delete_optout_templates",
    "delete_privacy_actions_before",
    "delete_probes_before",
    "delete_thumbnails_before",
    "keep_probe",
    "optout_row",
    "optout_rows",
    "read_actions",
    "request_templates",
    "store_optout_receipt",
    "takedowns",
]

MAX_LABEL = 200
"""Longest actor name and case reference kept in the privacy log and the takedown list."""


# --- the privacy log ---------------------------------------------------------------------


@record
class PrivacyAction:
    id: int
    at: str
    action: str
    actor: str
    case_ref: str | None
    target: str
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def add_privacy_action(
    conn: sa.Connection,
    action: str,
    *,
    actor: str,
    target: str,
    case_ref: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: str | None = None,
) -> None:
    """Append one entry to the privacy log (``at`` defaults to now)."""
    conn.execute(
        t.privacy_actions.insert().values(
            at=at or utc_now(),
            action=action,
            actor=actor[:MAX_LABEL],
            case_ref=None if case_ref is None else case_ref[:MAX_LABEL],
            target=target,
            details=json.dumps(dict(details or {}), sort_keys=True),
        )
    )


def read_actions(catalog: Catalog, *, limit: int = 100) -> list[PrivacyAction]:
    """The most recent privacy log entries, newest first."""
    with catalog.db.connect() as conn:
        rows = conn.execute(
            sa.select(t.privacy_actions).order_by(t.privacy_actions.c.id.desc()).limit(limit)
        ).all()
    return [PrivacyAction(**{**r._mapping, "details": json.loads(r.details)}) for r in rows]


def delete_privacy_actions_before(conn: sa.Connection, cutoff: str) -> int:
    """Delete privacy log entries older than ``cutoff`` (ISO time); returns how many."""
    return int(
        conn.execute(t.privacy_actions.delete().where(t.privacy_actions.c.at < cutoff)).rowcount
    )


# --- opt-out requests and templates ------------------------------------------------------


@record
class OptOutRow:
    """An opt-out request as stored, with how many templates it holds."""

    id: int
    contact: str
    status: str
    channel: str
    created_at: str
    decided_at: str | None
    decided_by: str | None
    templates: int
    receipt: dict[str, Any] | None


def add_optout_request(
    conn: sa.Connection,
    *,
    contact: str,
    status: str,
    channel: str,
    model_id: str,
    templates: Vectors,
) -> int:
    """Insert a request with its templates (float32 ``(n, dim)``, inactive); returns its id."""
    now = utc_now()
    result = conn.execute(
        t.optout_requests.insert().values(
            contact=contact, status=status, channel=channel, created_at=now
        )
    )
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - the table has an integer key
        raise RuntimeError("insert returned no primary key")
    request_id = int(key[0])
    for vector in templates:
        conn.execute(
            t.optout_templates.insert().values(
                request_id=request_id,
                model_id=model_id,
                dim=int(vector.shape[0]),
                vector=np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
                active=False,
                created_at=now,
            )
        )
    return request_id


def _requests() -> sa.Select[Any]:
    count = (
        sa.select(sa.func.count())
        .where(t.optout_templates.c.request_id == t.optout_requests.c.id)
        .scalar_subquery()
    )
    return sa.select(t.optout_requests, count.label("n_templates"))


def _optout(row: Any) -> OptOutRow:
    receipt = None if row.receipt is None else json.loads(row.receipt)
    return record_from(OptOutRow, row, templates=int(row.n_templates), receipt=receipt)


def optout_row(catalog: Catalog, request_id: int) -> OptOutRow | None:
    with catalog.db.connect() as conn:
        row = conn.execute(_requests().where(t.optout_requests.c.id == request_id)).first()
    return None if row is None else _optout(row)


def optout_rows(catalog: Catalog, status: str | None = None) -> list[OptOutRow]:
    """Requests in id order, those with ``status`` only when given."""
    query = _requests().order_by(t.optout_requests.c.id)
    if status is not None:
        query = query.where(t.optout_requests.c.status == status)
    with catalog.db.connect() as conn:
        return [_optout(r) for r in conn.execute(query).all()]


def decide_optout(
    conn: sa.Connection, request_id: int, *, status: str, actor: str, note: str | None
) -> None:
    """Set a request's status with who decided, when (now) and their note."""
    conn.execute(
        t.optout_requests.update()
        .where(t.optout_requests.c.id == request_id)
        .values(status=status, decided_at=utc_now(), decided_by=actor, note=note)
    )


def store_optout_receipt(
    conn: sa.Connection, request_id: int, *, status: str, receipt: Mapping[str, Any]
) -> None:
    conn.execute(
        t.optout_requests.update()
        .where(t.optout_requests.c.id == request_id)
        .values(status=status, receipt=json.dumps(dict(receipt), sort_keys=True))
    )


def activate_optout_templates(conn: sa.Connection, request_id: int) -> None:
    conn.execute(
        t.optout_templates.update()
        .where(t.optout_templates.c.request_id == request_id)
        .values(active=True)
    )


def delete_optout_templates(conn: sa.Connection, request_id: int) -> None:
    conn.execute(t.optout_templates.delete().where(t.optout_templates.c.request_id == request_id))


def _templates(catalog: Catalog, dim: int, *where: sa.ColumnElement[bool]) -> Vectors:
    with catalog.db.connect() as conn:
        rows = conn.execute(sa.select(t.optout_templates.c.vector).where(*where)).all()
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    return np.stack([np.frombuffer(r[0], dtype=np.float32) for r in rows])


def active_templates(catalog: Catalog, model_id: str, dim: int) -> Vectors:
    """Every active template of ``model_id``, float32 ``(m, dim)``."""
    tpl = t.optout_templates
    return _templates(catalog, dim, tpl.c.model_id == model_id, tpl.c.active.is_(True))


def request_templates(catalog: Catalog, request_id: int, model_id: str, dim: int) -> Vectors:
    """The templates of one request for ``model_id``, active or not, float32 ``(m, dim)``."""
    tpl = t.optout_templates
    return _templates(catalog, dim, tpl.c.request_id == request_id, tpl.c.model_id == model_id)


def active_template_models(catalog: Catalog) -> dict[int, set[str]]:
    """Request id -> the models its active templates are of."""
    tpl = t.optout_templates
    with catalog.db.connect() as conn:
        rows = conn.execute(
            sa.select(tpl.c.request_id, tpl.c.model_id).where(tpl.c.active.is_(True)).distinct()
        ).all()
    models: dict[int, set[str]] = {}
    for request_id, model_id in rows:
        models.setdefault(int(request_id), set()).add(str(model_id))
    return models


# --- taken-down domains ------------------------------------------------------------------


@record
class Takedown:
    """A taken-down domain: when, by whom, under which case."""

    domain: str
    at: str
    actor: str
    case_ref: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def add_takedown(catalog: Catalog, domain: str, *, actor: str, case_ref: str | None) -> None:
    """Record ``domain`` (normalized) as taken down, in its own transaction; kept as first
    recorded when it already is."""
    with catalog.writer() as w:
        exists = w.conn.execute(
            sa.select(t.takedown_domains.c.domain).where(t.takedown_domains.c.domain == domain)
        ).first()
        if exists is None:
            w.conn.execute(
                t.takedown_domains.insert().values(
                    domain=domain, at=utc_now(), actor=actor[:MAX_LABEL], case_ref=case_ref
                )
            )


def takedowns(catalog: Catalog) -> list[Takedown]:
    """Every taken-down domain, alphabetically."""
    with catalog.db.connect() as conn:
        rows = conn.execute(
            sa.select(t.takedown_domains).order_by(t.takedown_domains.c.domain)
        ).all()
    return [Takedown(str(r.domain), str(r.at), str(r.actor), r.case_ref) for r in rows]


# --- stored probes and retention ---------------------------------------------------------


def keep_probe(catalog: Catalog, data: bytes) -> int:
    """Store a probe photo (only called when ``store_probes`` is on); returns its id."""
    with catalog.writer() as w:
        result = w.conn.execute(
            t.probe_images.insert().values(
                sha256=hashlib.sha256(data).hexdigest(), data=data, created_at=utc_now()
            )
        )
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - the table has an integer key
        raise RuntimeError("insert returned no primary key")
    return int(key[0])


def count_probes(catalog: Catalog) -> int:
    with catalog.db.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(t.probe_images)).scalar_one()
        )


def delete_probes_before(conn: sa.Connection, cutoff: str) -> int:
    """Delete stored probes older than ``cutoff`` (ISO time); returns how many."""
    return int(
        conn.execute(t.probe_images.delete().where(t.probe_images.c.created_at < cutoff)).rowcount
    )


def delete_thumbnails_before(conn: sa.Connection, cutoff: str) -> int:
    """Delete face thumbnails older than ``cutoff`` (ISO time); returns how many."""
    return int(
        conn.execute(t.thumbnails.delete().where(t.thumbnails.c.created_at < cutoff)).rowcount
    )


def checkpoint_wal(catalog: Catalog) -> bool:
    """Move the SQLite write-ahead log into the main file and truncate it, so deleted bytes
    leave it; False when a reader kept the checkpoint from completing (other databases: True)."""
    if catalog.db.dialect.name != "sqlite":
        return True
    with catalog.db.connect() as conn:
        busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
    return busy is None or not busy[0]
