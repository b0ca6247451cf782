"""Case pages through the ASGI app with real photos: open a case, a search recorded into it,
the comparison view and a decision, a sealed decision for the other members, the refusal of
self-verification on the page, the report downloads, and 404 for everyone outside the case."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from faceatlas import Atlas
from faceatlas.accounts import Role
from faceatlas.server import create_app
from faceatlas.services import Feature, SearchRequest, Service
from tests.conftest import LEAD_SIMILARITY, atlas_settings
from tests.webkit import PASSWORD, People, make_people, served, signed_in

NUMBER = "2026/WEB-7"
PURPOSE = "missing person"
LEAD_FORM = {f"feature_{f.value}": "similar" for f in Feature} | {"feature_ears": "not_visible"}


@dataclass
class Env:
    client: TestClient
    service: Service
    people: People


@pytest.fixture
def env(pages_atlas_dir: Path, tmp_path: Path) -> Iterator[Env]:
    root = tmp_path / "atlas"
    shutil.copytree(pages_atlas_dir, root)
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        people = make_people(atlas)
        atlas.accounts.create_user(
            "vera.verifier", Role.INVESTIGATOR, unit="unit-a", password=PASSWORD
        )
        with TestClient(create_app(atlas=atlas)) as client:
            yield Env(client, served(client), people)


def test_case_pages_decision_and_outsiders(env: Env, probe_photos: Path) -> None:
    ivy, ivy_csrf = signed_in(env.client, "ivy.investigator")
    opened = ivy.post(
        "/cases",
        data={
            "case_number": NUMBER,
            "purpose": PURPOSE,
            "legal_basis": "Missing Persons Act s. 4",
            "csrf_token": ivy_csrf,
        },
        follow_redirects=False,
    )
    assert opened.status_code == 303
    case_url = opened.headers["location"]
    assert re.fullmatch(r"/cases/\d+", case_url)
    refused = ivy.post(
        "/cases",
        data={"case_number": "x", "purpose": PURPOSE, "legal_basis": "y", "csrf_token": ivy_csrf},
    )
    assert refused.status_code == 400 and 'id="case-error"' in refused.text
    forged = ivy.post(case_url + "/members", data={"username": "vera.verifier", "role": "verifier"})
    assert forged.status_code == 403

    photo = (probe_photos / "obama1.jpg").read_bytes()
    request = SearchRequest(NUMBER, PURPOSE, threshold=LEAD_SIMILARITY)
    outcome = env.service.search(env.people.investigator, photo, request)
    assert outcome.result.hits
    page = ivy.get(case_url)
    assert page.status_code == 200
    assert NUMBER in page.text and "Missing Persons Act s. 4" in page.text
    assert f"Search #{outcome.audit.seq}" in page.text and "not examined" in page.text

    # From the search's result to the candidate's comparison view in the case.
    face = outcome.result.hits[0].face_id
    query = {"case": NUMBER, "search": outcome.audit.seq, "face": face}
    jump = ivy.get("/cases/compare", params=query, follow_redirects=False)
    assert jump.status_code == 303
    compare_url = jump.headers["location"]
    compare = ivy.get(compare_url)
    assert compare.status_code == 200
    assert compare.text.count("data:image/jpeg;base64,") == 2  # probe and candidate crops
    assert 'id="comparison-form"' in compare.text and "scars and marks" in compare.text
    assert "https://example.org/people/" in compare.text  # the candidate's sources

    # A decision needs a reason and a comparison that supports it; refusals stay on the page.
    form = {
        **LEAD_FORM,
        "conclusion": "possible_lead",
        "notes": "same ear lobe",
        "csrf_token": ivy_csrf,
    }
    missing = ivy.post(compare_url + "/decision", data={**form, "reason": ""})
    assert missing.status_code == 400 and "reason is required" in missing.text
    recorded = ivy.post(
        compare_url + "/decision",
        data={**form, "reason": "eyes, nose and chin match"},
        follow_redirects=False,
    )
    assert recorded.status_code == 303
    assert 'id="decision-conclusion">possible lead<' in ivy.get(compare_url).text

    added = ivy.post(
        case_url + "/members",
        data={"username": "vera.verifier", "role": "verifier", "csrf_token": ivy_csrf},
        follow_redirects=False,
    )
    assert added.status_code == 303
    decision_id = env.service.casework.decisions(env.people.investigator, NUMBER)[0].decision_id
    verify_url = f"/cases/decisions/{decision_id}/verify"

    # The verifier sees that a decision exists, never its conclusion, until theirs is recorded.
    vera, _ = signed_in(env.client, "vera.verifier")
    sealed = vera.get(compare_url)
    assert sealed.status_code == 200 and "sealed" in sealed.text
    assert "decision-conclusion" not in sealed.text and "eyes, nose and chin" not in sealed.text
    task = vera.get(verify_url)
    assert task.status_code == 200 and 'id="record-verification"' in task.text
    assert "eyes, nose and chin" not in task.text and "first-conclusion" not in task.text

    # Verifying one's own decision is refused on the page.
    own = ivy.get(verify_url)
    assert own.status_code == 403 and 'id="verify-error"' in own.text
    assert "your own" in own.text and "record-verification" not in own.text

    # The reports download as files.
    pdf = ivy.get(case_url + "/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="case-2026-WEB-7.pdf"' in pdf.headers["content-disposition"]
    html = ivy.get(case_url + "/report.html")
    assert html.status_code == 200 and NUMBER in html.text

    # Outside the case, every one of its pages is a 404, never a 403.
    olly, olly_csrf = signed_in(env.client, "olly.other")
    assert "2026/WEB-7" not in olly.get("/cases").text
    candidate_id = compare_url.rsplit("/", 1)[1]
    for url in (
        case_url,
        compare_url,
        verify_url,
        case_url + "/report.pdf",
        case_url + "/report.html",
        f"/cases/compare?case={NUMBER}&search={outcome.audit.seq}&face={face}",
    ):
        assert olly.get(url).status_code == 404, url
    for url, data in (
        (case_url + "/members", {"username": "olly.other", "role": "examiner"}),
        (case_url + "/close", {}),
        (f"/cases/candidates/{candidate_id}/decision", {**form, "reason": "x"}),
        (verify_url, {**form, "reason": "x"}),
    ):
        assert olly.post(url, data={**data, "csrf_token": olly_csrf}).status_code == 404, url
    assert not any(
        m.username == "olly.other"
        for m in env.service.casework.show(env.people.investigator, NUMBER).members
    )

    # The supervisor of the owner's unit reviews the case and closes it.
    sam, sam_csrf = signed_in(env.client, "sam.supervisor")
    assert NUMBER in sam.get("/cases").text
    closed = sam.post(case_url + "/close", data={"csrf_token": sam_csrf}, follow_redirects=False)
    assert closed.status_code == 303
    page = sam.get(case_url).text
    assert 'id="case-status">closed<' in page and "eyes, nose and chin match" in page
