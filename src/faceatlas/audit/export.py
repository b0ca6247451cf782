"""Exports of the audit log for a supervisor or an outside auditor: every entry with its hashes."""

from __future__ import annotations

import csv
import io
import json

from faceatlas.audit.log import FIELDS, AuditLog

__all__ = ["export_csv", "export_json"]


def export_json(log: AuditLog) -> str:
    """Every entry with its hashes, oldest first, plus the verification result."""
    report = log.verify()
    return json.dumps(
        {
            "verification": report.as_dict(),
            "entries": [e.as_dict() for e in log.iter_all()],
        },
        indent=2,
    )


def export_csv(log: AuditLog) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(FIELDS)
    for e in log.iter_all():
        row = e.as_dict()
        row["details"] = json.dumps(e.details, sort_keys=True, separators=(",", ":"))
        writer.writerow([row[name] if row[name] is not None else "" for name in FIELDS])
    return buf.getvalue()
