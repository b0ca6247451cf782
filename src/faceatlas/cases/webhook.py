"""Delivering watchlist alerts to the configured webhook, off the ingest's path.

Each alert is POSTed as JSON to ``watchlist_webhook_url`` with the header
``X-FaceAtlas-Signature: sha256=<hex>``, the HMAC-SHA256 of the exact body bytes under
``watchlist_webhook_secret``; the receiver recomputes it to check that the alert came from
this atlas and was not altered. A delivery waits at most ``watchlist_webhook_timeout_s`` per
attempt, follows no redirect, and counts only a 2xx answer as delivered. A failed attempt is
recorded on the alert (attempts, last error) and retried, ``watchlist_webhook_retries`` times
at most with a doubling pause, by one background thread: ingestion never waits for it.
Alerts left pending (the process stopped) are retried by the next dispatch.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from faceatlas.config import Settings
from faceatlas.store.rows import utc_now
from faceatlas.store.watchlists import Delivery, WatchlistStore

__all__ = ["SIGNATURE_HEADER", "WebhookDispatcher", "sign"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-FaceAtlas-Signature"
FIRST_PAUSE_S = 1.0
"""Pause before the first retry; it doubles on each further retry."""

Payload = Callable[[int], dict[str, Any] | None]
"""``alert id -> JSON body`` (``None``: the alert is gone, e.g. its face was erased)."""


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value for ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    """Posts pending alerts in one background thread at a time."""

    def __init__(self, store: WatchlistStore, settings: Settings, payload: Payload) -> None:
        self.store = store
        self.url = settings.watchlist_webhook_url
        secret = settings.watchlist_webhook_secret
        self._secret = b"" if secret is None else secret.get_secret_value().encode()
        self.timeout_s = settings.watchlist_webhook_timeout_s
        self.retries = settings.watchlist_webhook_retries
        self._payload = payload
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def kick(self) -> None:
        """Deliver every pending alert in the background (a thread already at work takes
        the new ones too)."""
        if not self.configured:
            return
        with self._lock:
            self._again = True
            if self._thread is not None and self._thread.is_alive():
                return
            # not a daemon: a command-line ingest that raised alerts waits for their
            # delivery (bounded by the retries and the timeout) before it exits
            self._thread = threading.Thread(target=self._work, name="watchlist-webhook")
            self._thread.start()

    def join(self, timeout_s: float | None = None) -> None:
        """Wait for the background deliveries (tests, shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False
            for alert_id in self.store.undelivered():
                try:
                    self.deliver(alert_id)
                except Exception:  # the dispatcher must survive any alert
                    log.exception("webhook delivery of alert %d failed", alert_id)

    def deliver(self, alert_id: int) -> Delivery:
        """Post one alert, retrying a bounded number of times; its final state."""
        payload = self._payload(alert_id)
        if payload is None:
            return Delivery.FAILED
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        error: str | None = None
        attempts = 0
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(FIRST_PAUSE_S * 2 ** (attempt - 1))
            attempts += 1
            error = self._post(body, alert_id)
            if error is None:
                self.store.record_delivery(alert_id, Delivery.DELIVERED, attempts, None, utc_now())
                return Delivery.DELIVERED
            self.store.record_delivery(alert_id, Delivery.PENDING, attempts, error, None)
            log.warning("webhook delivery of alert %d failed: %s", alert_id, error)
        self.store.record_delivery(alert_id, Delivery.FAILED, attempts, error, None)
        return Delivery.FAILED

    def _post(self, body: bytes, alert_id: int) -> str | None:
        """One attempt; ``None`` when the receiver answered 2xx, else what went wrong."""
        parts = urlsplit(self.url or "")
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, body),
            "X-FaceAtlas-Event": "watchlist_alert",
            "X-FaceAtlas-Delivery": str(alert_id),
        }
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn = connection_class(parts.netloc, timeout=self.timeout_s)
            try:
                conn.request("POST", path, body=body, headers=headers)
                status = conn.getresponse().status
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        return None if 200 <= status < 300 else f"HTTP {status}"
