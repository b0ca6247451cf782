"""Identities on a small real atlas: LFW photos, the real dlib models, SQLite and FAISS.

The photos arrive through a :class:`Source` (the ingest seam) that gives them
web provenance: pages on several domains, captions and alt text, so that name
evidence and domain counts are exercised on real stored sightings.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from faceatlas import Atlas
from faceatlas.choices import EngineName
from faceatlas.errors import InvalidRequestError, NotFoundError
from faceatlas.ingest import SourceItem

from .conftest import LEAD_SIMILARITY, atlas_settings

PEOPLE = ("Colin_Powell", "Tony_Blair", "Serena_Williams", "Hugo_Chavez")
GALLERY = range(1, 7)
PROBES = (7, 8)
LONERS = ("Jean_Chretien", "John_Ashcroft", "Junichiro_Koizumi")


class WebPhotos:
    """LFW photos presented as images found on news pages, with captions."""

    kind = "test_web"

    def __init__(self, images: Path, wanted: list[tuple[str, int]], locator: str) -> None:
        self.images = images
        self.wanted = wanted
        self.locator = locator

    def items(self) -> Iterator[SourceItem]:
        for person, n in self.wanted:
            name = person.replace("_", " ")
            domain = ("news-a.example", "news-b.example", "blog.example")[n % 3]
            caption = (
                f"{name} with Ariel Sharon and Gerhard Schroeder at the summit"
                if n == 2
                else f"{name} speaks to reporters"
            )
            yield SourceItem(
                locator=f"https://img.{domain}/{person}_{n:04d}.jpg",
                page_url=f"https://{domain}/story/{person.lower()}-{n}",
                page_title="World news today",
                alt_text=f"Photo of {name}" if n % 2 else None,
                caption=caption,
            )

    def read(self, item: SourceItem) -> bytes:
        stem = item.locator.rsplit("/", 1)[1]
        person = stem.rsplit("_", 1)[0]
        return (self.images / person / stem).read_bytes()

    def count_hint(self) -> int:
        return len(self.wanted)


def photo(faces_dir: Path, person: str, n: int) -> bytes:
    return (faces_dir / "lfw" / "images" / person / f"{person}_{n:04d}.jpg").read_bytes()


@pytest.fixture(scope="session")
def web_atlas_dir(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("identity-atlas")
    wanted = [(p, n) for p in PEOPLE for n in GALLERY] + [(p, 1) for p in LONERS]
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        report = atlas.ingest(WebPhotos(faces_dir / "lfw" / "images", wanted, "news"))
    assert report.counts["failed"] == 0
    return root


@pytest.fixture
def web_atlas(web_atlas_dir: Path, tmp_path: Path) -> Iterator[Atlas]:
    root = tmp_path / "atlas"
    shutil.copytree(web_atlas_dir, root)
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        yield atlas


def person_of(atlas: Atlas, face_id: int) -> str:
    locator = atlas.gallery.face(face_id).sightings[0].locator
    return locator.rsplit("/", 1)[1].rsplit("_", 1)[0]


def partition(atlas: Atlas) -> dict[int, set[str]]:
    """Identity id -> the true people among its faces."""
    out: dict[int, set[str]] = {}
    for s in atlas.identities.list_identities(limit=1000):
        out[s.id] = {person_of(atlas, p.face_id) for p in atlas.identities.identity(s.id).photos}
    return out


def identity_of_person(atlas: Atlas, person: str) -> int:
    found = [i for i, people in partition(atlas).items() if people == {person}]
    assert found, f"{person} has no identity of their own"
    return max(found, key=lambda i: atlas.identities.identity(i).summary.faces)


def test_ingest_clusters_people_without_mixing_them(web_atlas: Atlas) -> None:
    groups = partition(web_atlas)
    assert all(len(people) == 1 for people in groups.values()), groups
    covered = {p for people in groups.values() for p in people}
    assert covered == set(PEOPLE)  # every repeated person found, no lone face founded one
    for person in PEOPLE:
        biggest = max(
            web_atlas.identities.identity(i).summary.faces
            for i, ps in groups.items()
            if ps == {person}
        )
        assert biggest >= 2, person


def test_recluster_reproduces_incremental_clusters(web_atlas: Atlas) -> None:
    before = partition(web_atlas)
    members_before = {
        frozenset(p.face_id for p in web_atlas.identities.identity(i).photos) for i in before
    }
    report = web_atlas.identities.cluster_identities(rebuild=True)
    assert report.mode == "recluster" and report.identities == len(before)
    after = {
        frozenset(p.face_id for p in web_atlas.identities.identity(i).photos)
        for i in partition(web_atlas)
    }
    assert after == members_before
    assert set(partition(web_atlas)) == set(before)  # identity ids are kept


def all_face_ids(atlas: Atlas) -> set[int]:
    return {f for ids, _, _ in atlas.catalog.iter_embeddings(atlas.model_id) for f in ids.tolist()}


def test_curation_holds_through_recluster(web_atlas: Atlas, faces_dir: Path) -> None:
    powell = identity_of_person(web_atlas, "Colin_Powell")
    blair = identity_of_person(web_atlas, "Tony_Blair")
    serena = identity_of_person(web_atlas, "Serena_Williams")
    chavez = identity_of_person(web_atlas, "Hugo_Chavez")
    # A (deliberately wrong) merge and a label, as an investigator might make them.
    blairs = [i for i, people in partition(web_atlas).items() if people == {"Tony_Blair"}]
    assert blair in blairs
    web_atlas.identities.merge_identities(powell, blairs, actor="analyst-1")
    web_atlas.identities.label_identity(powell, "Case 12 subject A", actor="analyst-2")
    merged = {p.face_id for p in web_atlas.identities.identity(powell).photos}
    # Not this person: one of Serena's faces; and one of Chavez's faces split off.
    serena_faces = [p.face_id for p in web_atlas.identities.identity(serena).photos]
    web_atlas.identities.reject_faces(serena, [serena_faces[0]], actor="analyst-1")
    chavez_faces = [p.face_id for p in web_atlas.identities.identity(chavez).photos]
    split_off = web_atlas.identities.split_identity(chavez, [chavez_faces[0]], actor="analyst-3")
    assert web_atlas.identities.move_faces([chavez_faces[1]], serena, actor="analyst-4") == serena

    web_atlas.identities.cluster_identities(rebuild=True)

    detail = web_atlas.identities.identity(powell)
    assert detail.summary.label == "Case 12 subject A"
    assert detail.summary.labelled_by == "analyst-2"
    assert {p.face_id for p in detail.photos} == merged
    for gone in blairs:
        with pytest.raises(NotFoundError):
            web_atlas.identities.identity(gone)
    assert serena_faces[0] not in {p.face_id for p in web_atlas.identities.identity(serena).photos}
    assert [p.face_id for p in web_atlas.identities.identity(split_off).photos] == [chavez_faces[0]]
    assert chavez_faces[0] not in {p.face_id for p in web_atlas.identities.identity(chavez).photos}
    serena_now = web_atlas.identities.identity(serena)
    assert chavez_faces[1] in {p.face_id for p in serena_now.photos if p.manual}
    assert ("move", "analyst-4") in [(d.kind.value, d.actor) for d in serena_now.decisions]
    kinds = [(d.kind.value, d.actor) for d in detail.decisions]
    assert ("merge", "analyst-1") in kinds and ("label", "analyst-2") in kinds
    # New photos are clustered around the curated faces without moving any of them.
    known = all_face_ids(web_atlas)
    new = [("Tony_Blair", n) for n in (7, 8, 9)]
    web_atlas.ingest(WebPhotos(faces_dir / "lfw" / "images", new, "more-news"))
    assert len(all_face_ids(web_atlas) - known) >= 3
    assert {p.face_id for p in web_atlas.identities.identity(powell).photos} >= merged
    assert web_atlas.identities.identity(powell).summary.label == "Case 12 subject A"


def test_decisions_survive_reembedding_with_another_model(tmp_path: Path, faces_dir: Path) -> None:
    """Decisions are keyed by face ids: after a switch to SFace they still hold."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for person in ("Colin_Powell", "Serena_Williams"):
        for n in range(1, 5):
            name = f"{person}_{n:04d}.jpg"
            shutil.copy(faces_dir / "lfw" / "images" / person / name, photos / name)
    root = tmp_path / "atlas"
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        atlas.ingest(photos)
        powell = identity_of_person(atlas, "Colin_Powell")
        serena = identity_of_person(atlas, "Serena_Williams")
        atlas.identities.merge_identities(powell, [serena], actor="analyst-1")
        atlas.identities.label_identity(powell, "Merged by hand", actor="analyst-2")
        merged = {p.face_id for p in atlas.identities.identity(powell).photos}
    report = Atlas.reembed(settings=atlas_settings(root, engine=EngineName.SFACE))
    assert report.complete
    with Atlas.open(settings=atlas_settings(root, engine=EngineName.SFACE)) as atlas:
        assert atlas.model_id != "dlib-resnet-v1"
        atlas.identities.cluster_identities(rebuild=True)
        detail = atlas.identities.identity(powell)
        assert {p.face_id for p in detail.photos} == merged
        assert detail.summary.label == "Merged by hand"
        assert detail.summary.labelled_by == "analyst-2"


