"""The settings of adding photos from the web app (docs/web.md#adding-photos) and of the
command line as a client of a running server (docs/cli.md), mixed into
:class:`faceatlas.config.Settings`: read like every other setting (``FACEATLAS_*``
environment variables, the TOML file) and validated with them."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

__all__ = ["FrontEndSettings"]


class FrontEndSettings(BaseModel):
    """Bounds of web uploads (zip-bomb guards included); the server the CLI may search on."""

    upload_max_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=1,
        description="Largest request an administrator may post to the web app's photo upload "
        "(all files together), bytes.",
    )
    upload_max_files: int = Field(
        default=500, ge=1, le=10_000, description="Files one photo upload may hold."
    )
    archive_max_entries: int = Field(
        default=10_000, ge=1, description="Entries an uploaded zip may hold (zip-bomb guard)."
    )
    archive_max_total_bytes: int = Field(
        default=4 * 1024 * 1024 * 1024,
        ge=1,
        description="Bytes an uploaded zip's entries may hold once uncompressed, all together "
        "(zip-bomb guard); each entry is also held to max_file_bytes.",
    )
    server_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s]+$",
        description="A running FaceAtlas server: `faceatlas search` and `faceatlas shell` "
        "send their searches there (no model load per search) unless --atlas names a folder.",
    )
    api_token: SecretStr | None = Field(
        default=None,
        description="The API token those searches present (POST /api/v1/auth/tokens).",
    )
