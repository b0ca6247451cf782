"""Only http(s) URLs are stored as the page an image was seen on, and only they become links."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from faceatlas.errors import InvalidRequestError
from faceatlas.ingest import Fetcher, FetchPolicy, Politeness
from faceatlas.ingest.urllist import UrlListSource
from faceatlas.types import is_web_url
from faceatlas.web.pages import Pages

HOSTILE = ("javascript:alert(document.cookie)", " JavaScript:alert(1)", "data:text/html,x")


def test_web_urls() -> None:
    assert is_web_url("https://example.org/a") and is_web_url("HTTP://example.org")
    assert not any(is_web_url(u) for u in (*HOSTILE, "", "ftp://example.org", "//example.org"))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("list.txt", "https://example.org/a.jpg javascript:alert(1)\n"),
        ("list.csv", "image_url,page_url\nhttps://example.org/a.jpg,javascript:alert(1)\n"),
    ],
)
def test_url_lists_refuse_a_page_url_that_is_not_http(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with Fetcher(FetchPolicy(user_agent="FaceAtlasBot/0.1 (test)")) as fetcher:
        polite = Politeness(fetcher, per_host=1, min_delay_s=0.0)
        with pytest.raises(InvalidRequestError, match="not an http"):
            UrlListSource(path, polite)
        path.write_text(text.replace("javascript:alert(1)", "https://example.org/page"))
        assert [i.page_url for i in UrlListSource(path, polite).items()] == [
            "https://example.org/page"
        ]


def test_templates_link_only_web_urls() -> None:
    macros = Pages().templates.env.get_template("_macros.html").module
    for url in HOSTILE:
        html = str(macros.source(SimpleNamespace(page_url=url, page_title=None)))  # type: ignore[attr-defined]
        assert "<a " not in html and "href" not in html
    safe = str(macros.source(SimpleNamespace(page_url="https://example.org/p", page_title="P")))  # type: ignore[attr-defined]
    assert 'href="https://example.org/p"' in safe


def test_the_catalog_never_stores_a_page_url_that_is_not_http(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from faceatlas.store import schema as t
    from faceatlas.store.catalog import Catalog, NewSighting

    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        with catalog.writer() as w:
            source = w.ensure_source("urls", "list.txt")
            image, _ = w.add_image(
                sha256="0" * 64, byte_size=1, width=1, height=1, format="JPEG", faces=[],
                model_id="m",
            )  # fmt: skip
            for url in (*HOSTILE, "https://example.org/page"):
                w.add_sighting(
                    image, NewSighting("https://example.org/a.jpg", url, source_id=source)
                )
        with catalog.db.connect() as conn:
            stored = {r[0] for r in conn.execute(sa.select(t.sightings.c.page_url))}
        assert stored == {"", "https://example.org/page"}
    finally:
        catalog.close()
