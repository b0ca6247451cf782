"""Settings: one object, read from ``FACEATLAS_*`` environment variables and an
optional TOML file, passed explicitly to everything that needs it."""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from faceatlas.choices import (
    DEFAULT_ENGINE,
    ENGINE_DEFAULTS,
    ENGINE_DETECTORS,
    DetectorKind,
    DlibBackend,
    EngineName,
    ExecutionProvider,
    IndexBackend,
    IvfCodes,
    LogFormat,
    MetricsAccess,
    MilvusIndexType,
)
from faceatlas.config_front_ends import FrontEndSettings
from faceatlas.config_inference import InferenceSettings
from faceatlas.config_search_modes import SearchModeSettings
from faceatlas.config_types import (
    Count,
    Days,
    NonNegativeSimilarity,
    Retries,
    Seconds,
    Similarity,
)
from faceatlas.video_settings import VideoSettings

__all__ = ["Count", "Days", "NonNegativeSimilarity", "Settings", "Similarity"]

CONFIG_ENV = "FACEATLAS_CONFIG"


class Settings(
    SearchModeSettings, VideoSettings, FrontEndSettings, InferenceSettings, BaseSettings
):
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

    engine: EngineName = Field(
        default=DEFAULT_ENGINE, description="Face engine: sface (default) or dlib."
    )
    detector: DetectorKind = Field(
        default=DetectorKind.YUNET,
        description="Face detector: hog or cnn (dlib), yunet (sface); default: the engine's own.",
    )
    upsample: int = Field(
        default=1,
        ge=0,
        le=3,
        description="Times the image is doubled before detection.",
    )
    dlib_backend: DlibBackend = Field(
        default=DlibBackend.ONNX,
        description="What runs the dlib ResNet: onnx (batched) or dlib; same embeddings.",
    )
    execution_providers: Annotated[tuple[ExecutionProvider, ...], NoDecode] = Field(
        default=(ExecutionProvider.CPU,),
        min_length=1,
        description="What runs the ONNX models, in order of preference (cuda,cpu); "
        "unavailable ones fall back to CPU with a logged reason.",
    )
    min_face_px: Count = Field(default=20, description="Smallest face box side kept, pixels.")
    max_pixels: Count = Field(
        default=40_000_000, description="Decoded pixel limit (decompression-bomb guard)."
    )
    max_file_bytes: Count = Field(
        default=50 * 1024 * 1024, description="Largest image file accepted, bytes."
    )
    thumbnail_px: int = Field(default=160, ge=32, le=512, description="Thumbnail longest side.")

    workers: Count = Field(default=1, le=64, description="Ingest worker processes.")
    commit_every: Count = Field(default=64, description="Images per catalog transaction.")
    index_checkpoint_every: Count = Field(
        default=2000, description="Images between index checkpoints during ingest."
    )

    fetch_timeout_s: Seconds = Field(
        default=10.0, le=300, description="Connect and read timeout of one HTTP request."
    )
    fetch_deadline_s: Seconds = Field(
        default=30.0, le=600, description="Whole-response deadline of one HTTP request."
    )
    fetch_max_redirects: int = Field(
        default=5, ge=0, le=20, description="Redirects followed per fetch, each re-checked."
    )
    fetch_retries: Retries = Field(
        default=3, le=10, description="Retries on 429, 5xx and connection errors."
    )
    fetch_backoff_s: float = Field(
        default=1.0, ge=0, le=60, description="First retry delay; doubles on each retry."
    )
    fetch_allow_networks: list[str] = Field(
        default_factory=list,
        description='Networks exempt from the SSRF guard, e.g. ["127.0.0.1/32"] for tests '
        "against a local server. Empty (the default) refuses every non-public address.",
    )
    fetch_threads: Count = Field(
        default=8, le=256, description="Concurrent fetches (reads) during ingest."
    )
    user_agent: str = Field(
        default="FaceAtlasBot/0.1 (+https://github.com/faceatlas/faceatlas/blob/main/docs/ingestion.md)",
        min_length=8,
        description="User-Agent sent on every request; names the bot and links its rules.",
    )
    crawl_per_host: Count = Field(
        default=2, le=16, description="Concurrent requests per host while crawling."
    )
    crawl_min_delay_s: float = Field(
        default=1.0, ge=0, le=600, description="Least delay between requests to one host."
    )
    near_duplicate_bits: int = Field(
        default=4, ge=0, le=16, description="Perceptual-hash distance folding near-duplicates."
    )

    top_k: Count = Field(default=10, le=1000, description="Default number of search results.")
    min_similarity: Similarity | None = Field(
        default=None,
        description="Search threshold; unset means the calibrated one, else the built-in default.",
    )
    fair_scoring: bool = Field(
        default=True,
        description="Compare faces with the fair score that ships for the model (region "
        "thresholds that only tighten; docs/fairness.md); false: raw cosine similarity.",
    )
    target_fpir: float | None = Field(
        default=None,
        gt=0.0,
        lt=1.0,
        description="Threshold mode: the chance that a search of someone not in the atlas "
        "returns any candidate (for example 1e-3); the threshold tightens as the atlas grows. "
        "Unset: the false-match-rate threshold alone.",
    )
    calibration_target_fmr: float = Field(
        default=1e-5,
        gt=0.0,
        lt=0.5,
        description="False-match rate per comparison that `faceatlas calibrate` sets the "
        "default search threshold at (see docs/evaluation.md).",
    )
    eval_report_dir: Path | None = Field(
        default=None,
        description="Folder of an evaluation report (`faceatlas eval run --out`) that the web "
        "app shows at /evaluation.",
    )

    identity_min_similarity: Similarity | None = Field(
        default=None,
        description="Cosine similarity at which two faces count as neighbours for clustering "
        "(default: the engine's model card).",
    )
    identity_min_faces: Count = Field(
        default=2,
        description="Faces (itself included) within the neighbour similarity that make a core face.",
    )
    identity_max_neighbours: Count = Field(
        default=64, le=1000, description="Neighbours fetched per face when clustering."
    )
    identity_border_min_votes: int = Field(
        default=1,
        ge=0,
        description="Neighbours in one identity a non-core face needs to join it (0: never).",
    )
    identity_join_min_votes: Count = Field(
        default=2,
        description=(
            "A face joins an identity of n faces only with at least min(this, ceil(n / 2)) "
            "of its neighbours in it."
        ),
    )
    identity_min_centroid_similarity: NonNegativeSimilarity | None = Field(
        default=None,
        description="Pairwise-equivalent similarity to an identity's centroid a face needs "
        "to join it (size-adjusted; see docs/identities.md; default: the engine's model card).",
    )
    identity_split_mixed: bool | None = Field(
        default=None,
        description=(
            "Split an identity made in one clustering run whose faces form two groups that are, "
            "on average, not neighbours (default: the engine's model card: on for sface, off "
            "for dlib)."
        ),
    )
    identity_cluster_on_ingest: bool = Field(
        default=True, description="Cluster new faces into identities after each ingest."
    )
    optout_min_similarity: NonNegativeSimilarity | None = Field(
        default=None,
        description=(
            "Opt-out erasure threshold; unset means the calibration's similarity at the "
            "opt-out false-match rate, else the model's built-in default (docs/privacy.md)."
        ),
    )
    optout_auto_approve: bool = Field(
        default=False, description="Carry out opt-out requests without an administrator."
    )
    store_probes: bool = Field(
        default=False, description="Keep search probe photos (off: probes are never stored)."
    )
    retention_thumbnail_days: Days | None = Field(
        default=None, description="Days face thumbnails are kept; unset keeps them."
    )
    retention_probe_days: Days = Field(default=30, description="Days stored probe photos are kept.")
    retention_audit_days: Days | None = Field(
        default=None, description="Days privacy-log entries are kept; unset keeps them."
    )

    index_backend: IndexBackend = Field(
        default=IndexBackend.FAISS_FLAT,
        description="Vector index: exact FAISS (default), FAISS IVF with re-ranking, or Milvus.",
    )
    ivf_codes: IvfCodes = Field(
        default=IvfCodes.SQ8, description="Codes the FAISS IVF index keeps in memory."
    )
    ivf_nprobe: Count | None = Field(
        default=None,
        le=65536,
        description="Inverted lists scanned per query (IVF, Milvus); unset: 1/8 of the lists "
        "(faiss-ivf), 1/2 (Milvus).",
    )
    ivf_train_min: Count = Field(
        default=20_000,
        description="Vectors held exactly before the IVF index is trained on the atlas's own.",
    )
    ivf_growth_factor: float = Field(
        default=4.0,
        gt=1.0,
        description="Retrain and rebuild the IVF index once it holds this many times "
        "the vectors it was trained on.",
    )
    rerank_shortlist: Count = Field(
        default=64,
        le=16384,
        description="Approximate candidates re-ranked with the catalog's exact vectors "
        "(at least 4 x top_k).",
    )
    milvus_uri: str | None = Field(
        default=None,
        description="Milvus server URI (http://host:19530); unset means Milvus Lite "
        "inside the atlas folder.",
    )
    milvus_token: SecretStr | None = Field(
        default=None, description="Milvus credentials (user:password or API key)."
    )
    milvus_collection_prefix: str = Field(
        default="faceatlas",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,100}$",
        description="Prefix of the Milvus collection name (one collection per model id).",
    )
    milvus_index_type: MilvusIndexType = Field(
        default=MilvusIndexType.FLAT, description="Milvus index type."
    )
    milvus_nlist: Count = Field(
        default=1024, le=65536, description="Milvus IVF lists (IVF index types)."
    )

    @model_validator(mode="before")
    @classmethod
    def _engine_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        try:
            engine = EngineName(data.get("engine") or DEFAULT_ENGINE)
        except ValueError:
            return data  # field validation reports the bad engine name
        missing = {k: v for k, v in ENGINE_DEFAULTS[engine].items() if data.get(k) is None}
        return {**data, **missing} if missing else data

    @model_validator(mode="after")
    def _detector_fits_engine(self) -> Settings:
        if self.detector not in ENGINE_DETECTORS[self.engine]:
            allowed = ", ".join(sorted(ENGINE_DETECTORS[self.engine]))
            raise ValueError(
                f"detector {self.detector} does not work with engine {self.engine} (use {allowed})"
            )
        return self

    @field_validator("execution_providers", mode="before")
    @classmethod
    def _provider_list(cls, value: Any) -> Any:
        """``cuda,cpu`` or a JSON list."""
        if not isinstance(value, str):
            return value
        names = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
        return [str(v).strip() for v in names if str(v).strip()]

    @field_validator("fetch_allow_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return [str(ipaddress.ip_network(v, strict=False)) for v in value]

    # --- service: REST API and web app (docs/api.md, docs/web.md) ----------------
    search_purposes: list[str] = Field(
        default=[
            "criminal investigation",
            "missing person",
            "victim identification",
            "fraud investigation",
        ],
        min_length=1,
        description="Purposes a search may be made for; every search names one.",
    )
    case_number_pattern: str = Field(
        default=r"^[A-Za-z0-9][A-Za-z0-9._/-]{2,63}$",
        description="Regular expression every case number must match.",
    )
    search_rate_per_minute: Count = Field(
        default=20, description="Searches one user may make per minute."
    )
    max_upload_bytes: Count = Field(
        default=15 * 1024 * 1024, description="Largest probe upload accepted, bytes."
    )
    session_ttl_s: int = Field(default=8 * 3600, ge=60, description="Web session lifetime.")
    token_ttl_s: int = Field(default=30 * 86400, ge=60, description="API token lifetime.")
    cookie_secure: bool = Field(
        default=False, description="Mark cookies Secure (set when served over HTTPS)."
    )
    ingest_folders: dict[str, Path] = Field(
        default={},
        description="Folders admins may ingest from the web app, by name; no other path is used.",
    )
    metrics: MetricsAccess = Field(
        default=MetricsAccess.LOCALHOST,
        description="Who may scrape /metrics: off, localhost, token.",
    )
    metrics_token: SecretStr | None = Field(
        default=None, min_length=24, description="Bearer token of /metrics when metrics=token."
    )
    log_format: LogFormat = Field(default=LogFormat.TEXT, description="Log lines: text or json.")

    @model_validator(mode="after")
    def _metrics_token_given(self) -> Settings:
        if self.metrics is MetricsAccess.TOKEN and self.metrics_token is None:
            raise ValueError("metrics=token needs FACEATLAS_METRICS_TOKEN (24 characters or more)")
        return self

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
        given = {k: v for k, v in changes.items() if v is not None}
        if "engine" in given and given["engine"] != self.engine:
            new = EngineName(given["engine"])
            for key in {*ENGINE_DEFAULTS[self.engine], *ENGINE_DEFAULTS[new]}:
                data.pop(key, None)  # the new engine's own defaults unless given
        data.update(given)
        return Settings(**data)
