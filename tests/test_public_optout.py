"""The public opt-out form cannot hold up searches: selfies are bounded before decoding,
analysed beside searches rather than ahead of them, one request at a time."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from faceatlas import Atlas, Settings
from faceatlas.choices import EngineName
from faceatlas.engine.sface_engine import SFaceEngine
from faceatlas.errors import ImageTooLargeError, RateLimitedError
from faceatlas.privacy import SELFIE_MAX_PIXELS
from faceatlas.services import SearchRequest, Service
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
            atlas.privacy.optout_templates([huge])
        assert len(
            atlas.privacy.optout_templates([_face_on_canvas(probe_photos / "obama1.jpg", 800)])
        )


class HeldEngine:
    """The real SFace engine, except that detection in a selfie-sized image waits until the
    test lets it go: a fake at the engine seam, so the test can hold a public opt-out in the
    middle of its analysis and see what a search does meanwhile."""

    def __init__(self, selfie_shape: tuple[int, int]) -> None:
        self.inner = SFaceEngine()
        self.selfie_shape = selfie_shape
        self.analysing = threading.Event()
        self.release = threading.Event()

    model_id = property(lambda self: self.inner.model_id)
    dim = property(lambda self: self.inner.dim)
    thread_safe = property(lambda self: self.inner.thread_safe)
    card = property(lambda self: self.inner.card)

    def load(self) -> None:
        self.inner.load()

    def detect(self, image: np.ndarray) -> list[Any]:
        if image.shape[:2] == self.selfie_shape:
            self.analysing.set()
            self.release.wait(timeout=60)
        return self.inner.detect(image)

    def locate(self, image: np.ndarray, box: Any) -> Any:
        return self.inner.locate(image, box)

    def align(self, image: np.ndarray, face: Any) -> np.ndarray:
        return self.inner.align(image, face)

    def embed_chips(self, chips: Any) -> np.ndarray:
        return self.inner.embed_chips(chips)

    def eyes_and_nose(self, face: Any) -> Any:
        return self.inner.eyes_and_nose(face)


def test_public_optout_never_holds_up_searches(
    faces_dir: Path, tmp_path: Path, probe_photos: Path
) -> None:
    """On the default engine, which searches side by side (a dlib server takes turns anyway)."""
    from faceatlas.engine import decode_image
    from faceatlas.privacy.optout import SELFIE_ANALYSIS_PIXELS

    selfie = _face_on_canvas(probe_photos / "obama1.jpg", 3000)  # 9 MP, allowed
    shape = decode_image(selfie, max_pixels=40_000_000, fit_pixels=SELFIE_ANALYSIS_PIXELS)
    engine = HeldEngine(shape.pixels.shape[:2])
    settings = Settings(atlas_dir=tmp_path / "atlas", engine=EngineName.SFACE)
    with Atlas.open(settings=settings, engine=engine) as atlas:  # type: ignore[arg-type]
        atlas.ingest(faces_dir / "face_recognition" / "examples" / "knn_examples" / "train")
        people = make_people(atlas)
        service = Service(atlas)
        service.atlas.engine.load()

        def public_request() -> None:
            service.admit_optout("198.51.100.7")
            service.optout_request([selfie] * 3, "someone@example.org")

        request = SearchRequest(case_number="2026-0142", purpose="missing person")
        probe = (probe_photos / "obama1.jpg").read_bytes()
        with ThreadPoolExecutor(2) as pool:
            flood = pool.submit(public_request)
            try:
                assert engine.analysing.wait(timeout=30), "the opt-out never reached analysis"
                # held mid-analysis: another public request is refused at once, before its body
                with pytest.raises(RateLimitedError, match="busy"):
                    service.admit_optout("198.51.100.8")
                # and a search runs to the end meanwhile
                search = pool.submit(service.search, people.investigator, probe, request)
                result = search.result(timeout=30).result
                assert result.hits and not flood.done()
            finally:
                engine.release.set()
            flood.result(timeout=60)
        pending = atlas.privacy.optouts()
        assert len(pending) == 1 and pending[0].templates == 3


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
