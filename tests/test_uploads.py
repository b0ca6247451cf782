"""Adding photos from the web app, through the ASGI test client on a fresh atlas with the real
engine and real photos: the empty atlas says what to do; a zip upload becomes a job whose
photos are searchable with their upload as source, hostile entries failing one by one; zip
bombs, oversized bodies and the wrong people are refused before any job starts; WARC and URL
list uploads; every upload audited and its files removed when its job ends."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from faceatlas import Atlas, Settings
from faceatlas.accounts import Role
from faceatlas.server import create_app
from faceatlas.services import Service
from tests.test_api import CASE
from tests.videoclips import CLIP_PEOPLE, people_in_turn
from tests.webfixtures import lfw, write_warc
from tests.webkit import make_user, served, signed_in


@dataclass
class Env:
    admin: TestClient
    admin_csrf: str
    client: TestClient
    atlas: Atlas
    investigator: tuple[TestClient, str]
    """A signed-in investigator's web client and CSRF token."""
    investigator_token: str

    @property
    def service(self) -> Service:
        return served(self.client)

    def upload(self, kind: str, *files: tuple[str, bytes], web: TestClient | None = None) -> object:
        return (web or self.admin).post(
            "/ingest/upload",
            data={"csrf_token": self.admin_csrf, "kind": kind},
            files=[("files", (name, data)) for name, data in files],
            follow_redirects=False,
        )

    def uploads_left(self) -> list[Path]:
        folder = self.atlas.root / "uploads"
        return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("uploads") / "atlas"
    settings = Settings(
        atlas_dir=root,
        upload_max_bytes=4_000_000,
        upload_max_files=5,
        archive_max_entries=20,
        archive_max_total_bytes=5_000_000,
        max_file_bytes=2_000_000,
        video_max_duration_s=3.5,
    )
    stale = root / "uploads" / "left-by-a-stopped-server"
    stale.mkdir(parents=True)
    (stale / "00000").write_bytes(b"old")
    with Atlas.open(settings=settings) as atlas:
        make_user(atlas, "admin", Role.ADMIN)
        token = make_user(atlas, "ivy.investigator", Role.INVESTIGATOR)
        with TestClient(create_app(atlas=atlas)) as client:
            assert not stale.exists()  # removed when the server started
            admin, csrf = signed_in(client, "admin")
            investigator = signed_in(client, "ivy.investigator")
            yield Env(admin, csrf, client, atlas, investigator, token)


