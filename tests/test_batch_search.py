"""Batch search with real LFW photos: 50 probes in one call write exactly 50 ``search`` audit
entries (and one ``search_batch`` entry naming them), the combined report's candidates equal
single searches of the same probes, every probe is recorded into the case (whose HTML report
then holds them), and bad probes fail one by one while the batch goes on."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from faceatlas import Atlas
from faceatlas.accounts import Role
from faceatlas.errors import ImageTooLargeError, InvalidRequestError
from faceatlas.services import Interface, SearchRequest, Service, local_operator
from faceatlas.services.batch import BatchDesk
from faceatlas.services.batch_probes import BatchProbe, probes_from_folder, probes_from_zip
from faceatlas.services.batch_report import report_csv
from tests.conftest import atlas_settings
from tests.webfixtures import no_face_png
from tests.webkit import PASSWORD

CASE = "2026/BATCH-50"
PURPOSE = "fraud investigation"
PEOPLE = 25
IVY = "ivy.investigator"


def lfw_people(faces_dir: Path) -> list[Path]:
    """The first :data:`PEOPLE` LFW people (by name) with three photos or more."""
    found = []
    for person in sorted((faces_dir / "lfw" / "images").iterdir()):
        if len(list(person.glob("*.jpg"))) >= 3:
            found.append(person)
        if len(found) == PEOPLE:
            return found
    raise AssertionError("LFW has fewer people with three photos")


@pytest.fixture(scope="module")
def lfw_atlas_dir(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Path:
    """Each person's first photo, ingested once for the module. Copy before writing."""
    photos = tmp_path_factory.mktemp("lfw-first")
    for person in lfw_people(faces_dir):
        shutil.copy(person / f"{person.name}_0001.jpg", photos)
    root = tmp_path_factory.mktemp("lfw-atlas") / "atlas"
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        assert atlas.ingest(photos).counts["faces"] >= PEOPLE
        atlas.accounts.create_user(IVY, Role.INVESTIGATOR, unit="unit-a", password=PASSWORD)
    return root


@pytest.fixture
def service(lfw_atlas_dir: Path, tmp_path: Path) -> Iterator[Service]:
    root = tmp_path / "atlas"
    shutil.copytree(lfw_atlas_dir, root)
    with Atlas.open(settings=atlas_settings(root, search_rate_per_minute=500)) as atlas:
        yield Service(atlas)


def test_fifty_probes_audited_one_by_one_and_equal_to_single_searches(
    service: Service, faces_dir: Path
) -> None:
    ivy = service.atlas.accounts.by_name(IVY)
    probes = [
        BatchProbe(f"{p.name}_{n:04d}.jpg", (p / f"{p.name}_{n:04d}.jpg").read_bytes())
        for p in lfw_people(faces_dir)
        for n in (2, 3)
    ]
    assert len(probes) == 50
    request = SearchRequest(CASE, PURPOSE, interface=Interface.CLI)
    seen: list[tuple[int, int]] = []
    report = BatchDesk(service).run(ivy, probes, request, lambda d, f: seen.append((d, f)))

    assert (report.searched, report.failed) == (50, 0) and seen[-1] == (50, 0)
    searches = service.atlas.audit.entries(action="search", case_number=CASE)
    assert len(searches) == 50
    assert sorted(e.seq for e in searches) == sorted(i.search_id for i in report.items)
    assert {e.details["batch"]["ref"] for e in searches} == {report.ref}
    closing = service.atlas.audit.entries(action="search_batch", case_number=CASE)
    assert len(closing) == 1 and closing[0].details["searched"] == 50

    right = 0
    for probe, item in zip(probes, report.items, strict=True):
        single = service.search(ivy, probe.data, request).result
        batch_hits = [(h.face_id, round(h.similarity, 4)) for h in item.hits]
        assert batch_hits == [(h.face_id, round(h.similarity, 4)) for h in single.hits]
        if single.hits:
            rank1 = single.hits[0].sightings[0].locator
            right += Path(rank1).name.rsplit("_", 1)[0] == probe.name.rsplit("_", 1)[0]
    assert right >= 35, f"only {right} of 50 probes found their person at rank 1"

    case = service.casework.show(ivy, CASE)
    assert len(case.searches) == 100  # the batch's 50 and the 50 single searches
    html = service.casework.report_html(ivy, CASE).decode()
    assert probes[0].name not in html  # names stay in the batch report, hashes in the case
    assert report.items[0].sha256 is not None and report.items[0].sha256 in html

    rows = list(csv.DictReader(io.StringIO(report_csv(report.as_dict()))))
    assert {r["item"] for r in rows} == {str(i) for i in range(50)}
    assert sum(1 for r in rows if r["rank"] == "1") == sum(1 for i in report.items if i.hits)


def test_bad_probes_fail_one_by_one_and_bounds_refuse_the_whole_batch(
    service: Service, faces_dir: Path, lfw_sample: list[Path], tmp_path: Path
) -> None:
    ivy = local_operator("batch-tester")
    good = lfw_sample[0].read_bytes()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a/good.jpg", good)
        zf.writestr("b/cut.jpg", good[:3000])
        zf.writestr("c/landscape.png", no_face_png())
        zf.writestr("d/notes.txt", "not a photo")
        zf.writestr("__MACOSX/._good.jpg", b"resource fork")
        zf.writestr(".hidden.jpg", good)
    probes = probes_from_zip(archive.getvalue(), service.settings)
    assert [p.name for p in probes] == ["a/good.jpg", "b/cut.jpg", "c/landscape.png", "d/notes.txt"]
    report = BatchDesk(service).run(ivy, probes, SearchRequest(CASE, PURPOSE))
    outcome = {i.name: (i.status, i.error_code) for i in report.items}
    assert outcome == {
        "a/good.jpg": ("searched", None),
        "b/cut.jpg": ("failed", "image_decode_error"),
        "c/landscape.png": ("failed", "no_face"),
        "d/notes.txt": ("failed", "image_decode_error"),
    }
    assert len(service.atlas.audit.entries(action="search", case_number=CASE)) == 1

    tight = service.settings.with_overrides(batch_max_probes=3, max_upload_bytes=len(good) - 1)
    with pytest.raises(InvalidRequestError):
        probes_from_zip(archive.getvalue(), tight)
    folder = tmp_path / "probes"
    folder.mkdir()
    (folder / "big.jpg").write_bytes(good)
    (folder / "small.png").write_bytes(no_face_png())
    listed = probes_from_folder(folder, tight)
    assert isinstance(listed[0].refused, ImageTooLargeError) and listed[1].refused is None
    with pytest.raises(ImageTooLargeError):
        probes_from_folder(folder, tight.with_overrides(batch_max_bytes=10))
