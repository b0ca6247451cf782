"""Request and response models of watchlists: entries and their alerts (never a probe
embedding or photo)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from faceatlas.api.schemas import RecordView
from faceatlas.services.watchlists import AlertRecord, WatchlistEntry

__all__ = ["AlertOut", "AlertsOut", "DaysIn", "DeliveriesOut", "EntriesOut", "EntryOut"]


@pydantic_dataclass(frozen=True)
class EntryOut(WatchlistEntry, RecordView):
    """A watchlist entry: ``pending`` matches nothing, ``active`` until ``expires_at``,
    ``ended`` (expired, case closed, deleted) with its probe embedding purged."""


class EntriesOut(BaseModel):
    entries: list[EntryOut]
    max_days: int = Field(description="The longest period one approval or renewal gives.")


@pydantic_dataclass(frozen=True)
class AlertOut(AlertRecord, RecordView):
    """A stored face that matched an active entry: an investigative lead to verify."""


class AlertsOut(BaseModel):
    alerts: list[AlertOut]
    notice: str


class DaysIn(BaseModel):
    days: int | None = Field(
        default=None, ge=1, le=365, description="Days from now (default: what was asked for)."
    )


class DeliveriesOut(BaseModel):
    pending: int = Field(description="Alerts whose webhook delivery is being retried now.")
