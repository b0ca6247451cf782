"""The settings of batch, group-photo and watchlist searches (docs/search-modes.md), mixed
into :class:`faceatlas.config.Settings`: read like every other setting (``FACEATLAS_*``
environment variables, the TOML file) and validated with them."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator

from faceatlas.config_types import Count, Retries, Seconds

__all__ = ["MIN_WEBHOOK_SECRET_CHARS", "SearchModeSettings"]

MIN_WEBHOOK_SECRET_CHARS = 16


class SearchModeSettings(BaseModel):
    """Bounds of batch and group searches; watchlist periods and the alert webhook."""

    batch_max_probes: Count = Field(default=200, le=10_000, description="Probes per batch.")
    batch_max_bytes: Count = Field(
        default=100 * 1024 * 1024, description="Bytes per batch (a zip's unpacked size)."
    )
    group_max_faces: Count = Field(
        default=30, le=500, description="Faces of a group photo searched (the largest)."
    )
    watchlist_max_days: Count = Field(
        default=30, le=365, description="Longest a watchlist entry runs per approval."
    )
    watchlist_webhook_url: str | None = Field(
        default=None, pattern=r"^https?://", description="Where watchlist alerts are POSTed."
    )
    watchlist_webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of the alert signature (16+ characters)."
    )
    watchlist_webhook_timeout_s: Seconds = Field(
        default=5.0, le=60, description="Timeout of one webhook delivery."
    )
    watchlist_webhook_retries: Retries = Field(
        default=3, le=10, description="Retries of a failed webhook delivery."
    )

    @model_validator(mode="after")
    def _webhook_secret(self) -> Self:
        """A webhook URL is refused without a secret of its own: alerts are never unsigned."""
        secret = self.watchlist_webhook_secret
        if self.watchlist_webhook_url and (
            secret is None or len(secret.get_secret_value()) < MIN_WEBHOOK_SECRET_CHARS
        ):
            raise ValueError(
                f"watchlist_webhook_url needs a watchlist_webhook_secret of "
                f"{MIN_WEBHOOK_SECRET_CHARS}+ characters"
            )
        return self
