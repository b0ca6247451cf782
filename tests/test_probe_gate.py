"""The probe quality gate: floors by hand, and real degraded photos through search."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from faceatlas import Atlas
from faceatlas.choices import EngineName
from faceatlas.engine.card import ModelCard
from faceatlas.engine.probe_gate import ProbeFloors, Verdict, assess_probe
from faceatlas.engine.sface_card import SFACE_CARD
from faceatlas.errors import ProbeQualityError
from faceatlas.types import FaceQuality

from .conftest import atlas_settings

FLOORS = ProbeFloors(
    box_px_refuse=22,
    box_px_warn=32,
    sharpness_refuse=4.0,
    sharpness_warn=40.0,
    exposure_dark_refuse=0.02,
    exposure_dark_warn=0.1,
    exposure_bright_warn=0.7,
    exposure_bright_refuse=0.8,
)


def quality(
    box_px: int = 90, sharpness: float = 120.0, exposure: float | None = 0.45
) -> FaceQuality:
    return FaceQuality(box_px=box_px, detector_score=0.93, sharpness=sharpness, frontal=0.9,
                       exposure=exposure)  # fmt: skip


@pytest.mark.parametrize(
    ("q", "verdict", "words"),
    [
        (quality(), Verdict.OK, ""),
        (quality(box_px=31), Verdict.WARN, "31 px"),
        (quality(box_px=32), Verdict.OK, ""),
        (quality(box_px=22), Verdict.WARN, "22 px"),
        (quality(box_px=21), Verdict.REFUSE, "21 px"),
        (quality(sharpness=39.9), Verdict.WARN, "blurred"),
        (quality(sharpness=3.9), Verdict.REFUSE, "too blurred"),
        (quality(exposure=0.09), Verdict.WARN, "dark"),
        (quality(exposure=0.01), Verdict.REFUSE, "too dark"),
        (quality(exposure=0.71), Verdict.WARN, "over-exposed"),
        (quality(exposure=0.81), Verdict.REFUSE, "too bright"),
        (quality(exposure=None), Verdict.OK, ""),
        (quality(box_px=24, sharpness=2.0), Verdict.REFUSE, "24 px"),
    ],
)
def test_floors_by_hand(q: FaceQuality, verdict: Verdict, words: str) -> None:
    v = assess_probe(q, FLOORS)
    assert v.verdict is verdict
    assert words in " ".join(v.reasons)
    assert (v.reasons == ()) is (verdict is Verdict.OK)


def test_no_floors_no_gate() -> None:
    assert assess_probe(quality(sharpness=0.0), None).verdict is Verdict.OK
    assert ModelCard.unstated("no-such-model").probe_floors is None
    assert SFACE_CARD.probe_floors is not None


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=92)
    return out.getvalue()


def test_real_degraded_probes_are_refused_or_warned(tmp_path: Path, faces_dir: Path) -> None:
    known = faces_dir / "face_recognition" / "examples" / "knn_examples" / "train"
    photo = faces_dir / "face_recognition" / "examples" / "obama.jpg"
    with Image.open(photo) as img:
        sharp = img.convert("RGB")
    with Atlas.open(settings=atlas_settings(tmp_path / "atlas", engine=EngineName.SFACE)) as atlas:
        atlas.ingest(known)
        fine = atlas.search(_jpeg(sharp))
        assert fine.probe_quality.verdict is Verdict.OK and fine.hits
        over = sharp.point(lambda v: min(255, int(v * 1.8)))  # exposure about 0.87
        with pytest.raises(ProbeQualityError, match="too bright"):
            atlas.search(_jpeg(over))
        assert ProbeQualityError.code == "probe_quality" and ProbeQualityError.http_status == 422
        faces = atlas.detect(_jpeg(sharp))
        side = min(faces[0].box.width, faces[0].box.height)
        scale = 27 / side  # a face about 27 px wide: searched, with a warning
        small = sharp.resize((round(sharp.width * scale), round(sharp.height * scale)))
        weak = atlas.search(_jpeg(small))
        assert weak.probe_quality.verdict is Verdict.WARN
        assert "px" in " ".join(weak.probe_quality.reasons)
        assert weak.as_dict()["probe_quality"]["verdict"] == "warn"
        with pytest.raises(ProbeQualityError, match="too blurred"):
            atlas.search(_jpeg(sharp.filter(ImageFilter.GaussianBlur(12))))  # sharpness ~4
        soft = atlas.search(_jpeg(sharp.filter(ImageFilter.GaussianBlur(6))))  # sharpness ~13
        assert soft.probe_quality.verdict is Verdict.WARN
        assert "blurred" in " ".join(soft.probe_quality.reasons)
