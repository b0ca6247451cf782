"""The results page in a real headless Chromium: the probe crop beside every candidate,
source links, the band legend, the candidates and weaker-leads controls, and one column on a
phone; no console errors and no failed requests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.test_web_e2e import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Server,
    _create_user,
    _sign_in_first_time,
    images_shown,
)

pytestmark = pytest.mark.browser


def _watch(page: object, problems: list[str]) -> None:
    page.on(  # type: ignore[attr-defined]
        "console", lambda m: problems.append(m.text) if m.type == "error" else None
    )
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))  # type: ignore[attr-defined]
    page.on(  # type: ignore[attr-defined]
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )


def _search(page: object, photo: Path, *, top_k: str | None = None, weaker: bool = False) -> None:
    from playwright.sync_api import expect

    page.goto(page.url.split("/search")[0] + "/search")  # type: ignore[attr-defined]
    page.fill("#case_number", "2026-0142")  # type: ignore[attr-defined]
    page.select_option("#purpose", "missing person")  # type: ignore[attr-defined]
    if top_k:
        page.select_option("#top_k", top_k)  # type: ignore[attr-defined]
    if weaker:
        page.check("#weaker")  # type: ignore[attr-defined]
    page.set_input_files("#image", str(photo))  # type: ignore[attr-defined]
    expect(page.locator("#search-button")).to_be_enabled(timeout=60_000)  # type: ignore[attr-defined]
    expect(page.locator("#faces-status")).to_contain_text("#0")  # type: ignore[attr-defined]
    page.click("#search-button")  # type: ignore[attr-defined]
    expect(page.locator("#leads-notice")).to_be_visible(timeout=60_000)  # type: ignore[attr-defined]


def _columns(page: object) -> int:
    xs = page.evaluate(  # type: ignore[attr-defined]
        "() => [...document.querySelectorAll('#results .result')]"
        ".map(e => Math.round(e.getBoundingClientRect().x))"
    )
    return len(set(xs))


def test_results_can_be_judged_on_a_desktop_and_a_phone(
    pages_atlas_dir: Path, tmp_path: Path, probe_photos: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}; apt-get install chromium")
    atlas = tmp_path / "atlas"
    shutil.copytree(pages_atlas_dir, atlas)
    server = Server(atlas, tmp_path / "server.log")
    probe = probe_photos / "obama1.jpg"
    problems: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            admin = browser.new_context().new_page()
            _sign_in_first_time(
                admin, server.url, "admin", server.admin_password(), "admin pw 2026!"
            )
            otp = _create_user(admin, server.url, "ivy.investigator", "investigator", "unit-a")

            desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _watch(desk, problems)
            _sign_in_first_time(desk, server.url, "ivy.investigator", otp, "a long secret phrase 7")
            assert desk.locator("#search-form img").count() == 0  # no empty image drawn
            _search(desk, probe, top_k="10")
            results = desk.locator("#results .result")
            expect(results.first).to_be_visible()
            n = results.count()
            assert 1 <= n <= 10
            assert desk.locator("#results .probe-crop").count() == n
            assert images_shown(desk, "#results img")
            link = desk.locator("#results a.source-link").first
            assert (link.get_attribute("href") or "").startswith("https://example.org/")
            expect(link).to_have_attribute("target", "_blank")
            legend = desk.locator("#legend")
            expect(legend).to_be_visible()
            for band in ("strong", "moderate", "weak"):
                expect(legend.locator(f"tr[data-band='{band}']")).to_have_count(1)
            if n >= 2:
                assert _columns(desk) >= 2

            _search(desk, probe, top_k="5", weaker=True)
            expect(desk.locator("#weaker-notice")).to_be_visible()
            expect(desk.locator("#legend tr[data-band='weaker']")).to_have_count(1)
            assert 1 <= desk.locator("#results .result").count() <= 5

            phone_ctx = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2
            )
            phone = phone_ctx.new_page()
            _watch(phone, problems)
            phone.goto(f"{server.url}/login")
            phone.fill("#username", "ivy.investigator")
            phone.fill("#password", "a long secret phrase 7")
            phone.click("#login")
            phone.wait_for_url(f"{server.url}/search")
            _search(phone, probe)
            expect(phone.locator("#results .result").first).to_be_visible()
            assert _columns(phone) == 1
            assert phone.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
            browser.close()
    finally:
        server.stop()
    assert problems == []
