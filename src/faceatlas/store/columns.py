"""The one ``MetaData`` every catalog table joins, and the column groups many tables share.

Each helper returns new ``Column`` objects (a column belongs to one table), spelled exactly
as the tables spelled them before, so the schema a migration creates never changes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from faceatlas.types import Box, FaceQuality

__all__ = [
    "BOX_COLUMNS",
    "QUALITY_COLUMNS",
    "box_columns",
    "box_of",
    "box_values",
    "key",
    "keyed_table",
    "metadata",
    "owner",
    "page_context",
    "person",
    "quality_columns",
    "quality_of",
    "quality_values",
    "stamp",
    "vector_columns",
]

metadata = sa.MetaData()

BOX_COLUMNS = ("box_left", "box_top", "box_right", "box_bottom")
"""A face box's sides, in :class:`~faceatlas.types.Box` order."""
QUALITY_COLUMNS: dict[str, type[float] | type[int]] = {
    "detector_score": float,
    "sharpness": float,
    "frontal": float,
    "box_px": int,
}
"""The stored signals of a face's :class:`~faceatlas.types.FaceQuality`, with their types."""


def key() -> sa.Column[Any]:
    """The table's integer primary key, ``id``."""
    return sa.Column("id", sa.Integer, primary_key=True)


def keyed_table(
    name: str, *columns: sa.schema.SchemaItem, meta: sa.MetaData = metadata, **options: Any
) -> sa.Table:
    """A catalog table (of ``meta``) whose first column is the integer primary key ``id``."""
    return sa.Table(name, meta, key(), *columns, **options)


def stamp(name: str = "created_at", *, required: bool = True) -> sa.Column[Any]:
    """A moment as ISO-8601 UTC text."""
    return sa.Column(name, sa.String(40), nullable=not required)


def person(name: str, *, required: bool = True) -> sa.Column[Any]:
    """Who decided or did something: a user name or a process name such as ``clustering``."""
    return sa.Column(name, sa.String(200), nullable=not required)


def owner(name: str, parent: str, *, primary_key: bool = False, **options: Any) -> sa.Column[Any]:
    """A reference to ``parent.id``; the row goes when its parent row goes."""
    reference = sa.ForeignKey(f"{parent}.id", ondelete="CASCADE")
    if primary_key:
        return sa.Column(name, sa.Integer, reference, primary_key=True, **options)
    return sa.Column(name, sa.Integer, reference, nullable=False, **options)


def vector_columns() -> tuple[sa.Column[Any], ...]:
    """One embedding: the model that made it, its dimension and its float32 bytes."""
    return (
        sa.Column("model_id", sa.String(100), nullable=False),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
    )


def page_context() -> tuple[sa.Column[Any], ...]:
    """What the page around an image said about it, when it was seen on a page."""
    return (
        sa.Column("page_title", sa.Text),
        sa.Column("alt_text", sa.Text),
        sa.Column("caption", sa.Text),
    )


def box_columns() -> tuple[sa.Column[Any], ...]:
    """A face box in image pixels, one integer column a side (:data:`BOX_COLUMNS`)."""
    return tuple(sa.Column(name, sa.Integer, nullable=False) for name in BOX_COLUMNS)


def box_values(box: Box) -> dict[str, int]:
    """The box columns' values of ``box``."""
    return dict(zip(BOX_COLUMNS, (box.left, box.top, box.right, box.bottom), strict=True))


def box_of(row: Any) -> Box:
    """The box a row's box columns hold."""
    return Box(*(int(getattr(row, name)) for name in BOX_COLUMNS))


def quality_columns() -> tuple[sa.Column[Any], ...]:
    """A face's stored quality signals, one column each (:data:`QUALITY_COLUMNS`)."""
    return tuple(
        sa.Column(name, sa.Float if kind is float else sa.Integer, nullable=False)
        for name, kind in QUALITY_COLUMNS.items()
    )


def quality_values(quality: FaceQuality) -> dict[str, float]:
    """The quality columns' values of ``quality``."""
    return {name: kind(getattr(quality, name)) for name, kind in QUALITY_COLUMNS.items()}


def quality_of(row: Any) -> FaceQuality:
    """The face quality a row's quality columns hold (no exposure: it is not stored)."""
    read: dict[str, Any] = {
        name: kind(getattr(row, name)) for name, kind in QUALITY_COLUMNS.items()
    }
    return FaceQuality(**read)
