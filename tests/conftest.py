"""Shared fixtures: the real face photos in ``../shared/faces`` and small real atlases."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path

import pytest
import sqlalchemy as sa

from faceatlas import Atlas, Settings
from faceatlas.choices import DEFAULT_ENGINE, EngineName, IndexBackend
from faceatlas.engine import EngineSpec, create_engine
from tests.milvus_server import milvus_server_started_early, milvus_uri

__all__ = ["milvus_server_started_early", "milvus_uri"]  # the session's Milvus server fixtures

# FAISS's OpenMP threads sleep rather than spin while waiting: on a shared 2-core CI
# machine spinning makes small trainings many times slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO_ROOT = Path(__file__).resolve().parent.parent

# The suite runs the product's default engine (sface) unless FACEATLAS_ENGINE names another;
# tests about one engine name it. Thresholds below are on the engine's own scale.
ENGINE = EngineName(os.environ.get("FACEATLAS_ENGINE") or DEFAULT_ENGINE.value)
os.environ["FACEATLAS_ENGINE"] = ENGINE.value
MODEL_ID = create_engine(EngineSpec.for_engine(ENGINE)).model_id
"""The embedding model of the engine the suite runs (atlases built by fixtures hold it)."""
LEAD_SIMILARITY = {EngineName.DLIB: 0.9, EngineName.SFACE: 0.27}[ENGINE]
"""A lax lead threshold that photos of one person clear: dlib 0.9, and the SFace similarity at
the same false-match rate (2e-2 of the different-person pairs among LFW View 2's photos,
``benchmarks/threshold_transfer.py``)."""
LAX_SIMILARITY = {EngineName.DLIB: 0.80, EngineName.SFACE: 0.01}[ENGINE]
"""dlib's old built-in 0.80 (the evaluation lab's lax setting), and SFace's value at its rate."""
POSTGRES_URL_ENV = "FACEATLAS_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    root = Path(
        os.environ.get("FACEATLAS_TEST_FACES", REPO_ROOT.parent / "shared" / "faces")
    ).resolve()
    if not (root / "lfw" / "pairs.txt").is_file():
        pytest.fail(f"shared face photos not found at {root}; set FACEATLAS_TEST_FACES")
    return root


@pytest.fixture(scope="session")
def known_people(faces_dir: Path) -> Path:
    """face_recognition's KNN training photos: one folder per person."""
    return faces_dir / "face_recognition" / "examples" / "knn_examples" / "train"


@pytest.fixture(scope="session")
def probe_photos(faces_dir: Path) -> Path:
    """Different photos of the same people (``obama1.jpg``, ``alex_lacamoire1.jpg``, ...)."""
    return faces_dir / "face_recognition" / "examples" / "knn_examples" / "test"


def atlas_settings(atlas_dir: Path, **overrides: object) -> Settings:
    """Default settings (SQLite catalog, exact FAISS index) for an atlas folder.

    Tests that should hold on every backend request the ``atlas_settings``
    fixture instead, which has this signature and runs once per backend.
    """
    return Settings(atlas_dir=atlas_dir, **overrides)  # type: ignore[arg-type]


# --- the backend matrix --------------------------------------------------------------


def kill_once_committed(
    command: list[str], env: Mapping[str, str], atlas_dir: Path, images: int
) -> int:
    """Run ``command`` and SIGKILL it as soon as the catalog in ``atlas_dir`` has committed
    ``images`` images (read-only peeks, for at most 120 s); the count it had reached."""
    proc = subprocess.Popen(command, env=env)
    db_path = atlas_dir / "catalog.sqlite3"
    deadline = time.monotonic() + 120
    committed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db_path.exists():
            try:
                with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
                    committed = db.execute("SELECT count(*) FROM images").fetchone()[0]
            except sqlite3.OperationalError:
                committed = 0
            if committed >= images:
                break
        time.sleep(0.05)
    assert proc.poll() is None, f"{command[3]} finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return int(committed)


