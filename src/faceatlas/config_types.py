"""The value types of the settings (:mod:`faceatlas.config` and the setting groups it takes
in): each states its bound once, and a field adds only its own limits."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

__all__ = ["Count", "Days", "NonNegativeSimilarity", "Retries", "Seconds", "Similarity"]

Count = Annotated[int, Field(ge=1)]
"""A number of things (items, bytes, pixels): at least one."""
Days = Annotated[int, Field(ge=0)]
"""A retention period in days; 0 keeps nothing past the day."""
Retries = Annotated[int, Field(ge=0)]
"""How many times a failed step is tried again (0: never)."""
Seconds = Annotated[float, Field(gt=0)]
"""A duration or timeout in seconds: more than zero."""
Similarity = Annotated[float, Field(ge=-1.0, le=1.0)]
"""A cosine similarity threshold."""
NonNegativeSimilarity = Annotated[float, Field(ge=0.0, le=1.0)]
"""A cosine similarity threshold that never accepts dissimilar faces."""
