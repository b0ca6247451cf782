"""A newcomer's first hour in a real headless Chromium, on a fresh atlas served by
``faceatlas serve``: sign in with the printed one-time password (forced change), read that
the atlas is empty, upload a zip of real photos, watch the job finish, search, see the probe
beside every candidate, open a candidate's source (the upload it came from), and the same
search on a phone in one column. No console errors, no failed requests, no 4xx/5xx.

With ``FACEATLAS_SCREENSHOTS=docs/img`` it saves the README walkthrough's screenshots
(``walkthrough-*.png``)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from .screenshots import screenshot
from .test_web_e2e import CHROMIUM, CHROMIUM_ARGS, Server, _sign_in_first_time, images_shown
from .test_web_results_browser import _columns, _search, _watch

pytestmark = pytest.mark.browser

PASSWORD = "my own long passphrase 2026"


def _people_zip(known_people: Path, path: Path) -> Path:
    """A folder of photos zipped as a newcomer would (``people/<person>/<photo>``)."""
    with zipfile.ZipFile(path, "w") as z:
        for photo in sorted(known_people.rglob("*")):
            if photo.is_file():
                z.write(photo, f"people/{photo.relative_to(known_people)}")
    return path


def test_first_hour_on_a_fresh_atlas(
    tmp_path: Path, known_people: Path, probe_photos: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}; apt-get install chromium")
    server = Server(tmp_path / "atlas", tmp_path / "server.log")
    url = server.url
    photos = _people_zip(known_people, tmp_path / "people.zip")
    problems: list[str] = []
    try:
        log = server.log.read_text()
        assert f"add photos at {url}/ingest/upload" in log, log
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _watch(desk, problems)
            _sign_in_first_time(desk, url, "admin", server.admin_password(), PASSWORD)
            empty = desk.locator("#empty-atlas")
            expect(empty).to_contain_text("The atlas is empty")
            screenshot(desk, "walkthrough-1-empty-atlas")
            empty.locator("a#empty-atlas-upload").click()
            desk.wait_for_url(f"{url}/ingest/upload")

            desk.set_input_files("#photos", str(photos))
            screenshot(desk, "walkthrough-2-upload")
            desk.click("#upload-photos")
            desk.wait_for_url(re.compile(r"/ingest/jobs/\d+$"))
            job_url = desk.url
            expect(desk.locator("#job-summary")).to_be_visible(timeout=120_000)
            expect(desk.locator("#job-outcome")).to_contain_text("new photo(s)")
            expect(desk.locator("#jobs tr.job .status")).to_have_text("finished")
            screenshot(desk, "walkthrough-3-job-finished")

            desk.click("#search-next")
            desk.wait_for_url(f"{url}/search")
            expect(desk.locator("#empty-atlas")).to_have_count(0)
            _search(desk, probe_photos / "obama1.jpg")
            results = desk.locator("#results .result")
            expect(results.first).to_be_visible()
            n = results.count()
            assert n >= 1 and desk.locator("#results .probe-crop").count() == n
            assert images_shown(desk, "#results img")
            expect(results.first).to_contain_text("people.zip/people/obama/")
            screenshot(desk, "walkthrough-4-results")
            source = results.first.locator("a.source-link").first
            assert source.get_attribute("href") == job_url.removeprefix(url)
            source.click()
            desk.wait_for_url(job_url)
            expect(desk.locator("#job-about")).to_contain_text("people.zip")

            phone = browser.new_context(  # the same session, on a phone
                viewport={"width": 390, "height": 844},
                is_mobile=True,
                device_scale_factor=2,
                storage_state=desk.context.storage_state(),
            ).new_page()
            _watch(phone, problems)
            phone.goto(f"{url}/search")
            _search(phone, probe_photos / "obama1.jpg")
            expect(phone.locator("#results .result").first).to_be_visible()
            assert _columns(phone) == 1
            assert phone.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
            screenshot(phone, "walkthrough-5-phone")
            phone.goto(f"{url}/")
            expect(phone.locator("#holdings")).to_contain_text("searchable face(s)")
            browser.close()
    finally:
        server.stop()
    assert problems == []
    assert "Traceback" not in server.log.read_text()
