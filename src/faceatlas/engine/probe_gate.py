"""The probe quality gate: which probe faces are too poor to search, or worth a warning.

Each engine's floors come from measured search errors by quality bin
(``benchmarks/probe_quality.py``, chosen on the calibration half of LFW's people, published
for the held-out half in docs/fairness.md). Below a *refuse* floor the probe's own person is
more likely missed than found, so the search is refused with the reason; between the refuse
and *warn* floors the search runs and says why its leads are weaker. A probe that passes is
no guarantee: the floors read size, sharpness and exposure, not every way a photo can fail.
"""

from __future__ import annotations

from enum import StrEnum

from faceatlas.types import FaceQuality, record

__all__ = ["PASS", "ProbeFloors", "ProbeVerdict", "Verdict", "assess_probe"]


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"
    REFUSE = "refuse"


@record
class ProbeFloors:
    """Quality floors of one engine. ``*_refuse`` and ``*_warn`` bound the same signal;
    exposure has a dark and a bright side."""

    box_px_refuse: int
    box_px_warn: int
    sharpness_refuse: float
    sharpness_warn: float
    exposure_dark_refuse: float
    exposure_dark_warn: float
    exposure_bright_warn: float
    exposure_bright_refuse: float


@record
class ProbeVerdict:
    verdict: Verdict
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"verdict": self.verdict.value, "reasons": list(self.reasons)}


PASS = ProbeVerdict(Verdict.OK, ())


def assess_probe(quality: FaceQuality, floors: ProbeFloors | None) -> ProbeVerdict:
    """The gate's verdict on one probe face; ``floors`` None: no gate for this engine."""
    if floors is None:
        return PASS
    refuse: list[str] = []
    warn: list[str] = []
    if quality.box_px < floors.box_px_refuse:
        refuse.append(
            f"the face is {quality.box_px} px wide (floor {floors.box_px_refuse} px): the person "
            "would more likely be missed than found"
        )
    elif quality.box_px < floors.box_px_warn:
        warn.append(
            f"the face is {quality.box_px} px wide; below {floors.box_px_warn} px the person "
            "is missed far more often"
        )
    if quality.sharpness < floors.sharpness_refuse:
        refuse.append(
            f"the face is too blurred (sharpness {quality.sharpness:.1f}, floor "
            f"{floors.sharpness_refuse:g}): the person would more likely be missed than found"
        )
    elif quality.sharpness < floors.sharpness_warn:
        warn.append(f"the face is blurred (sharpness {quality.sharpness:.1f})")
    exposure = quality.exposure
    if exposure is not None:
        if exposure < floors.exposure_dark_refuse or exposure > floors.exposure_bright_refuse:
            refuse.append(
                f"the face is too {'dark' if exposure < 0.5 else 'bright'} (exposure "
                f"{exposure:.2f}): the person would more likely be missed than found"
            )
        elif exposure < floors.exposure_dark_warn:
            warn.append(f"the face is dark (exposure {exposure:.2f})")
        elif exposure > floors.exposure_bright_warn:
            warn.append(f"the face is over-exposed (exposure {exposure:.2f})")
    if refuse:
        return ProbeVerdict(Verdict.REFUSE, tuple(refuse + warn))
    if warn:
        return ProbeVerdict(Verdict.WARN, tuple(warn))
    return PASS
