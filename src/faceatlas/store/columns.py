"""The one ``MetaData`` every catalog table joins, and the column groups many tables share.

Each helper returns new ``Column`` objects (a column belongs to one table), spelled exactly
as the tables spelled them before, so the schema a migration creates never changes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = [
    "key",
    "keyed_table",
    "metadata",
    "owner",
    "page_context",
    "person",
    "stamp",
    "vector_columns",
]

metadata = sa.MetaData()


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
