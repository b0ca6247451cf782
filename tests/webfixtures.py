"""A small web site of real LFW photos, served live or written into a WARC.gz with warcio."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from faceatlas import Settings

from .conftest import atlas_settings
from .website import Response, Site

LAST_MODIFIED = "Wed, 02 Oct 2024 08:30:00 GMT"
TITLE_INDEX = "Staff of the Example Ministry"
TITLE_ABOUT = "About the ministry"
LOCAL_ENV = {
    "FACEATLAS_FETCH_ALLOW_NETWORKS": '["127.0.0.1/32"]',
    "FACEATLAS_CRAWL_MIN_DELAY_S": "0",
    "FACEATLAS_FETCH_RETRIES": "0",
}
"""The environment of a CLI run that fetches from the test site on 127.0.0.1."""


def web_settings(root: Path, **overrides: object) -> Settings:
    """Settings of an atlas in ``root`` that fetches from the test site on 127.0.0.1."""
    return atlas_settings(
        root,
        fetch_allow_networks=["127.0.0.1/32"],
        crawl_min_delay_s=0.0,
        fetch_retries=0,
        **overrides,
    )


def lfw(faces_dir: Path, person: str, n: int = 1) -> bytes:
    return (faces_dir / "lfw/images" / person / f"{person}_{n:04d}.jpg").read_bytes()


def resized_copy(jpeg: bytes, side: int = 180, quality: int = 70) -> bytes:
    """A smaller, re-encoded copy of a photo, as sites republish them."""
    img = Image.open(io.BytesIO(jpeg)).convert("RGB").resize((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def no_face_png() -> bytes:
    img = Image.linear_gradient("L").convert("RGB").resize((200, 120))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def site_images(faces_dir: Path) -> dict[str, bytes]:
    powell = lfw(faces_dir, "Colin_Powell")
    return {
        "/img/powell.jpg": powell,
        "/img/powell-copy.jpg": resized_copy(powell),
        "/img/blair.jpg": lfw(faces_dir, "Tony_Blair"),
        "/img/blair-small.jpg": resized_copy(lfw(faces_dir, "Tony_Blair"), 100),
        "/img/schroeder.jpg": lfw(faces_dir, "Gerhard_Schroeder"),
        "/img/chirac.jpg": lfw(faces_dir, "Jacques_Chirac"),
        "/img/putin.jpg": lfw(faces_dir, "Vladimir_Putin"),
        "/img/secret.jpg": lfw(faces_dir, "Hugo_Chavez"),
        "/img/landscape.png": no_face_png(),
    }


def site_pages(port: int) -> dict[str, str]:
    return {
        "/index.html": f"""<!doctype html><html><head><title>{TITLE_INDEX}</title>
<meta property="og:image" content="/img/schroeder.jpg"></head><body>
<h1>Our people</h1>
<figure><img src="/img/powell.jpg" alt="Colin Powell at the podium">
<figcaption>Colin Powell speaking in 2003</figcaption></figure>
<p><img src="/img/blair-small.jpg" srcset="/img/blair-small.jpg 100w, /img/blair.jpg 250w"
alt="Tony Blair"></p>
<form action="/login" method="post"><input name="user"><input type="password" name="pw">
<button>Log in</button></form>
<a href="/about.html">About</a> <a href="/private/secret.html">Staff only</a>
<a href="http://localhost:{port}/elsewhere.html">Partner site</a>
<a href="/login">Log in</a>
</body></html>""",
        "/about.html": f"""<html><head><title>{TITLE_ABOUT}</title></head><body>
<div class="card"><img src="/img/powell.jpg" alt="Portrait of Colin Powell"></div>
<div><img src="/img/powell-copy.jpg" alt="Powell, thumbnail"><span>Former secretary</span></div>
<p><img src="/img/landscape.png" alt="The ministry building"></p>
<a href="/deep/level2.html">Archive</a></body></html>""",
        "/deep/level2.html": """<html><head><title>Archive</title></head><body>
<img src="/img/chirac.jpg" alt="Jacques Chirac"><a href="/deep/level3.html">More</a></body></html>""",
        "/deep/level3.html": """<html><head><title>Too deep</title></head><body>
<img src="/img/putin.jpg" alt="Vladimir Putin"></body></html>""",
        "/private/secret.html": """<html><head><title>Secret</title></head><body>
<img src="/img/secret.jpg" alt="Hugo Chavez"></body></html>""",
        "/elsewhere.html": """<html><head><title>Elsewhere</title></head><body>
<img src="/img/putin.jpg" alt="Off the allowlist"></body></html>""",
        "/login": """<html><head><title>Log in</title></head><body>
<form method="post"><input name="user"></form></body></html>""",
    }


ROBOTS = b"User-agent: *\nDisallow: /private/\n"


def serve_site(site: Site, faces_dir: Path) -> None:
    for path, html in site_pages(site.port).items():
        site.routes[path] = Response(html.encode("utf-8"))
    for path, data in site_images(faces_dir).items():
        ctype = "image/png" if path.endswith(".png") else "image/jpeg"
        site.routes[path] = Response(data, ctype, headers={"Last-Modified": LAST_MODIFIED})
    site.routes["/robots.txt"] = Response(ROBOTS, "text/plain")


def write_warc(path: Path, records: list[tuple[str, bytes, str]]) -> None:
    """``records``: ``(url, body, content type)`` written as gzipped ``response`` records."""
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=True)
        for url, body, ctype in records:
            headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))]
            if ctype.startswith("image/"):
                headers.append(("Last-Modified", LAST_MODIFIED))
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=http
            )
            writer.write_record(record)
