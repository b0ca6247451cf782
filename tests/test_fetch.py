"""Safe fetching against a real HTTP server on 127.0.0.1: SSRF guard, limits, retries."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from faceatlas.errors import (
    BlockedAddressError,
    FetchTimeoutError,
    HttpStatusError,
    ImageTooLargeError,
    InvalidRequestError,
    NotAnImageError,
    TooManyRedirectsError,
    UnexpectedContentError,
)
from faceatlas.ingest import Expect, Fetcher, FetchPolicy
from faceatlas.ingest.fetch import check_address

from .website import Response, Site

UA = "FaceAtlasBot/0.1 (+https://example.invalid/docs/ingestion.md)"
LOCAL = ("127.0.0.1/32",)


def policy(**changes: object) -> FetchPolicy:
    base: dict[str, object] = {
        "user_agent": UA,
        "timeout_s": 2.0,
        "deadline_s": 5.0,
        "max_bytes": 2 * 1024 * 1024,
        "retries": 2,
        "backoff_s": 0.05,
        "allow_networks": LOCAL,
    }
    base.update(changes)
    return FetchPolicy(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def jpeg(faces_dir: Path) -> bytes:
    return (faces_dir / "lfw/images/Colin_Powell/Colin_Powell_0001.jpg").read_bytes()


def test_guard_refuses_every_non_public_address() -> None:
    for address in (
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ):
        with pytest.raises(BlockedAddressError):
            check_address(address)
    check_address("93.184.215.14")  # a public address passes (nothing is sent to it)


def test_ssrf_guard_on_refuses_the_local_server_before_sending(jpeg: bytes) -> None:
    with Site({"/a.jpg": Response(jpeg, "image/jpeg")}) as site:
        with Fetcher(policy(allow_networks=())) as fetcher, pytest.raises(BlockedAddressError):
            fetcher.get(site.url("/a.jpg"))
        assert site.requests == []  # refused after resolution, before any connection


def test_redirect_to_private_address_is_refused_on_the_hop(jpeg: bytes) -> None:
    routes = {
        "/meta": Response(b"", status=302, headers={"Location": "http://169.254.169.254/latest/"}),
        "/lan": Response(b"", status=301, headers={"Location": "http://10.0.0.7/admin"}),
        "/v6": Response(b"", status=307, headers={"Location": "http://[::1]:9/x.jpg"}),
        "/ok": Response(b"", status=302, headers={"Location": "/a.jpg"}),
        "/a.jpg": Response(
            jpeg, "image/jpeg", headers={"Last-Modified": "Tue, 01 Oct 2024 10:00:00 GMT"}
        ),
    }
    with Site(routes) as site, Fetcher(policy()) as fetcher:
        for path in ("/meta", "/lan", "/v6"):
            with pytest.raises(BlockedAddressError):
                fetcher.get(site.url(path))
        fetched = fetcher.get(site.url("/ok"))  # a redirect within the allowed network works
        assert fetched.url == site.url("/a.jpg")
        assert fetched.body == jpeg
        assert fetched.last_modified == "Tue, 01 Oct 2024 10:00:00 GMT"
        assert all(r.user_agent == UA for r in site.requests)


def test_redirect_loop_and_bad_schemes_are_capped() -> None:
    routes = {
        "/loop": Response(b"", status=302, headers={"Location": "/loop"}),
        "/file": Response(b"", status=302, headers={"Location": "file:///etc/passwd"}),
    }
    with Site(routes) as site, Fetcher(policy(max_redirects=3)) as fetcher:
        with pytest.raises(TooManyRedirectsError):
            fetcher.get(site.url("/loop"))
        assert site.paths().count("/loop") == 4  # the first request and three redirects
        with pytest.raises(InvalidRequestError):
            fetcher.get(site.url("/file"))
        with pytest.raises(InvalidRequestError):
            fetcher.get("ftp://127.0.0.1/x.jpg")


def test_five_megabyte_non_image_is_refused_early() -> None:
    five_mb = os.urandom(5 * 1024 * 1024)
    html = b"<html>" + b"x" * (5 * 1024 * 1024) + b"</html>"
    routes = {
        "/page.jpg": Response(html, "text/html"),
        "/blob.jpg": Response(five_mb, "application/octet-stream"),
        "/big.jpg": Response(b"\xff\xd8\xff\xe0" + five_mb, "image/jpeg"),
    }
    with Site(routes) as site, Fetcher(policy(max_bytes=10 * 1024 * 1024)) as fetcher:
        started = time.monotonic()
        with pytest.raises(NotAnImageError):
            fetcher.get(site.url("/page.jpg"))  # by its Content-Type, before the body
        with pytest.raises(NotAnImageError):
            fetcher.get(site.url("/blob.jpg"))  # by its first bytes
        with Fetcher(policy(max_bytes=1024 * 1024)) as capped, pytest.raises(ImageTooLargeError):
            capped.get(site.url("/big.jpg"))  # by its Content-Length, over the cap
        assert time.monotonic() - started < 3.0


def test_slow_endpoints_hit_the_timeout_and_the_deadline(jpeg: bytes) -> None:
    routes = {
        "/slow.jpg": Response(jpeg, "image/jpeg", delay_s=3.0),
        "/drip.jpg": Response(jpeg, "image/jpeg", drip_s=0.05),  # ~11 s for the whole photo
    }
    with Site(routes) as site:
        with Fetcher(policy(timeout_s=0.5, retries=0)) as fetcher:
            started = time.monotonic()
            with pytest.raises(FetchTimeoutError):
                fetcher.get(site.url("/slow.jpg"))
            assert time.monotonic() - started < 1.5
        with Fetcher(policy(timeout_s=1.0, deadline_s=1.0, retries=0)) as fetcher:
            started = time.monotonic()
            with pytest.raises(FetchTimeoutError):
                fetcher.get(site.url("/drip.jpg"))
            assert time.monotonic() - started < 2.0


def test_retries_with_backoff_on_429_and_5xx(jpeg: bytes) -> None:
    answers = iter(
        [
            Response(b"busy", "text/plain", status=503),
            Response(b"slow down", "text/plain", status=429, headers={"Retry-After": "1"}),
            Response(jpeg, "image/jpeg"),
        ]
    )
    always_busy = Response(b"down", "text/plain", status=500)
    sleeps: list[float] = []
    routes = {"/flaky.jpg": lambda: next(answers), "/down.jpg": always_busy}
    with Site(routes) as site, Fetcher(policy(retries=2), sleep=sleeps.append) as fetcher:
        assert fetcher.get(site.url("/flaky.jpg")).body == jpeg
        assert sleeps == [0.05, 1.0]  # backoff, then the server's Retry-After
        sleeps.clear()
        with pytest.raises(HttpStatusError) as info:
            fetcher.get(site.url("/down.jpg"))
        assert info.value.status == 500
        assert sleeps == [0.05, 0.1]  # doubling
        assert site.paths().count("/down.jpg") == 3


def test_html_is_accepted_only_as_html(jpeg: bytes) -> None:
    routes = {"/p": Response(b"<title>x</title>"), "/img": Response(jpeg, "image/jpeg")}
    with Site(routes) as site, Fetcher(policy()) as fetcher:
        assert fetcher.get(site.url("/p"), expect=Expect.HTML).body == b"<title>x</title>"
        with pytest.raises(NotAnImageError):
            fetcher.get(site.url("/p"), expect=Expect.IMAGE)
        with pytest.raises(UnexpectedContentError) as info:
            fetcher.get(site.url("/img"), expect=Expect.HTML)
        assert info.value.code == "unexpected_content"
