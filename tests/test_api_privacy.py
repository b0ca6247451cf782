"""Privacy administration over REST and on the admin page, through the real ASGI app:
real LFW photos in a real WARC, the real dlib engine, a real SQLite atlas."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from faceatlas import Atlas
from faceatlas.privacy import OptOutStatus
from faceatlas.server import create_app

from .conftest import atlas_settings
from .test_takedown_ingest import ORG, stored_urls, two_domain_warc
from .webfixtures import lfw
from .webkit import People, make_people, signed_in

CONTACT = "requester@example.com"
NOTE = "identity checked by phone on 3 March"


@dataclass
class Env:
    client: TestClient
    atlas: Atlas
    people: People
    root: Path
    warc: Path
    faces_dir: Path

    def post(self, path: str, who: str = "admin", **kwargs: Any) -> Any:
        return self.client.post(f"/api/v1/privacy{path}", headers=self.people.auth(who), **kwargs)

    def get(self, path: str, who: str = "admin", **kwargs: Any) -> Any:
        return self.client.get(f"/api/v1/privacy{path}", headers=self.people.auth(who), **kwargs)

    def blair_request(self) -> int:
        selfies = [lfw(self.faces_dir, "Tony_Blair", n) for n in (10, 11, 12)]
        return self.atlas.privacy.optout_request(selfies, CONTACT).id

    def audit_text(self) -> str:
        """Every audit entry as JSON; never a template (no run of decimals) in it."""
        text = json.dumps([e.as_dict() for e in self.atlas.audit.entries(limit=10_000)])
        assert not re.search(r"(-?\d\.\d{4,}, ){8}", text)
        return text


@pytest.fixture(scope="module")
def warc_atlas_dir(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Path:
    """Blair 1 (and a copy on example.net), Powell, Chirac, Schroeder and Putin from a WARC."""
    folder = tmp_path_factory.mktemp("privacy-api")
    two_domain_warc(folder / "two.warc.gz", faces_dir)
    with Atlas.open(settings=atlas_settings(folder / "atlas")) as atlas:
        assert atlas.ingest(folder / "two.warc.gz").counts["new_images"] == 5
        blair_2 = folder / "blair2"
        blair_2.mkdir()
        (blair_2 / "Tony_Blair_0002.jpg").write_bytes(lfw(faces_dir, "Tony_Blair", 2))
        assert atlas.ingest(blair_2).counts["new_images"] == 1
    return folder


@pytest.fixture
def env(warc_atlas_dir: Path, tmp_path: Path, faces_dir: Path) -> Iterator[Env]:
    root = tmp_path / "atlas"
    shutil.copytree(warc_atlas_dir / "atlas", root)
    warc = tmp_path / "again.warc.gz"
    shutil.copy(warc_atlas_dir / "two.warc.gz", warc)
    with Atlas.open(settings=atlas_settings(root, max_upload_bytes=1_500_000)) as atlas:
        people = make_people(atlas)
        with TestClient(create_app(atlas=atlas)) as client:
            yield Env(client, atlas, people, root, warc, faces_dir)


def error_code(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    return str(body["error"]["code"])


def test_approve_over_rest_erases_blocks_and_is_audited(env: Env) -> None:
    request_id = env.blair_request()
    pending = env.get("/optouts", params={"status": "pending"}).json()["requests"]
    assert [(r["id"], r["contact"], r["templates"]) for r in pending] == [(request_id, CONTACT, 3)]
    assert error_code(env.post(f"/optouts/{request_id}/approve", "supervisor", json={}), 403) == (
        "forbidden"
    )
    r = env.post(f"/optouts/{request_id}/approve", json={"note": NOTE})
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["erased"]["faces"] == 2 and receipt["threshold_source"] == "default"
    assert receipt["blocked_from_now_on"] is True
    shown = env.get(f"/optouts/{request_id}").json()
    assert shown["status"] == "completed" and shown["decided_by"] == "admin"
    assert shown["receipt"] == receipt
    assert error_code(env.post(f"/optouts/{request_id}/approve", json={}), 409) == "conflict"
    # none of his faces is found any more, at any threshold; the others still are
    hits = env.atlas.search(lfw(env.faces_dir, "Tony_Blair", 3), min_similarity=-1).hits
    assert hits and all(
        "blair" not in s.locator.lower() for h in hits for s in h.sightings
    )  # only other people's faces remain
    assert env.atlas.catalog.counts()["images"] == 4
    # audited as the signed-in admin, with no contact address and no note
    (entry,) = env.atlas.audit.entries(action="privacy_optout_erasure")
    assert (entry.actor, entry.actor_role) == ("admin", "admin")
    assert entry.details["erased"]["faces"] == 2
    assert CONTACT not in env.audit_text() and NOTE not in env.audit_text()
    assert env.client.get("/api/v1/audit/verify", headers=env.people.auth("admin")).json()["ok"]


def test_reject_with_a_note_deletes_the_templates(env: Env) -> None:
    request_id = env.blair_request()
    r = env.post(f"/optouts/{request_id}/reject", json={"note": NOTE})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["templates"]) == ("rejected", 0)
    assert env.atlas.privacy.optout(request_id).status is OptOutStatus.REJECTED
    assert error_code(env.post(f"/optouts/{request_id}/reject", json={}), 409) == "conflict"
    assert error_code(env.get("/optouts/999"), 404) == "not_found"
    (entry,) = env.atlas.audit.entries(action="privacy_optout_rejected")
    assert (entry.actor, entry.actor_role) == ("admin", "admin")
    assert NOTE not in env.audit_text() and CONTACT not in env.audit_text()


def test_takedown_over_rest_erases_the_domain_and_blocks_its_ingest(env: Env) -> None:
    assert error_code(env.post("/takedowns", json={"domain": "example.org"}), 400) == (
        "case_required"
    )
    bad = env.post("/takedowns", json={"domain": "https://example.org/", "case_ref": "TD-7"})
    assert error_code(bad, 400) == "invalid_request"
    r = env.post("/takedowns", json={"domain": "Example.ORG", "case_ref": "TD-7"})
    assert r.status_code == 200, r.text
    assert r.json()["domain"] == "example.org" and r.json()["erased"]["images"] == 3
    (listed,) = env.get("/takedowns").json()["takedowns"]
    assert (listed["domain"], listed["actor"], listed["case_ref"]) == (
        "example.org",
        "admin",
        "TD-7",
    )
    report = env.atlas.ingest(env.warc)
    assert report.counts["failed:taken_down"] == 3 and report.counts["new_images"] == 0
    assert not [u for u in stored_urls(env.root) if "example.org" in u[0] + u[1]]
    (entry,) = env.atlas.audit.entries(action="privacy_takedown_domain")
    assert (entry.actor, entry.actor_role, entry.case_number) == ("admin", "admin", "TD-7")
    assert entry.details["target"] == "domain:example.org"
    assert env.atlas.audit.verify().ok


def test_erasure_by_id_and_url_needs_a_case_and_existing_ids(env: Env) -> None:
    faces = env.atlas.catalog.faces(range(1, 50))
    powell = next(f for f in faces.values() if f.sightings[0].locator == ORG + "/powell.jpg")
    assert error_code(env.post("/erasures/faces", json={"face_ids": [powell.id]}), 400) == (
        "case_required"
    )
    missing = env.post("/erasures/faces", json={"face_ids": [99999], "case_ref": "ER-1"})
    assert error_code(missing, 404) == "not_found"
    r = env.post("/erasures/faces", json={"face_ids": [powell.id], "case_ref": "ER-1"})
    assert r.json()["faces"] == 1 and r.json()["images"] == 1
    r = env.post(
        "/erasures/url", json={"url": "http://daily.example.net/putin.jpg", "case_ref": "ER-2"}
    )
    assert r.json()["images"] == 1
    chirac = next(f for f in faces.values() if f.sightings[0].locator.endswith("/chirac.jpg"))
    r = env.post("/erasures/images", json={"image_ids": [chirac.image.id], "case_ref": "ER-3"})
    assert r.json()["sightings"] == 1 and r.json()["faces"] == 1
    log = env.get("/log", params={"limit": 3}).json()["entries"]
    assert [(e["action"], e["case_ref"], e["actor"]) for e in log] == [
        ("erase_images", "ER-3", "admin"),
        ("erase_source_url", "ER-2", "admin"),
        ("erase_faces", "ER-1", "admin"),
    ]
    assert env.atlas.catalog.counts()["images"] == 3


def test_subject_access_and_retention(env: Env) -> None:
    selfie = ("s.jpg", lfw(env.faces_dir, "Colin_Powell", 3), "image/jpeg")
    fields = {"requester": "C. Powell", "verified_by": "J. Doe (DPO)", "case_ref": "SAR-4"}
    missing = env.post("/access", files=[("selfies", selfie)], data={**fields, "case_ref": ""})
    assert error_code(missing, 400) == "case_required"
    nobody = env.post("/access", files=[("selfies", selfie)], data={**fields, "verified_by": ""})
    assert error_code(nobody, 400) == "invalid_request"
    r = env.post("/access", files=[("selfies", selfie)], data={**fields, "thumbnails": "false"})
    assert r.status_code == 200, r.text
    export = r.json()
    assert export["source_urls"] == [ORG + "/index.html", ORG + "/powell.jpg"]
    assert (
        export["verified_by"] == "J. Doe (DPO)"
        and "thumbnail_jpeg_base64" not in export["faces"][0]
    )
    (entry,) = env.atlas.audit.entries(action="privacy_subject_access")
    assert (entry.actor, entry.case_number) == ("admin", "SAR-4")
    assert entry.details["verified_by"] == "J. Doe (DPO)"
    r = env.post("/retention")
    assert r.status_code == 200 and set(r.json()) == {"thumbnails", "probes", "audit_entries"}
    assert env.get("/log").json()["entries"][0]["action"] == "subject_access"


def test_cookie_sessions_need_csrf_for_privacy_actions(env: Env) -> None:
    client, csrf = signed_in(env.client, "admin")
    body = {"domain": "example.net", "case_ref": "TD-8"}
    assert error_code(client.post("/api/v1/privacy/takedowns", json=body), 403) == "csrf_failed"
    forged = client.post("/api/v1/privacy/takedowns", json=body, headers={"X-CSRF-Token": "x"})
    assert error_code(forged, 403) == "csrf_failed"
    assert env.atlas.privacy.takedowns() == []
    r = client.post("/api/v1/privacy/takedowns", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["erased"]["images"] == 4  # all but powell, blair 2
    assert client.get("/api/v1/privacy/takedowns").json()["takedowns"][0]["domain"] == "example.net"


def test_admin_privacy_page_reviews_optouts_and_takes_domains_down(env: Env) -> None:
    approve_id, reject_id = env.blair_request(), env.blair_request()
    supervisor, _ = signed_in(env.client, "sam.supervisor")
    assert supervisor.get("/admin/privacy").status_code == 403
    assert 'href="/admin/privacy"' not in supervisor.get("/search").text
    client, csrf = signed_in(env.client, "admin")
    assert 'href="/admin/privacy"' in client.get("/search").text
    page = client.get("/admin/privacy")
    assert page.status_code == 200 and f'data-optout="{approve_id}"' in page.text
    form = {"action": "approve", "note": NOTE}
    forged = client.post(f"/admin/privacy/optouts/{approve_id}", data={**form, "csrf_token": "x"})
    assert forged.status_code == 403
    assert env.atlas.privacy.optout(approve_id).status is OptOutStatus.PENDING
    done = client.post(f"/admin/privacy/optouts/{approve_id}", data={**form, "csrf_token": csrf})
    assert done.status_code == 200 and "erased 2 face(s)" in done.text
    assert f'data-optout="{approve_id}"' not in done.text
    rejected = client.post(
        f"/admin/privacy/optouts/{reject_id}",
        data={"action": "reject", "note": "not verifiable", "csrf_token": csrf},
    )
    assert "rejected" in rejected.text and env.atlas.privacy.optout(reject_id).decided_by == "admin"
    no_case = client.post(
        "/admin/privacy/takedowns", data={"domain": "example.org", "csrf_token": csrf}
    )
    assert no_case.status_code == 400 and "case reference" in no_case.text
    taken = client.post(
        "/admin/privacy/takedowns",
        data={"domain": "example.org", "case_ref": "TD-9", "csrf_token": csrf},
    )
    assert taken.status_code == 200 and "example.org taken down" in taken.text
    assert "<td>example.org</td>" in taken.text and "takedown_domain" in taken.text
    assert env.atlas.ingest(env.warc).counts["failed:taken_down"] == 3
    assert env.atlas.audit.verify().ok
    assert CONTACT not in env.audit_text() and NOTE not in env.audit_text()
