"""URL lists (txt and CSV) through the safe, polite fetcher, with per-kind outcome counts."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from typer.testing import CliRunner

from faceatlas.cli import app
from faceatlas.ingest import Fetcher, FetchPolicy, Politeness
from faceatlas.ingest.fetch import Expect

from .webfixtures import LAST_MODIFIED, lfw
from .website import Response, Site

ENV = {
    "FACEATLAS_FETCH_ALLOW_NETWORKS": '["127.0.0.1/32"]',
    "FACEATLAS_CRAWL_MIN_DELAY_S": "0",
    "FACEATLAS_FETCH_TIMEOUT_S": "0.5",
    "FACEATLAS_FETCH_RETRIES": "1",
    "FACEATLAS_FETCH_BACKOFF_S": "0.01",
}


def test_csv_url_list_counts_every_outcome(tmp_path: Path, faces_dir: Path) -> None:
    flaky = iter([Response(b"busy", "text/plain", status=503)])
    blair = lfw(faces_dir, "Tony_Blair")

    def flaky_route() -> Response:
        return next(flaky, Response(blair, "image/jpeg"))

    routes = {
        "/robots.txt": Response(b"User-agent: *\nDisallow: /private/\n", "text/plain"),
        "/a.jpg": Response(
            lfw(faces_dir, "Colin_Powell"), "image/jpeg", headers={"Last-Modified": LAST_MODIFIED}
        ),
        "/b.jpg": Response(lfw(faces_dir, "Serena_Williams"), "image/jpeg"),
        "/flaky.jpg": flaky_route,
        "/big.jpg": Response(b"<html>" + os.urandom(5 * 1024 * 1024), "text/html"),
        "/slow.jpg": Response(lfw(faces_dir, "Hugo_Chavez"), "image/jpeg", delay_s=3.0),
        "/private/c.jpg": Response(lfw(faces_dir, "Ariel_Sharon"), "image/jpeg"),
        "/meta.jpg": Response(b"", status=302, headers={"Location": "http://169.254.169.254/x"}),
    }
    with Site(routes) as site:
        rows = ["image_url,page_url,page_title,alt_text,caption"]
        for path in ("/a.jpg", "/b.jpg", "/flaky.jpg", "/big.jpg", "/slow.jpg", "/missing.jpg",
                     "/private/c.jpg", "/meta.jpg"):  # fmt: skip
            rows.append(f"{site.url(path)},{site.url('/page.html')},The page,Alt of {path},")
        rows.append(f"{site.url('/a.jpg')},{site.url('/other.html')},Other page,Again,A caption")
        listing = tmp_path / "images.csv"
        listing.write_text("\n".join(rows) + "\n")
        summary = tmp_path / "summary.json"
        started = time.monotonic()
        result = CliRunner().invoke(
            app,
            [
                "ingest",
                str(listing),
                "--atlas",
                str(tmp_path / "atlas"),
                "--quiet",
                "--summary",
                str(summary),
            ],
            env=ENV,
        )
        elapsed = time.monotonic() - started
        assert result.exit_code == 0, result.output
        assert {r.method for r in site.requests} == {"GET"}
        assert "/private/c.jpg" not in site.paths()
    counts = json.loads(summary.read_text())["counts"]
    assert counts["items"] == 9
    assert counts["fetched"] == 4
    assert counts["new_images"] == 3
    assert counts["duplicates"] == 1
    assert counts["failed:not_an_image"] == 1
    assert counts["failed:fetch_timeout"] == 1
    assert counts["failed:http_status"] == 1
    assert counts["failed:robots_disallowed"] == 1
    assert counts["failed:blocked_address"] == 1
    assert counts["failed"] == 5
    assert elapsed < 30  # the 5 MB body and the 3 s stall cost well under their size and delay
    db = sqlite3.connect(tmp_path / "atlas" / "catalog.sqlite3")
    rows_a = db.execute(
        "SELECT page_url, page_title, alt_text, caption, http_last_modified FROM sightings "
        "WHERE locator LIKE '%/a.jpg' ORDER BY page_url"
    ).fetchall()
    db.close()
    assert [r[1:] for r in rows_a] == [
        ("Other page", "Again", "A caption", LAST_MODIFIED),
        ("The page", "Alt of /a.jpg", None, LAST_MODIFIED),
    ]


def test_text_url_list_and_resume(tmp_path: Path, faces_dir: Path) -> None:
    routes = {
        "/robots.txt": Response(b"", "text/plain", status=404),  # no robots.txt: no rules
        "/x.jpg": Response(lfw(faces_dir, "Vladimir_Putin"), "image/jpeg"),
        "/y.jpg": Response(lfw(faces_dir, "Jacques_Chirac"), "image/jpeg"),
    }
    with Site(routes) as site:
        listing = tmp_path / "urls.txt"
        listing.write_text(
            f"# photos\n{site.url('/x.jpg')} {site.url('/news.html')}\n\n{site.url('/y.jpg')}\n"
        )
        atlas = str(tmp_path / "atlas")
        runner = CliRunner()
        first = runner.invoke(app, ["ingest", str(listing), "-a", atlas, "--json"], env=ENV)
        assert first.exit_code == 0, first.output
        assert json.loads(first.output)["counts"]["new_images"] == 2
        fetched = len([p for p in site.paths() if p.endswith(".jpg")])
        again = runner.invoke(app, ["ingest", str(listing), "-a", atlas, "--json"], env=ENV)
        assert json.loads(again.output)["counts"]["resumed"] == 2
        assert len([p for p in site.paths() if p.endswith(".jpg")]) == fetched  # nothing refetched
    bad = tmp_path / "bad.txt"
    bad.write_text("file:///etc/passwd\n")
    result = CliRunner().invoke(app, ["ingest", str(bad), "-a", atlas], env=ENV)
    assert result.exit_code == 2
    assert "not an http(s) URL" in result.output


def test_per_host_concurrency_is_capped(faces_dir: Path) -> None:
    jpeg = lfw(faces_dir, "Colin_Powell")
    routes = {f"/{i}.jpg": Response(jpeg, "image/jpeg", delay_s=0.3) for i in range(4)}
    routes["/robots.txt"] = Response(b"User-agent: *\nAllow: /\n", "text/plain")
    policy = FetchPolicy(user_agent="FaceAtlasBot/0.1 (test)", allow_networks=("127.0.0.1/32",))
    for per_host in (1, 2):
        with Site(routes) as site, Fetcher(policy) as fetcher:
            polite = Politeness(fetcher, per_host=per_host, min_delay_s=0.0)

            def get(i: int, polite: Politeness = polite, site: Site = site) -> None:
                polite.get(site.url(f"/{i}.jpg"), expect=Expect.IMAGE)

            with ThreadPoolExecutor(4) as pool:
                list(pool.map(get, range(4)))
            assert site.max_inflight == per_host