def test_name_candidates_come_from_provenance_with_counts(web_atlas: Atlas) -> None:
    serena = identity_of_person(web_atlas, "Serena_Williams")
    detail = web_atlas.identities.identity(serena)
    top = detail.name_candidates[0]
    assert top.name == "Serena Williams"
    assert top.sightings == detail.sightings
    assert set(top.fields) >= {"caption", "file_name"}
    assert all(p.startswith("https://") for p in top.pages)
    # Names from a caption that names three people count a third each.
    sharon = next(c for c in detail.name_candidates if c.name == "Ariel Sharon")
    assert sharon.sightings == 1 and sharon.support == pytest.approx(1 / 3)
    assert sharon.share < top.share / 3
    data = detail.as_dict()["name_candidates"][0]
    assert data["status"].startswith("unverified")
    assert set(detail.domains) <= {"news-a.example", "news-b.example", "blog.example"}
    assert len(detail.domains) >= 2


def test_search_groups_hits_by_identity_with_multi_photo_probe(
    web_atlas: Atlas, faces_dir: Path
) -> None:
    probes = [photo(faces_dir, "Colin_Powell", n) for n in PROBES]
    result = web_atlas.identities.search_identities(probes, min_similarity=LEAD_SIMILARITY)
    assert result.probe_photos == 2
    top = result.hits[0]
    powell = identity_of_person(web_atlas, "Colin_Powell")
    assert top.identity_id == powell
    assert len(top.photos) == web_atlas.identities.identity(powell).summary.faces
    assert top.sightings == len(top.photos) and len(top.domains) >= 2
    assert all(h.identity_id != powell for h in result.hits[1:])
    single = web_atlas.identities.search_identities(probes[:1], min_similarity=LEAD_SIMILARITY)
    assert single.hits[0].identity_id == powell and single.probe_photos == 1
    assert "Investigative leads" in result.as_dict()["notice"]


