"""FaceAtlas: a self-hosted face search engine with calibrated leads, provenance,
audit and privacy controls.

Everything goes through :class:`Atlas`::

    from faceatlas import Atlas
    with Atlas.open("atlas") as atlas:
        atlas.ingest("photos/")
        result = atlas.search(open("probe.jpg", "rb").read())

``Atlas``, ``Settings`` and ``FaceAtlasError`` load on first use (PEP 562), so importing a
submodule such as :mod:`faceatlas.cli` does not pull in the whole engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faceatlas.atlas import Atlas
    from faceatlas.config import Settings
    from faceatlas.errors import FaceAtlasError

__all__ = ["Atlas", "FaceAtlasError", "Settings", "__version__"]

__version__ = "0.1.0"

_LAZY = {
    "Atlas": "faceatlas.atlas",
    "Settings": "faceatlas.config",
    "FaceAtlasError": "faceatlas.errors",
}


def __getattr__(name: str) -> Any:
    """Import ``Atlas``, ``Settings`` and ``FaceAtlasError`` when first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'faceatlas' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
