"""Opt-out acceptance on real LFW photos: (a)-(e) of the privacy issue.

One person (Tony Blair) opts out with three photos of him that are not in the
atlas (the request takes several selfies, as the LFW measurement does: with
one selfie a face of his can score just under the strict threshold).
Afterwards: (a) no search with any photo of him returns a face of his, (b) no
row, vector, thumbnail or file byte of his faces remains (the catalog file,
its WAL and the index files are scanned), (c) everyone else's results are
unchanged, (d) re-ingesting his photos adds none of his faces back and (e) an
index rebuilt from scratch still excludes them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from faceatlas import Atlas
from faceatlas.privacy import OptOutReceipt, OptOutStatus
from faceatlas.store import schema as t

from .conftest import LEAD_SIMILARITY, MODEL_ID, atlas_settings

TARGET = "Tony_Blair"
IN_ATLAS = (1, 2, 3, 4, 5)
SELFIES = (10, 11, 13)
OTHER_PHOTOS_OF_TARGET = (6, 7, 8, 9, 12, 14)
OTHERS = ("Colin_Powell", "Serena_Williams", "Hugo_Chavez", "Jacques_Chirac")
LABEL = "Tony Blair (labelled)"
OTHER_PROBE = 5  # held out of the atlas: used to search for each other person


def lfw(faces_dir: Path, name: str, n: int) -> Path:
    return faces_dir / "lfw" / "images" / name / f"{name}_{n:04d}.jpg"


@dataclass
class OptedOut:
    root: Path
    folder: Path
    target_face_ids: set[int]
    target_vectors: list[bytes]
    target_thumbnails: list[bytes]
    other_vectors: list[bytes]
    other_thumbnails: list[bytes]
    other_results: dict[str, list[tuple[int, float]]]
    receipt: OptOutReceipt


def _results(atlas: Atlas, faces_dir: Path) -> dict[str, list[tuple[int, float]]]:
    out = {}
    for name in OTHERS:
        result = atlas.search(
            lfw(faces_dir, name, OTHER_PROBE).read_bytes(), top_k=50, min_similarity=LEAD_SIMILARITY
        )
        out[name] = [(h.face_id, round(h.similarity, 6)) for h in result.hits]
    return out


def _stored(atlas: Atlas, person: str) -> tuple[set[int], list[bytes], list[bytes]]:
    with atlas.catalog.db.connect() as conn:
        rows = conn.execute(
            sa.select(t.faces.c.id, t.embeddings.c.vector, t.thumbnails.c.jpeg)
            .join(t.embeddings, t.embeddings.c.face_id == t.faces.c.id)
            .join(t.thumbnails, t.thumbnails.c.face_id == t.faces.c.id)
            .join(t.sightings, t.sightings.c.image_id == t.faces.c.image_id)
            .where(t.sightings.c.locator.like(f"%/{person}/%"))
        ).all()
    return {int(r[0]) for r in rows}, [bytes(r[1]) for r in rows], [bytes(r[2]) for r in rows]


@pytest.fixture(scope="module")
def opted_out(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> OptedOut:
    base = tmp_path_factory.mktemp("optout")
    folder = base / "photos"
    for name, numbers in ((TARGET, IN_ATLAS), *((o, (1, 2, 3, 4)) for o in OTHERS)):
        (folder / name).mkdir(parents=True)
        for n in numbers:
            shutil.copy(lfw(faces_dir, name, n), folder / name)
    root = base / "atlas"
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        assert atlas.ingest(folder).counts["failed"] == 0
        ids, vectors, thumbs = _stored(atlas, TARGET)
        assert len(ids) >= len(IN_ATLAS)
        other_vectors: list[bytes] = []
        other_thumbs: list[bytes] = []
        for name in OTHERS:
            _, v, th = _stored(atlas, name)
            other_vectors += v
            other_thumbs += th
        before = _results(atlas, faces_dir)
        identity = atlas.identities.identity_of(min(ids))
        assert identity is not None  # ingest clustered his faces into an identity
        atlas.identities.label_identity(identity, LABEL, actor="curator")
        request = atlas.privacy.optout_request(
            [lfw(faces_dir, TARGET, n).read_bytes() for n in SELFIES], "tony@example.org"
        )
        assert request.status is OptOutStatus.PENDING
        receipt = atlas.privacy.optout_approve(request.id, actor="admin")
    return OptedOut(
        root, folder, ids, vectors, thumbs, other_vectors, other_thumbs, before, receipt
    )


@pytest.fixture
def reopened(opted_out: OptedOut) -> Iterator[Atlas]:
    with Atlas.open(settings=atlas_settings(opted_out.root)) as atlas:
        yield atlas


def test_receipt_counts_every_erased_thing(opted_out: OptedOut) -> None:
    erased = opted_out.receipt.erased
    n = len(opted_out.target_face_ids)
    assert (erased.faces, erased.embeddings, erased.thumbnails, erased.index_vectors) == (n,) * 4
    assert erased.images == len(IN_ATLAS) and erased.sightings == len(IN_ATLAS)
    assert erased.identities == 1


def test_a_no_search_with_their_photos_returns_their_faces(
    opted_out: OptedOut, reopened: Atlas, faces_dir: Path
) -> None:
    for n in (*IN_ATLAS, *SELFIES, *OTHER_PHOTOS_OF_TARGET):
        for threshold in (None, -1.0):  # the threshold in force, then every stored face
            result = reopened.search(
                lfw(faces_dir, TARGET, n).read_bytes(), top_k=1000, min_similarity=threshold
            )
            assert not {h.face_id for h in result.hits} & opted_out.target_face_ids
            assert not any(TARGET in s.locator for h in result.hits for s in h.sightings)
    everything = reopened.search(lfw(faces_dir, TARGET, 1).read_bytes(), min_similarity=-1.0)
    assert everything.hits  # the others are still found


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _jpeg_slices(jpeg: bytes) -> list[bytes]:
    """64-byte pieces of the entropy-coded part: a thumbnail larger than a page is split."""
    return [jpeg[i : i + 64] for i in range(700, len(jpeg) - 64, 499)]


def test_b_no_row_vector_thumbnail_or_byte_remains(opted_out: OptedOut, reopened: Atlas) -> None:
    with reopened.catalog.db.connect() as conn:
        for table, column in (
            (t.faces, t.faces.c.id),
            (t.embeddings, t.embeddings.c.face_id),
            (t.thumbnails, t.thumbnails.c.face_id),
        ):
            rows = conn.execute(
                sa.select(sa.func.count())
                .select_from(table)
                .where(column.in_(opted_out.target_face_ids))
            ).scalar_one()
            assert rows == 0, table.name
        labels = conn.execute(sa.select(t.identities.c.label)).scalars().all()
        assert LABEL not in labels
        sightings = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.sightings)
            .where(t.sightings.c.locator.like(f"%{TARGET}%"))
        ).scalar_one()
        assert sightings == 0
    reopened.close()
    files = _files(opted_out.root)
    index_file = f"index/{MODEL_ID}.faiss"
    assert "catalog.sqlite3" in files and index_file in files
    for name, data in files.items():
        assert LABEL.encode() not in data, f"his identity label remains in {name}"
        for vector in opted_out.target_vectors:
            assert vector not in data, f"an erased vector remains in {name}"
        for jpeg in opted_out.target_thumbnails:
            assert not any(s in data for s in _jpeg_slices(jpeg)), f"a thumbnail remains in {name}"
    # The scan does find what was not erased, so it would have found the erased faces.
    catalog = files["catalog.sqlite3"] + files.get("catalog.sqlite3-wal", b"")
    assert all(v in catalog for v in opted_out.other_vectors)
    assert all(v in files[index_file] for v in opted_out.other_vectors)
    assert all(any(s in catalog for s in _jpeg_slices(j)) for j in opted_out.other_thumbnails)


def test_c_other_peoples_results_are_unchanged(
    opted_out: OptedOut, reopened: Atlas, faces_dir: Path
) -> None:
    """Every hit on someone else's face is still there, same similarity, same order."""
    after = _results(reopened, faces_dir)
    for name in OTHERS:
        expected = [
            h for h in opted_out.other_results[name] if h[0] not in opted_out.target_face_ids
        ]
        assert after[name] == expected, name
        assert after[name], name


