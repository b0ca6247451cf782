"""Stored calibrations: a score-to-FMR mapping per model, with where it came from.

Saving one also writes ``calibrated_threshold:<model_id>`` to the atlas meta,
in the same transaction, so the search threshold and its evidence never disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.catalog import Catalog

__all__ = ["CalibrationRecord", "latest_calibration", "save_calibration", "threshold_meta_key"]


def threshold_meta_key(model_id: str) -> str:
    return f"calibrated_threshold:{model_id}"


@dataclass(frozen=True, slots=True)
class CalibrationRecord:
    model_id: str
    target_fmr: float
    threshold: float
    comparisons: int
    false_matches: int
    mapping: dict[str, Any]
    provenance: dict[str, Any]
    created_at: str = ""
    id: int = 0


def save_calibration(catalog: Catalog, record: CalibrationRecord) -> CalibrationRecord:
    """Store ``record`` as the model's current calibration and set its threshold."""
    created = record.created_at or datetime.now(UTC).isoformat(timespec="seconds")
    with catalog.writer() as w:
        result = w.conn.execute(
            t.calibrations.insert().values(
                model_id=record.model_id,
                created_at=created,
                target_fmr=record.target_fmr,
                threshold=record.threshold,
                comparisons=record.comparisons,
                false_matches=record.false_matches,
                mapping=json.dumps(record.mapping),
                provenance=json.dumps(record.provenance),
            )
        )
        key = result.inserted_primary_key
        new_id = int(key[0]) if key is not None else 0
        w.set_meta(threshold_meta_key(record.model_id), repr(float(record.threshold)))
    return CalibrationRecord(
        record.model_id,
        record.target_fmr,
        record.threshold,
        record.comparisons,
        record.false_matches,
        record.mapping,
        record.provenance,
        created,
        new_id,
    )


def latest_calibration(catalog: Catalog, model_id: str) -> CalibrationRecord | None:
    with catalog.db.connect() as conn:
        row = conn.execute(
            sa.select(t.calibrations)
            .where(t.calibrations.c.model_id == model_id)
            .order_by(t.calibrations.c.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return CalibrationRecord(
        model_id=row.model_id,
        target_fmr=float(row.target_fmr),
        threshold=float(row.threshold),
        comparisons=int(row.comparisons),
        false_matches=int(row.false_matches),
        mapping=json.loads(row.mapping),
        provenance=json.loads(row.provenance),
        created_at=row.created_at,
        id=int(row.id),
    )
