"""Erasure by id, source URL and domain; crash safety; stale indexes; the opt-out workflow."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from faceatlas import Atlas
from faceatlas.engine import EngineSpec
from faceatlas.engine.dlib_engine import DlibEngine
from faceatlas.errors import (
    ConfigError,
    ConflictError,
    InvalidRequestError,
    NoFaceError,
    NotFoundError,
)
from faceatlas.index import FlatIndex
from faceatlas.ingest import FolderSource, IngestOptions, SourceItem, make_executor, run_ingest
from faceatlas.ingest.worker import AnalysisLimits
from faceatlas.privacy import OptOutStatus, taken_down_domains
from faceatlas.store import schema as t
from faceatlas.types import Vectors

from .conftest import atlas_settings


def lfw(faces_dir: Path, name: str, n: int) -> Path:
    return faces_dir / "lfw" / "images" / name / f"{name}_{n:04d}.jpg"


@dataclass(frozen=True)
class UrlSource:
    """Images "seen" at URLs, read from local files: a fake only at the Source seam."""

    pages: tuple[tuple[str, str, Path], ...]  # (image URL, page URL, file)

    @property
    def kind(self) -> str:
        return "url_list"

    @property
    def locator(self) -> str:
        return "test-urls"

    def items(self) -> Iterator[SourceItem]:
        for url, page, _ in self.pages:
            yield SourceItem(locator=url, page_url=page)

    def read(self, item: SourceItem) -> bytes:
        return next(
            f for u, p, f in self.pages if (u, p) == (item.locator, item.page_url)
        ).read_bytes()

    def count_hint(self) -> int:
        return len(self.pages)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path, probe_photos: Path) -> Path:
    """Blair 1-3, Powell 1-3 as files, and a two-face photo; plus the same and more via URLs."""
    root = tmp_path_factory.mktemp("erasure") / "atlas"
    folder = root.parent / "photos"
    folder.mkdir()
    for name in ("Tony_Blair", "Colin_Powell"):
        for n in (1, 2, 3):
            shutil.copy(lfw(faces_dir, name, n), folder)
    shutil.copy(probe_photos / "kit_with_rose.jpg", folder)
    source = UrlSource(
        (
            (
                "https://bad.example/a.jpg",
                "https://bad.example/page",
                lfw(faces_dir, "Hugo_Chavez", 1),
            ),
            ("https://cdn.bad.example/b.jpg", "", lfw(faces_dir, "Hugo_Chavez", 2)),
            (
                "https://bad.example/c.jpg",
                "https://bad.example/page",
                lfw(faces_dir, "Serena_Williams", 1),
            ),
            (
                "https://good.org/c.jpg",
                "https://good.org/news",
                lfw(faces_dir, "Serena_Williams", 1),
            ),
            (
                "https://img.host/d.jpg",
                "https://bad.example/other",
                lfw(faces_dir, "Serena_Williams", 2),
            ),
            (
                "https://good.org/e.jpg",
                "https://good.org/news",
                lfw(faces_dir, "Serena_Williams", 3),
            ),
            ("https://notbad.example/f.jpg", "", lfw(faces_dir, "Hugo_Chavez", 3)),
        )
    )
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        assert atlas.ingest(folder).counts["failed"] == 0
        assert atlas.ingest(source).counts["duplicates"] == 1
    return root


@pytest.fixture
def atlas(base_dir: Path, tmp_path: Path) -> Iterator[Atlas]:
    root = tmp_path / "atlas"
    shutil.copytree(base_dir, root)
    with Atlas.open(settings=atlas_settings(root)) as opened:
        yield opened


def image_of(atlas: Atlas, locator_suffix: str) -> int:
    with atlas.catalog.db.connect() as conn:
        row = conn.execute(
            sa.select(t.sightings.c.image_id).where(
                t.sightings.c.locator.like(f"%{locator_suffix}")
            )
        ).first()
    assert row is not None, locator_suffix
    return int(row[0])


def locators_of(atlas: Atlas, image_id: int) -> set[str]:
    with atlas.catalog.db.connect() as conn:
        return set(
            conn.execute(
                sa.select(t.sightings.c.locator).where(t.sightings.c.image_id == image_id)
            ).scalars()
        )


def faces_of(atlas: Atlas, image_id: int) -> list[int]:
    with atlas.catalog.db.connect() as conn:
        return list(
            conn.execute(sa.select(t.faces.c.id).where(t.faces.c.image_id == image_id)).scalars()
        )


def searchable(atlas: Atlas, face_ids: list[int], probe: bytes) -> bool:
    hits = atlas.search(probe, top_k=1000, min_similarity=-1.0).hits
    return bool({h.face_id for h in hits} & set(face_ids))


def test_domain_takedown_keeps_images_also_seen_elsewhere(atlas: Atlas, faces_dir: Path) -> None:
    only_bad = [image_of(atlas, "bad.example/a.jpg"), image_of(atlas, "cdn.bad.example/b.jpg")]
    via_page = image_of(atlas, "img.host/d.jpg")  # image elsewhere, page on the domain
    both = image_of(atlas, "good.org/c.jpg")
    untouched = [image_of(atlas, "good.org/e.jpg"), image_of(atlas, "notbad.example/f.jpg")]
    gone_faces = [f for i in (*only_bad, via_page) for f in faces_of(atlas, i)]
    assert locators_of(atlas, both) == {"https://bad.example/c.jpg", "https://good.org/c.jpg"}
    counts = atlas.privacy.takedown_domain("Bad.Example.", actor="admin", case_ref="TD-1")
    assert counts.images == 3 and counts.sightings == 4 and counts.faces == len(gone_faces)
    assert counts.index_vectors == len(gone_faces)
    for image_id in (*only_bad, via_page):
        assert not faces_of(atlas, image_id)
        assert not locators_of(atlas, image_id)
    assert locators_of(atlas, both) == {"https://good.org/c.jpg"}
    assert faces_of(atlas, both)
    for image_id in untouched:
        assert faces_of(atlas, image_id) and locators_of(atlas, image_id)
    probe = lfw(faces_dir, "Hugo_Chavez", 1).read_bytes()
    assert not searchable(atlas, gone_faces, probe)
    assert taken_down_domains(atlas.catalog) == ["bad.example"]
    assert atlas.privacy.privacy_log()[0].action == "takedown_domain"
    assert atlas.privacy.privacy_log()[0].case_ref == "TD-1"
    with pytest.raises(InvalidRequestError):
        atlas.privacy.takedown_domain("not a domain/", actor="admin")


def test_erase_source_url(atlas: Atlas) -> None:
    shared = image_of(atlas, "good.org/c.jpg")
    alone = image_of(atlas, "good.org/e.jpg")
    counts = atlas.privacy.erase_source_url("https://good.org/news", actor="admin")
    assert counts.sightings == 2 and counts.images == 1
    assert locators_of(atlas, shared) == {"https://bad.example/c.jpg"}
    assert not locators_of(atlas, alone) and not faces_of(atlas, alone)
    assert atlas.privacy.erase_source_url("https://nowhere.example/x", actor="admin").sightings == 0


def test_erase_one_face_of_a_group_photo_keeps_the_other(atlas: Atlas, probe_photos: Path) -> None:
    image_id = image_of(atlas, "kit_with_rose.jpg")
    first, second = faces_of(atlas, image_id)
    counts = atlas.privacy.erase_faces([first], actor="admin")
    assert (counts.faces, counts.embeddings, counts.thumbnails, counts.images) == (1, 1, 1, 0)
    assert faces_of(atlas, image_id) == [second]
    with atlas.catalog.db.connect() as conn:
        count = conn.execute(
            sa.select(t.images.c.face_count).where(t.images.c.id == image_id)
        ).scalar_one()
    assert count == 1
    probe = (probe_photos / "kit_with_rose.jpg").read_bytes()
    assert not searchable(atlas, [first], probe) and searchable(atlas, [second], probe)
    with pytest.raises(NotFoundError):
        atlas.gallery.thumbnail(first)
    counts = atlas.privacy.erase_faces([second], actor="admin")
    assert counts.images == 1 and not locators_of(atlas, image_id)  # no face left: image dropped
    with pytest.raises(NotFoundError):
        atlas.privacy.erase_faces([first], actor="admin")


def test_erase_image(atlas: Atlas, faces_dir: Path) -> None:
    image_id = image_of(atlas, "Colin_Powell_0001.jpg")
    faces = faces_of(atlas, image_id)
    counts = atlas.privacy.erase_images([image_id], actor="admin", case_ref="C-9")
    assert counts.images == 1 and counts.faces == len(faces) and counts.sightings == 1
    assert not searchable(atlas, faces, lfw(faces_dir, "Colin_Powell", 1).read_bytes())
    assert atlas.privacy.privacy_log()[0].details["erased"]["images"] == 1


class CrashingIndex(FlatIndex):
    """Dies when saving: a crash after the catalog commit, before the index is saved."""

    def save(self, watermark: int) -> None:
        raise KeyboardInterrupt


def test_a_crash_between_commit_and_index_save_forces_a_rebuild(
    atlas: Atlas, faces_dir: Path
) -> None:
    root = atlas.root
    image_id = image_of(atlas, "Tony_Blair_0001.jpg")
    faces = faces_of(atlas, image_id)
    atlas.close()
    index = CrashingIndex(root / "index", atlas.model_id, atlas.engine.dim)
    crashing = Atlas(
        atlas.settings,
        atlas.catalog.open(f"sqlite:///{root / 'catalog.sqlite3'}"),
        atlas.engine,
        index,
    )
    with pytest.raises(KeyboardInterrupt):
        crashing.privacy.erase_images([image_id], actor="admin")
    crashing.close()
    stale = FlatIndex(root / "index", atlas.model_id, atlas.engine.dim)
    assert len(stale) == atlas.catalog.counts()["embeddings"] + len(faces)  # still on disk
    with Atlas.open(settings=atlas_settings(root)) as reopened:
        assert len(reopened.index) == reopened.catalog.counts()["embeddings"]
        probe = lfw(faces_dir, "Tony_Blair", 1).read_bytes()
        assert not searchable(reopened, faces, probe)


def test_search_hides_blocked_faces_even_from_an_index_built_before_the_optout(
    atlas: Atlas, faces_dir: Path, tmp_path: Path
) -> None:
    before = {p.name: p.read_bytes() for p in (atlas.root / "index").iterdir()}
    blair = [
        f for n in (1, 2, 3) for f in faces_of(atlas, image_of(atlas, f"Tony_Blair_000{n}.jpg"))
    ]
    request = atlas.privacy.optout_request(
        [lfw(faces_dir, "Tony_Blair", 10).read_bytes()], "t@example.org"
    )
    atlas.privacy.optout_approve(request.id, actor="admin")
    # An ingest that started before the opt-out stores faces without the blocklist filter.
    late = tmp_path / "late"
    late.mkdir()
    shutil.copy(lfw(faces_dir, "Tony_Blair", 6), late)
    with atlas.gallery.writer_lock():
        run_ingest(
            atlas.catalog,
            atlas.index,
            atlas_folder(late, atlas),
            make_executor(EngineSpec(), AnalysisLimits(40_000_000, 50 << 20, 160), 1, atlas.engine),
            IngestOptions(
                model_id=atlas.model_id,
                same_face_min_similarity=atlas.card.required("same_face_min_similarity"),
            ),
        )
    probe = lfw(faces_dir, "Tony_Blair", 6).read_bytes()
    assert atlas.search(probe, min_similarity=-1.0).hits
    assert not any(
        "Tony_Blair" in s.locator
        for h in atlas.search(probe, min_similarity=-1.0).hits
        for s in h.sightings
    )
    # The index saved before the opt-out, served as is.
    old = tmp_path / "old-index"
    old.mkdir()
    for name, data in before.items():
        (old / name).write_bytes(data)
    stale = FlatIndex(old, atlas.model_id, atlas.engine.dim)
    assert set(blair) <= {h.id for h in stale.search(np.stack([vector_of(atlas, probe)]), 100)[0]}
    served = Atlas(atlas.settings, atlas.catalog, atlas.engine, stale)
    hits = served.search(probe, top_k=100, min_similarity=-1.0).hits
    assert hits and not any("Tony_Blair" in s.locator for h in hits for s in h.sightings)


def atlas_folder(folder: Path, atlas: Atlas) -> FolderSource:
    return FolderSource(folder, max_file_bytes=atlas.settings.max_file_bytes)


def vector_of(atlas: Atlas, photo: bytes) -> Vectors:
    return atlas.gallery.analyze_probe(photo)[0].embedding


def test_optout_workflow_decisions(atlas: Atlas, faces_dir: Path, probe_photos: Path) -> None:
    selfie = lfw(faces_dir, "Tony_Blair", 10).read_bytes()
    with pytest.raises(InvalidRequestError, match="e-mail"):
        atlas.privacy.optout_request([selfie], "not-an-address")
    with pytest.raises(NoFaceError, match="selfie 2"):
        atlas.privacy.optout_request(
            [selfie, (faces_dir / "groups/dlib_voc/dogs.jpg").read_bytes()], "t@example.org"
        )
    with pytest.raises(InvalidRequestError, match="several faces"):
        atlas.privacy.optout_request(
            [(probe_photos / "obama_and_biden.jpg").read_bytes()], "t@example.org"
        )
    rejected = atlas.privacy.optout_request([selfie], "t@example.org")
    assert (
        atlas.privacy.optout_reject(rejected.id, actor="admin", note="not verified").status
        is OptOutStatus.REJECTED
    )
    assert (
        atlas.privacy.optout(rejected.id).templates == 0
    )  # templates of a rejected request are deleted
    with pytest.raises(ConflictError):
        atlas.privacy.optout_approve(rejected.id, actor="admin")
    before = atlas.catalog.counts()["faces"]
    assert atlas.catalog.counts()["faces"] == before  # nothing erased by the rejection
    request = atlas.privacy.optout_request(
        [selfie, lfw(faces_dir, "Tony_Blair", 11).read_bytes()], "t@example.org"
    )
    assert request.status is OptOutStatus.PENDING and request.templates == 2
    assert len(atlas.blocklist) == 0  # pending templates block nothing yet
    receipt = atlas.privacy.optout_approve(request.id, actor="admin")
    assert receipt.erased.faces == 3 and receipt.templates == 2
    assert atlas.privacy.optout(request.id).receipt == receipt
    with pytest.raises(ConflictError):
        atlas.privacy.optout_approve(request.id, actor="admin")
    assert [r.id for r in atlas.privacy.optouts(OptOutStatus.COMPLETED)] == [request.id]
    actions = [a.action for a in atlas.privacy.privacy_log()]
    assert actions[:2] == ["optout_erasure", "optout_requested"]
    # Mirrored into the hash-chained audit log, which still verifies.
    chained = atlas.audit.entries(action="privacy_optout_erasure")
    assert len(chained) == 1 and chained[0].details["erased"]["faces"] == 3
    assert chained[0].actor == "admin" and atlas.audit.verify().ok
    assert len(atlas.audit.entries(action="privacy_optout_requested")) == 2


def test_auto_approve_and_the_selfie_is_never_stored(
    base_dir: Path, tmp_path: Path, faces_dir: Path
) -> None:
    root = tmp_path / "atlas"
    shutil.copytree(base_dir, root)
    selfie = lfw(faces_dir, "Tony_Blair", 10).read_bytes()
    with Atlas.open(settings=atlas_settings(root, optout_auto_approve=True)) as atlas:
        request = atlas.privacy.optout_request([selfie], "t@example.org", channel="web")
        assert request.status is OptOutStatus.COMPLETED and request.decided_by == "auto-approve"
        assert request.receipt is not None and request.receipt.erased.faces == 3
    data = b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())
    pieces = [selfie[i : i + 64] for i in range(700, len(selfie) - 64, 997)]
    assert pieces and not any(piece in data for piece in pieces)


class UncalibratedModelEngine(DlibEngine):
    @property
    def model_id(self) -> str:
        return "uncalibrated-model"


def test_a_model_without_a_known_optout_threshold_refuses_to_guess(
    tmp_path: Path, faces_dir: Path
) -> None:
    selfie = lfw(faces_dir, "Tony_Blair", 10).read_bytes()
    settings = atlas_settings(tmp_path / "atlas")
    with Atlas.open(settings=settings, engine=UncalibratedModelEngine()) as atlas:
        request = atlas.privacy.optout_request([selfie], "t@example.org")
        with pytest.raises(ConfigError, match="calibrate"):
            atlas.privacy.optout_approve(request.id, actor="admin")
        atlas.catalog.set_meta("calibrated_threshold:uncalibrated-model", "0.9")
        receipt = atlas.privacy.optout_approve(request.id, actor="admin")
        assert receipt.threshold == pytest.approx(0.9)
        assert receipt.threshold_source == "calibrated search threshold"