def test_curation_rejects_bad_requests(web_atlas: Atlas) -> None:
    powell = identity_of_person(web_atlas, "Colin_Powell")
    with pytest.raises(NotFoundError):
        web_atlas.identities.merge_identities(powell, [999_999], actor="a")
    with pytest.raises(InvalidRequestError):
        web_atlas.identities.merge_identities(powell, [powell], actor="a")
    with pytest.raises(InvalidRequestError):
        web_atlas.identities.label_identity(powell, "x", actor="  ")
    with pytest.raises(InvalidRequestError):
        web_atlas.identities.label_identity(powell, "   ", actor="a")
    faces = [p.face_id for p in web_atlas.identities.identity(powell).photos]
    with pytest.raises(InvalidRequestError):
        web_atlas.identities.split_identity(powell, faces, actor="a")
    with pytest.raises(NotFoundError):
        web_atlas.identities.move_faces([999_999], powell, actor="a")
    with pytest.raises(InvalidRequestError):
        web_atlas.identities.search_identities([])


def test_erased_faces_leave_their_identity_and_its_search_results(
    web_atlas: Atlas, faces_dir: Path
) -> None:
    serena = identity_of_person(web_atlas, "Serena_Williams")
    faces = [p.face_id for p in web_atlas.identities.identity(serena).photos]
    assert web_atlas.gallery.delete_faces(faces[:2]) == 2
    left = {p.face_id for p in web_atlas.identities.identity(serena).photos}
    assert left == set(faces[2:])
    probe = [photo(faces_dir, "Serena_Williams", 7)]
    hits = web_atlas.identities.search_identities(probe, min_similarity=LEAD_SIMILARITY).hits
    returned = {p.face_id for h in hits for p in h.photos} | {h.best_face_id for h in hits}
    assert not returned & set(faces[:2])
    assert hits[0].identity_id == serena
    web_atlas.gallery.delete_faces(faces[2:])
    with pytest.raises(NotFoundError):
        web_atlas.identities.identity(serena)
    web_atlas.identities.cluster_identities()
    assert serena not in {s.id for s in web_atlas.identities.list_identities(limit=1000)}
