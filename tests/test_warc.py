"""WARC.gz ingest (built here with warcio): provenance, folding, and kill-and-resume."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from faceatlas import Atlas
from faceatlas.ingest import WarcSource

from .conftest import atlas_settings, kill_once_committed
from .webfixtures import (
    LAST_MODIFIED,
    TITLE_ABOUT,
    TITLE_INDEX,
    lfw,
    site_images,
    site_pages,
    write_warc,
)

BASE = "http://news.example.org"


def site_warc(path: Path, faces_dir: Path) -> None:
    pages = site_pages(80)
    images = site_images(faces_dir)
    records: list[tuple[str, bytes, str]] = [
        (BASE + "/index.html", pages["/index.html"].encode(), "text/html; charset=utf-8"),
        (BASE + "/style.css", b"body { color: black }", "text/css"),
    ]
    for name in ("/img/powell.jpg", "/img/blair.jpg", "/img/landscape.png"):
        ctype = "image/png" if name.endswith(".png") else "image/jpeg"
        records.append((BASE + name, images[name], ctype))
    records.append((BASE + "/about.html", pages["/about.html"].encode(), "text/html"))
    records.append((BASE + "/img/powell-copy.jpg", images["/img/powell-copy.jpg"], "image/jpeg"))
    # schroeder (og:image of the index) is shown but not archived
    write_warc(path, records)


def sightings_by_url(atlas: Atlas) -> dict[str, list[Any]]:
    db = sqlite3.connect(atlas.root / "catalog.sqlite3")
    rows = db.execute(
        "SELECT i.sha256, s.locator, s.page_url, s.page_title, s.alt_text, s.caption, "
        "s.http_last_modified FROM sightings s JOIN images i ON i.id = s.image_id ORDER BY s.id"
    ).fetchall()
    db.close()
    out: dict[str, list[Any]] = {}
    for row in rows:
        out.setdefault(row[1].removeprefix(BASE), []).append(row)
    return out


def test_warc_ingest_keeps_full_provenance(tmp_path: Path, faces_dir: Path) -> None:
    warc = tmp_path / "site.warc.gz"
    site_warc(warc, faces_dir)
    source = WarcSource(warc, max_file_bytes=10_000_000)
    assert source.missing_images() == [BASE + "/img/schroeder.jpg"]
    with Atlas.open(settings=atlas_settings(tmp_path / "atlas")) as atlas:
        report = atlas.ingest(warc)
        counts = report.counts
        assert counts["failed"] == 0, report.failures
        # powell (2 pages), blair, landscape, powell-copy: 5 items, 3 new images
        assert counts["items"] == 5
        assert counts["new_images"] == 3
        assert counts["duplicates"] == 1  # powell on the second page
        assert counts["near_duplicates"] == 1  # the resized copy
        assert counts["no_face"] == 1
        assert atlas.catalog.counts()["images"] == 3

        seen = sightings_by_url(atlas)
        powell = seen["/img/powell.jpg"]
        assert len(powell) == 2  # one image, one sighting per page that shows it
        assert {r[2] for r in powell} == {BASE + "/index.html", BASE + "/about.html"}
        index_row = next(r for r in powell if r[2].endswith("index.html"))
        assert index_row[3:6] == (
            TITLE_INDEX,
            "Colin Powell at the podium",
            "Colin Powell speaking in 2003",
        )
        about_row = next(r for r in powell if r[2].endswith("about.html"))
        assert about_row[3:5] == (TITLE_ABOUT, "Portrait of Colin Powell")
        assert index_row[6] == LAST_MODIFIED
        copy = seen["/img/powell-copy.jpg"]
        assert copy[0][0] == powell[0][0]  # folded into the original image
        assert seen["/img/blair.jpg"][0][4] == "Tony Blair"  # srcset's largest candidate

        # search results carry the provenance: another photo of Powell finds all three
        result = atlas.search(lfw(faces_dir, "Colin_Powell", 2), min_similarity=0.5)
        top = result.hits[0]
        assert {s.locator for s in top.sightings} == {
            BASE + "/img/powell.jpg",
            BASE + "/img/powell-copy.jpg",
        }
        assert {s.page_url for s in top.sightings} == {BASE + "/index.html", BASE + "/about.html"}
        hit = top.as_dict()
        assert hit["image"]["sha256"] == powell[0][0]
        assert any(s["caption"] == "Colin Powell speaking in 2003" for s in hit["sightings"])
        assert all(s["http_last_modified"] == LAST_MODIFIED for s in hit["sightings"])

        again = atlas.ingest(warc)  # unchanged WARC: resumed past every committed item
        assert again.counts["resumed"] == 5
        assert again.counts["fetched"] == 0
        assert atlas.catalog.counts()["sightings"] == 5


def many_photos_warc(path: Path, faces_dir: Path, n_people: int) -> int:
    people = sorted((faces_dir / "lfw/images").glob("B*"))[:n_people]
    records: list[tuple[str, bytes, str]] = []
    for i, person in enumerate(people):
        photo = sorted(person.glob("*.jpg"))[0]
        url = f"{BASE}/people/{photo.name}"
        page = (
            f"<html><head><title>{person.name}</title></head>"
            f'<body><img src="{url}" alt="{person.name}"></body></html>'
        )
        records.append((f"{BASE}/page{i}.html", page.encode(), "text/html"))
        records.append((url, photo.read_bytes(), "image/jpeg"))
    write_warc(path, records)
    return len(people)


def snapshot(atlas_dir: Path) -> dict[str, Any]:
    with Atlas.open(settings=atlas_settings(atlas_dir)) as atlas:
        db = sqlite3.connect(atlas_dir / "catalog.sqlite3")
        images = db.execute(
            "SELECT sha256, width, height, face_count FROM images ORDER BY sha256"
        ).fetchall()
        faces = db.execute(
            "SELECT i.sha256, f.ordinal, f.box_left, f.box_top, e.vector FROM faces f "
            "JOIN images i ON i.id = f.image_id JOIN embeddings e ON e.face_id = f.id ORDER BY 1, 2"
        ).fetchall()
        sightings = db.execute(
            "SELECT i.sha256, s.locator, s.page_url, s.page_title, s.alt_text FROM sightings s "
            "JOIN images i ON i.id = s.image_id ORDER BY 1, 2, 3"
        ).fetchall()
        face_ids = [r[0] for r in db.execute("SELECT id FROM faces ORDER BY id")]
        db.close()
        assert len(atlas.index) == len(faces)
        raw = atlas.index._index  # the FAISS IDMap2: every stored vector by id
        vectors = sorted(raw.reconstruct(int(i)).tobytes() for i in face_ids)
        return {"images": images, "faces": faces, "sightings": sightings, "index": vectors}


def test_killed_warc_ingest_resumes_to_the_same_catalog(tmp_path: Path, faces_dir: Path) -> None:
    warc = tmp_path / "people.warc.gz"
    n = many_photos_warc(warc, faces_dir, 30)
    env = {**os.environ, "FACEATLAS_COMMIT_EVERY": "3", "FACEATLAS_INDEX_CHECKPOINT_EVERY": "5"}

    def ingest(atlas: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "faceatlas",
            "ingest",
            str(warc),
            "--atlas",
            str(atlas),
            "--quiet",
        ]

    killed = tmp_path / "killed"
    committed = kill_once_committed(ingest(killed), env, killed, 9)
    assert 9 <= committed < n

    summary = tmp_path / "summary.json"
    subprocess.run([*ingest(killed), "--summary", str(summary)], env=env, check=True)
    counts = json.loads(summary.read_text())["counts"]
    assert counts["resumed"] >= 9  # the checkpoint skipped what was committed
    assert counts["items"] == n
    clean = tmp_path / "clean"
    subprocess.run(ingest(clean), env=env, check=True)
    assert snapshot(killed) == snapshot(clean)
