"""The polite crawler against a real HTTP server on 127.0.0.1 serving LFW photos."""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from faceatlas import Atlas
from faceatlas.cli import app
from faceatlas.ingest import CrawlOptions, Fetcher, Politeness, fetch_policy
from faceatlas.ingest.fetch import Expect

from .conftest import kill_once_committed
from .test_warc import snapshot
from .webfixtures import (
    LAST_MODIFIED,
    LOCAL_ENV,
    TITLE_ABOUT,
    TITLE_INDEX,
    serve_site,
    web_settings,
)
from .website import Response, Site


def test_crawl_finds_faces_with_provenance_and_keeps_its_manners(
    tmp_path: Path, faces_dir: Path
) -> None:
    with Site() as site:
        serve_site(site, faces_dir)
        options = CrawlOptions(
            seeds=(site.url("/index.html"),), allow_domains=("127.0.0.1",), max_depth=2
        )
        settings = web_settings(tmp_path / "atlas")
        with Atlas.open(settings=settings) as atlas:  # type: ignore[arg-type]
            report = atlas.crawl(options)
            requests = list(site.requests)
            paths = {r.path for r in requests}

            # rules of conduct
            assert "/robots.txt" in paths
            assert not paths & {"/private/secret.html", "/img/secret.jpg"}  # robots.txt
            assert not any(r.host.startswith("localhost") for r in requests)  # off the allowlist
            assert "/elsewhere.html" not in paths
            assert not paths & {"/deep/level3.html", "/img/putin.jpg"}  # beyond max depth
            assert {r.method for r in requests} == {"GET"}  # no form is ever submitted
            assert {r.user_agent for r in requests} == {atlas.settings.user_agent}
            assert paths >= {"/index.html", "/about.html", "/deep/level2.html"}

            counts = report.counts
            assert counts["failed"] == 0, report.failures
            assert counts["frontier:page_failed"] == 1  # the robots-disallowed page
            # powell (2 pages) + copy, blair, schroeder (og:image), landscape, chirac
            assert counts["new_images"] == 5
            assert counts["near_duplicates"] == 1
            assert counts["duplicates"] == 1
            assert counts["no_face"] == 1
            assert counts["faces"] == 4

            db = sqlite3.connect(atlas.root / "catalog.sqlite3")
            rows = db.execute(
                "SELECT s.locator, s.page_url, s.page_title, s.alt_text, s.caption, "
                "s.http_last_modified, s.image_id FROM sightings s ORDER BY s.id"
            ).fetchall()
            outcome = db.execute(
                "SELECT outcome FROM crawl_frontier WHERE url LIKE '%/private/secret.html'"
            ).fetchone()
            db.close()
            assert outcome == ("robots_disallowed",)
            powell = [r for r in rows if r[0].endswith(("/img/powell.jpg", "/img/powell-copy.jpg"))]
            assert len({r[6] for r in powell}) == 1  # one image, three sightings
            assert sorted((r[1].rsplit("/", 1)[1], r[2], r[3]) for r in powell) == [
                ("about.html", TITLE_ABOUT, "Portrait of Colin Powell"),
                ("about.html", TITLE_ABOUT, "Powell, thumbnail"),
                ("index.html", TITLE_INDEX, "Colin Powell at the podium"),
            ]
            assert all(r[5] == LAST_MODIFIED for r in rows)

            rerun = atlas.crawl(options)  # nothing left in the frontier: nothing fetched
            assert rerun.counts["items"] == 0
            assert len(site.requests) == len(requests)


def test_robots_crawl_delay_and_user_agent_groups(tmp_path: Path) -> None:
    robots = b"User-agent: FaceAtlasBot\nDisallow: /nobots/\nCrawl-delay: 1\n\nUser-agent: *\nDisallow: /\n"
    pages = {f"/p{i}": Response(b"<title>p</title>") for i in range(3)}
    with Site({"/robots.txt": Response(robots, "text/plain"), **pages}) as site:
        settings = web_settings(tmp_path / "atlas")
        with Fetcher(fetch_policy(settings)) as fetcher:  # type: ignore[arg-type]
            polite = Politeness(fetcher, per_host=2, min_delay_s=0.0)
            started = time.monotonic()
            for i in range(3):
                polite.get(site.url(f"/p{i}"), expect=Expect.HTML)
            times = [r.at for r in site.requests if r.path.startswith("/p")]
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert all(gap >= 0.95 for gap in gaps), gaps  # Crawl-delay: 1 for our group
            assert time.monotonic() - started >= 1.9
            blocked = polite.robots(site.url("/nobots/x")).can_fetch(
                fetcher.policy.user_agent, site.url("/nobots/x")
            )
            assert blocked is False
        assert site.paths().count("/robots.txt") == 1  # fetched once per host


