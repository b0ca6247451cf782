"""Taken-down domains are refused on every web source path: URL lists, WARC files, the crawler.

Real LFW photos, a real HTTP server on 127.0.0.1 (``localhost`` is the taken-down host:
it is never resolved or requested), real WARC.gz files, the real dlib engine.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from faceatlas import Atlas
from faceatlas.choices import EngineName
from faceatlas.cli import app
from faceatlas.errors import AtlasLockedError, InvalidRequestError, TakenDownError
from faceatlas.ingest import CrawlOptions, SourceItem, TakedownList, WarcSource, normalize_domain

from .conftest import atlas_settings
from .webfixtures import LOCAL_ENV, lfw, web_settings, write_warc
from .website import Response, Site

ORG = "http://news.example.org"
NET = "http://daily.example.net"


def stored_urls(atlas_dir: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(atlas_dir / "catalog.sqlite3")
    rows = db.execute("SELECT locator, page_url FROM sightings ORDER BY id").fetchall()
    db.close()
    return [(str(a), str(b)) for a, b in rows]


def failures(atlas_dir: Path) -> dict[str, str]:
    db = sqlite3.connect(atlas_dir / "catalog.sqlite3")
    rows = db.execute("SELECT locator, code FROM ingest_failures").fetchall()
    db.close()
    return {str(a): str(b) for a, b in rows}


def test_takedown_list_matches_the_domain_and_its_subdomains_only() -> None:
    domains = ["example.org", "localhost"]
    takedowns = TakedownList(lambda: domains)
    takedowns.refresh()
    assert takedowns.domain_of("https://Photos.News.EXAMPLE.org./a.jpg") == "example.org"
    assert takedowns.domain_of("http://example.org:8080/") == "example.org"
    assert takedowns.domain_of("http://localhost:9/x") == "localhost"
    for url in ("http://notexample.org/a.jpg", "http://example.org.evil.net/", "", "/a/b.jpg"):
        assert takedowns.domain_of(url) is None
    with pytest.raises(TakenDownError) as caught:
        takedowns.check_item(SourceItem("http://ok.example.net/a.jpg", "http://www.example.org/"))
    assert caught.value.code == "taken_down"
    takedowns.check_item(SourceItem("/photos/example.org/a.jpg"))  # a file path is not a URL
    domains.append("example.net")
    assert takedowns.added == frozenset()
    takedowns.refresh()
    assert takedowns.added == {"example.net"}
    assert normalize_domain("*.Example.ORG.") == "example.org"
    with pytest.raises(InvalidRequestError):
        normalize_domain("https://example.org/")


def test_url_list_never_requests_a_taken_down_domain(tmp_path: Path, faces_dir: Path) -> None:
    routes = {
        "/robots.txt": Response(b"User-agent: *\nAllow: /\n", "text/plain"),
        "/a.jpg": Response(lfw(faces_dir, "Colin_Powell"), "image/jpeg"),
        "/b.jpg": Response(lfw(faces_dir, "Serena_Williams"), "image/jpeg"),
        "/c.jpg": Response(lfw(faces_dir, "Hugo_Chavez"), "image/jpeg"),
        "/moved.jpg": Response(b"", status=302),
    }
    root = tmp_path / "atlas"
    with Site(routes) as site:
        down = site.url("/c.jpg", host="localhost")
        site.routes["/moved.jpg"] = Response(b"", status=302, headers={"Location": down})
        listing = tmp_path / "urls.txt"
        listing.write_text(
            f"{site.url('/a.jpg')} {site.url('/news.html')}\n"
            f"{down} {site.url('/news.html')}\n"  # image on the domain
            f"{site.url('/b.jpg')} {site.url('/p.html', host='localhost')}\n"  # page on it
            f"{site.url('/moved.jpg')}\n"  # redirected onto it
        )
        with Atlas.open(settings=web_settings(root)) as atlas:
            atlas.privacy.takedown_domain("LOCALHOST", actor="dpo", case_ref="TD-1")
        result = CliRunner().invoke(
            app, ["ingest", str(listing), "-a", str(root), "--json"], env=LOCAL_ENV
        )
        assert result.exit_code == 0, result.output
        hosts = {r.host.split(":")[0] for r in site.requests}
        paths = site.paths()
    assert hosts == {"127.0.0.1"}  # nothing ever went to the taken-down host
    assert "/b.jpg" not in paths and "/c.jpg" not in paths
    report = json.loads(result.output)
    counts = report["counts"]
    assert counts["new_images"] == 1 and counts["failed:taken_down"] == 3, report["failures"]
    assert counts["failed"] == 3 and counts["fetched"] == 1
    refused = {f["locator"]: f for f in report["failures"]}
    assert set(refused) == {down, site.url("/b.jpg"), site.url("/moved.jpg")}
    assert all(f["code"] == "taken_down" for f in refused.values())
    assert "localhost" in refused[down]["message"]
    assert stored_urls(root) == [(site.url("/a.jpg"), site.url("/news.html"))]
    assert failures(root) == {loc: "taken_down" for loc in refused}


class Recording:
    """The real WARC source, recording which items the pipeline reads."""

    def __init__(self, inner: WarcSource) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.locator = inner.locator
        self.read_urls: list[str] = []

    def items(self) -> Iterator[SourceItem]:
        return self.inner.items()

    def count_hint(self) -> int | None:
        return self.inner.count_hint()

    def read(self, item: SourceItem) -> bytes:
        self.read_urls.append(item.locator)
        return self.inner.read(item)


def two_domain_warc(path: Path, faces_dir: Path, *, late: bool = False) -> None:
    """Two pages on two domains, each showing an image of the other; ``late`` adds copies
    of an example.net image (more than a one-worker run holds in flight) and then one more
    example.org image after them."""

    def page(*images: str) -> bytes:
        return (
            "<html><body>" + "".join(f'<img src="{i}">' for i in images) + "</body></html>"
        ).encode()

    write_warc(
        path,
        [
            (ORG + "/index.html", page(ORG + "/powell.jpg", NET + "/chirac.jpg"), "text/html"),
            (NET + "/index.html", page(NET + "/blair.jpg", ORG + "/schroeder.jpg"), "text/html"),
            (ORG + "/powell.jpg", lfw(faces_dir, "Colin_Powell"), "image/jpeg"),
            (NET + "/chirac.jpg", lfw(faces_dir, "Jacques_Chirac"), "image/jpeg"),
            (NET + "/blair.jpg", lfw(faces_dir, "Tony_Blair"), "image/jpeg"),
            (ORG + "/schroeder.jpg", lfw(faces_dir, "Gerhard_Schroeder"), "image/jpeg"),
            (NET + "/putin.jpg", lfw(faces_dir, "Vladimir_Putin"), "image/jpeg"),
        ]
        + [(NET + f"/putin-{n}.jpg", lfw(faces_dir, "Vladimir_Putin"), "image/jpeg")
           for n in range(16 if late else 0)]
        + [(ORG + "/sharon.jpg", lfw(faces_dir, "Ariel_Sharon"), "image/jpeg")] * late,
    )  # fmt: skip


def test_warc_items_on_a_taken_down_domain_are_never_read_or_stored(
    tmp_path: Path, faces_dir: Path
) -> None:
    warc = tmp_path / "two.warc.gz"
    two_domain_warc(warc, faces_dir)
    root = tmp_path / "atlas"
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        first = atlas.ingest(warc)
        assert first.counts["new_images"] == 5, first.failures
        erased = atlas.privacy.takedown_domain("example.org", actor="dpo", case_ref="TD-2")
        assert erased.images == 3  # powell, chirac (shown only on an example.org page), schroeder
        source = Recording(WarcSource(warc, max_file_bytes=10_000_000))
        report = atlas.ingest(source)
        assert source.read_urls == [NET + "/blair.jpg", NET + "/putin.jpg"]  # nothing else decoded
        counts = report.counts
        assert counts["failed:taken_down"] == 3 and counts["failed"] == 3
        assert counts["duplicates"] == 2 and counts["new_images"] == 0
        assert sorted(loc for loc, code, _ in report.failures if code == "taken_down") == [
            NET + "/chirac.jpg", ORG + "/powell.jpg", ORG + "/schroeder.jpg",
        ]  # fmt: skip
        assert all(msg.endswith("taken-down domain example.org") for *_, msg in report.failures)
        assert not [u for u in stored_urls(root) if "example.org" in u[0] + u[1]]
        assert atlas.catalog.counts()["images"] == 2
        hits = atlas.search(lfw(faces_dir, "Colin_Powell", 2), min_similarity=0.5).hits
        assert not [h for h in hits if any("example.org" in s.locator for s in h.sightings)]
        assert atlas.audit.verify().ok


class TakedownMidRun(Recording):
    """Takes ``example.org`` down (as an administrator would) once the first batch commits."""

    def __init__(self, inner: WarcSource, root: Path) -> None:
        super().__init__(inner)
        self.root = root
        self.refused: list[str] = []

    def committed(self, items: Sequence[SourceItem]) -> None:
        if self.refused:
            return
        with Atlas.open(settings=atlas_settings(self.root)) as admin:
            try:
                admin.privacy.takedown_domain("example.org", actor="dpo", case_ref="TD-3")
            except AtlasLockedError as exc:  # the running ingest holds the writer lock
                self.refused.append(exc.message)


def test_a_takedown_during_a_run_holds_from_the_next_batch_and_is_erased_at_the_end(
    tmp_path: Path, faces_dir: Path
) -> None:
    warc = tmp_path / "two.warc.gz"
    two_domain_warc(warc, faces_dir, late=True)
    root = tmp_path / "atlas"
    with Atlas.open(settings=atlas_settings(root, commit_every=1)) as atlas:
        source = TakedownMidRun(WarcSource(warc, max_file_bytes=10_000_000), root)
        report = atlas.ingest(source, workers=1)
        assert len(source.refused) == 1 and "recorded" in source.refused[0]
        # stored before the takedown (the fetch threads may read in any order)
        assert ORG + "/powell.jpg" in source.read_urls
        # read ahead before the takedown (the run's window), refused when written
        assert ORG + "/schroeder.jpg" in source.read_urls
        assert ORG + "/sharon.jpg" not in source.read_urls  # admitted later: never read
        assert report.counts["takedown_erased_images"] == 1  # powell
        refused = sorted(loc for loc, code, _ in report.failures if code == "taken_down")
        assert refused == [NET + "/chirac.jpg", ORG + "/schroeder.jpg", ORG + "/sharon.jpg"]
        assert not [u for u in stored_urls(root) if "example.org" in u[0] + u[1]]
        assert atlas.catalog.counts()["images"] == 2  # blair, putin (and its copies)
        actions = [a.action for a in atlas.privacy.privacy_log()]
        assert actions[:2] == ["takedown_domain", "takedown_recorded"]
        assert [a.actor for a in atlas.privacy.privacy_log()[:2]] == ["dpo", "dpo"]
        assert atlas.audit.verify().ok


def test_crawl_never_requests_taken_down_pages_or_images(tmp_path: Path, faces_dir: Path) -> None:
    with Site() as site:
        elsewhere = site.url("/img/blair.jpg", host="localhost")
        site.routes.update(
            {
                "/robots.txt": Response(b"User-agent: *\nAllow: /\n", "text/plain"),
                "/index.html": Response(
                    (
                        f'<html><body><img src="/img/powell.jpg"><img src="{elsewhere}">'
                        f'<a href="{site.url("/more.html", host="localhost")}">more</a>'
                        '<a href="/about.html">about</a></body></html>'
                    ).encode()
                ),
                "/about.html": Response(b'<html><body><img src="/img/chirac.jpg"></body></html>'),
                "/img/powell.jpg": Response(lfw(faces_dir, "Colin_Powell"), "image/jpeg"),
                "/img/chirac.jpg": Response(lfw(faces_dir, "Jacques_Chirac"), "image/jpeg"),
                "/img/blair.jpg": Response(lfw(faces_dir, "Tony_Blair"), "image/jpeg"),
            }
        )
        root = tmp_path / "atlas"
        options = CrawlOptions(
            seeds=(site.url("/index.html"),), allow_domains=("127.0.0.1", "localhost")
        )
        with Atlas.open(settings=web_settings(root)) as atlas:
            atlas.privacy.takedown_domain("localhost", actor="dpo", case_ref="TD-4")
            report = atlas.crawl(options)
        assert {r.host.split(":")[0] for r in site.requests} == {"127.0.0.1"}
        assert "/img/blair.jpg" not in site.paths() and "/more.html" not in site.paths()
    assert report.counts["new_images"] == 2
    assert report.counts["failed:taken_down"] == 1
    assert report.failures[0][:2] == (elsewhere, "taken_down")
    db = sqlite3.connect(root / "catalog.sqlite3")
    outcome = db.execute(
        "SELECT outcome FROM crawl_frontier WHERE url LIKE '%/more.html'"
    ).fetchall()
    db.close()
    assert outcome == [("taken_down",)]
    assert not [u for u in stored_urls(root) if "localhost" in u[0] + u[1]]


def test_reembedding_and_reindexing_undo_no_erasure_and_no_takedown_unannounced(
    tmp_path: Path, faces_dir: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for person, n in (("Tony_Blair", 1), ("Tony_Blair", 2), ("Colin_Powell", 1)):
        (photos / f"{person}_{n}.jpg").write_bytes(lfw(faces_dir, person, n))
    warc = tmp_path / "two.warc.gz"
    two_domain_warc(warc, faces_dir)
    root = tmp_path / "atlas"
    with Atlas.open(settings=atlas_settings(root, engine=EngineName.DLIB)) as atlas:
        atlas.ingest(photos)
        atlas.ingest(warc)
        selfies = [lfw(faces_dir, "Tony_Blair", n) for n in (10, 11, 12)]
        request = atlas.privacy.optout_request(selfies, "tb@example.org")
        erased = atlas.privacy.optout_approve(request.id, actor="dpo").erased
        assert (erased.faces, erased.sightings) == (2, 3)  # the WARC holds a copy of photo 1
        atlas.privacy.takedown_domain("example.org", actor="dpo", case_ref="TD-5")
        kept = sorted(atlas.catalog.faces(range(1, 100)))
        atlas.gallery.rebuild_index()  # `faceatlas reindex`
        found = sorted(h.face_id for h in atlas.search(selfies[0], min_similarity=-1).hits)
        assert found == kept
    # SFace has no template of this opt-out: switching would stop keeping Blair out
    refused = CliRunner().invoke(app, ["reembed", "--engine", "sface", "-a", str(root)])
    assert refused.exit_code == 22, refused.output
    assert f"requests {request.id}" in refused.output and "--drop-optout-filters" in refused.output
    db = sqlite3.connect(root / "catalog.sqlite3")
    assert db.execute("SELECT count(*) FROM embeddings").fetchone() == (len(kept),)  # untouched
    db.close()
    # the WARC's images cannot be read again (web sources are not refetched): force the switch
    settings = atlas_settings(root, engine=EngineName.SFACE)
    report = Atlas.reembed(settings=settings, force=True, drop_optout_filters=True)
    assert report.faces_embedded == len(kept) - 1
    with Atlas.open(settings=settings) as atlas:
        assert sorted(atlas.catalog.faces(range(1, 100))) == kept  # nothing erased came back
        found = {h.face_id for h in atlas.search(selfies[0], min_similarity=-1).hits}
        assert len(found) == len(kept) - 1 and found < set(kept)
        assert atlas.privacy.takedowns()[0].domain == "example.org"
        dropped = atlas.privacy.privacy_log()[0]
        assert (dropped.action, dropped.details) == (
            "optout_filters_dropped",
            {"optout_requests": [request.id]},
        )
        assert atlas.audit.entries(action="privacy_optout_filters_dropped")
        assert atlas.audit.verify().ok
        again = atlas.ingest(warc.rename(tmp_path / "again.warc.gz"))
        assert again.counts["failed:taken_down"] == 3, again.counts
        assert not [u for u in stored_urls(root) if "example.org" in u[0] + u[1]]
