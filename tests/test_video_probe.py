"""Video probes end to end: a clip's face tracks listed, one picked, the search run with its
best frames, audited and kept under its case; through the service, REST, the web app and the
command line, on a real atlas of other photos of the clip's people."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from faceatlas import Atlas
from faceatlas.cli import app as cli_app
from faceatlas.server import create_app
from faceatlas.services import Interface, SearchRequest, Service
from faceatlas.services.video import VideoDesk
from tests.conftest import atlas_settings
from tests.videoclips import CLIP_PEOPLE, people_in_turn
from tests.webfixtures import lfw
from tests.webkit import People, make_people, served, signed_in

CASE = {"case_number": "2026-0307", "purpose": "missing person"}
DISTRACTORS = ("Hugo_Chavez", "Ariel_Sharon", "Gerhard_Schroeder")


@dataclass
class Env:
    root: Path
    atlas: Atlas
    client: TestClient
    people: People
    clip: bytes

    @property
    def service(self) -> Service:
        return served(self.client)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Iterator[Env]:
    base = tmp_path_factory.mktemp("video-probe")
    photos = base / "photos"
    photos.mkdir()
    for person in (*CLIP_PEOPLE, *DISTRACTORS):  # other photos than the clip's
        (photos / f"{person}.jpg").write_bytes(lfw(faces_dir, person, 3))
    with Atlas.open(settings=atlas_settings(base / "atlas")) as atlas:
        assert atlas.ingest(photos).counts["faces"] == len(CLIP_PEOPLE) + len(DISTRACTORS)
        people = make_people(atlas)
        with TestClient(create_app(atlas=atlas)) as client:
            yield Env(base / "atlas", atlas, client, people, people_in_turn(faces_dir))


def found(hit: dict[str, object]) -> str:
    sightings = hit["sightings"]
    assert isinstance(sightings, list)
    return Path(sightings[0]["location"]).stem


def test_a_track_search_finds_that_person_and_is_audited_in_its_case(env: Env) -> None:
    desk = VideoDesk(env.service)
    tracks = desk.tracks(env.clip)
    assert [round(t.span.start_s) for t in tracks] == [0, 3, 6]
    request = SearchRequest(**CASE, interface=Interface.API)
    outcome = desk.search(env.people.investigator, env.clip, request, track=1)
    result = outcome.result
    assert result.selected == 1 and len(result.probe_tracks) == 3
    assert 1 <= result.frames_searched <= 5
    assert result.hits[0].sightings[0].locator.endswith("Tony_Blair.jpg")
    assert result.hits[0].decision_score >= result.threshold
    entry = outcome.audit
    assert (entry.action, entry.case_number, entry.actor) == (
        "search",
        CASE["case_number"],
        env.people.investigator.username,
    )
    assert entry.details["kind"] == "video"
    assert entry.details["probe_sha256"] == hashlib.sha256(env.clip).hexdigest()
    assert entry.details["parameters"]["track"] == 1
    assert entry.details["result_face_ids"] == [h.face_id for h in result.hits]
    case = env.service.casework.show(env.people.investigator, CASE["case_number"])
    assert [s.audit_seq for s in case.searches] == [entry.seq]
    compared = env.service.casework.comparison(env.people.investigator, case.candidates[0].id)
    assert compared.probe is not None and compared.probe.cut_from == "probe"
    report = env.service.casework.report_html(env.people.investigator, CASE["case_number"])
    assert b"data:image/jpeg" in report


def test_rest_lists_tracks_and_searches_a_picked_one(env: Env) -> None:
    auth = env.people.auth("investigator")
    files = {"video": ("clip.mp4", env.clip, "video/mp4")}
    r = env.client.post("/api/v1/video/tracks", files=files, headers=auth)
    assert r.status_code == 200, r.text
    tracks = r.json()["tracks"]
    assert len(tracks) == 3 and tracks[2]["thumbnail"].startswith("data:image/jpeg;base64,")
    r = env.client.post(
        "/api/v1/search/video", files=files, data={**CASE, "track": "2"}, headers=auth
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["selected_face"] == 2 and body["frames_searched"] >= 1
    assert found(body["hits"][0]) == "George_W_Bush"
    assert body["probe_tracks"][2]["span"]["start_s"] == 6.0
    r = env.client.post("/api/v1/search/video", files=files, headers=auth)
    assert r.status_code == 400 and r.json()["error"]["code"] == "case_required"
    photo = {"video": ("clip.mp4", lfw_bytes(env), "video/mp4")}
    r = env.client.post("/api/v1/video/tracks", files=photo, headers=auth)
    assert r.status_code == 415 and r.json()["error"]["code"] == "not_a_video"


def lfw_bytes(env: Env) -> bytes:
    return next((env.root.parent / "photos").iterdir()).read_bytes()


def test_web_form_searches_with_the_picked_track(env: Env) -> None:
    web, csrf = signed_in(env.client, env.people.investigator.username)
    page = web.get("/search/video")
    assert page.status_code == 200 and 'id="video-search-form"' in page.text
    r = web.post(
        "/search/video",
        files={"video": ("clip.mp4", env.clip, "video/mp4")},
        data={**CASE, "track": "0", "csrf_token": csrf, "top_k": "", "weaker": ""},
    )
    assert r.status_code == 200, r.text
    assert 'id="probe-track"' in r.text and "face track #0 of 3" in r.text
    assert "Colin_Powell.jpg" in r.text.split('id="results"')[1].split("</li>")[0]


def test_cli_lists_tracks_and_searches(env: Env, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(env.clip)
    root = tmp_path / "atlas"
    shutil.copytree(env.root, root)
    runner = CliRunner()
    listed = runner.invoke(
        cli_app, ["search-video", str(clip), "--atlas", str(root), "--list-tracks", "--json"]
    )
    assert listed.exit_code == 0, listed.stderr
    assert [t["index"] for t in json.loads(listed.stdout)["tracks"]] == [0, 1, 2]
    case = ["--case", "2026-0308", "--purpose", CASE["purpose"]]  # a case of the operator's
    searched = runner.invoke(
        cli_app, ["search-video", str(clip), "--atlas", str(root), "-t", "1", "--json", *case]
    )
    assert searched.exit_code == 0, searched.stderr
    result = json.loads(searched.stdout)
    assert result["selected_face"] == 1 and result["frames_searched"] >= 1
    assert result["hits"][0]["sightings"][0]["locator"].endswith("Tony_Blair.jpg")
