"""The REST API (``/api/v1``) and the app factory shared with the web app."""

from faceatlas.api.app import API_PREFIX, create_app
from faceatlas.api.service import LEADS_NOTICE, Service

__all__ = ["API_PREFIX", "LEADS_NOTICE", "Service", "create_app"]
