"""The public opt-out form cannot hold up searches: selfies are bounded before decoding,
analysed beside searches rather than ahead of them, one request at a time."""

from __future__ import annotations

import io
import shutil
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from faceatlas import Atlas, Settings
from faceatlas.api.service import SearchRequest, Service
from faceatlas.config import EngineName
from faceatlas.errors import ImageTooLargeError, RateLimitedError
from faceatlas.privacy import SELFIE_MAX_PIXELS
from tests.webkit import make_people


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _face_on_canvas(photo: Path, side: int) -> bytes:
    """A gray canvas ``side`` pixels square with a face in the middle: a small file."""
    with Image.open(photo) as img:
        face = img.convert("RGB")
    face = face.resize((400, round(400 * face.height / face.width)))
    canvas = Image.new("RGB", (side, side), (128, 128, 128))
    canvas.paste(face, ((side - face.width) // 2, (side - face.height) // 2))
    return _jpeg(canvas)


def test_huge_selfies_are_refused_before_decoding(tmp_path: Path, probe_photos: Path) -> None:
    side = int(SELFIE_MAX_PIXELS**0.5) + 100  # over the selfie limit, under max_pixels
    huge = _face_on_canvas(probe_photos / "obama1.jpg", side)
    settings = Settings(atlas_dir=tmp_path / "atlas", engine=EngineName.SFACE)
    assert side * side < settings.max_pixels
    with Atlas.open(settings=settings) as atlas:
        with pytest.raises(ImageTooLargeError, match="selfie 1"):
            atlas.optout_templates([huge])
        assert len(atlas.optout_templates([_face_on_canvas(probe_photos / "obama1.jpg", 800)]))


def test_public_optout_never_holds_up_searches(
    pages_atlas_dir: Path, tmp_path: Path, probe_photos: Path
) -> None:
    root = tmp_path / "atlas"
    shutil.copytree(pages_atlas_dir, root)
    settings = Settings(atlas_dir=root, engine=EngineName.SFACE)
    selfie = _face_on_canvas(probe_photos / "obama1.jpg", 3000)  # 9 MP, allowed
    with Atlas.open(settings=settings) as atlas:
        people = make_people(atlas)
        service = Service(atlas)
        service.atlas.engine.load()
        finished: dict[str, float] = {}

        def flood() -> None:
            try:
                service.admit_optout("198.51.100.7")
                service.optout_request([selfie] * 10, "someone@example.org")
            finally:
                finished["optout"] = time.monotonic()

        worker = threading.Thread(target=flood)
        worker.start()
        time.sleep(0.3)  # the ten selfies are being analysed
        with pytest.raises(RateLimitedError, match="busy"):
            service.admit_optout("198.51.100.8")  # refused before its body is even read
        request = SearchRequest(case_number="2026-0142", purpose="missing person")
        result = service.search(
            people.investigator, (probe_photos / "obama1.jpg").read_bytes(), request
        ).result
        searched = time.monotonic()
        worker.join()
        assert result.hits
        assert searched < finished["optout"], "the search waited for the public opt-out"
        pending = atlas.optouts()
        assert len(pending) == 1 and pending[0].templates == 10


def test_large_selfies_are_analysed_shrunk(probe_photos: Path) -> None:
    from faceatlas.engine import decode_image
    from faceatlas.privacy.optout import SELFIE_ANALYSIS_PIXELS

    big = _face_on_canvas(probe_photos / "obama1.jpg", 3900)  # 15.2 MP
    image = decode_image(big, max_pixels=40_000_000, fit_pixels=SELFIE_ANALYSIS_PIXELS)
    height, width = image.pixels.shape[:2]
    assert SELFIE_ANALYSIS_PIXELS / 4 < height * width <= SELFIE_ANALYSIS_PIXELS
    assert abs(width - height) <= 1  # the shape is kept
    small = _face_on_canvas(probe_photos / "obama1.jpg", 800)
    assert decode_image(
        small, max_pixels=40_000_000, fit_pixels=SELFIE_ANALYSIS_PIXELS
    ).pixels.shape[:2] == (800, 800)