def test_crawl_refuses_without_allowlist_or_off_allowlist_seed(tmp_path: Path) -> None:
    runner = CliRunner()
    atlas = str(tmp_path / "atlas")
    result = runner.invoke(app, ["crawl", "--seed", "http://127.0.0.1:9/", "--atlas", atlas])
    assert result.exit_code == 2
    assert "allowlist" in result.output
    result = runner.invoke(
        app,
        ["crawl", "--seed", "http://127.0.0.1:9/", "--allow-domain", "example.org", "-a", atlas],
    )
    assert result.exit_code == 2
    assert "not on the allowlist" in result.output


def chain_site(site: Site, faces_dir: Path, n_pages: int, per_page: int) -> int:
    people = sorted((faces_dir / "lfw/images").glob("C*"))[: n_pages * per_page]
    for p in range(n_pages):
        imgs = []
        for person in people[p * per_page : (p + 1) * per_page]:
            photo = sorted(person.glob("*.jpg"))[0]
            site.routes[f"/img/{photo.name}"] = Response(photo.read_bytes(), "image/jpeg")
            imgs.append(f'<img src="/img/{photo.name}" alt="{person.name}">')
        nxt = f'<a href="/page{p + 1}.html">next</a>' if p + 1 < n_pages else ""
        html = f"<html><head><title>Page {p}</title></head><body>{''.join(imgs)}{nxt}</body></html>"
        site.routes[f"/page{p}.html"] = Response(html.encode())
    site.routes["/robots.txt"] = Response(b"User-agent: *\nAllow: /\n", "text/plain")
    return len(people)


def test_killed_crawl_resumes_to_the_same_catalog(tmp_path: Path, faces_dir: Path) -> None:
    env = {**os.environ, **LOCAL_ENV, "FACEATLAS_COMMIT_EVERY": "2"}
    with Site() as site:
        n = chain_site(site, faces_dir, n_pages=8, per_page=3)

        def crawl(atlas: Path, *extra: str) -> list[str]:
            return [
                sys.executable, "-m", "faceatlas", "crawl", "--seed", site.url("/page0.html"),
                "--allow-domain", "127.0.0.1", "--max-depth", "20", "--atlas", str(atlas),
                "--quiet", *extra,
            ]  # fmt: skip

        killed = tmp_path / "killed"
        committed = kill_once_committed(crawl(killed), env, killed, 6)
        assert 6 <= committed < n

        summary = tmp_path / "resume.json"
        subprocess.run(crawl(killed, "--summary", str(summary)), env=env, check=True)
        resumed = json.loads(summary.read_text())["counts"]
        assert resumed["items"] <= n - committed + 2  # resumed, not restarted
        clean = tmp_path / "clean"
        subprocess.run(crawl(clean), env=env, check=True)
    a, b = snapshot(killed), snapshot(clean)
    assert len(a["images"]) == n
    assert a == b


def test_max_pages_bounds_the_crawl(tmp_path: Path, faces_dir: Path) -> None:
    with Site() as site:
        serve_site(site, faces_dir)
        options = CrawlOptions(
            seeds=(site.url("/index.html"),), allow_domains=("127.0.0.1",), max_pages=1
        )
        with Atlas.open(settings=web_settings(tmp_path / "atlas")) as atlas:
            report = atlas.crawl(options)
        pages = {p for p in site.paths() if p.endswith(".html")}
        assert pages == {"/index.html"}
        assert report.counts["frontier:page_done"] == 1
        assert report.counts["new_images"] == 3  # powell, blair, schroeder (og:image)