def people_zip(known_people: Path, extra: dict[str, bytes]) -> bytes:
    """A folder of real photos (``people/<person>/<file>``) as a zip, with ``extra`` entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for person in ("obama", "biden"):
            for photo in sorted((known_people / person).iterdir()):
                z.write(photo, f"people/{person}/{photo.name}")
        for name, data in extra.items():
            z.writestr(name, data)
    return out.getvalue()


def test_the_empty_atlas_says_what_to_do(env: Env) -> None:
    page = env.admin.get("/search").text
    assert 'id="empty-atlas"' in page and 'href="/ingest/upload"' in page
    home = env.admin.get("/").text
    assert 'id="first-steps"' in home and 'href="/ingest/upload"' in home
    page = env.investigator[0].get("/search").text
    assert "Ask an administrator to add photos" in page and "/ingest/upload" not in page


def test_a_zip_becomes_a_job_and_each_bad_entry_fails_alone(
    env: Env, known_people: Path, probe_photos: Path
) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("hidden.jpg", (known_people / "obama" / "obama2.jpg").read_bytes())
    truncated = (known_people / "biden" / "biden.jpg").read_bytes()[:3000]
    data = people_zip(
        known_people,
        {
            "people/notes.txt": b"who is who",
            "../escape.jpg": truncated,
            "people/more.zip": inner.getvalue(),
            "people/renamed.jpg": inner.getvalue(),
            "people/broken.jpg": truncated,
            "people/huge.bmp": bytes(2_500_000),
            "__MACOSX/people/._obama.jpg": b"metadata",
        },
    )
    r = env.upload("photos", ("people.zip", data))
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    job_id = int(r.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    job = env.service.jobs.wait(job_id, timeout_s=120)
    assert job.status == "finished", job
    counts = job.report["counts"]
    assert counts["new_images"] == 4 and counts["faces"] >= 4
    assert {k: v for k, v in counts.items() if k.startswith("failed:")} == {
        "failed:not_an_image": 1,
        "failed:unsafe_name": 1,
        "failed:nested_archive": 2,
        "failed:image_decode_error": 1,
        "failed:image_too_large": 1,
    }
    assert env.uploads_left() == []  # the upload is gone once its job ended

    page = env.admin.get(f"/ingest/jobs/{job_id}").text
    assert "4 new photo(s)" in page and "<code>unsafe_name</code>" in page
    assert "people.zip/../escape.jpg" in page

    # Who uploaded what: the audit log has the zip's name, size and digest.
    entry = env.service.review.entries(action="upload_started", limit=1)[0]
    assert entry.actor == "admin" and entry.details["job_id"] == job_id
    assert entry.details["files"][0]["name"] == "people.zip"
    assert entry.details["files"][0]["bytes"] == len(data)

    # The photos are searchable; each sighting names the zip entry and its upload.
    r = env.client.post(
        "/api/v1/search",
        files={"image": ("probe.jpg", (probe_photos / "obama1.jpg").read_bytes())},
        data=CASE,
        headers={"Authorization": f"Bearer {env.investigator_token}"},
    )
    assert r.status_code == 200, r.text
    top = r.json()["hits"][0]["sightings"][0]
    assert top["source_kind"] == "upload" and top["upload_job"] == job_id
    assert top["location"] in {
        "people.zip/people/obama/obama.jpg",
        "people.zip/people/obama/obama2.jpg",
    }


def test_videos_in_a_zip_become_faces_with_time_spans_within_the_budget(
    env: Env, faces_dir: Path
) -> None:
    clip = people_in_turn(faces_dir, seconds=2)  # Powell 0-2 s, Blair 2-4 s, Bush 4-6 s
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("clips/turn.mp4", clip)
        z.writestr("clips/minutes.mp4", b"minutes of the meeting, not a video\n" * 20)
    r = env.upload("photos", ("clips.zip", out.getvalue()))
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    job_id = int(r.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    job = env.service.jobs.wait(job_id, timeout_s=120)
    assert job.status == "finished", job
    counts = job.report["counts"]
    assert counts["videos"] == 1 and counts["new_images"] == 1
    # The video budget (3.5 s: frames at 0 to 3 s) holds in a zip as in a folder: no Bush.
    assert counts["video_frames"] == 4 and counts["video_budget:duration"] == 1
    assert counts["faces"] == 2 and counts["failed:not_a_video"] == 1
    for i, person in enumerate(CLIP_PEOPLE[:2]):
        hits = [h for h in env.atlas.search(lfw(faces_dir, person, 3)).hits if h.span]
        assert hits, person
        top = hits[0]
        assert top.span is not None and top.image.format == "mp4"
        assert top.sightings[0].locator == "clips.zip/clips/turn.mp4"
        assert i * 2 <= top.span.start_s <= top.span.end_s < (i + 1) * 2
    assert not [h for h in env.atlas.search(lfw(faces_dir, CLIP_PEOPLE[2], 3)).hits if h.span]


def test_bombs_and_oversized_uploads_are_refused_before_any_job(
    env: Env, known_people: Path
) -> None:
    jobs_before = len(env.service.jobs.list())
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as z:
        for n in range(21):
            z.writestr(f"p{n}.jpg", b"x")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for n in range(3):
            z.writestr(f"zeros{n}.png", bytes(1_900_000))  # 5.7 MB once uncompressed
    refusals = {
        "too many entries": (env.upload("photos", ("many.zip", many.getvalue())), 413),
        "too many bytes": (env.upload("photos", ("bomb.zip", bomb.getvalue())), 413),
        "not a zip": (env.upload("photos", ("x.zip", b"PK\x03\x04 and then nothing")), 422),
        "too many files": (env.upload("photos", *[(f"{n}.jpg", b"x") for n in range(6)]), 400),
        "no file": (env.upload("photos"), 400),
        "body too large": (env.upload("photos", ("big.jpg", bytes(4_200_000))), 413),
        "not a warc": (env.upload("warc", ("a.warc.gz", b"hello")), 400),
        "two warcs": (env.upload("warc", ("a.warc", b"WARC/"), ("b.warc", b"WARC/")), 400),
        "not text": (env.upload("urls", ("list.txt", b"\xff\xfe\x00bad")), 400),
        "bad kind": (env.upload("video", ("a.jpg", b"x")), 400),
    }
    for what, (response, status) in refusals.items():
        assert response.status_code == status, (what, response.text)  # type: ignore[attr-defined]
    page = refusals["too many bytes"][0].text  # type: ignore[attr-defined]
    assert "Nothing was uploaded" in page and "once uncompressed" in page
    assert len(env.service.jobs.list()) == jobs_before
    assert env.uploads_left() == []


def test_only_an_administrator_uploads(env: Env) -> None:
    investigator, csrf = env.investigator
    r = investigator.post(
        "/ingest/upload",
        data={"csrf_token": csrf, "kind": "photos"},
        files=[("files", ("a.jpg", b"x"))],
        follow_redirects=False,
    )
    assert r.status_code == 403
    forged = env.admin.post(
        "/ingest/upload",
        data={"csrf_token": "forged", "kind": "photos"},
        files=[("files", ("a.jpg", b"x"))],
    )
    assert forged.status_code == 403
    anonymous = TestClient(env.client.app).post(
        "/ingest/upload",
        data={"kind": "photos"},
        files=[("files", ("a.jpg", b"x"))],
        follow_redirects=False,
    )
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login")
    assert env.uploads_left() == []


def test_warc_and_url_list_uploads_become_jobs(env: Env, faces_dir: Path, tmp_path: Path) -> None:
    page = b'<html><head><title>Press</title></head><body><img src="/img/p.jpg"></body></html>'
    warc = tmp_path / "press.warc.gz"
    write_warc(
        warc,
        [
            ("http://news.example.org/press.html", page, "text/html"),
            ("http://news.example.org/img/p.jpg", lfw(faces_dir, "Colin_Powell"), "image/jpeg"),
        ],
    )
    r = env.upload("warc", ("press.warc.gz", warc.read_bytes()))
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    job = env.service.jobs.wait(int(r.headers["location"].rsplit("/", 1)[1]), 120)  # type: ignore[attr-defined]
    assert (job.kind, job.target, job.status) == ("warc", "press.warc.gz", "finished")
    assert job.report["counts"]["new_images"] == 1

    urls = b"http://127.0.0.1:9/nobody.jpg\n# a comment\n"
    r = env.upload("urls", ("list.txt", urls))
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    job = env.service.jobs.wait(int(r.headers["location"].rsplit("/", 1)[1]), 120)  # type: ignore[attr-defined]
    assert job.status == "finished" and job.report["counts"]["failed:blocked_address"] == 1
    entry = env.service.review.entries(action="upload_started", limit=1)[0]
    assert json.loads(json.dumps(entry.details))["files"][0]["name"] == "list.txt"
    assert env.uploads_left() == []


def test_the_rest_api_takes_the_same_uploads_within_the_same_bounds(
    env: Env, faces_dir: Path
) -> None:
    path = "/api/v1/jobs/uploads"
    token = make_user(env.atlas, "api.admin", Role.ADMIN, unit="hq")
    bearer = {"Authorization": f"Bearer {token}"}
    folder = io.BytesIO()
    with zipfile.ZipFile(folder, "w") as z:
        for n in (1, 2):
            z.writestr(f"tony/{n}.jpg", lfw(faces_dir, "Tony_Blair", n))
        z.writestr("tony/broken.jpg", lfw(faces_dir, "Tony_Blair", 3)[:2000])
    zipped = [("files", ("tony.zip", folder.getvalue()))]
    r = env.client.post(path, data={"kind": "photos"}, files=zipped, headers=bearer)
    assert r.status_code == 202, r.text
    job = env.service.jobs.wait(r.json()["id"], timeout_s=120)
    assert job.status == "finished" and job.kind == "upload", job
    counts = job.report["counts"]
    assert counts["new_images"] == 2 and counts["failed:image_decode_error"] == 1
    assert env.client.get(f"/api/v1/jobs/{job.id}", headers=bearer).json()["status"] == "finished"
    entry = env.service.review.entries(action="upload_started", limit=1)[0]
    assert entry.actor == "api.admin" and entry.details["job_id"] == job.id

    jobs_before = len(env.service.jobs.list())
    investigator = {"Authorization": f"Bearer {env.investigator_token}"}
    refusals = {
        "not an administrator": (investigator, {"kind": "photos"}, zipped, 403),
        "no credentials": ({}, {"kind": "photos"}, zipped, 401),
        "bad kind": (bearer, {"kind": "video"}, zipped, 400),
        "no file": (bearer, {"kind": "photos"}, [], 400),
        "body too large": (
            bearer,
            {"kind": "photos"},
            [("files", ("a.jpg", bytes(4_200_000)))],
            413,
        ),
    }
    for what, (headers, data, files, status) in refusals.items():
        r = env.client.post(path, data=data, files=files or None, headers=headers)
        assert r.status_code == status, (what, r.text)
        assert "code" in r.json()["error"], (what, r.text)
    assert len(env.service.jobs.list()) == jobs_before
    assert env.uploads_left() == []
