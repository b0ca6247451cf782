"""A running server sees what another process (the CLI) ingested or erased, on its next request."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from faceatlas import Atlas
from faceatlas.services import SearchRequest, Service
from tests.conftest import Backend, BackendSettings
from tests.webkit import make_people

pytestmark = pytest.mark.milvus_server

CASE = SearchRequest(case_number="2026-0142", purpose="missing person")


def _locators(service: Service, user: object, probe: bytes) -> set[str]:
    result = service.search(user, probe, CASE).result  # type: ignore[arg-type]
    return {Path(s.locator).name for h in result.hits for s in h.sightings}


def test_the_server_sees_another_process_ingest_and_erase(
    tmp_path: Path, faces_dir: Path, atlas_settings: BackendSettings
) -> None:
    if atlas_settings.backend is Backend.SQLITE_MILVUS_LITE:
        pytest.skip(
            "Milvus Lite is embedded in one process: a second process cannot open it at all "
            "(the Milvus server backend of the matrix is shared)"
        )
    lfw = faces_dir / "lfw" / "images"
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    shutil.copy(lfw / "Tony_Blair" / "Tony_Blair_0001.jpg", first)
    shutil.copy(lfw / "Colin_Powell" / "Colin_Powell_0001.jpg", later)
    probe = (lfw / "Colin_Powell" / "Colin_Powell_0002.jpg").read_bytes()
    root = tmp_path / "atlas"
    with Atlas.open(settings=atlas_settings(root)) as served:
        served.ingest(first)
        people = make_people(served)
        service = Service(served)
        assert "Colin_Powell_0001.jpg" not in _locators(service, people.investigator, probe)
        with Atlas.open(settings=atlas_settings(root)) as cli:  # another process's view
            cli.ingest(later)
            digest = hashlib.sha256((later / "Colin_Powell_0001.jpg").read_bytes()).hexdigest()
            powell = cli.catalog.image_id_for_sha(digest)
        assert served.gallery.catalog_changed()
        # another process's ingest is caught up (FAISS) or already there (a shared server):
        # never a rebuild of the whole index
        assert served.gallery.sync_index() in {"ok", "caught_up"}
        assert "Colin_Powell_0001.jpg" in _locators(service, people.investigator, probe)
        assert not served.gallery.catalog_changed()
        with Atlas.open(settings=atlas_settings(root)) as cli:
            assert powell is not None
            cli.privacy.erase_images([powell], actor="admin")
        assert "Colin_Powell_0001.jpg" not in _locators(service, people.investigator, probe)
        assert len(served.index) == served.catalog.counts()["embeddings"]
