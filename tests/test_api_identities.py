"""Identity endpoints through the ASGI test client: a real atlas of LFW photos with web
provenance, the real dlib models, SQLite and FAISS."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from faceatlas import Atlas, Settings
from faceatlas.accounts import Role, TokenKind
from faceatlas.server import create_app
from tests.conftest import LEAD_SIMILARITY
from tests.webkit import PagesSource, People, log_in, make_people, signed_in

CASE = {"case_number": "2026-0177", "purpose": "missing person"}
LEAD = str(LEAD_SIMILARITY)
"""A lax threshold, so the small gallery's people come back as leads."""
GALLERY = {"Colin_Powell": (1, 2, 3, 4), "Tony_Blair": (1, 2, 3, 4)}
PROBES = ("Colin_Powell", (7, 8))


def lfw_photo(faces_dir: Path, person: str, n: int) -> bytes:
    return (faces_dir / "lfw" / "images" / person / f"{person}_{n:04d}.jpg").read_bytes()


@dataclass
class Env:
    client: TestClient
    atlas: Atlas
    people: People
    faces_dir: Path

    def probes(self, person: str = "Colin_Powell", numbers: tuple[int, ...] = (7, 8)) -> list[Any]:
        return [
            ("images", (f"p{n}.jpg", lfw_photo(self.faces_dir, person, n), "image/jpeg"))
            for n in numbers
        ]

    def search(self, who: str, person: str = "Colin_Powell", **fields: str) -> dict[str, Any]:
        r = self.client.post(
            "/api/v1/identities/search",
            files=self.probes(person),
            data={**CASE, "threshold": LEAD, **fields},
            headers=self.people.auth(who),
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def identity_of(self, person: str) -> int:
        """The identity holding the gallery's photos of ``person`` (checked by page URL)."""
        admin = self.people.auth("admin")
        listed = self.client.get("/api/v1/identities?min_faces=2", headers=admin).json()
        for summary in listed["identities"]:
            detail = self.client.get(summary["url"], headers=admin).json()
            pages = {s["page_url"] for p in detail["photos"] for s in p["sightings"]}
            if pages == {f"https://example.org/people/{person}"}:
                return int(summary["id"])
        raise AssertionError(f"no identity of {person} alone")


@pytest.fixture(scope="module")
def gallery_dir(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Path:
    """A small atlas: four photos each of two people, clustered into identities on ingest."""
    photos = tmp_path_factory.mktemp("identity-photos")
    for person, numbers in GALLERY.items():
        (photos / person).mkdir()
        for n in numbers:
            name = f"{person}_{n:04d}.jpg"
            shutil.copy(faces_dir / "lfw" / "images" / person / name, photos / person / name)
    root = tmp_path_factory.mktemp("identity-api") / "atlas"
    with Atlas.open(settings=Settings(atlas_dir=root)) as atlas:
        report = atlas.ingest(PagesSource(photos))
    assert report.counts["failed"] == 0 and report.counts["faces"] == 8
    return root


@pytest.fixture(scope="module")
def env(
    gallery_dir: Path, tmp_path_factory: pytest.TempPathFactory, faces_dir: Path
) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("identity-api-copy") / "atlas"
    shutil.copytree(gallery_dir, root)
    with Atlas.open(settings=Settings(atlas_dir=root)) as atlas:
        people = make_people(atlas)
        with TestClient(create_app(atlas=atlas)) as client:
            yield Env(client, atlas, people, faces_dir)


def error_code(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    return str(body["error"]["code"])


def test_identity_search_needs_case_number_and_purpose(env: Env) -> None:
    before = len(env.atlas.audit.entries(action="search", limit=1000))
    for fields in ({}, {"case_number": "2026-0177"}, {**CASE, "purpose": "curiosity"}):
        r = env.client.post(
            "/api/v1/identities/search",
            files=env.probes(),
            data=fields,
            headers=env.people.auth("investigator"),
        )
        assert error_code(r, 400) == "case_required", fields
    r = env.client.post(
        "/api/v1/identities/search", data=CASE, headers=env.people.auth("investigator")
    )
    assert error_code(r, 400) == "invalid_request"
    assert len(env.atlas.audit.entries(action="search", limit=1000)) == before


def test_identity_search_groups_people_and_is_audited(env: Env) -> None:
    body = env.search("investigator")
    assert "not identifications" in body["notice"]
    assert body["probe_photos"] == 2 and len(body["probe_sha256s"]) == 2
    powell = env.identity_of("Colin_Powell")
    top = body["hits"][0]
    assert top["identity_id"] == powell and top["faces"] == 4 == len(top["photos"])
    assert top["sightings"] == 4 and top["domains"] == ["example.org"]
    assert top["band"] in {"strong", "moderate", "weak"} and top["score"] >= body["threshold"]
    assert all(h["identity_id"] != powell for h in body["hits"][1:])
    photo = top["photos"][0]
    assert photo["sightings"][0]["page_title"] == "Photos of Colin Powell"
    # The same hash-chained audit record as face search, with the identity-level details.
    entry = env.atlas.audit.entries(action="search", limit=1)[0]
    assert entry.seq == body["search_id"] and entry.actor == "ivy.investigator"
    assert (entry.case_number, entry.purpose) == (CASE["case_number"], CASE["purpose"])
    assert entry.details["kind"] == "identity"
    assert entry.details["probe_sha256s"] == body["probe_sha256s"]
    assert entry.details["probe_sha256"] == body["probe_sha256s"][0]
    assert entry.details["result_identity_ids"][0] == powell
    shown = [p["face_id"] for h in body["hits"] for p in h["photos"]]
    assert entry.details["result_face_ids"] == shown
    assert entry.details["parameters"]["probe_photos"] == 2
    assert env.atlas.audit.verify().ok
    review = env.client.get("/api/v1/audit/searches", headers=env.people.auth("supervisor"))
    assert body["search_id"] in [e["seq"] for e in review.json()["entries"]]
    # The photos shown may be opened by who searched, and by no other investigator.
    thumb = env.client.get(photo["thumbnail_url"], headers=env.people.auth("investigator"))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    other = env.client.get(photo["thumbnail_url"], headers=env.people.auth("other_unit"))
    assert error_code(other, 403) == "forbidden"


def test_investigators_open_only_identities_their_searches_showed(env: Env) -> None:
    blair = env.identity_of("Tony_Blair")
    olly = env.people.auth("other_unit")
    assert error_code(env.client.get(f"/api/v1/identities/{blair}", headers=olly), 403) == (
        "forbidden"
    )
    assert blair not in [
        i["id"] for i in env.client.get("/api/v1/identities", headers=olly).json()["identities"]
    ]
    env.search("other_unit", person="Tony_Blair", case_number="2026-0143")  # its own case
    listed = env.client.get("/api/v1/identities", headers=olly).json()["identities"]
    assert blair in [i["id"] for i in listed]
    detail = env.client.get(f"/api/v1/identities/{blair}", headers=olly).json()
    assert detail["faces"] == len(detail["photos"]) >= 2
    assert detail["domains"] == ["example.org"] and detail["sightings"] == detail["faces"]
    candidates = detail["name_candidates"]
    assert candidates and candidates[0]["name"] == "Tony Blair"
    assert {c["status"] for c in candidates} == {"unverified candidate from provenance"}
    assert "unverified" in detail["name_candidates_notice"]
    # Supervisors review everything.
    sup = env.people.auth("supervisor")
    assert env.client.get(f"/api/v1/identities/{blair}", headers=sup).status_code == 200


def test_curation_round_trip_records_the_actor(env: Env) -> None:
    ivy = env.people.auth("investigator")
    env.search("investigator")
    powell = env.identity_of("Colin_Powell")
    faces = [
        p["face_id"]
        for p in env.client.get(f"/api/v1/identities/{powell}", headers=ivy).json()["photos"]
    ]
    # Split one face off (the new identity is the investigator's to open), then merge back.
    r = env.client.post(
        f"/api/v1/identities/{powell}/split", json={"face_ids": faces[:1]}, headers=ivy
    )
    assert r.status_code == 200, r.text
    new_id = r.json()["identity_id"]
    assert env.client.get(f"/api/v1/identities/{new_id}", headers=ivy).json()["faces"] == 1
    r = env.client.post(
        f"/api/v1/identities/{powell}/label", json={"label": "Colin Powell"}, headers=ivy
    )
    assert r.status_code == 200 and r.json()["actor"] == "ivy.investigator"
    r = env.client.post(
        f"/api/v1/identities/{powell}/merge", json={"others": [new_id]}, headers=ivy
    )
    assert r.status_code == 200 and r.json()["identity_id"] == powell
    shown = env.client.get(f"/api/v1/identities/{powell}", headers=ivy).json()
    assert shown["label"] == "Colin Powell" and shown["labelled_by"] == "ivy.investigator"
    assert shown["faces"] == 4 and shown["manual_faces"] == 4
    log = [(d["kind"], d["actor"]) for d in shown["curation_log"]]
    for kind in ("split", "label", "merge"):
        assert (kind, "ivy.investigator") in log
    assert env.client.get(f"/api/v1/identities/{new_id}", headers=ivy).status_code == 404
    # "Not this person", then the face moved back.
    r = env.client.post(
        f"/api/v1/identities/{powell}/reject", json={"face_ids": faces[-1:]}, headers=ivy
    )
    assert r.status_code == 200
    after = env.client.get(f"/api/v1/identities/{powell}", headers=ivy).json()
    assert faces[-1] not in [p["face_id"] for p in after["photos"]]
    r = env.client.post(
        "/api/v1/identities/move", json={"face_ids": faces[-1:], "target": powell}, headers=ivy
    )
    assert r.status_code == 200 and r.json()["identity_id"] == powell
    # Audited by who acted, with ids only: the label's text stays in the curation log.
    actions = [e.action for e in env.atlas.audit.entries(actor="ivy.investigator", limit=20)]
    for action in (
        "identity_split",
        "identity_labelled",
        "identities_merged",
        "identity_faces_rejected",
        "identity_faces_moved",
    ):
        assert action in actions
    labelled = env.atlas.audit.entries(action="identity_labelled", limit=1)[0]
    assert "Colin Powell" not in str(labelled.details)
    # Reclustering (supervisors) keeps the decisions.
    assert (
        error_code(
            env.client.post("/api/v1/identities/cluster", json={"rebuild": True}, headers=ivy), 403
        )
        == "forbidden"
    )
    r = env.client.post(
        "/api/v1/identities/cluster", json={"rebuild": True}, headers=env.people.auth("supervisor")
    )
    assert r.status_code == 200 and r.json()["mode"] == "recluster"
    kept = env.client.get(f"/api/v1/identities/{powell}", headers=ivy).json()
    assert kept["label"] == "Colin Powell" and kept["faces"] == 4


def test_unknown_identities_and_bad_faces_get_typed_errors(env: Env) -> None:
    sup = env.people.auth("supervisor")
    powell = env.identity_of("Colin_Powell")
    blair = env.identity_of("Tony_Blair")
    blair_face = env.client.get(f"/api/v1/identities/{blair}", headers=sup).json()["photos"][0]
    cases: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("get", "/api/v1/identities/999999", {}, 404, "not_found"),
        ("post", "/api/v1/identities/999999/label", {"label": "x"}, 404, "not_found"),
        ("post", f"/api/v1/identities/{powell}/merge", {"others": [999999]}, 404, "not_found"),
        (
            "post",
            f"/api/v1/identities/{powell}/merge",
            {"others": [powell]},
            400,
            "invalid_request",
        ),
        (
            "post",
            f"/api/v1/identities/{powell}/split",
            {"face_ids": [blair_face["face_id"]]},
            400,
            "invalid_request",
        ),
        ("post", f"/api/v1/identities/{powell}/reject", {"face_ids": [999999]}, 404, "not_found"),
        ("post", "/api/v1/identities/move", {"face_ids": [999999]}, 404, "not_found"),
        ("post", f"/api/v1/identities/{powell}/split", {"face_ids": []}, 422, "invalid_request"),
        (
            "post",
            f"/api/v1/identities/{powell}/label",
            {"label": "x" * 201},
            422,
            "invalid_request",
        ),
    ]
    for method, path, body, status, code in cases:
        r = env.client.request(method, path, json=body or None, headers=sup)
        assert error_code(r, status) == code, (path, body)
    # An investigator cannot act on faces or identities no search of theirs showed.
    user, _ = env.atlas.accounts.create_user("nina.new", Role.INVESTIGATOR, unit="unit-c")
    olly = {"Authorization": "Bearer " + env.atlas.accounts.issue(user, TokenKind.API, 600).secret}
    r = env.client.post(f"/api/v1/identities/{powell}/label", json={"label": "x"}, headers=olly)
    assert error_code(r, 403) == "forbidden"
    r = env.client.post("/api/v1/identities/move", json={"face_ids": [999999]}, headers=olly)
    assert error_code(r, 403) == "forbidden"


def test_cookie_sessions_need_csrf_for_curation_and_search(env: Env) -> None:
    client = TestClient(env.client.app)
    r = log_in(client, "sam.supervisor")
    assert r.status_code == 303
    powell = env.identity_of("Colin_Powell")
    r = client.post(f"/api/v1/identities/{powell}/label", json={"label": "Colin Powell"})
    assert error_code(r, 403) == "csrf_failed"
    r = client.post("/api/v1/identities/search", files=env.probes(), data=CASE)
    assert error_code(r, 403) == "csrf_failed"
    csrf = client.get("/search").text.split('name="csrf-token" content="')[1].split('"')[0]
    r = client.post(
        f"/api/v1/identities/{powell}/label",
        json={"label": "Colin Powell"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and r.json()["actor"] == "sam.supervisor"


def test_identity_search_counts_against_the_search_rate_limit(
    gallery_dir: Path, tmp_path: Path, faces_dir: Path
) -> None:
    root = tmp_path / "atlas"
    shutil.copytree(gallery_dir, root)
    with Atlas.open(settings=Settings(atlas_dir=root, search_rate_per_minute=2)) as atlas:
        people = make_people(atlas)
        with TestClient(create_app(atlas=atlas)) as client:
            env = Env(client, atlas, people, faces_dir)
            face = client.post(
                "/api/v1/search",
                files={"image": ("p.jpg", lfw_photo(faces_dir, "Colin_Powell", 7))},
                data=CASE,
                headers=people.auth("investigator"),
            )
            assert face.status_code == 200
            env.search("investigator")
            r = client.post(
                "/api/v1/identities/search",
                files=env.probes(),
                data=CASE,
                headers=people.auth("investigator"),
            )
            assert error_code(r, 429) == "rate_limited"
            assert len(atlas.audit.entries(action="search")) == 2


# --- the web pages, through the same app ------------------------------------------------


def test_web_identity_pages_and_forms(env: Env) -> None:
    client, csrf = signed_in(env.client, "sam.supervisor")
    blair = env.identity_of("Tony_Blair")
    listing = client.get("/identities?min_faces=1")
    assert listing.status_code == 200 and f'href="/identities/{blair}"' in listing.text
    page = client.get(f"/identities/{blair}")
    assert page.status_code == 200
    assert "Candidate names (unverified)" in page.text and "Photos of Tony Blair" in page.text
    assert 'class="notice"' in page.text and "not identifications" in page.text
    r = client.post(f"/identities/{blair}/label", data={"label": "Tony Blair"})
    assert r.status_code == 403  # no CSRF token
    r = client.post(
        f"/identities/{blair}/label",
        data={"label": "Tony Blair", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(f"/identities/{blair}").text
    assert "labelled by sam.supervisor" in page
    assert "<td>sam.supervisor</td><td>label</td>" in page
    r = client.post(f"/identities/{blair}/faces", data={"action": "split", "csrf_token": csrf})
    assert r.status_code == 400 and "tick at least one photo" in r.text
    r = client.post(f"/identities/{blair}/merge", data={"others": "abc", "csrf_token": csrf})
    assert r.status_code == 400 and "whole number" in r.text
    assert client.get("/identities/999999").status_code == 404


def test_web_identity_search_is_accountable(env: Env) -> None:
    client, csrf = signed_in(env.client, "ivy.investigator")
    files = env.probes()
    r = client.post("/identities/search", files=files, data={"csrf_token": csrf})
    assert r.status_code == 400 and "case number" in r.text
    r = client.post("/identities/search", files=files, data={**CASE, "csrf_token": "x"})
    assert r.status_code == 403
    before = len(env.atlas.audit.entries(action="search", limit=1000))
    r = client.post("/identities/search", files=files, data={**CASE, "csrf_token": csrf})
    assert r.status_code == 200 and "People found for case 2026-0177" in r.text
    assert "not identifications" in r.text
    entries = env.atlas.audit.entries(action="search", limit=1000)
    assert len(entries) == before + 1
    entry = entries[0]
    assert entry.details["interface"] == "web" and entry.details["kind"] == "identity"
    assert entry.actor == "ivy.investigator" and len(entry.details["probe_sha256s"]) == 2
