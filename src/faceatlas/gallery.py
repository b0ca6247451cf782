"""The gallery: an atlas's stored faces, as the catalog (the source of truth) and the vector
index rebuilt from it, kept in step across processes, with the engine that made them.

Every core (search, identities, privacy, ingest) works on the gallery it is given; the
:class:`~faceatlas.atlas.Atlas` facade builds one and hands it to them.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Generic, Protocol, Self, TypeVar, overload

import numpy as np

from faceatlas.config import Settings
from faceatlas.engine import (
    EngineSpec,
    FaceEngine,
    ModelCard,
    analyze_faces,
    card_of,
    create_engine,
    decode_image,
)
from faceatlas.errors import AtlasLockedError, ModelMismatchError, NotFoundError
from faceatlas.index import VectorIndex, open_index
from faceatlas.index.saved import INDEX_DIR, in_step
from faceatlas.store import Catalog, FaceRecord
from faceatlas.store.migrations import GENERATION_META
from faceatlas.store.summary import CATALOG_FILE, META_DIM, META_INDEX_DIRTY, META_MODEL_ID
from faceatlas.timing import StageTimer
from faceatlas.types import AnalyzedFace

__all__ = ["CATALOG_FILE", "INDEX_DIR", "LOCK_FILE", "FromGallery", "Gallery", "writer_lock"]

LOCK_FILE = "writer.lock"


class Gallery:
    """Catalog, index and engine of one atlas folder (or database)."""

    def __init__(
        self, settings: Settings, catalog: Catalog, engine: FaceEngine, index: VectorIndex
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.engine = engine
        self.index = index
        self._generation: str | None = None

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        engine: FaceEngine | None = None,
        must_exist: bool = False,
        guard_model: bool = True,
    ) -> Gallery:
        """Open (creating if needed, unless ``must_exist``) the gallery ``settings`` name.

        The engine is built from settings unless given; its weights load on first use.
        With ``guard_model`` (the default) an atlas built with another embedding model is
        refused (:class:`ModelMismatchError`) and the index is brought in line with the
        catalog; without it (re-embedding) neither happens.
        """
        root = settings.atlas_dir
        if must_exist and settings.database_url is None and not (root / CATALOG_FILE).is_file():
            raise NotFoundError(f"no atlas at {root}")
        root.mkdir(parents=True, exist_ok=True)
        catalog = Catalog.open(settings.database_url or f"sqlite:///{root / CATALOG_FILE}")
        try:
            engine = engine or create_engine(EngineSpec.from_settings(settings))
            if guard_model:
                _guard_model(catalog, engine)
            model_id = engine.model_id

            def lookup(ids: Sequence[int]) -> dict[int, np.ndarray[Any, np.dtype[np.float32]]]:
                return catalog.vectors_for_faces(model_id, ids)

            index = open_index(settings, root / INDEX_DIR, model_id, engine.dim, lookup)
        except BaseException:
            catalog.close()
            raise
        gallery = cls(settings, catalog, engine, index)
        if guard_model:
            gallery.sync_index()
        return gallery

    def close(self) -> None:
        try:
            self.index.close()
        finally:
            self.catalog.close()

    @property
    def root(self) -> Path:
        return self.settings.atlas_dir

    @property
    def model_id(self) -> str:
        return self.engine.model_id

    @property
    def card(self) -> ModelCard:
        """The numbers the model states: its thresholds (:mod:`faceatlas.engine.card`)."""
        return card_of(self.engine)

    def inventory(self) -> dict[str, Any]:
        """What the gallery holds: catalog counts, embeddings per model, the index's state."""
        return {
            "atlas": str(self.root),
            "model_id": self.model_id,
            "embeddings_by_model": self.catalog.embedding_models(),
            "catalog": self.catalog.counts(),
            "index": self.index.stats(),
        }

    def adopt_model(self) -> None:
        """Make the engine's model the atlas's own (after every face was re-embedded)."""
        with self.catalog.writer() as w:
            w.set_meta(META_MODEL_ID, self.engine.model_id)
            w.set_meta(META_DIM, str(self.engine.dim))

    def writer_lock(self) -> AbstractContextManager[None]:
        """Exclusive lock for writers (ingest, reindex, erasure) across processes."""
        return writer_lock(self.root)

    # --- index consistency ----------------------------------------------------------

    def catalog_changed(self) -> bool:
        """Whether any process changed the stored embeddings since this one last synced."""
        return self.catalog.get_meta(GENERATION_META) != self._generation

    def sync_index(self) -> str:
        """Bring the index in line with the catalog: ``ok``, ``caught_up`` or ``rebuilt``."""
        self._generation = self.catalog.get_meta(GENERATION_META)
        count, watermark = self.catalog.embedding_watermark(self.model_id)
        state = self.index.state()
        dirty = self.catalog.get_meta(META_INDEX_DIRTY) == "1"
        held = None if state is None else (len(self.index), state.watermark)
        if in_step(held, (count, watermark), dirty=dirty):
            if self.index.needs_rebuild():
                self.rebuild_index()
                return "rebuilt"
            return "ok"
        if not dirty and state is not None and state.watermark < watermark:
            newer = 0
            batches = []
            for ids, vectors, _ in self.catalog.iter_embeddings(
                self.model_id, after_id=state.watermark
            ):
                newer += len(ids)
                batches.append((ids, vectors))
            if len(self.index) + newer == count:
                for ids, vectors in batches:
                    self.index.add(ids, vectors)
                self.index.save(watermark)
                return "caught_up"
        self.rebuild_index()
        return "rebuilt"

    def rebuild_index(self) -> int:
        """Rebuild the index from the catalog's embeddings; returns the vector count."""
        self.index.reset()
        watermark = 0
        for ids, vectors, last in self.catalog.iter_embeddings(self.model_id):
            self.index.add(ids, vectors)
            watermark = last
        self.index.save(watermark)
        self.catalog.set_meta(META_INDEX_DIRTY, "0")
        return len(self.index)

    def mark_index_dirty(self) -> None:
        """Record, before a deletion commits, that the saved index may hold stale vectors."""
        self.catalog.set_meta(META_INDEX_DIRTY, "1")

    def delete_faces(self, face_ids: Sequence[int]) -> int:
        """Erase faces: catalog rows (face, embeddings, thumbnail) and their index vectors.

        The index is marked dirty before the catalog commits, so a crash in between
        makes the next open rebuild the index from the catalog. Returns how many of
        ``face_ids`` existed.
        """
        ids = sorted({int(i) for i in face_ids})
        if not ids:
            return 0
        with self.writer_lock():
            self.sync_index()
            self.mark_index_dirty()
            with self.catalog.writer() as w:
                deleted = w.delete_faces(ids)
            self.index.remove(np.asarray(ids, dtype=np.int64))
            _, watermark = self.catalog.embedding_watermark(self.model_id)
            self.index.save(watermark)
            self.catalog.set_meta(META_INDEX_DIRTY, "0")
            self.sync_index()  # in step with its own erasure: no catch-up on the next search
        return deleted

    # --- reads -----------------------------------------------------------------------

    def face(self, face_id: int) -> FaceRecord:
        """A face with its image and every sighting; :class:`NotFoundError` if unknown."""
        rec = self.catalog.faces([face_id]).get(face_id)
        if rec is None:
            raise NotFoundError(f"face {face_id} does not exist")
        return rec

    def faces(self, face_ids: Sequence[int]) -> dict[int, FaceRecord]:
        """Face records (image and every sighting) keyed by id; unknown ids are left out."""
        return self.catalog.faces(face_ids)

    def thumbnail(self, face_id: int) -> bytes:
        jpeg = self.catalog.thumbnail(face_id)
        if jpeg is None:
            raise NotFoundError(f"no thumbnail for face {face_id}")
        return jpeg

    # --- probes ----------------------------------------------------------------------

    def analyze_probe(
        self,
        data: bytes,
        *,
        max_pixels: int | None = None,
        fit_pixels: int | None = None,
        timer: StageTimer | None = None,
    ) -> list[AnalyzedFace]:
        """Decode and analyse a probe photo, largest face first (bounded before decoding);
        ``timer`` times the ``decode``, ``detect`` and ``embed`` stages."""
        timer = timer or StageTimer()
        limit = (
            self.settings.max_pixels
            if max_pixels is None
            else min(max_pixels, self.settings.max_pixels)
        )
        with timer.stage("decode"):
            image = decode_image(
                data,
                max_pixels=limit,
                max_bytes=self.settings.max_file_bytes,
                fit_pixels=fit_pixels,
            )
        return analyze_faces(
            self.engine, image.pixels, thumbnail_px=self.settings.thumbnail_px, timer=timer
        )


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """The atlas folder ``root``'s writer lock (:class:`AtlasLockedError` when another
    process holds it)."""
    fd = os.open(root / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AtlasLockedError(f"another process is writing to {root}") from None
        yield
    finally:
        os.close(fd)


def _guard_model(catalog: Catalog, engine: FaceEngine) -> None:
    stored_model = catalog.get_meta(META_MODEL_ID)
    stored_dim = catalog.get_meta(META_DIM)
    if stored_model is None:
        with catalog.writer() as w:
            w.set_meta(META_MODEL_ID, engine.model_id)
            w.set_meta(META_DIM, str(engine.dim))
        return
    if stored_model != engine.model_id or stored_dim != str(engine.dim):
        raise ModelMismatchError(
            f"this atlas holds {stored_model} ({stored_dim}-d) embeddings; the engine makes "
            f"{engine.model_id} ({engine.dim}-d). Use the matching engine, or re-embed the atlas."
        )


class HasGallery(Protocol):
    """What holds a gallery: the :class:`~faceatlas.atlas.Atlas` facade."""

    gallery: Gallery


T = TypeVar("T")


class FromGallery(Generic[T]):
    """A read-only attribute of a facade (the atlas) that is the same-named attribute of its
    ``gallery``, declared once per name: ``settings = FromGallery[Settings]()``."""

    def __set_name__(self, owner: type[HasGallery], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, facade: None, owner: type[HasGallery]) -> Self: ...

    @overload
    def __get__(self, facade: HasGallery, owner: type[HasGallery] | None = None) -> T: ...

    def __get__(self, facade: HasGallery | None, owner: type[HasGallery] | None = None) -> T | Self:
        if facade is None:
            return self
        value: T = getattr(facade.gallery, self.name)
        return value

    def __set__(self, facade: HasGallery, value: T) -> None:
        raise AttributeError(f"{self.name} is its gallery's: set it there")
