"""The REST API (``/api/v1``); :func:`faceatlas.server.create_app` mounts it."""

from faceatlas.api.app import API_PREFIX, install_api

__all__ = ["API_PREFIX", "install_api"]
