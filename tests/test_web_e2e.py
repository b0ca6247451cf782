"""End to end in a real headless Chromium: `faceatlas serve` on 127.0.0.1, first-run admin,
users made in the admin pages, a search from a phone-sized screen with a group photo,
an identity search and a label on the person's page, and the supervisor's audit view."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faceatlas.config import Settings
from faceatlas.engine import EngineSpec, create_engine
from faceatlas.search.fairness import FairScorer

CHROMIUM = Path(os.environ.get("FACEATLAS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, atlas: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        faceatlas = Path(sys.executable).with_name("faceatlas")
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [
                str(faceatlas),
                "serve",
                "--atlas",
                str(atlas),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start: {log.read_text()}")

    def admin_password(self) -> str:
        match = re.search(r"One-time password for admin: (\S+)", self.log.read_text())
        assert match, self.log.read_text()
        return match.group(1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._out.close()


@pytest.fixture
def server(pages_atlas_dir: Path, tmp_path: Path, faces_dir: Path) -> Iterator[Server]:
    atlas = tmp_path / "atlas"
    shutil.copytree(pages_atlas_dir, atlas)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for n in (1, 2, 3):
        name = f"Tony_Blair_{n:04d}.jpg"
        shutil.copy(faces_dir / "lfw" / "images" / "Tony_Blair" / name, incoming / name)
    folders = json.dumps({"incoming": str(incoming)})
    srv = Server(atlas, tmp_path / "server.log", {"FACEATLAS_INGEST_FOLDERS": folders})
    try:
        yield srv
    finally:
        srv.stop()


def images_shown(page: Any, selector: str) -> bool:
    """Whether every image matching ``selector`` decoded to a picture with a size, asked once
    each has finished loading (or failed): a page is read before its images have all arrived,
    most of all on a loaded machine."""
    every = f"[...document.querySelectorAll({json.dumps(selector)})].every"
    page.wait_for_function(f"() => {every}(i => i.complete)")
    return bool(page.evaluate(f"() => {every}(i => i.naturalWidth > 0)"))


def _sign_in_first_time(page: object, url: str, username: str, otp: str, new_password: str) -> None:
    page.goto(f"{url}/login")  # type: ignore[attr-defined]
    page.fill("#username", username)  # type: ignore[attr-defined]
    page.fill("#password", otp)  # type: ignore[attr-defined]
    page.click("#login")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/account/password")  # type: ignore[attr-defined]
    page.fill("#current_password", otp)  # type: ignore[attr-defined]
    page.fill("#new_password", new_password)  # type: ignore[attr-defined]
    page.click("#change")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/search")  # type: ignore[attr-defined]


def _create_user(page: object, url: str, username: str, role: str, unit: str) -> str:
    page.goto(f"{url}/admin/users")  # type: ignore[attr-defined]
    page.fill("#new-username", username)  # type: ignore[attr-defined]
    page.select_option("#new-role", role)  # type: ignore[attr-defined]
    page.fill("#new-unit", unit)  # type: ignore[attr-defined]
    page.click("#create-user")  # type: ignore[attr-defined]
    return str(page.text_content("#otp")).strip()  # type: ignore[attr-defined]


def test_search_in_a_real_browser_then_supervisor_sees_it(
    server: Server, probe_photos: Path, known_people: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}; apt-get install chromium")
    shots = Path(os.environ.get("FACEATLAS_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    group_photo = probe_photos / "obama_and_biden.jpg"
    url = server.url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # First run: the admin signs in with the printed one-time password and makes users.
            admin = browser.new_context().new_page()
            _sign_in_first_time(
                admin, url, "admin", server.admin_password(), "admin password 2026!"
            )
            inv_otp = _create_user(admin, url, "ivy.investigator", "investigator", "unit-a")
            sup_otp = _create_user(admin, url, "sam.supervisor", "supervisor", "unit-a")

            admin.goto(f"{url}/admin/settings")
            expect(admin.locator("#settings")).to_contain_text("missing person")

            # The admin starts an ingestion job and watches it finish on the page.
            admin.goto(f"{url}/ingest")
            admin.select_option("#kind", "folder")
            admin.fill("#target", "incoming")
            admin.click("#start-job")
            job = admin.locator("#jobs tr.job").first
            expect(job.locator(".status")).to_have_text("finished", timeout=60_000)
            expect(job.locator(".done")).to_have_text("3")
            admin.screenshot(path=str(shots / "web-ingest.png"), full_page=True)

            # The investigator searches from a phone-sized screen.
            phone = browser.new_context(
                viewport={"width": 390, "height": 844},
                is_mobile=True,
                has_touch=True,
                device_scale_factor=2,
            )
            page = phone.new_page()
            _sign_in_first_time(page, url, "ivy.investigator", inv_otp, "investigator secret 1")
            expect(page.locator("#camera")).to_have_attribute("capture", "environment")
            page.fill("#case_number", "2026-0142")
            page.select_option("#purpose", "missing person")
            page.set_input_files("#image", str(group_photo))
            boxes = page.locator(".facebox")
            expect(boxes.nth(1)).to_be_visible(timeout=60_000)
            assert boxes.count() >= 2
            assert page.locator("#search-button").is_disabled()
            page.screenshot(path=str(shots / "web-pick-face.png"), full_page=True)
            boxes.nth(1).click()
            expect(boxes.nth(1)).to_have_class(re.compile("chosen"))
            page.click("#search-button")
            page.wait_for_url(f"{url}/search", timeout=60_000)
            expect(page.locator("#leads-notice")).to_contain_text("not identifications")
            results = page.locator("#results .result")
            expect(results.first).to_be_visible()
            if _ships_fair_scorer():
                # each search says how often a stranger's search returns a candidate at this size
                expect(page.locator("#threshold-fpir")).to_contain_text("faces searched")
                expect(results.first.locator(".fpir")).to_contain_text("stranger")
            else:  # an engine with neither a fair scorer nor a calibration says so
                expect(page.locator("main")).to_contain_text("no false-match rates")
            links = page.locator("#results a.source-link")
            assert links.count() >= 1
            hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
            assert all(h and h.startswith("https://example.org/people/") for h in hrefs)
            first_link = links.first
            expect(first_link).to_have_attribute("rel", "noopener noreferrer")
            assert images_shown(page, "#results img")
            fits = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
            assert fits, "the results page scrolls sideways on a phone"
            page.screenshot(path=str(shots / "web-results-phone.png"), full_page=True)
            assert (shots / "web-results-phone.png").stat().st_size > 10_000

            # Identity search with two photos of one person: results grouped by person.
            page.click("nav a[href='/identities']")
            page.click("#identity-search-link")
            page.fill("#case_number", "2026-0142")
            page.select_option("#purpose", "missing person")
            obama = [probe_photos / "obama1.jpg", known_people / "obama" / "obama2.jpg"]
            page.set_input_files("#images", [str(p) for p in obama])
            page.click("#identity-search-button")
            expect(page.locator("#leads-notice")).to_contain_text(
                "not identifications", timeout=60_000
            )
            person = page.locator("#people .person").first
            expect(person.locator(".person-facts")).to_contain_text("2 photos")
            expect(person.locator(".person-facts")).to_contain_text("example.org")
            expect(person.locator(".band")).to_contain_text("lead")
            assert images_shown(page, "#people img")
            fits = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
            assert fits, "the people found scroll sideways on a phone"
            page.screenshot(path=str(shots / "web-identity-results-phone.png"), full_page=True)
            # The person's page: candidate names as unverified leads, a label, the curation log.
            person.locator("a.person-link").click()
            page.wait_for_url(re.compile(r"/identities/\d+$"))
            expect(page.locator("#candidates")).to_contain_text("Obama")
            expect(page.locator("#candidates")).to_contain_text("unverified")
            page.fill("#label", "Barack Obama")
            page.click("#label-button")
            expect(page.locator("h1")).to_contain_text("Barack Obama")
            expect(page.locator("#curation-log")).to_contain_text("ivy.investigator")
            fits = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
            assert fits, "the person page scrolls sideways on a phone"
            page.screenshot(path=str(shots / "web-identity-phone.png"), full_page=True)

            # The supervisor of the same unit sees that search in the audit view.
            sup = browser.new_context().new_page()
            _sign_in_first_time(sup, url, "sam.supervisor", sup_otp, "supervisor secret 1")
            sup.goto(f"{url}/audit")
            row = sup.locator("#searches tr.search-entry").first
            expect(row).to_contain_text("ivy.investigator")
            expect(row).to_contain_text("2026-0142")
            expect(row).to_contain_text("missing person")
            expect(row).to_contain_text("identity search, 2 photo(s)")
            expect(sup.locator("#by-case")).to_contain_text("2026-0142")
            expect(sup.locator("#by-user")).to_contain_text("ivy.investigator")
            sup.screenshot(path=str(shots / "web-audit.png"), full_page=True)

            # Drag and drop a photo onto the search form (a one-face photo is picked at once).
            sup.goto(f"{url}/search")
            photo = base64.b64encode((probe_photos / "obama1.jpg").read_bytes()).decode()
            sup.evaluate(
                """(b64) => {
                    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                    const dt = new DataTransfer();
                    dt.items.add(new File([bytes], "dropped.jpg", { type: "image/jpeg" }));
                    const zone = document.getElementById("dropzone");
                    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true }));
                }""",
                photo,
            )
            expect(sup.locator(".facebox.chosen")).to_have_count(1, timeout=60_000)
            assert not sup.locator("#search-button").is_disabled()
            assert sup.evaluate("() => document.getElementById('image').files.length") == 1

            # An investigator has no audit view.
            page.goto(f"{url}/audit")
            expect(page.locator("p.error")).to_contain_text("supervisor")
        finally:
            browser.close()
    log = server.log.read_text()
    assert "Traceback" not in log, log


def _ships_fair_scorer() -> bool:
    """Whether the suite's engine has a fair scorer shipped (its FPIR figures: SFace)."""
    model_id = create_engine(EngineSpec.from_settings(Settings())).model_id
    return FairScorer.shipped(model_id) is not None