def test_d_reingesting_adds_none_of_their_faces_back(
    opted_out: OptedOut, reopened: Atlas, faces_dir: Path, tmp_path: Path
) -> None:
    faces_before = reopened.catalog.counts()["faces"]
    again = reopened.ingest(opted_out.folder)
    assert again.counts["blocked_faces"] == len(IN_ATLAS)
    copies = tmp_path / "copies"
    copies.mkdir()
    for n in IN_ATLAS:
        shutil.copy(lfw(faces_dir, TARGET, n), copies / f"renamed_{n}.jpg")
    renamed = reopened.ingest(copies)
    assert renamed.counts["blocked_faces"] == len(IN_ATLAS)
    assert reopened.catalog.counts()["faces"] == faces_before
    ids, _, _ = _stored(reopened, TARGET)
    assert not ids
    result = reopened.search(lfw(faces_dir, TARGET, 1).read_bytes(), min_similarity=-1.0)
    assert not any(
        "renamed" in s.locator or TARGET in s.locator for h in result.hits for s in h.sightings
    )


def test_e_an_index_rebuilt_from_scratch_still_excludes_them(
    opted_out: OptedOut, faces_dir: Path
) -> None:
    shutil.rmtree(opted_out.root / "index")
    with Atlas.open(settings=atlas_settings(opted_out.root)) as atlas:
        assert atlas.gallery.rebuild_index() == atlas.catalog.counts()["embeddings"]
        for n in (*IN_ATLAS, *SELFIES):
            result = atlas.search(lfw(faces_dir, TARGET, n).read_bytes(), min_similarity=-1.0)
            assert result.hits
            assert not {h.face_id for h in result.hits} & opted_out.target_face_ids
            assert not any(TARGET in s.locator for h in result.hits for s in h.sightings)
