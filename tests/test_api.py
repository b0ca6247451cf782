"""REST API through the ASGI test client, on a real atlas, real models and real photos."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from faceatlas import Atlas, Settings
from faceatlas.accounts import Role
from faceatlas.search.bands import similarity_band
from faceatlas.server import create_app
from faceatlas.services import SearchRequest, Service
from tests.conftest import LEAD_SIMILARITY
from tests.webfixtures import lfw, write_warc
from tests.webkit import PASSWORD, People, log_in, make_people, signed_in

CASE = {"case_number": "2026-0142", "purpose": "missing person"}


@dataclass
class Env:
    client: TestClient
    atlas: Atlas
    people: People
    probes: Path
    faces_dir: Path

    def photo(self, name: str) -> bytes:
        return (self.probes / name).read_bytes()

    def search(self, who: str, data: bytes, **fields: str) -> dict[str, object]:
        body = {**CASE, **fields}
        r = self.client.post(
            "/api/v1/search",
            files={"image": ("p.jpg", data)},
            data=body,
            headers=self.people.auth(who),
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def env(
    pages_atlas_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    probe_photos: Path,
    faces_dir: Path,
) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("api") / "atlas"
    shutil.copytree(pages_atlas_dir, root)
    ingest_folder = tmp_path_factory.mktemp("incoming")
    for name in ("Colin_Powell_0001.jpg", "Colin_Powell_0002.jpg"):
        shutil.copy(faces_dir / "lfw" / "images" / "Colin_Powell" / name, ingest_folder / name)
    page = (
        b"<html><head><title>Press photos</title></head>"
        b'<body><img src="/img/blair.jpg" alt="Tony Blair"></body></html>'
    )
    write_warc(
        ingest_folder / "press.warc.gz",
        [
            ("http://news.example.org/press.html", page, "text/html"),
            ("http://news.example.org/img/blair.jpg", lfw(faces_dir, "Tony_Blair"), "image/jpeg"),
        ],
    )
    settings = Settings(
        atlas_dir=root,
        max_upload_bytes=1_500_000,
        max_pixels=6_000_000,
        ingest_folders={"incoming": ingest_folder},
    )
    with Atlas.open(settings=settings) as atlas:
        people = make_people(atlas)
        with TestClient(create_app(atlas=atlas)) as client:
            yield Env(client, atlas, people, probe_photos, faces_dir)


def error_of(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"code", "message", "status"}
    assert err["status"] == response.status_code  # type: ignore[attr-defined]
    assert isinstance(err["message"], str) and err["message"]
    return err  # type: ignore[no-any-return]


# Every endpoint, with the least role allowed to call it.
ENDPOINTS = [
    ("get", "/api/v1/search/purposes", "investigator"),
    ("post", "/api/v1/faces/detect", "investigator"),
    ("post", "/api/v1/search", "investigator"),
    ("post", "/api/v1/video/tracks", "investigator"),
    ("post", "/api/v1/search/video", "investigator"),
    ("get", "/api/v1/faces/1", "investigator"),
    ("get", "/api/v1/faces/1/thumbnail", "investigator"),
    ("get", "/api/v1/auth/me", "investigator"),
    ("get", "/api/v1/auth/tokens", "investigator"),
    ("delete", "/api/v1/auth/tokens/999", "investigator"),
    ("get", "/api/v1/audit/searches", "investigator"),
    ("get", "/api/v1/audit/summary", "supervisor"),
    ("get", "/api/v1/audit/entries", "admin"),
    ("get", "/api/v1/audit/verify", "admin"),
    ("get", "/api/v1/users", "admin"),
    ("post", "/api/v1/users", "admin"),
    ("patch", "/api/v1/users/1", "admin"),
    ("post", "/api/v1/users/1/password", "admin"),
    ("post", "/api/v1/users/1/unlock", "admin"),
    ("get", "/api/v1/settings", "admin"),
    ("get", "/api/v1/jobs", "admin"),
    ("post", "/api/v1/jobs", "admin"),
    ("post", "/api/v1/jobs/uploads", "admin"),
    ("get", "/api/v1/jobs/1", "admin"),
    ("get", "/api/v1/identities", "investigator"),
    ("post", "/api/v1/identities/search", "investigator"),
    ("post", "/api/v1/identities/move", "investigator"),
    ("post", "/api/v1/identities/cluster", "supervisor"),
    ("get", "/api/v1/identities/1", "investigator"),
    ("post", "/api/v1/identities/1/merge", "investigator"),
    ("post", "/api/v1/identities/1/split", "investigator"),
    ("post", "/api/v1/identities/1/label", "investigator"),
    ("post", "/api/v1/identities/1/reject", "investigator"),
    ("get", "/api/v1/privacy/optouts", "admin"),
    ("get", "/api/v1/privacy/optouts/1", "admin"),
    ("post", "/api/v1/privacy/optouts/1/approve", "admin"),
    ("post", "/api/v1/privacy/optouts/1/reject", "admin"),
    ("post", "/api/v1/privacy/erasures/faces", "admin"),
    ("post", "/api/v1/privacy/erasures/images", "admin"),
    ("post", "/api/v1/privacy/erasures/url", "admin"),
    ("get", "/api/v1/privacy/takedowns", "admin"),
    ("post", "/api/v1/privacy/takedowns", "admin"),
    ("post", "/api/v1/privacy/access", "admin"),
    ("post", "/api/v1/privacy/retention", "admin"),
    ("get", "/api/v1/privacy/log", "admin"),
    ("get", "/api/v1/cases", "investigator"),
    ("post", "/api/v1/cases", "investigator"),
    ("get", "/api/v1/cases/1", "investigator"),
    ("post", "/api/v1/cases/1/members", "investigator"),
    ("post", "/api/v1/cases/1/members/remove", "investigator"),
    ("post", "/api/v1/cases/1/close", "investigator"),
    ("get", "/api/v1/cases/1/report.html", "investigator"),
    ("get", "/api/v1/cases/1/report.pdf", "investigator"),
    ("get", "/api/v1/cases/candidates/1/comparison", "investigator"),
    ("post", "/api/v1/cases/candidates/1/decision", "investigator"),
    ("get", "/api/v1/cases/decisions/1/verification-task", "investigator"),
    ("post", "/api/v1/cases/decisions/1/verify", "investigator"),
    ("post", "/api/v1/search/batch", "investigator"),
    ("get", "/api/v1/search/batches", "investigator"),
    ("get", "/api/v1/search/batches/1", "investigator"),
    ("get", "/api/v1/search/batches/1/report", "investigator"),
    ("get", "/api/v1/search/batches/1/report.csv", "investigator"),
    ("get", "/api/v1/search/batches/1/case-report.html", "investigator"),
    ("post", "/api/v1/search/group", "investigator"),
    ("post", "/api/v1/watchlist/entries", "investigator"),
    ("get", "/api/v1/watchlist/entries", "investigator"),
    ("get", "/api/v1/watchlist/entries/1", "investigator"),
    ("delete", "/api/v1/watchlist/entries/1", "investigator"),
    ("post", "/api/v1/watchlist/entries/1/approve", "investigator"),
    ("post", "/api/v1/watchlist/entries/1/renew", "investigator"),
    ("get", "/api/v1/watchlist/alerts", "investigator"),
    ("post", "/api/v1/watchlist/deliveries", "admin"),
]
PUBLIC = [
    ("get", "/api/v1/health"),
    ("post", "/api/v1/auth/tokens"),
    ("post", "/api/v1/auth/password"),
]
RANK = {"investigator": 1, "supervisor": 2, "admin": 3}


def test_openapi_documents_every_endpoint_with_the_error_shape(env: Env) -> None:
    spec = env.client.get("/api/v1/openapi.json").json()
    documented = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    templates = {
        "faces": "{face_id}",
        "users": "{user_id}",
        "jobs": "{job_id}",
        "tokens": "{token_id}",
        "identities": "{identity_id}",
        "optouts": "{request_id}",
        "cases": "{case_id}",
        "candidates": "{candidate_id}",
        "decisions": "{decision_id}",
        "batches": "{batch_id}",
        "entries": "{entry_id}",
    }

    def template(path: str) -> str:
        parts = path.split("/")
        return "/".join(
            templates[parts[i - 1]] if part.isdigit() else part for i, part in enumerate(parts)
        )

    expected = {(m, template(p)) for m, p, _ in ENDPOINTS} | set(PUBLIC)
    assert documented == expected
    assert "ErrorResponse" in spec["components"]["schemas"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), f"{method} {path} has no summary"
            assert (
                "200" in op["responses"]
                or "201" in op["responses"]
                or "202" in op["responses"]
                or "204" in op["responses"]
            )
            if (method, path) not in PUBLIC:
                ref = op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorResponse"), (method, path)
    # Every documented path is described in the REST reference.
    reference = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()
    for method, path in documented:
        assert f"{method.upper()} {path}" in reference, (
            f"{method.upper()} {path} missing in docs/api.md"
        )


@pytest.mark.parametrize(("method", "path", "least"), ENDPOINTS)
def test_every_endpoint_needs_a_token_and_the_right_role(
    env: Env, method: str, path: str, least: str
) -> None:
    r = env.client.request(method, path)
    assert r.status_code == 401
    assert error_of(r)["code"] == "unauthenticated"
    assert r.headers["www-authenticate"] == "Bearer"
    r = env.client.request(method, path, headers={"Authorization": "Bearer not-a-real-token"})
    assert r.status_code == 401
    for who in ("investigator", "supervisor", "admin"):
        if RANK[who] < RANK[least]:
            r = env.client.request(method, path, headers=env.people.auth(who))
            assert r.status_code == 403, (who, r.text)
            assert error_of(r)["code"] == "forbidden"


HUGE = 2**63  # one past the largest 64-bit row id


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, _ in ENDPOINTS if any(x.isdigit() for x in p.split("/"))]
)
def test_an_id_out_of_range_is_a_bad_request_not_a_server_error(
    env: Env, method: str, path: str
) -> None:
    huge = "/".join(str(HUGE) if part.isdigit() else part for part in path.split("/"))
    r = env.client.request(method, huge, headers=env.people.auth("admin"), json={})
    assert r.status_code == 422, r.text
    assert error_of(r)["code"] == "invalid_request"


def test_ids_out_of_range_in_a_body_or_a_web_page_are_bad_requests(env: Env) -> None:
    admin = env.people.auth("admin")
    for path, body in (
        ("/api/v1/privacy/erasures/faces", {"face_ids": [HUGE], "case_ref": "2026-0142"}),
        ("/api/v1/privacy/erasures/images", {"image_ids": [HUGE], "case_ref": "2026-0142"}),
        ("/api/v1/identities/1/merge", {"others": [HUGE]}),
        ("/api/v1/identities/move", {"face_ids": [1], "target": HUGE}),
    ):
        r = env.client.post(path, headers=admin, json=body)
        assert r.status_code == 422, (path, r.text)
        assert error_of(r)["code"] == "invalid_request"
    web, _ = signed_in(env.client, "admin")
    assert web.get(f"/faces/{HUGE}").status_code == 422
    assert web.get(f"/identities/{HUGE}").status_code == 422


def test_a_chunked_upload_over_the_limit_is_413(env: Env) -> None:
    """No Content-Length to refuse up front: the body is counted as it arrives."""
    boundary = "faceatlas-test"

    def body() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="case_number"\r\n\r\n'
            f"2026-0142\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f'name="purpose"\r\n\r\nmissing person\r\n--{boundary}\r\n'
            'Content-Disposition: form-data; name="image"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        for _ in range(4):  # 4 MiB against a 1.5 MB limit
            yield b"\0" * (1 << 20)
        yield f"\r\n--{boundary}--\r\n".encode()

    for path in ("/api/v1/search", "/api/v1/faces/detect"):
        r = env.client.post(
            path,
            content=body(),
            headers={
                **env.people.auth("investigator"),
                "content-type": f"multipart/form-data; boundary={boundary}",
            },
        )
        assert r.status_code == 413, r.text
        assert error_of(r)["code"] == "image_too_large"


def test_wrong_passwords_slow_the_sender_not_the_owner(env: Env) -> None:
    accounts = env.atlas.accounts
    user, _ = accounts.create_user(
        "tess.target", Role.INVESTIGATOR, unit="unit-a", password=PASSWORD
    )
    guess = {"username": "tess.target", "password": "not it at all"}
    codes = [env.client.post("/api/v1/auth/tokens", json=guess).status_code for _ in range(7)]
    assert codes[:5] == [401] * 5 and codes[6] == 429
    r = env.client.post(
        "/api/v1/auth/tokens", json={"username": "tess.target", "password": PASSWORD}
    )
    assert r.status_code == 429  # this address waits, even with the right password
    assert "wrong passwords" in error_of(r)["message"] and "search" not in error_of(r)["message"]
    assert int(r.headers["retry-after"]) >= 1
    admin = env.people.auth("admin")
    r = env.client.post(f"/api/v1/users/{user.id}/unlock", headers=admin)
    assert r.status_code == 200 and r.json()["addresses_freed"] == 1
    r = env.client.post(
        "/api/v1/auth/tokens", json={"username": "tess.target", "password": PASSWORD}
    )
    assert r.status_code == 201


def test_health_is_public(env: Env) -> None:
    body = env.client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["indexed_faces"] >= 8


def test_search_is_refused_without_case_number_or_purpose(env: Env) -> None:
    data = env.photo("obama1.jpg")
    before = len(env.atlas.audit.entries(action="search", limit=1000))
    for fields in (
        {},
        {"purpose": "missing person"},
        {"case_number": "   ", "purpose": "missing person"},
        {"case_number": "2026-0142"},
        {"case_number": "2026-0142", "purpose": "curiosity"},
        {"case_number": "../../etc", "purpose": "missing person"},
    ):
        r = env.client.post(
            "/api/v1/search",
            files={"image": ("p.jpg", data)},
            data=fields,
            headers=env.people.auth("investigator"),
        )
        assert r.status_code == 400, fields
        assert error_of(r)["code"] == "case_required"
    assert len(env.atlas.audit.entries(action="search", limit=1000)) == before


def test_similarity_bands_by_hand() -> None:
    assert similarity_band(0.99, 0.96)[0] == "strong"
    assert similarity_band(0.97, 0.96)[0] == "moderate"
    assert similarity_band(0.965, 0.96)[0] == "weak"
    assert similarity_band(0.95, 0.96)[0] == "below threshold"
    assert similarity_band(0.95, 0.80)[0] == "strong"


def test_searches_side_by_side_return_what_they_return_alone(env: Env) -> None:
    """The server's path (checks, engine gate, audit) from several threads at once: on a
    thread-safe engine the searches overlap; each returns what it returns alone, and every
    one is audited on an intact chain."""
    service = Service(env.atlas)
    service.atlas.engine.load()
    assert service.gate.concurrent is env.atlas.engine.thread_safe
    request = SearchRequest(case_number="2026-0142", purpose="missing person")
    photos = [env.photo(n) for n in ("obama1.jpg", "alex_lacamoire1.jpg", "johnsnow_test1.jpg")]

    def ranked(data: bytes) -> list[tuple[int, float]]:
        result = service.search(env.people.investigator, data, request).result
        return [(h.face_id, round(h.similarity, 5)) for h in result.hits]

    alone = [ranked(p) for p in photos]
    before = env.atlas.audit.entries(action="search", limit=1)[0].seq
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(ranked, photos * 4))
    assert together == alone * 4
    # each search is one ``search`` entry (its case's record of it is another entry)
    after = env.atlas.audit.entries(action="search", limit=1000)
    assert len([e for e in after if e.seq > before]) == len(together)
    assert env.atlas.audit.verify().ok


def test_search_returns_leads_with_sources_and_is_audited(env: Env) -> None:
    data = env.photo("obama1.jpg")
    body = env.search("investigator", data)
    assert "not identifications" in body["notice"]
    top = body["hits"][0]
    assert top["sightings"][0]["page_url"] == "https://example.org/people/obama"
    assert top["sightings"][0]["page_title"] == "Photos of Obama"
    assert top["similarity"] > body["threshold"]
    assert top["band"] == similarity_band(top["similarity"], body["threshold"])[0]
    entry = env.atlas.audit.entries(action="search", limit=1)[0]
    assert entry.seq == body["search_id"]
    assert entry.actor == "ivy.investigator"
    assert (entry.case_number, entry.purpose) == ("2026-0142", "missing person")
    assert entry.details["probe_sha256"] == body["probe_sha256"]
    assert entry.details["result_face_ids"] == [h["face_id"] for h in body["hits"]]
    assert entry.details["parameters"]["top_k"] == 10
    # top_k and threshold are honoured
    narrow = env.search("investigator", data, top_k="1", threshold="0.5")
    assert len(narrow["hits"]) == 1 and narrow["threshold"] == 0.5
    assert narrow["threshold_source"] == "request"
    lax = env.search("investigator", data, threshold=str(LEAD_SIMILARITY))
    assert lax["hits"][0]["band"] == "strong"  # well over half-way from the lax threshold to 1


def test_group_photo_lists_faces_and_searches_the_chosen_one(env: Env) -> None:
    data = env.photo("obama_and_biden.jpg")
    r = env.client.post(
        "/api/v1/faces/detect",
        files={"image": ("g.jpg", data)},
        headers=env.people.auth("investigator"),
    )
    faces = r.json()["faces"]
    assert len(faces) >= 2
    pages = set()
    for face in faces[:2]:
        body = env.search("investigator", data, face=str(face["index"]))
        assert body["selected_face"] == face["index"]
        pages.add(body["hits"][0]["sightings"][0]["page_url"])
    assert pages == {"https://example.org/people/obama", "https://example.org/people/biden"}
    r = env.client.post(
        "/api/v1/search",
        files={"image": ("g.jpg", data)},
        data={**CASE, "face": "99"},
        headers=env.people.auth("investigator"),
    )
    assert r.status_code == 400 and error_of(r)["code"] == "invalid_request"


def test_result_details_and_thumbnails_only_for_faces_shown(env: Env) -> None:
    body = env.search("investigator", env.photo("alex_lacamoire1.jpg"))
    shown = body["hits"][0]["face_id"]
    detail = env.client.get(
        f"/api/v1/faces/{shown}", headers=env.people.auth("investigator")
    ).json()
    assert detail["sightings"][0]["page_url"].startswith("https://example.org/people/")
    thumb = env.client.get(
        body["hits"][0]["thumbnail_url"], headers=env.people.auth("investigator")
    )
    assert thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).format == "JPEG"
    # Another investigator never searched: the same face is refused to them.
    r = env.client.get(f"/api/v1/faces/{shown}", headers=env.people.auth("other_unit"))
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    r = env.client.get(f"/api/v1/faces/{shown}/thumbnail", headers=env.people.auth("other_unit"))
    assert r.status_code == 403
    # Supervisors review results.
    assert (
        env.client.get(f"/api/v1/faces/{shown}", headers=env.people.auth("supervisor")).status_code
        == 200
    )
    r = env.client.get("/api/v1/faces/999999", headers=env.people.auth("admin"))
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (120, 130, 140)).save(buf, "PNG")
    return buf.getvalue()


def test_bad_uploads_get_typed_errors_and_the_server_keeps_serving(env: Env) -> None:
    good = env.photo("obama1.jpg")
    truncated = good[: len(good) // 3]
    no_face = (env.faces_dir / "groups" / "dlib_voc" / "dogs.jpg").read_bytes()
    cases = [
        (truncated, 422, "image_decode_error"),
        (b"%PDF-1.4 this is not an image at all" * 10, 422, "image_decode_error"),
        (_png(3000, 2500), 413, "image_too_large"),  # 7.5 Mpx over the 6 Mpx limit
        (b"\xff\xd8\xff" + b"0" * 1_600_000, 413, "image_too_large"),  # over the byte limit
        (no_face, 422, "no_face"),
        (b"", 422, "image_decode_error"),
    ]
    for data, status, code in cases:
        for path, fields in (("/api/v1/search", CASE), ("/api/v1/faces/detect", {})):
            if code == "no_face" and path.endswith("detect"):
                r = env.client.post(
                    path, files={"image": ("x.jpg", data)}, headers=env.people.auth("investigator")
                )
                assert r.status_code == 200 and r.json()["faces"] == []
                continue
            r = env.client.post(
                path,
                files={"image": ("../../x.jpg", data)},
                data=fields,
                headers=env.people.auth("investigator"),
            )
            assert r.status_code == status, (path, code, r.text)
            assert error_of(r)["code"] == code
    r = env.client.post("/api/v1/search", data=CASE, headers=env.people.auth("investigator"))
    assert r.status_code == 400 and error_of(r)["code"] == "invalid_request"
    assert env.client.get("/api/v1/health").json()["status"] == "ok"
    assert env.search("investigator", good)["hits"]


def test_oversize_body_is_refused_before_parsing(env: Env) -> None:
    big = b"x" * 3_000_000
    r = env.client.post(
        "/api/v1/search",
        files={"image": ("x.jpg", big)},
        data=CASE,
        headers=env.people.auth("investigator"),
    )
    assert r.status_code == 413 and error_of(r)["code"] == "image_too_large"


def test_security_headers(env: Env) -> None:
    for path in ("/api/v1/health", "/login"):
        h = env.client.get(path).headers
        assert "script-src 'self'" in h["content-security-policy"]
        assert "unsafe-inline" not in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY"
        assert h["cache-control"] == "no-store"


def test_tokens_are_issued_listed_and_revoked(env: Env) -> None:
    r = env.client.post(
        "/api/v1/auth/tokens",
        json={"username": "ivy.investigator", "password": PASSWORD, "name": "laptop"},
    )
    assert r.status_code == 201
    token = r.json()
    auth = {"Authorization": f"Bearer {token['token']}"}
    assert env.client.get("/api/v1/auth/me", headers=auth).json()["username"] == "ivy.investigator"
    listed = env.client.get("/api/v1/auth/tokens", headers=auth).json()
    assert token["id"] in [t["id"] for t in listed]
    assert "token" not in listed[0] and "token_sha256" not in listed[0]
    assert env.client.delete(f"/api/v1/auth/tokens/{token['id']}", headers=auth).status_code == 204
    r = env.client.get("/api/v1/auth/me", headers=auth)
    assert r.status_code == 401 and error_of(r)["code"] == "unauthenticated"
    r = env.client.post(
        "/api/v1/auth/tokens", json={"username": "ivy.investigator", "password": "wrong password!"}
    )
    assert r.status_code == 401


def test_admin_manages_users_with_one_time_passwords(env: Env) -> None:
    admin = env.people.auth("admin")
    r = env.client.post(
        "/api/v1/users",
        json={"username": "nina.new", "role": "investigator", "unit": "unit-a"},
        headers=admin,
    )
    assert r.status_code == 201
    created = r.json()
    otp = created["one_time_password"]
    assert created["user"]["must_change_password"] is True
    assert "password_hash" not in created["user"]
    r = env.client.post(
        "/api/v1/users", json={"username": "nina.new", "role": "investigator"}, headers=admin
    )
    assert r.status_code == 409 and error_of(r)["code"] == "conflict"
    # The one-time password cannot mint tokens until it is changed.
    r = env.client.post("/api/v1/auth/tokens", json={"username": "nina.new", "password": otp})
    assert r.status_code == 403
    for weak in (otp, "password1234567", "nina.new12345", "qwertyuiop123"):  # one-time, guessable
        r = env.client.post(
            "/api/v1/auth/password",
            json={"username": "nina.new", "current_password": otp, "new_password": weak},
        )
        assert r.status_code == 400, weak
        assert error_of(r)["code"] == "invalid_request"
    r = env.client.post(
        "/api/v1/auth/password",
        json={
            "username": "nina.new",
            "current_password": otp,
            "new_password": "a much longer secret",
        },
    )
    assert r.status_code == 204
    token = env.client.post(
        "/api/v1/auth/tokens", json={"username": "nina.new", "password": "a much longer secret"}
    ).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert env.client.get("/api/v1/auth/me", headers=auth).status_code == 200
    users = env.client.get("/api/v1/users", headers=admin).json()
    nina = next(u for u in users if u["username"] == "nina.new")
    r = env.client.patch(f"/api/v1/users/{nina['id']}", json={"active": False}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    assert env.client.get("/api/v1/auth/me", headers=auth).status_code == 401
    r = env.client.patch(
        f"/api/v1/users/{env.people.admin.id}", json={"active": False}, headers=admin
    )
    assert r.status_code == 403
    r = env.client.post(f"/api/v1/users/{nina['id']}/password", headers=admin)
    assert len(r.json()["one_time_password"]) >= 12
    actions = [e.action for e in env.atlas.audit.entries(limit=20)]
    assert {"user_created", "user_updated", "password_reset", "token_created"} <= set(actions)


def test_audit_review_is_scoped_by_role_and_unit(env: Env) -> None:
    env.search("investigator", env.photo("obama1.jpg"), case_number="A-100")
    env.search("other_unit", env.photo("obama1.jpg"), case_number="B-200")
    sup = env.client.get("/api/v1/audit/searches", headers=env.people.auth("supervisor")).json()[
        "entries"
    ]
    assert {e["actor"] for e in sup} == {"ivy.investigator"}
    by_case = env.client.get(
        "/api/v1/audit/searches",
        params={"case_number": "A-100"},
        headers=env.people.auth("supervisor"),
    ).json()["entries"]
    assert [e["case_number"] for e in by_case] == ["A-100"]
    own = env.client.get("/api/v1/audit/searches", headers=env.people.auth("other_unit")).json()[
        "entries"
    ]
    assert {e["actor"] for e in own} == {"olly.other"}
    r = env.client.get(
        "/api/v1/audit/searches",
        params={"actor": "ivy.investigator"},
        headers=env.people.auth("other_unit"),
    )
    assert r.status_code == 403
    summary = env.client.get("/api/v1/audit/summary", headers=env.people.auth("supervisor")).json()
    assert [row["key"] for row in summary["by_user"]] == ["ivy.investigator"]
    assert "A-100" in {row["key"] for row in summary["by_case"]}
    assert "B-200" not in {row["key"] for row in summary["by_case"]}
    everything = env.client.get("/api/v1/audit/summary", headers=env.people.auth("admin")).json()
    assert {"ivy.investigator", "olly.other"} <= {row["key"] for row in everything["by_user"]}
    verify = env.client.get("/api/v1/audit/verify", headers=env.people.auth("admin")).json()
    assert verify["ok"] is True and verify["entries"] >= 3


def test_ingest_job_runs_a_configured_folder_and_reports_progress(env: Env) -> None:
    admin = env.people.auth("admin")
    before = env.client.get("/api/v1/health").json()["indexed_faces"]
    listing = env.client.get("/api/v1/jobs", headers=admin).json()
    assert listing["folders"] == ["incoming"] and "folder" in listing["kinds"]
    for target in ("/etc", "../incoming", "unknown"):
        r = env.client.post(
            "/api/v1/jobs", json={"kind": "folder", "target": target}, headers=admin
        )
        assert r.status_code == 400 and error_of(r)["code"] == "invalid_request"
    r = env.client.post("/api/v1/jobs", json={"kind": "warc-nope", "target": "x"}, headers=admin)
    assert r.status_code == 400
    r = env.client.post(
        "/api/v1/jobs", json={"kind": "folder", "target": "incoming"}, headers=admin
    )
    assert r.status_code == 202
    job_id = r.json()["id"]
    job = _wait_job(env, job_id)
    assert job["status"] == "finished", job
    assert job["done"] == 2 and job["faces"] >= 2
    assert env.client.get("/api/v1/health").json()["indexed_faces"] >= before + 2
    # The ingested faces are searchable at once.
    powell = (
        env.faces_dir / "lfw" / "images" / "Colin_Powell" / "Colin_Powell_0003.jpg"
    ).read_bytes()
    hits = env.search("investigator", powell, threshold=str(LEAD_SIMILARITY))["hits"]
    assert hits[0]["sightings"][0]["source_kind"] == "folder"
    assert hits[0]["sightings"][0]["location"].startswith("Colin_Powell_000")


def test_warc_and_url_list_jobs_name_listed_files_only(env: Env) -> None:
    admin = env.people.auth("admin")
    listing = env.client.get("/api/v1/jobs", headers=admin).json()
    assert listing["targets"]["warc"] == ["incoming/press.warc.gz"]
    for kind, target in (
        ("warc", "incoming/../../etc/passwd"),
        ("warc", "incoming/Colin_Powell_0001.jpg"),
        ("warc", "press.warc.gz"),
        ("urls", "incoming/nothing.txt"),
    ):
        r = env.client.post("/api/v1/jobs", json={"kind": kind, "target": target}, headers=admin)
        assert r.status_code == 400, (kind, target)
    r = env.client.post(
        "/api/v1/jobs", json={"kind": "warc", "target": "incoming/press.warc.gz"}, headers=admin
    )
    assert r.status_code == 202
    job = _wait_job(env, r.json()["id"])
    assert job["status"] == "finished" and job["faces"] >= 1, job
    blair = (env.faces_dir / "lfw" / "images" / "Tony_Blair" / "Tony_Blair_0002.jpg").read_bytes()
    top = env.search("investigator", blair, threshold=str(LEAD_SIMILARITY))["hits"][0]["sightings"][
        0
    ]
    assert top["page_url"] == "http://news.example.org/press.html"
    assert top["page_title"] == "Press photos"
    # Posted URLs: written under a server-chosen name, fetched under the crawler's rules,
    # so for a loopback address even robots.txt is refused by the SSRF guard, and nothing
    # is fetched there: the item is recorded as a blocked_address failure.
    for bad in (["file:///etc/passwd"], [], ["http://a.example/x.jpg http://b http://c"]):
        r = env.client.post("/api/v1/jobs", json={"kind": "urls", "urls": bad}, headers=admin)
        assert r.status_code == 400, bad
    r = env.client.post(
        "/api/v1/jobs", json={"kind": "urls", "urls": ["http://127.0.0.1:9/x.jpg"]}, headers=admin
    )
    assert r.status_code == 202
    job = _wait_job(env, r.json()["id"])
    assert job["status"] == "finished", job
    assert job["report"]["counts"]["failed"] == 1
    assert job["report"]["failures"][0]["code"] == "blocked_address"


def _wait_job(env: Env, job_id: int) -> dict[str, object]:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = env.client.get(f"/api/v1/jobs/{job_id}", headers=env.people.auth("admin")).json()
        if job["status"] not in ("queued", "running"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def test_rate_limit_per_user(pages_atlas_dir: Path, tmp_path: Path, probe_photos: Path) -> None:
    root = tmp_path / "atlas"
    shutil.copytree(pages_atlas_dir, root)
    with Atlas.open(settings=Settings(atlas_dir=root, search_rate_per_minute=2)) as atlas:
        people = make_people(atlas)
        with TestClient(create_app(atlas=atlas)) as client:
            data = (probe_photos / "obama1.jpg").read_bytes()

            def go(who: str, case: str = CASE["case_number"]) -> object:
                return client.post(
                    "/api/v1/search",
                    files={"image": ("p.jpg", data)},
                    data={**CASE, "case_number": case},
                    headers=people.auth(who),
                )

            assert go("investigator").status_code == 200  # type: ignore[attr-defined]
            assert go("investigator").status_code == 200  # type: ignore[attr-defined]
            r = go("investigator")
            assert r.status_code == 429  # type: ignore[attr-defined]
            assert error_of(r)["code"] == "rate_limited"
            assert int(r.headers["retry-after"]) >= 1  # type: ignore[attr-defined]
            # another unit's user searches for a case of their own (cases are per member)
            assert go("other_unit", "2026-0143").status_code == 200  # type: ignore[attr-defined]
            assert len(atlas.audit.entries(action="search")) == 3


def test_web_search_form_refusals_keep_what_was_typed(env: Env, probe_photos: Path) -> None:
    client, csrf = signed_in(env.client, "ivy.investigator")
    photo = {"image": ("p.jpg", (probe_photos / "obama1.jpg").read_bytes())}
    searches = len(env.atlas.audit.entries(action="search"))
    for face in ("x", "-1"):
        r = client.post("/search", files=photo, data={**CASE, "face": face, "csrf_token": csrf})
        assert r.status_code == 400
        assert "Pick a face on the photo." in r.text
        assert 'value="2026-0142"' in r.text
    r = client.post("/search", files=photo, data={**CASE, "face": "0", "csrf_token": "forged"})
    assert r.status_code == 403
    assert 'value="2026-0142"' not in r.text
    r = client.post("/search", files=photo, data={"face": "0", "csrf_token": csrf})
    assert r.status_code == 400 and "every search needs a case number" in r.text
    assert len(env.atlas.audit.entries(action="search")) == searches


def test_cookie_session_needs_csrf_for_unsafe_api_calls(env: Env, probe_photos: Path) -> None:
    client = TestClient(env.client.app)
    r = log_in(client, "sam.supervisor")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    data = (probe_photos / "obama1.jpg").read_bytes()
    r = client.post("/api/v1/faces/detect", files={"image": ("p.jpg", data)})
    assert r.status_code == 403 and error_of(r)["code"] == "csrf_failed"
    search_page = client.get("/search").text
    csrf = search_page.split('name="csrf-token" content="')[1].split('"')[0]
    r = client.post(
        "/api/v1/faces/detect", files={"image": ("p.jpg", data)}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200 and len(r.json()["faces"]) == 1
    # A login form without its CSRF cookie is refused.
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    fresh = TestClient(env.client.app)
    r = fresh.post(
        "/login", data={"username": "sam.supervisor", "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 403


def test_password_guessing_is_rate_limited(env: Env) -> None:
    from faceatlas.accounts.throttle import FREE_FAILURES

    for _ in range(FREE_FAILURES + 1):  # the last one starts the first wait
        r = env.client.post(
            "/api/v1/auth/tokens", json={"username": "guess.target", "password": "not it at all"}
        )
        assert r.status_code == 401
    r = env.client.post(
        "/api/v1/auth/tokens", json={"username": "guess.target", "password": "not it at all"}
    )
    assert r.status_code == 429 and error_of(r)["code"] == "rate_limited"


def test_admin_sees_the_settings_in_force(env: Env) -> None:
    body = env.client.get("/api/v1/settings", headers=env.people.auth("admin")).json()
    assert body["search_purposes"] == env.atlas.settings.search_purposes
    assert body["ingest_folders"] == ["incoming"]
    assert body["threshold"]["source"] in {"fair default", "default", "calibration", "settings"}
    assert "database_url" not in body and "atlas_dir" not in body
    assert body["watchlist_webhook"] is False and "watchlist_webhook_secret" not in body


def test_calibrated_atlas_shows_false_match_rates(
    pages_atlas_dir: Path, tmp_path: Path, probe_photos: Path
) -> None:
    """A (small, real) calibration from impostor pairs of the test atlas's own faces."""
    import itertools

    import numpy as np

    from faceatlas.search.fmr import FmrMapping
    from faceatlas.store.calibrations import CalibrationRecord

    root = tmp_path / "atlas"
    shutil.copytree(pages_atlas_dir, root)
    with Atlas.open(settings=Settings(atlas_dir=root)) as atlas:
        ids, vectors = [], []
        for batch_ids, batch_vectors, _ in atlas.catalog.iter_embeddings(atlas.model_id):
            ids += batch_ids.tolist()
            vectors += list(batch_vectors)
        people = {fid: rec.sightings[0].page_url for fid, rec in atlas.catalog.faces(ids).items()}
        scores = np.asarray(
            [
                float(np.dot(vectors[i], vectors[j]))
                for i, j in itertools.combinations(range(len(ids)), 2)
                if people[ids[i]] != people[ids[j]]
            ]
        )
        mapping = FmrMapping.from_scores(scores)
        atlas.searcher.save_calibration(
            CalibrationRecord(
                model_id=atlas.model_id,
                target_fmr=0.1,
                threshold=0.8,
                comparisons=len(scores),
                false_matches=int((scores >= 0.8).sum()),
                mapping=mapping.as_dict(),
                provenance={"method": "impostor pairs of the test atlas"},
            )
        )
        people_ = make_people(atlas)
        with TestClient(create_app(atlas=atlas)) as client:
            data = (probe_photos / "obama1.jpg").read_bytes()
            r = client.post(
                "/api/v1/search",
                files={"image": ("p.jpg", data)},
                data=CASE,
                headers=people_.auth("investigator"),
            )
            body = r.json()
            assert body["threshold_source"] == "calibration"
            top = body["hits"][0]
            expected = mapping.estimate(top["similarity"])
            assert top["estimated_fmr"] == pytest.approx(expected.fmr, rel=0.01, abs=1e-12)
            assert top["estimated_fmr_upper"] is not None and top["estimated_fmr_upper"] > 0
            page = client.get("/login")
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            client.post(
                "/login",
                data={"username": "ivy.investigator", "password": PASSWORD, "csrf_token": token},
            )
            csrf = client.get("/search").text.split('name="csrf-token" content="')[1].split('"')[0]
            html = client.post(
                "/search",
                files={"image": ("p.jpg", data)},
                data={**CASE, "face": "0", "csrf_token": csrf},
            ).text
            assert "est. false-match rate" in html
            assert "no calibration yet" not in html
