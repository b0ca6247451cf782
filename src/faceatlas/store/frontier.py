"""The crawler's frontier, kept in the catalog so a stopped crawl resumes where it was.

Rows are pages to visit and images seen on pages. A page's outcome and the
links and images found on it are written in one transaction; an image row is
marked done after the ingest transaction holding it commits.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from faceatlas.store import schema as t
from faceatlas.store.rows import utc_now
from faceatlas.types import record

__all__ = ["Frontier", "FrontierImage", "FrontierPage"]

PENDING = "pending"
DONE = "done"
FAILED = "failed"
SKIPPED = "skipped"


@record
class FrontierPage:
    url: str
    depth: int


@record
class FrontierImage:
    url: str
    page_url: str
    page_title: str | None
    alt_text: str | None
    caption: str | None


class Frontier:
    """Frontier rows of one crawl source."""

    def __init__(self, db: sa.Engine, source_id: int) -> None:
        self.db = db
        self.source_id = source_id

    def _insert(
        self, conn: sa.Connection, kind: str, url: str, page_url: str, **values: object
    ) -> bool:
        f = t.crawl_frontier
        exists = conn.execute(
            sa.select(f.c.id).where(
                f.c.source_id == self.source_id,
                f.c.kind == kind,
                f.c.url == url,
                f.c.page_url == page_url,
            )
        ).first()
        if exists is not None:
            return False
        now = utc_now()
        conn.execute(
            f.insert().values(
                source_id=self.source_id,
                kind=kind,
                url=url,
                page_url=page_url,
                discovered_at=now,
                updated_at=now,
                **values,
            )
        )
        return True

    def seed(self, urls: Sequence[str]) -> None:
        with self.db.begin() as conn:
            for url in urls:
                self._insert(conn, "page", url, "", depth=0, state=PENDING)

    def pending_pages(self, limit: int) -> list[FrontierPage]:
        f = t.crawl_frontier
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(f.c.url, f.c.depth)
                .where(f.c.source_id == self.source_id, f.c.kind == "page", f.c.state == PENDING)
                .order_by(f.c.depth, f.c.id)
                .limit(limit)
            ).all()
        return [FrontierPage(str(r[0]), int(r[1])) for r in rows]

    def pages_visited(self) -> int:
        f = t.crawl_frontier
        with self.db.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        f.c.source_id == self.source_id, f.c.kind == "page", f.c.state != PENDING
                    )
                ).scalar_one()
            )

    def pending_images(self) -> list[FrontierImage]:
        f = t.crawl_frontier
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(f.c.url, f.c.page_url, f.c.page_title, f.c.alt_text, f.c.caption)
                .where(f.c.source_id == self.source_id, f.c.kind == "image", f.c.state == PENDING)
                .order_by(f.c.id)
            ).all()
        return [FrontierImage(*r) for r in rows]

    def finish_page(
        self,
        page: FrontierPage,
        outcome: str,
        links: Sequence[str],
        images: Sequence[FrontierImage],
        skipped_images: Sequence[FrontierImage] = (),
    ) -> list[FrontierImage]:
        """Record a visited page with what it links to; returns the images newly queued."""
        f = t.crawl_frontier
        queued: list[FrontierImage] = []
        with self.db.begin() as conn:
            for link in links:
                self._insert(conn, "page", link, "", depth=page.depth + 1, state=PENDING)
            for image, state in [(i, PENDING) for i in images] + [
                (i, SKIPPED) for i in skipped_images
            ]:
                new = self._insert(
                    conn,
                    "image",
                    image.url,
                    image.page_url,
                    depth=page.depth,
                    state=state,
                    outcome=None if state == PENDING else "off_allowlist",
                    page_title=image.page_title,
                    alt_text=image.alt_text,
                    caption=image.caption,
                )
                if new and state == PENDING:
                    queued.append(image)
            conn.execute(
                f.update()
                .where(
                    f.c.source_id == self.source_id,
                    f.c.kind == "page",
                    f.c.url == page.url,
                    f.c.page_url == "",
                )
                .values(
                    state=DONE if outcome == "ok" else FAILED, outcome=outcome, updated_at=utc_now()
                )
            )
        return queued

    def images_done(self, images: Sequence[tuple[str, str]]) -> None:
        """Mark ``(image_url, page_url)`` rows done once their ingest transaction committed."""
        f = t.crawl_frontier
        with self.db.begin() as conn:
            for url, page_url in images:
                conn.execute(
                    f.update()
                    .where(
                        f.c.source_id == self.source_id,
                        f.c.kind == "image",
                        f.c.url == url,
                        f.c.page_url == page_url,
                    )
                    .values(state=DONE, updated_at=utc_now())
                )

    def counts(self) -> dict[str, int]:
        f = t.crawl_frontier
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(f.c.kind, f.c.state, sa.func.count())
                .where(f.c.source_id == self.source_id)
                .group_by(f.c.kind, f.c.state)
            ).all()
        return {f"{kind}_{state}": int(n) for kind, state, n in rows}
