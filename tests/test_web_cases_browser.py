"""Cases in a real headless Chromium: an investigator opens a case, searches for it, opens a
candidate's side-by-side comparison from the results, toggles landmarks, overlay and blink,
fills the FISWG form and records a decision; verifying it herself is refused on the page; a
second examiner, on a phone, verifies it blind and sees the agreement. No console errors,
no failed page resources. With ``FACEATLAS_SCREENSHOTS=dir`` the pages are saved for the docs.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faceatlas import Atlas, Settings
from faceatlas.accounts import Role

from .screenshots import screenshot
from .test_web_e2e import CHROMIUM, CHROMIUM_ARGS, Server, images_shown
from .webkit import PASSWORD

pytestmark = pytest.mark.browser

NUMBER = "2026-0177"
PURPOSE = "missing person"
FINDINGS = {
    "face_shape": "similar",
    "hairline": "similar",
    "eyebrows": "similar",
    "eyes": "similar",
    "nose": "similar",
    "ears": "not_visible",
    "mouth": "similar",
    "chin": "similar",
    "scars_and_marks": "not_visible",
}


@pytest.fixture
def server(pages_atlas_dir: Path, tmp_path: Path) -> Iterator[Server]:
    atlas = tmp_path / "atlas"
    shutil.copytree(pages_atlas_dir, atlas)
    with Atlas.open(settings=Settings(atlas_dir=atlas)) as opened:
        for name in ("ivy.investigator", "vera.verifier"):
            opened.accounts.create_user(name, Role.INVESTIGATOR, unit="unit-a", password=PASSWORD)
    srv = Server(atlas, tmp_path / "server.log")
    try:
        yield srv
    finally:
        srv.stop()


class Watch:
    """What went wrong on a page: console errors and page resources that failed."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def attach(self, page: Any) -> Any:
        page.on(
            "console",
            lambda m: (
                self.problems.append(f"console: {m.text} at {m.location.get('url')}")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda e: self.problems.append(f"script: {e}"))
        page.on(
            "response",
            lambda r: (
                self.problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type != "document"
                else None
            ),
        )
        return page


def _sign_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{url}/search")


def _fill_comparison(page: Any, conclusion: str, reason: str) -> None:
    for feature, finding in FINDINGS.items():
        page.check(f"#{feature}-{finding}")
    page.fill("#notes", "Ears hidden by hair in the probe; no marks visible in either photo.")
    page.check(f"#conclusion-{conclusion}")
    page.fill("#reason", reason)


def test_decision_and_blind_verification_in_a_real_browser(
    server: Server, probe_photos: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}; apt-get install chromium")
    url = server.url
    watch = Watch()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            desk = browser.new_context(viewport={"width": 1200, "height": 900})
            ivy = watch.attach(desk.new_page())
            _sign_in(ivy, url, "ivy.investigator")

            # The investigator opens a case, then searches for it.
            ivy.click("nav a[href='/cases']")
            ivy.fill("#case_number", NUMBER)
            ivy.select_option("#purpose", PURPOSE)
            ivy.fill("#legal-basis", "Missing Persons Act s. 4; report 2026/4471")
            ivy.click("#open-case")
            ivy.wait_for_url(re.compile(r"/cases/\d+$"))
            case_url = ivy.url
            expect(ivy.locator("#case-status")).to_have_text("open")
            ivy.goto(f"{url}/search")
            ivy.fill("#case_number", NUMBER)
            ivy.select_option("#purpose", PURPOSE)
            ivy.set_input_files("#image", str(probe_photos / "obama1.jpg"))
            expect(ivy.locator(".facebox.chosen")).to_have_count(1, timeout=60_000)
            ivy.click("#search-button")
            expect(ivy.locator("#leads-notice")).to_contain_text("not identifications")

            # From the results to the first candidate's comparison in the case.
            ivy.locator("#results .compare-link").first.click()
            ivy.wait_for_url(re.compile(r"/cases/candidates/\d+$"), timeout=60_000)
            compare_url = ivy.url
            crops = ivy.locator("#compare .frame img")
            expect(crops).to_have_count(2)
            assert images_shown(ivy, "#compare img")
            expect(ivy.locator("#sources a.source-link").first).to_have_attribute(
                "href", re.compile(r"^https://example\.org/people/")
            )
            expect(ivy.locator("#similarity")).to_contain_text(".")
            landmarks = ivy.locator("#face-probe .landmarks")
            expect(landmarks).to_be_hidden()
            ivy.click("label[for=show-landmarks]")
            expect(landmarks).to_be_visible()
            expect(ivy.locator("#face-probe .landmarks circle")).to_have_count(5)
            ivy.click("#compare-modes button[data-mode=overlay]")
            expect(ivy.locator("#compare")).to_have_class(re.compile("mode-overlay"))
            ivy.fill("#overlay-mix", "70")
            opacity = ivy.evaluate("() => document.querySelector('.face-candidate').style.opacity")
            assert abs(float(opacity) - 0.3) < 1e-6
            ivy.click("#compare-modes button[data-mode=blink]")
            expect(ivy.locator("#compare")).to_have_class(re.compile("mode-blink"))
            ivy.click("#compare-modes button[data-mode=side]")
            expect(ivy.locator("#compare")).to_have_class(re.compile("mode-side"))

            # The FISWG form: a possible lead recorded with its comparison and reason.
            _fill_comparison(ivy, "possible_lead", "Eyes, nose, mouth and chin agree in shape.")
            screenshot(ivy, "case-compare")
            ivy.click("#record-decision")
            expect(ivy.locator("#decision-conclusion")).to_have_text("possible lead")
            expect(ivy.locator("#recorded-decision")).to_contain_text("awaiting verification")

            # The owner adds a verifier; verifying her own decision is refused on the page.
            ivy.goto(case_url)
            ivy.fill("#member-username", "vera.verifier")
            ivy.select_option("#member-role", "verifier")
            ivy.click("#add-member")
            expect(ivy.locator("#members")).to_contain_text("vera.verifier")
            decision_id = ivy.locator("#decisions .decision").first.get_attribute("id")
            assert decision_id is not None
            verify_url = f"{url}/cases/decisions/{decision_id.split('-')[1]}/verify"
            ivy.goto(verify_url)
            expect(ivy.locator("#verify-error")).to_contain_text("your own")
            expect(ivy.locator("#record-verification")).to_have_count(0)
            screenshot(ivy, "case-self-verification")

            # The second examiner, on a phone, verifies blind.
            phone = browser.new_context(
                viewport={"width": 390, "height": 844},
                is_mobile=True,
                has_touch=True,
                device_scale_factor=1,
            )
            vera = watch.attach(phone.new_page())
            _sign_in(vera, url, "vera.verifier")
            vera.click("nav a[href='/cases']")
            vera.locator("#cases a", has_text=NUMBER).click()
            expect(vera.locator("#decisions")).to_contain_text("sealed")
            vera.goto(compare_url)
            expect(vera.locator("#recorded-decision")).to_contain_text("sealed")
            expect(vera.locator("#decision-conclusion")).to_have_count(0)
            vera.click("#verify-link")
            vera.wait_for_url(verify_url)
            expect(vera.locator("#blind-notice")).to_contain_text("Blind verification")
            expect(vera.locator("#first-conclusion")).to_have_count(0)
            assert "agree in shape" not in vera.content()
            fits = vera.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
            assert fits, "the verification page scrolls sideways on a phone"
            _fill_comparison(vera, "possible_lead", "Same nose bridge and chin; no dissimilarity.")
            screenshot(vera, "case-verify-blind")
            vera.click("#record-verification")
            expect(vera.locator("#agreement")).to_contain_text("You agree")
            expect(vera.locator("#first-conclusion")).to_have_text("possible lead")
            expect(vera.locator("#verification-outcome")).to_contain_text("verified lead")
            screenshot(vera, "case-verify-outcome")

            # The case page now shows the verified lead to its owner.
            ivy.goto(case_url)
            expect(ivy.locator("#decisions")).to_contain_text("verified lead")
            expect(ivy.locator("#decisions .verification")).to_contain_text("vera.verifier")
            expect(ivy.locator("#report-pdf")).to_be_visible()
            screenshot(ivy, "case-page")
        finally:
            browser.close()
    # the refusal of self-verification is the one page answered 403, as it should be
    refused = f"status of 403 (Forbidden) at {verify_url}"
    assert not [p for p in watch.problems if not p.endswith(refused)], watch.problems
    log = server.log.read_text()
    assert "Traceback" not in log, log
