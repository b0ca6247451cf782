"""Re-export of :func:`faceatlas.store.identities.delete_empty_identities` for importers that
still name it here; the identity tables' statements live in :mod:`faceatlas.store.identities`."""

from faceatlas.store.identities import delete_empty_identities

__all__ = ["delete_empty_identities"]
