"""Plain-language bands for a similarity, relative to the threshold in force."""

from __future__ import annotations

__all__ = ["BANDS", "band_floor", "similarity_band"]

BANDS: tuple[tuple[str, float, str], ...] = (
    ("strong", 0.5, "much more similar than the threshold requires"),
    ("moderate", 0.25, "clearly above the threshold"),
    ("weak", 0.0, "just above the threshold: similar-looking strangers often score here"),
)
"""Each band above the threshold, strongest first: ``(band, position, explanation)``, where
``position`` is the share of the way from the threshold to 1.0 where the band begins."""


def band_floor(position: float, threshold: float) -> float:
    """The score at ``position`` of the way from ``threshold`` to 1.0 (identical)."""
    return threshold + position * max(1.0 - threshold, 1e-6)


def similarity_band(similarity: float, threshold: float) -> tuple[str, str]:
    """A plain-language band for a similarity, relative to the threshold in force.

    Returns ``(band, explanation)``. The band is how far the similarity sits
    between the threshold and 1.0 (identical), so it means the same for a
    strict calibrated threshold and a lax one. Bands never claim identity.
    """
    if similarity < threshold:
        return "below threshold", "below the threshold: unlikely to be the same person"
    for band, position, text in BANDS:
        if similarity >= band_floor(position, threshold):
            return band, text
    return BANDS[-1][0], BANDS[-1][2]
