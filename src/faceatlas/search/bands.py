"""Plain-language bands for a similarity, relative to the threshold in force."""

from __future__ import annotations

__all__ = ["similarity_band"]


def similarity_band(similarity: float, threshold: float) -> tuple[str, str]:
    """A plain-language band for a similarity, relative to the threshold in force.

    Returns ``(band, explanation)``. The band is how far the similarity sits
    between the threshold and 1.0 (identical), so it means the same for a
    strict calibrated threshold and a lax one. Bands never claim identity.
    """
    if similarity < threshold:
        return "below threshold", "below the threshold: unlikely to be the same person"
    headroom = max(1.0 - threshold, 1e-6)
    position = (similarity - threshold) / headroom
    if position >= 0.5:
        return "strong", "much more similar than the threshold requires"
    if position >= 0.25:
        return "moderate", "clearly above the threshold"
    return "weak", "just above the threshold: similar-looking strangers often score here"
