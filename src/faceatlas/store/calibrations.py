"""Stored calibrations: a score-to-FMR mapping per model, with where it came from.

Saving one also writes ``calibrated_threshold:<model_id>`` to the atlas meta,
in the same transaction, so the search threshold and its evidence never disagree.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.catalog import Catalog
from faceatlas.store.rows import new_id, record_from, values_of
from faceatlas.store.summary import threshold_meta_key
from faceatlas.types import record

__all__ = ["CalibrationRecord", "latest_calibration", "save_calibration", "threshold_meta_key"]


@record
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
    values = {
        **values_of(record),
        "created_at": created,
        "mapping": json.dumps(record.mapping),
        "provenance": json.dumps(record.provenance),
    }
    del values["id"]
    with catalog.writer() as w:
        calibration_id = new_id(w.conn.execute(t.calibrations.insert().values(**values)))
        w.set_meta(threshold_meta_key(record.model_id), repr(float(record.threshold)))
    return replace(record, created_at=created, id=calibration_id)


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
    return record_from(
        CalibrationRecord,
        row,
        mapping=json.loads(row.mapping),
        provenance=json.loads(row.provenance),
    )
