"""Privacy through the command line, subject access, retention and what must never leak."""

from __future__ import annotations

import base64
import json
import logging
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from faceatlas import Atlas
from faceatlas.cli import app

from .conftest import LEAD_SIMILARITY, atlas_settings

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def lfw(faces_dir: Path, name: str, n: int) -> Path:
    return faces_dir / "lfw" / "images" / name / f"{name}_{n:04d}.jpg"


@pytest.fixture(scope="module")
def small_atlas(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Path:
    base = tmp_path_factory.mktemp("privacy-cli")
    photos = base / "photos"
    photos.mkdir()
    for name, numbers in (("Tony_Blair", (1, 2, 3)), ("Colin_Powell", (1, 2))):
        for n in numbers:
            shutil.copy(lfw(faces_dir, name, n), photos)
    code, _, err = run("ingest", str(photos), "--atlas", str(base / "atlas"), "--quiet")
    assert code == 0, err
    return base / "atlas"


@pytest.fixture
def atlas_dir(small_atlas: Path, tmp_path: Path) -> Path:
    shutil.copytree(small_atlas, tmp_path / "atlas")
    return tmp_path / "atlas"


FLOAT_RUN = re.compile(r"(-?\d\.\d{3,}[,\s]+){8,}")
"""Eight or more decimals in a row: what a printed embedding looks like."""


def test_optout_through_the_cli_and_nothing_leaks(
    atlas_dir: Path, faces_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    selfie = lfw(faces_dir, "Tony_Blair", 10)
    atlas = str(atlas_dir)
    code, out, err = run(
        "optout", "request", str(selfie), "--contact", "tb@example.org", "--atlas", atlas, "--json"
    )
    assert code == 0, err
    request = json.loads(out)
    assert request["status"] == "pending" and request["templates"] == 1
    code, out, _ = run("optout", "list", "--status", "pending", "--atlas", atlas)
    assert code == 0 and "tb@example.org" in out
    code, out, _ = run("optout", "approve", str(request["id"]), "--by", "dpo", "--atlas", atlas)
    assert code == 0 and "receipt" in out
    code, out, _ = run("optout", "show", str(request["id"]), "--atlas", atlas, "--json")
    shown = json.loads(out)
    assert shown["status"] == "completed" and shown["receipt"]["erased"]["faces"] == 3
    code, _, err = run("optout", "approve", str(request["id"]), "--by", "dpo", "--atlas", atlas)
    assert code == 22 and err.startswith("error [conflict]")
    code, _, err = run(
        "optout",
        "request",
        str(faces_dir / "groups/dlib_voc/dogs.jpg"),
        "--contact",
        "x@example.org",
        "--atlas",
        atlas,
    )
    assert code == 5 and "selfie 1" in err and "\n" not in err.strip()
    code, out, _ = run("privacy", "log", "--atlas", atlas, "--json")
    log = json.loads(out)
    assert [e["action"] for e in log[:2]] == ["optout_erasure", "optout_requested"]
    # Nothing printed, logged or recorded holds an embedding or the selfie.
    selfie_bytes = selfie.read_bytes()
    texts = [out, shown.__repr__(), *(r.getMessage() for r in caplog.records)]
    for text in texts:
        assert not FLOAT_RUN.search(text)
        assert base64.b64encode(selfie_bytes[:48]).decode() not in text
        assert repr(selfie_bytes[100:140])[2:-1] not in text
        assert '"embedding"' not in text and '"vector"' not in text


def test_takedown_and_erasure_commands(atlas_dir: Path) -> None:
    atlas = str(atlas_dir)
    code, out, _ = run(
        "erase", "domain", "example.com", "--by", "dpo", "--case", "T-1", "--atlas", atlas, "--json"
    )
    assert code == 0 and json.loads(out)["sightings"] == 0  # files only: nothing on that domain
    code, out, _ = run("erase", "face", "1", "--by", "dpo", "--atlas", atlas, "--json")
    assert code == 0 and json.loads(out)["faces"] == 1
    code, _, err = run("erase", "face", "1", "--by", "dpo", "--atlas", atlas)
    assert code == 4 and "face 1 does not exist" in err
    code, _, err = run("erase", "domain", "bad domain", "--by", "dpo", "--atlas", atlas)
    assert code == 2 and "not a domain" in err


def test_subject_access_export(atlas_dir: Path, faces_dir: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "export.json"
    code, out, err = run(
        "access",
        "export",
        str(lfw(faces_dir, "Tony_Blair", 10)),
        "--requester",
        "Tony B.",
        "--verified-by",
        "dpo",
        "--case",
        "SAR-7",
        "--out",
        str(out_file),
        "--atlas",
        str(atlas_dir),
    )
    assert code == 0 and "face(s)" in out, err
    export = json.loads(out_file.read_text())
    blair = [f for f in export["faces"] if "Tony_Blair" in f["sightings"][0]["locator"]]
    assert len(blair) == 3
    assert all(base64.b64decode(f["thumbnail_jpeg_base64"])[:2] == b"\xff\xd8" for f in blair)
    assert {s["locator"] for f in blair for s in f["sightings"]} <= set(export["source_urls"])
    assert export["case"] == "SAR-7" and "not an identification" in export["notice"]
    text = out_file.read_text()
    assert "embedding" not in text and not FLOAT_RUN.search(text)
    with Atlas.open(settings=atlas_settings(atlas_dir)) as atlas:
        entry = atlas.privacy.privacy_log()[0]
    assert entry.action == "subject_access" and entry.details["faces"] == len(export["faces"])


def test_retention_is_enforced_and_idempotent(atlas_dir: Path, faces_dir: Path) -> None:
    probe = lfw(faces_dir, "Tony_Blair", 4).read_bytes()
    with Atlas.open(settings=atlas_settings(atlas_dir)) as atlas:
        atlas.search(probe)
        assert _probes(atlas) == 0  # probes are not stored unless a setting says so
    settings = atlas_settings(
        atlas_dir,
        store_probes=True,
        retention_probe_days=1,
        retention_thumbnail_days=7,
        retention_audit_days=30,
    )
    with Atlas.open(settings=settings) as atlas:
        atlas.search(probe)
        assert _probes(atlas) == 1
        now = datetime.now(UTC)
        assert atlas.privacy.run_retention(now=now).as_dict() == {
            "thumbnails": 0,
            "probes": 0,
            "audit_entries": 0,
        }
        later = atlas.privacy.run_retention(now=now + timedelta(days=2))
        assert (later.probes, later.thumbnails) == (1, 0)
        much_later = atlas.privacy.run_retention(now=now + timedelta(days=40))
        assert much_later.thumbnails == 5 and much_later.audit_entries >= 1
        assert atlas.privacy.run_retention(now=now + timedelta(days=40)).as_dict() == {
            "thumbnails": 0,
            "probes": 0,
            "audit_entries": 0,
        }
        assert atlas.search(
            probe, min_similarity=LEAD_SIMILARITY
        ).hits  # searchable without thumbnails
    code, out, _ = run("retention", "run", "--atlas", str(atlas_dir), "--json")
    # Run with probe storage off: the probe the last search kept goes at once.
    assert code == 0 and json.loads(out) == {"thumbnails": 0, "probes": 1, "audit_entries": 0}
    with Atlas.open(settings=settings.with_overrides(store_probes=False)) as atlas:
        atlas.search(probe)
        assert _probes(atlas) == 0


def _probes(atlas: Atlas) -> int:
    from faceatlas.privacy import count_probes

    return count_probes(atlas.catalog)
