"""Totals over every finished ingest run of a catalog: what all its ingests, in any process
(command line, server job, Ray driver), have read, stored and failed on."""

from __future__ import annotations

import json
from collections import Counter

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.rows import Repository

__all__ = ["IngestTotals"]


class IngestTotals(Repository):
    """The ``counts`` of the ``ingest_runs`` table, summed."""

    def totals(self) -> Counter[str]:
        """The counts of every finished run (``items``, ``new_images``, ``faces``,
        ``failed:<code>``, ...), added up. A run's counts are written when it ends."""
        total: Counter[str] = Counter()
        runs = self._all(
            sa.select(t.ingest_runs.c.counts).where(t.ingest_runs.c.finished_at.is_not(None))
        )
        for (counts,) in runs:
            total.update({str(k): int(v) for k, v in json.loads(counts or "{}").items()})
        return total
