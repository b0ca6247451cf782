"""What a page says about its images: parsed with the standard library, no script run."""

from __future__ import annotations

from faceatlas.ingest.html import PageImage, decode_html, parse_page

PAGE = (
    """<!doctype html><html><head><title>  The   Daily
 Example </title><base href="https://cdn.example.org/assets/">
<meta property="og:image" content="https://img.example.org/og.jpg">
<script>var caption = "not text";</script></head><body>
<figure><img src="a.jpg" alt=" Alice  at work "><figcaption>Alice, <b>2021</b></figcaption></figure>
<div><img srcset="b-320.jpg 320w, b-1280.jpg 1280w, b-640.jpg 640w" src="b-320.jpg" alt="Bob">
<span>Bob on stage</span></div>
<p><img srcset="c.jpg 1x, c@2x.jpg 2x" alt=""></p>
<img src="data:image/png;base64,AAAA"><img src="a.jpg" alt="Alice again">
<img src="d.jpg" title="Carol, 1999">
<a href="/about#team">About</a><a href="/about">About again</a>
<a href="javascript:alert(1)">x</a><a href="mailto:x@example.org">mail</a>
<a rel="nofollow" href="/login">Log in</a><a href="ftp://example.org/f">ftp</a>
<div>"""
    + "long body text " * 40
    + """<img src="e.jpg"></div>
</body></html>"""
)


def test_parse_page_finds_images_alt_captions_title_and_links() -> None:
    page = parse_page(PAGE, "https://news.example.org/2021/story.html")
    assert page.title == "The Daily Example"
    base = "https://cdn.example.org/assets/"
    assert page.images == [
        PageImage(base + "a.jpg", "Alice at work", "Alice, 2021"),  # figcaption
        PageImage(base + "b-1280.jpg", "Bob", "Bob on stage"),  # largest srcset, nearby text
        PageImage(base + "c@2x.jpg", None, None),
        PageImage(base + "d.jpg", None, "Carol, 1999"),  # title attribute
        PageImage(base + "e.jpg", None, None),  # page body is not a caption
        PageImage("https://img.example.org/og.jpg", None, None),  # og:image last
    ]
    assert page.links == [
        "https://cdn.example.org/about"
    ]  # deduplicated, no nofollow/js/mailto/ftp


def test_decode_html_uses_the_declared_charset() -> None:
    body = "<title>Café</title>".encode("latin-1")
    assert decode_html(body, "text/html; charset=ISO-8859-1") == "<title>Café</title>"
    assert decode_html(body, "text/html; charset=bogus") == "<title>Caf\ufffd</title>"
    assert decode_html("<p>ü</p>".encode(), "") == "<p>ü</p>"
