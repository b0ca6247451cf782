"""FaceAtlas: a self-hosted face search engine with calibrated leads, provenance,
audit and privacy controls.

Everything goes through :class:`Atlas`::

    from faceatlas import Atlas
    with Atlas.open("atlas") as atlas:
        atlas.ingest("photos/")
        result = atlas.search(open("probe.jpg", "rb").read())
"""

from faceatlas.atlas import Atlas
from faceatlas.config import Settings
from faceatlas.errors import FaceAtlasError

__all__ = ["Atlas", "FaceAtlasError", "Settings", "__version__"]

__version__ = "0.1.0"
