"""Which newly stored faces match an active watchlist entry, and what an alert tells a webhook.

A face matches an entry when its score against the entry's template reaches the entry's
threshold, never below the threshold in force for searches (the engine's calibrated one):
the fair score where fair scoring is on (docs/fairness.md), else the cosine similarity,
exactly as a search would rank the pair. Faces that may never be shown (opt-outs) never
match, even if they were stored before their opt-out took effect.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from faceatlas.gallery import Gallery
from faceatlas.index.protocol import IndexHit
from faceatlas.search.fairness import FairScorer
from faceatlas.search.searcher import HitFilter
from faceatlas.store.watchlists import AlertRecord, WatchlistEntry
from faceatlas.types import Vector, Vectors, record

__all__ = ["ALERT_NOTICE", "Match", "alert_payload", "find_matches"]

ALERT_NOTICE = (
    "A watchlist alert is an investigative lead, not an identification: a similar face is "
    "not the same person. Verify it independently before acting on it."
)


@record
class Match:
    entry: WatchlistEntry
    face_id: int
    similarity: float
    score: float
    """What the threshold applies to: the fair score, else the similarity."""
    threshold: float


def find_matches(
    entries: list[tuple[WatchlistEntry, Vector]],
    faces: Iterable[tuple[np.ndarray[Any, np.dtype[np.int64]], Vectors]],
    *,
    floor: float,
    scorer: FairScorer | None,
    unblocked: HitFilter,
) -> list[Match]:
    """Every (entry, face) pair of ``faces`` (batches of ``(face ids, vectors (n, dim))``)
    scoring at least ``max(entry.threshold, floor)``, unless the face is blocked."""
    if not entries:
        return []
    templates = np.stack([v for _, v in entries]).astype(np.float32)
    thresholds = np.maximum(np.array([e.threshold for e, _ in entries], np.float32), floor)
    template_offsets = None if scorer is None else scorer.face_offsets(templates)
    found: list[Match] = []
    for face_ids, vectors in faces:
        sims = np.asarray(vectors, np.float32) @ templates.T
        scores = (
            sims
            if scorer is None or template_offsets is None
            else scorer.combine(sims, scorer.face_offsets(vectors), template_offsets)
        )
        rows, cols = np.nonzero(scores >= thresholds[None, :])
        if not len(rows):
            continue
        hits = [
            IndexHit(int(face_ids[r]), float(sims[r, k])) for r, k in zip(rows, cols, strict=True)
        ]
        shown = {h.id for h in unblocked(hits)}
        for r, k in zip(rows, cols, strict=True):
            if int(face_ids[r]) in shown:
                found.append(
                    Match(
                        entries[k][0],
                        int(face_ids[r]),
                        float(sims[r, k]),
                        float(scores[r, k]),
                        float(thresholds[k]),
                    )
                )
    return found


def alert_payload(gallery: Gallery, alert: AlertRecord) -> dict[str, Any] | None:
    """The webhook body of an alert: the case, the entry, the matched face with its image's
    hash and where it was found, the scores; never an image or an embedding. ``None`` when
    the face has been erased since."""
    face = gallery.catalog.faces([alert.face_id]).get(alert.face_id)
    if face is None:
        return None
    return {
        "event": "watchlist_alert",
        "alert_id": alert.id,
        "case_number": alert.case_number,
        "entry_id": alert.entry_id,
        "entry_label": alert.entry_label,
        "face_id": alert.face_id,
        "image_sha256": face.image.sha256,
        "sightings": [
            {"locator": s.locator, "page_url": s.page_url or None} for s in face.sightings
        ],
        "similarity": round(alert.similarity, 4),
        "score": round(alert.score, 4),
        "threshold": round(alert.threshold, 4),
        "raised_at": alert.raised_at,
        "audit_seq": alert.audit_seq,
        "notice": ALERT_NOTICE,
    }
