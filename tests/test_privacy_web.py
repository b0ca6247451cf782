"""The public opt-out page through the ASGI app: no account, real selfies, nothing stored."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from faceatlas import Atlas
from faceatlas.privacy import OptOutStatus
from faceatlas.server import create_app

from .conftest import atlas_settings


def lfw(faces_dir: Path, name: str, n: int) -> Path:
    return faces_dir / "lfw" / "images" / name / f"{name}_{n:04d}.jpg"


def token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def test_public_optout_page(tmp_path: Path, faces_dir: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for n in (1, 2):
        shutil.copy(lfw(faces_dir, "Tony_Blair", n), photos)
    shutil.copy(lfw(faces_dir, "Colin_Powell", 1), photos)
    root = tmp_path / "atlas"
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        atlas.ingest(photos)
    settings = atlas_settings(root, optout_auto_approve=True)
    selfie = lfw(faces_dir, "Tony_Blair", 10).read_bytes()
    with Atlas.open(settings=settings) as atlas, TestClient(create_app(atlas=atlas)) as client:
        page = client.get("/optout")
        assert page.status_code == 200 and "never stored" in page.text  # no sign-in needed
        files = [("selfie", ("me.jpg", selfie, "image/jpeg"))]
        forged = client.post(
            "/optout", data={"csrf_token": "x", "contact": "t@example.org"}, files=files
        )
        assert forged.status_code == 403 and not atlas.privacy.optouts()
        no_face = client.post(
            "/optout",
            data={"csrf_token": token(client.get("/optout").text), "contact": "t@example.org"},
            files=[
                (
                    "selfie",
                    ("x.jpg", (faces_dir / "groups/dlib_voc/dogs.jpg").read_bytes(), "image/jpeg"),
                )
            ],
        )
        assert no_face.status_code == 422 and "no face" in no_face.text
        done = client.post(
            "/optout",
            data={"csrf_token": token(client.get("/optout").text), "contact": "t@example.org"},
            files=files,
        )
        assert done.status_code == 200 and "completed" in done.text
        assert "Erased: 2 face(s)" in done.text
        (request,) = atlas.privacy.optouts()
        assert request.channel == "web" and request.status is OptOutStatus.COMPLETED
        assert atlas.audit.entries(action="privacy_optout_requested")[0].actor_role == "public"
    data = b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())
    assert not any(selfie[i : i + 64] in data for i in range(700, len(selfie) - 64, 997))
