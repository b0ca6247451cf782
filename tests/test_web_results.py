"""The face search results page, through the ASGI test client: the probe crop beside each
candidate, thumbnails at display size and twice that, source links, the band legend, the
candidates and weaker-leads controls, and errors as a visible alert."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from faceatlas.atlas import Atlas
from faceatlas.config import Settings
from faceatlas.search.bands import similarity_band
from faceatlas.server import create_app
from faceatlas.services.probe_view import weaker_threshold
from tests.webkit import make_people, signed_in

CASE = {"case_number": "2026-0142", "purpose": "missing person"}


@pytest.fixture(scope="module")
def web(
    pages_atlas_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Atlas]]:
    root = tmp_path_factory.mktemp("results") / "atlas"
    shutil.copytree(pages_atlas_dir, root)
    with Atlas.open(settings=Settings(atlas_dir=root)) as atlas:
        make_people(atlas)
        with TestClient(create_app(atlas=atlas)) as client:
            yield client, atlas


def _search(client: TestClient, csrf: str, photo: Path, **fields: str) -> str:
    r = client.post(
        "/search",
        files={"image": ("p.jpg", photo.read_bytes())},
        data={**CASE, "face": "0", "csrf_token": csrf, **fields},
    )
    assert r.status_code == 200, r.text
    return r.text


def test_results_show_the_probe_crop_thumbnails_sources_and_legend(
    web: tuple[TestClient, Atlas], probe_photos: Path
) -> None:
    client, csrf = signed_in(web[0], "ivy.investigator")
    form = client.get("/search").text
    assert '<img id="probe-img"' not in form and 'src=""' not in form
    assert 'id="top_k"' in form and 'id="weaker"' in form
    page = _search(client, csrf, probe_photos / "obama1.jpg", top_k="5")
    results = page.split('id="results"')[1]
    count = results.count('class="result ')
    assert 1 <= count <= 5
    assert results.count('src="data:image/jpeg;base64,') == count  # the probe beside each
    assert 'alt="probe face #0"' in results and "face #0 of 1" in page
    assert "5 candidates at most" in page
    face_id = results.split('href="/faces/')[1].split('"')[0]
    src = f"/faces/{face_id}/thumbnail.jpg?px="
    assert f'srcset="{src}160 1x, {src}320 2x"' in results
    links = results.split('class="source-link" href="')[1:]
    assert links and all(link.startswith("https://example.org/") for link in links)
    assert 'class="image-link" href="https://example.org/' in results
    legend = page.split('id="legend"')[1].split("</details>")[0]
    for band in ("strong", "moderate", "weak"):
        assert f'data-band="{band}"' in legend
    assert 'data-band="weaker"' not in legend and "weaker-notice" not in page
    assert "false-candidate rate" in legend
    assert 'id="thumb-note"' in page  # stored thumbnails are 160 px: said so


def test_thumbnails_come_at_the_size_asked_or_the_largest_stored(
    web: tuple[TestClient, Atlas], probe_photos: Path
) -> None:
    client, csrf = signed_in(web[0], "ivy.investigator")
    page = _search(client, csrf, probe_photos / "obama1.jpg")
    face_id = page.split('id="results"')[1].split('href="/faces/')[1].split('"')[0]
    r = client.get(f"/faces/{face_id}/thumbnail.jpg?px=320")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    # web sources keep no local image: the stored thumbnail (its longest side 160 px)
    assert r.headers["x-thumbnail-source"] == "stored"
    with Image.open(io.BytesIO(r.content)) as im:
        assert max(im.size) <= web[1].settings.thumbnail_px
    assert client.get(f"/faces/{face_id}/thumbnail.jpg?px=9999").status_code == 422
    other, _ = signed_in(web[0], "olly.other")  # never shown this face
    assert other.get(f"/faces/{face_id}/thumbnail.jpg").status_code == 403  # as the API


def test_weaker_leads_use_a_lower_threshold_and_are_marked(
    web: tuple[TestClient, Atlas], probe_photos: Path
) -> None:
    client, csrf = signed_in(web[0], "ivy.investigator")
    atlas = web[1]
    usual = atlas.searcher.search_threshold()[0]
    page = _search(client, csrf, probe_photos / "obama1.jpg", top_k="20", weaker="1")
    assert 'id="weaker-notice"' in page
    assert f"{weaker_threshold(usual):.3f}" in page and f"{usual:.3f}" in page
    assert 'data-band="weaker"' in page
    entry = max(atlas.audit.entries(action="search"), key=lambda e: e.seq)
    assert entry.details["parameters"]["threshold"] == weaker_threshold(usual)
    assert entry.details["parameters"]["top_k"] == 20
    result = atlas.search((probe_photos / "obama1.jpg").read_bytes(), top_k=20)
    weaker = page.count('class="result band-weaker weaker"')
    at_usual = len(result.hits)
    assert page.split('id="results"')[1].count('class="result ') >= at_usual
    for h in result.hits:
        assert similarity_band(h.decision_score, usual)[0] != "below threshold"
    assert weaker == page.split('id="results"')[1].count('class="result ') - at_usual


def test_refusals_are_a_visible_alert_and_keep_the_controls(
    web: tuple[TestClient, Atlas], probe_photos: Path
) -> None:
    client, csrf = signed_in(web[0], "ivy.investigator")
    r = client.post(
        "/search",
        files={"image": ("p.jpg", (probe_photos / "obama1.jpg").read_bytes())},
        data={**CASE, "face": "0", "csrf_token": csrf, "top_k": "many", "weaker": "1"},
    )
    assert r.status_code == 400
    assert 'role="alert"' in r.text and "top_k must be between 1 and" in r.text
    assert 'id="weaker" value="1" checked' in r.text
