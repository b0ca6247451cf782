"""Small helpers every repository in the store shares: times, new ids, id chunks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

import sqlalchemy as sa

__all__ = ["CHUNK", "Database", "chunks", "new_id", "utc_now"]

Database: TypeAlias = sa.Engine
"""The catalog's database handle (``Catalog.db``). Code above the store only passes it to
repositories; it never runs statements on it."""

CHUNK = 500
"""Ids per ``IN (...)`` list, well under every backend's bound-parameter limit."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id(result: sa.CursorResult[Any]) -> int:
    """The integer primary key an ``INSERT`` gave its row."""
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table here has an integer key
        raise RuntimeError("insert returned no primary key")
    return int(key[0])


def chunks(items: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