class Backend(StrEnum):
    SQLITE_FAISS = "sqlite+faiss"
    POSTGRES_FAISS = "postgres+faiss"
    SQLITE_MILVUS_LITE = "sqlite+milvus-lite"
    SQLITE_MILVUS_SERVER = "sqlite+milvus-server"
    """A real Milvus server (``tests/milvus_server.py``); only for tests marked ``milvus_server``:
    loading each new collection costs the server seconds."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The backend matrix: every backend but the Milvus server, which joins for tests (or
    modules) marked ``milvus_server``: the index's own behaviour (erasure, rebuild, reopen,
    sharing between processes)."""
    if "backend_settings" not in metafunc.fixturenames:
        return
    on_server = metafunc.definition.get_closest_marker("milvus_server") is not None
    backends = [b for b in Backend if on_server or b is not Backend.SQLITE_MILVUS_SERVER]
    metafunc.parametrize(
        "backend_settings",
        backends,
        indirect=True,
        ids=[b.value for b in backends],
        scope="session",
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server: ``$FACEATLAS_TEST_POSTGRES_URL`` (``.ci/run`` starts one), else a
    throwaway cluster started here from the local PostgreSQL packages."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        yield url
        return
    script = REPO_ROOT / ".ci" / "postgres"
    pgdir = Path(tempfile.mkdtemp(prefix="faceatlas-test-pg-"))  # the server user must reach it
    started = subprocess.run(
        [str(script), "start", str(pgdir)], capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        pytest.fail(
            f"no PostgreSQL for the catalog tests: set {POSTGRES_URL_ENV} or install the "
            f"packages (.ci/postgres install): {started.stderr.strip()}"
        )
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([str(script), "stop", str(pgdir)], check=False)
        shutil.rmtree(pgdir, ignore_errors=True)


class BackendSettings:
    """Settings for atlas folders on one backend; a PostgreSQL database, or a Milvus collection
    prefix, per atlas folder."""

    def __init__(
        self, backend: Backend, postgres_url: str | None, milvus_uri: str | None = None
    ) -> None:
        self.backend = backend
        self.milvus_uri = milvus_uri
        self._admin = (
            sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
            if postgres_url
            else None
        )
        self._server_url = postgres_url
        self.databases: list[str] = []

    def __call__(self, atlas_dir: Path, **overrides: object) -> Settings:
        extra: dict[str, object] = {}
        if self.backend is Backend.POSTGRES_FAISS:
            extra["database_url"] = self._database_url(self._ensure_database(atlas_dir))
        if self.backend is Backend.SQLITE_MILVUS_LITE:
            extra["index_backend"] = IndexBackend.MILVUS
        if self.backend is Backend.SQLITE_MILVUS_SERVER:
            prefix = self._name(atlas_dir)  # one server, a collection per atlas folder
            extra.update(
                index_backend=IndexBackend.MILVUS,
                milvus_uri=self.milvus_uri,
                milvus_collection_prefix=prefix,
            )
            if prefix not in self.databases:
                self.databases.append(prefix)
        return Settings(atlas_dir=atlas_dir, **{**extra, **overrides})  # type: ignore[arg-type]

    def clone(self, source: Path, target: Path) -> None:
        """Copy a closed atlas: its folder, and on PostgreSQL its database."""
        shutil.copytree(source, target)
        if self._admin is not None:
            name = self._name(target)
            with self._admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self._name(source)}"'))
            self.databases.append(name)

    def drop(self, names: list[str]) -> None:
        """Drop the databases (PostgreSQL) or the collections (Milvus server) named for the
        atlas folders ``names``."""
        if self.milvus_uri is not None:
            from pymilvus import MilvusClient

            client = MilvusClient(uri=self.milvus_uri)
            try:
                for collection in client.list_collections():
                    if any(collection.startswith(f"{name}_") for name in names):
                        client.drop_collection(collection)
            finally:
                client.close()
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    @staticmethod
    def _name(atlas_dir: Path) -> str:
        return "fa_" + hashlib.sha1(str(atlas_dir.resolve()).encode()).hexdigest()[:24]

    def _ensure_database(self, atlas_dir: Path) -> str:
        assert self._admin is not None
        name = self._name(atlas_dir)
        with self._admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if exists is None:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                self.databases.append(name)
        return name

    def _database_url(self, name: str) -> str:
        assert self._server_url is not None
        return str(sa.make_url(self._server_url).set(database=name))


@pytest.fixture(scope="session")
def backend_settings(request: pytest.FixtureRequest) -> Iterator[BackendSettings]:
    """One :class:`BackendSettings` per backend of the matrix (``pytest_generate_tests``), for
    the whole session."""
    backend = Backend(request.param)
    url = request.getfixturevalue("postgres_url") if backend is Backend.POSTGRES_FAISS else None
    server = (
        request.getfixturevalue("milvus_uri") if backend is Backend.SQLITE_MILVUS_SERVER else None
    )
    factory = BackendSettings(backend, url, server)
    yield factory
    factory.drop(factory.databases)


@pytest.fixture(name="atlas_settings")
def atlas_settings_fixture(backend_settings: BackendSettings) -> Iterator[BackendSettings]:
    """``atlas_settings(atlas_dir, **overrides) -> Settings`` on each backend of the matrix:
    SQLite + FAISS, PostgreSQL + FAISS, SQLite + Milvus Lite (and SQLite + a Milvus server for
    tests marked ``milvus_server``)."""
    before = len(backend_settings.databases)
    yield backend_settings
    created = backend_settings.databases[before:]
    backend_settings.drop(created)
    del backend_settings.databases[before:]


@pytest.fixture(scope="session")
def people_atlas_dir(tmp_path_factory: pytest.TempPathFactory, known_people: Path) -> Path:
    """An atlas (default settings) built once per session from the known-people photos.
    Copy before writing."""
    root = tmp_path_factory.mktemp("people-atlas")
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        report = atlas.ingest(known_people)
    assert report.counts["failed"] == 0
    return root


@pytest.fixture(scope="session")
def backend_people_atlas_dir(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    known_people: Path,
    backend_settings: BackendSettings,
) -> Path:
    """The known-people atlas built once per session on each backend of the matrix.

    Copy it with ``atlas_settings.clone`` before writing. On the Milvus server it is the
    default atlas's folder copied (same SQLite catalog); each copy fills its collection
    from the catalog when first opened, as any atlas whose index is missing does.
    """
    root = tmp_path_factory.mktemp("people-atlas-" + backend_settings.backend.name.lower())
    if backend_settings.backend is Backend.SQLITE_MILVUS_SERVER:
        source = request.getfixturevalue("people_atlas_dir")
        shutil.copytree(source, root, dirs_exist_ok=True)
        return root
    with Atlas.open(settings=backend_settings(root)) as atlas:
        report = atlas.ingest(known_people)
    assert report.counts["failed"] == 0
    return root


@pytest.fixture
def people_atlas(
    backend_people_atlas_dir: Path, tmp_path: Path, atlas_settings: BackendSettings
) -> Iterator[Atlas]:
    """A private, writable copy of the session's known-people atlas, on each backend."""
    root = tmp_path / "atlas"
    atlas_settings.clone(backend_people_atlas_dir, root)
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        yield atlas


@pytest.fixture(scope="session")
def lfw_sample(faces_dir: Path) -> list[Path]:
    """Two photos each of twelve LFW people with several photos (24 small photos)."""
    images = faces_dir / "lfw" / "images"
    people = [
        "Colin_Powell",
        "Tony_Blair",
        "Donald_Rumsfeld",
        "Gerhard_Schroeder",
        "Ariel_Sharon",
        "Hugo_Chavez",
        "Junichiro_Koizumi",
        "Jean_Chretien",
        "John_Ashcroft",
        "Jacques_Chirac",
        "Serena_Williams",
        "Vladimir_Putin",
    ]
    return [images / p / f"{p}_{n:04d}.jpg" for p in people for n in (1, 2)]


@pytest.fixture(scope="session")
def pages_atlas_dir(tmp_path_factory: pytest.TempPathFactory, known_people: Path) -> Path:
    """Known-people photos ingested as images found on web pages. Copy before writing."""
    from tests.webkit import build_pages_atlas

    root = tmp_path_factory.mktemp("pages-atlas")
    build_pages_atlas(root, known_people)
    return root
