"""Safe HTTP fetching for the web sources: the only code in FaceAtlas that opens sockets.

Every request goes through :class:`Fetcher`, which enforces:

* connect/read timeouts and a whole-response deadline (a slow drip is cut off);
* a size cap, checked against ``Content-Length`` and again while streaming;
* content sniffing: an expected image must say ``image/*`` (or a generic type)
  *and* start with the magic bytes of an image format (expected media: of an image, or of
  an MP4/MOV/MKV/WebM video saying ``video/*``);
* a capped number of redirects, only to ``http``/``https`` URLs, each hop
  re-checked by the caller's ``guard`` (the crawler's allowlist and robots.txt);
* SSRF protection at connect time: the host name is resolved and the socket is
  opened to an address that was checked, so private, loopback, link-local,
  multicast, reserved and cloud-metadata addresses are refused on every hop
  (also after DNS rebinding), except networks listed in ``allow_networks``;
* retries with exponential backoff on 429, 5xx and connection errors,
  honouring ``Retry-After`` up to the backoff cap.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore

from faceatlas.engine.video import looks_like_video
from faceatlas.errors import (
    BlockedAddressError,
    FetchError,
    FetchTimeoutError,
    HttpStatusError,
    ImageTooLargeError,
    InvalidRequestError,
    NotAnImageError,
    TooManyRedirectsError,
    UnexpectedContentError,
)
from faceatlas.types import Closing, record

__all__ = [
    "Expect",
    "FetchPolicy",
    "Fetched",
    "Fetcher",
    "UrlGuard",
    "check_address",
    "looks_like_image",
    "looks_like_media",
]

log = logging.getLogger(__name__)

UrlGuard = Callable[[str], None]
"""Called with every URL before it is requested (first hop and each redirect); raises to refuse."""

_METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_IMAGE_MAGIC: tuple[tuple[int, bytes], ...] = (
    (0, b"\xff\xd8\xff"),  # JPEG
    (0, b"\x89PNG\r\n\x1a\n"),
    (0, b"GIF87a"),
    (0, b"GIF89a"),
    (8, b"WEBP"),
    (0, b"BM"),
    (0, b"II*\x00"),  # TIFF little-endian
    (0, b"MM\x00*"),  # TIFF big-endian
)
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


class Expect(StrEnum):
    """What a fetch is for; decides which content types are accepted."""

    IMAGE = "image"
    MEDIA = "media"
    """An image or a video (URL lists)."""
    HTML = "html"
    TEXT = "text"


@record
class FetchPolicy:
    user_agent: str
    timeout_s: float = 10.0
    deadline_s: float = 30.0
    max_bytes: int = 50 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 3
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    allow_networks: tuple[str, ...] = ()
    """Networks exempt from the SSRF guard (a test server on ``127.0.0.1/32``); empty in production."""


@record
class Fetched:
    """A successful response. ``url`` is the final URL after redirects."""

    url: str
    status: int
    content_type: str
    body: bytes
    last_modified: str | None


def looks_like_image(head: bytes) -> bool:
    """True when ``head`` starts with the magic bytes of an accepted image format."""
    return any(head[offset : offset + len(magic)] == magic for offset, magic in _IMAGE_MAGIC)


def looks_like_media(head: bytes) -> bool:
    """True when ``head`` starts an accepted image or video file."""
    return looks_like_image(head) or looks_like_video(head)


def _sniffed(expect: Expect, head: bytes) -> bool:
    """Whether content starting with ``head`` is what ``expect`` asks for (HTML and text are
    not sniffed)."""
    if expect is Expect.IMAGE:
        return looks_like_image(head)
    if expect is Expect.MEDIA:
        return looks_like_media(head)
    return True


def check_address(address: str) -> None:
    """Raise :class:`BlockedAddressError` unless ``address`` is a public unicast IP."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA_ADDRESSES or not ip.is_global or ip.is_multicast:
        raise BlockedAddressError(f"refused to connect to non-public address {ip}")


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves the host itself and connects only to an address that passed the guard."""

    def __init__(self, allow_networks: tuple[str, ...]) -> None:
        self.allow_networks = tuple(ipaddress.ip_network(n) for n in allow_networks)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise FetchError(f"cannot resolve {host}: {exc.strerror}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise FetchError(f"cannot resolve {host}")
        for address in addresses:  # every answer must pass: no mixed answers
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if not any(ip in network for network in self.allow_networks):
                check_address(address)
        return super().connect_tcp(
            addresses[0], port, timeout, local_address, list(socket_options or [])
        )


class Fetcher(Closing):
    """Thread-safe HTTP GETs under a :class:`FetchPolicy` (one connection pool)."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_connections: int = 32,
    ) -> None:
        self.policy = policy
        self.sleep = sleep
        self._pool = httpcore.ConnectionPool(
            max_connections=max_connections,
            network_backend=_GuardedBackend(policy.allow_networks),
            retries=0,
        )

    def close(self) -> None:
        self._pool.close()

    def get(
        self,
        url: str,
        *,
        expect: Expect = Expect.IMAGE,
        guard: UrlGuard | None = None,
        max_bytes: int | None = None,
    ) -> Fetched:
        """GET ``url`` following redirects; raises a :class:`FetchError` subclass on failure."""
        limit = min(max_bytes or self.policy.max_bytes, self.policy.max_bytes)
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            _check_url(current)
            if guard is not None:
                guard(current)
            status, headers, body = self._get_with_retries(current, expect, limit)
            if status in _REDIRECTS:
                location = headers.get("location")
                if not location:
                    raise FetchError(f"redirect {status} without a Location from {current}")
                current = urljoin(current, location)
                continue
            if status >= 400:
                raise HttpStatusError(f"HTTP {status} from {current}", status)
            assert body is not None  # read for every non-redirect success
            if not _sniffed(expect, body[:16]):
                raise NotAnImageError(f"{current} did not return {expect.value} bytes")
            return Fetched(
                url=current,
                status=status,
                content_type=headers.get("content-type", ""),
                body=body,
                last_modified=headers.get("last-modified"),
            )
        raise TooManyRedirectsError(f"more than {self.policy.max_redirects} redirects from {url}")

    def _get_with_retries(
        self, url: str, expect: Expect, limit: int
    ) -> tuple[int, dict[str, str], bytes | None]:
        """One hop; 429, 5xx and connection failures are retried with growing delays."""
        delay = self.policy.backoff_s
        for attempt in range(self.policy.retries + 1):
            last = attempt == self.policy.retries
            try:
                status, headers, body = self._get_once(url, expect, limit)
            except FetchError as exc:
                if type(exc) is not FetchError or last:  # only plain connection errors retry
                    raise
                status, headers, body = -1, {}, None
            if status != -1 and (status not in _RETRY_STATUSES or last):
                return status, headers, body
            wait_s = min(
                _retry_after(headers.get("retry-after")) or delay, self.policy.max_backoff_s
            )
            log.info(
                "retrying %s in %.2f s (attempt %d, status %s)", url, wait_s, attempt + 1, status
            )
            self.sleep(wait_s)
            delay = min(delay * 2, self.policy.max_backoff_s)
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_once(
        self, url: str, expect: Expect, limit: int
    ) -> tuple[int, dict[str, str], bytes | None]:
        policy = self.policy
        timeouts = {
            "connect": policy.timeout_s,
            "read": policy.timeout_s,
            "write": policy.timeout_s,
            "pool": policy.deadline_s,
        }
        request_headers = [
            (b"User-Agent", policy.user_agent.encode("ascii", "replace")),
            (b"Accept", _ACCEPT[expect]),
            (b"Accept-Encoding", b"identity"),
        ]
        started = time.monotonic()
        try:
            with self._pool.stream(
                "GET", url, headers=request_headers, extensions={"timeout": timeouts}
            ) as response:
                headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers
                }
                status = response.status
                if status in _REDIRECTS or status >= 400:
                    return status, headers, None
                _check_declared(url, headers, expect, limit)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_stream():
                    if size == 0 and len(chunk) >= 16 and not _sniffed(expect, chunk[:16]):
                        raise NotAnImageError(f"{url} did not return {expect.value} bytes")
                    size += len(chunk)
                    if size > limit:
                        raise ImageTooLargeError(f"{url} is larger than the {limit}-byte cap")
                    if time.monotonic() - started > policy.deadline_s:
                        raise FetchTimeoutError(
                            f"{url} took longer than the {policy.deadline_s:g} s deadline"
                        )
                    chunks.append(chunk)
                return status, headers, b"".join(chunks)
        except httpcore.TimeoutException:
            raise FetchTimeoutError(f"{url} timed out after {policy.timeout_s:g} s") from None
        except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
            raise FetchError(f"cannot fetch {url}: {type(exc).__name__}") from None
        except httpcore.UnsupportedProtocol:
            raise InvalidRequestError(f"unsupported URL {url}") from None


_ACCEPT = {
    Expect.IMAGE: b"image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8",
    Expect.MEDIA: b"image/*,video/mp4,video/webm,video/*;q=0.8",
    Expect.HTML: b"text/html,application/xhtml+xml;q=0.9",
    Expect.TEXT: b"text/plain,*/*;q=0.5",
}


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(f"only http and https URLs are fetched, not {url!r}")
    if parts.username or parts.password:
        raise InvalidRequestError("URLs with credentials are never fetched")


def _check_declared(url: str, headers: dict[str, str], expect: Expect, limit: int) -> None:
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ImageTooLargeError(f"{url} declares {length} bytes; the cap is {limit}")
    ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if expect is Expect.IMAGE and not (ctype.startswith("image/") or ctype in _GENERIC_TYPES):
        raise NotAnImageError(f"{url} is {ctype}, not an image")
    media = ctype.startswith(("image/", "video/")) or ctype in _GENERIC_TYPES
    if expect is Expect.MEDIA and not media:
        raise NotAnImageError(f"{url} is {ctype}, not an image or a video")
    if expect is Expect.HTML and ctype not in ("text/html", "application/xhtml+xml"):
        raise UnexpectedContentError(f"{url} is {ctype or 'untyped'}, not an HTML page")


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None
