"""Settings: one object, read from ``FACEATLAS_*`` environment variables and an
optional TOML file, passed explicitly to everything that needs it."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["DetectorKind", "EngineName", "Settings"]

CONFIG_ENV = "FACEATLAS_CONFIG"

DEFAULT_MIN_SIMILARITY = 0.80
"""Search threshold used until ``faceatlas calibrate`` stores a calibrated one.

On unit-normalised dlib descriptors this is Euclidean distance 0.632, close to
dlib's documented 0.6 on raw descriptors.
"""


class EngineName(StrEnum):
    DLIB = "dlib"


class DetectorKind(StrEnum):
    HOG = "hog"
    CNN = "cnn"


class Settings(BaseSettings):
    """Every tunable of FaceAtlas. See ``docs/configuration.md``."""

    model_config = SettingsConfigDict(
        env_prefix="FACEATLAS_",
        extra="forbid",
        validate_default=True,
    )

    atlas_dir: Path = Field(default=Path("atlas"), description="Folder holding the atlas.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the catalog; default is SQLite inside the atlas folder.",
    )

    engine: EngineName = Field(default=EngineName.DLIB, description="Face engine.")
    detector: DetectorKind = Field(default=DetectorKind.HOG, description="Face detector.")
    upsample: int = Field(
        default=1, ge=0, le=3, description="Times the image is upsampled before detection."
    )
    min_face_px: int = Field(default=20, ge=1, description="Smallest face box side kept, pixels.")
    max_pixels: int = Field(
        default=40_000_000, ge=1, description="Decoded pixel limit (decompression-bomb guard)."
    )
    max_file_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1, description="Largest image file accepted, bytes."
    )
    thumbnail_px: int = Field(default=160, ge=32, le=512, description="Thumbnail longest side.")

    workers: int = Field(default=1, ge=1, le=64, description="Ingest worker processes.")
    commit_every: int = Field(default=64, ge=1, description="Images per catalog transaction.")
    index_checkpoint_every: int = Field(
        default=2000, ge=1, description="Images between index checkpoints during ingest."
    )

    top_k: int = Field(default=10, ge=1, le=1000, description="Default number of search results.")
    min_similarity: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="Search threshold; unset means the calibrated one, else the built-in default.",
    )

    identity_min_similarity: float = Field(
        default=0.93,
        ge=-1.0,
        le=1.0,
        description="Cosine similarity at which two faces count as neighbours for clustering.",
    )
    identity_min_faces: int = Field(
        default=3,
        ge=1,
        description="Faces (itself included) within the neighbour similarity that make a core face.",
    )
    identity_max_neighbours: int = Field(
        default=64, ge=1, le=1000, description="Neighbours fetched per face when clustering."
    )
    identity_border_min_votes: int = Field(
        default=2,
        ge=0,
        description="Neighbours in one identity a non-core face needs to join it (0: never).",
    )
    identity_min_centroid_similarity: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description="Pairwise-equivalent similarity to an identity's centroid a face needs "
        "to join it (size-adjusted; see docs/identities.md).",
    )
    identity_cluster_on_ingest: bool = Field(
        default=True, description="Cluster new faces into identities after each ingest."
    )

    @field_validator("atlas_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get(CONFIG_ENV)
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_path)))
        return tuple(sources)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced (``None`` values are ignored), validated."""
        data = self.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        return Settings(**data)
