"""The video search page in a real headless Chromium against the app served on 127.0.0.1: a
clip is chosen, its face tracks are found and shown as buttons, one is picked and searched; no
console errors, no failed request."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceatlas import Atlas
from faceatlas.accounts import Role
from tests.conftest import atlas_settings
from tests.test_logs import served
from tests.test_web_e2e import CHROMIUM, CHROMIUM_ARGS, images_shown
from tests.videoclips import encode
from tests.webkit import PASSWORD

pytestmark = pytest.mark.browser


def still_frames(photos: list[Path], seconds: int, fps: int) -> Iterator[np.ndarray]:
    """Each photo, fitted into a 320x320 frame, held for ``seconds``."""
    for photo in photos:
        with Image.open(photo) as img:
            fitted = img.convert("RGB")
        fitted.thumbnail((320, 320))
        frame = Image.new("RGB", (320, 320), (110, 110, 110))
        frame.paste(fitted, ((320 - fitted.width) // 2, (320 - fitted.height) // 2))
        yield from [np.asarray(frame, dtype=np.uint8)] * (seconds * fps)


def test_a_clip_is_searched_with_the_picked_face_track(
    pages_atlas_dir: Path, tmp_path: Path, probe_photos: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}; apt-get install chromium")
    shutil.copytree(pages_atlas_dir, tmp_path / "atlas")
    clip = tmp_path / "clip.mp4"
    people = [probe_photos / "obama1.jpg", probe_photos / "alex_lacamoire1.jpg"]
    clip.write_bytes(encode(still_frames(people, 2, 2), 2))
    problems: list[str] = []
    with (
        Atlas.open(settings=atlas_settings(tmp_path / "atlas")) as atlas,
        served(atlas) as url,
        sync_playwright() as pw,
    ):
        atlas.accounts.create_user("ivy", Role.INVESTIGATOR, unit="unit-a", password=PASSWORD)
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
        page.goto(f"{url}/login")
        page.fill("#username", "ivy")
        page.fill("#password", PASSWORD)
        page.click("#login")
        page.wait_for_url(f"{url}/search")
        page.click("#video-search-link")
        page.wait_for_url(f"{url}/search/video")
        page.fill("#case_number", "2026-0311")
        page.select_option("#purpose", "missing person")
        page.set_input_files("#video", str(clip))
        tracks = page.locator("#tracks .track")
        expect(tracks).to_have_count(2, timeout=60_000)
        expect(page.locator("#tracks-status")).to_contain_text("2 face tracks")
        assert images_shown(page, "#tracks img")
        tracks.nth(1).click()
        expect(page.locator("#video-search-button")).to_be_enabled()
        page.click("#video-search-button")
        expect(page.locator("#leads-notice")).to_be_visible(timeout=60_000)
        expect(page.locator("#probe-track")).to_contain_text("face track #1 of 2")
        expect(page.locator("#results .result").first).to_contain_text("Alex Lacamoire")
        browser.close()
    assert not problems, problems
