"""Helpers for the API, web and audit tests: a small atlas with web-page provenance,
users of every role, and an ASGI client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from faceatlas import Atlas, Settings
from faceatlas.accounts import Role, TokenKind, User
from faceatlas.ingest import SourceItem
from faceatlas.services import Service

PASSWORD = "correct horse battery staple"


class PagesSource:
    """Known-people photos presented as images found on web pages (a Source at its seam).

    Each photo gets an image URL and the page it was "found" on, so results
    carry source titles and links as web ingestion gives them.
    """

    kind = "test_pages"

    def __init__(self, root: Path, base_url: str = "https://example.org") -> None:
        self.root = root
        self.base_url = base_url

    @property
    def locator(self) -> str:
        return f"{self.base_url}/people"

    def _files(self) -> list[Path]:
        return sorted(
            p for p in self.root.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"}
        )

    def items(self) -> Iterator[SourceItem]:
        for path in self._files():
            person = path.parent.name
            yield SourceItem(
                locator=f"{self.base_url}/img/{person}/{path.name}",
                page_url=f"{self.base_url}/people/{person}",
                page_title=f"Photos of {person.replace('_', ' ').title()}",
                alt_text=person,
            )

    def read(self, item: SourceItem) -> bytes:
        person, name = item.locator.rsplit("/", 2)[-2:]
        return (self.root / person / name).read_bytes()

    def count_hint(self) -> int | None:
        return len(self._files())


def build_pages_atlas(root: Path, known_people: Path) -> None:
    with Atlas.open(settings=Settings(atlas_dir=root)) as atlas:
        report = atlas.ingest(PagesSource(known_people))
    assert report.counts["failed"] == 0, report.failures
    assert report.counts["faces"] >= 8


@dataclass
class People:
    admin: User
    supervisor: User
    investigator: User
    other_unit: User
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def make_user(atlas: Atlas, name: str, role: Role, unit: str = "unit-a") -> str:
    """One user with the password :data:`PASSWORD` (each password costs an Argon2 hash: make
    only the users a test needs); returns an API token of theirs."""
    user, _ = atlas.accounts.create_user(name, role, unit=unit, password=PASSWORD)
    return atlas.accounts.issue(user, TokenKind.API, 3600, name="test").secret


def make_people(atlas: Atlas) -> People:
    accounts = atlas.accounts
    made: dict[str, User] = {}
    for name, role, unit in (
        ("admin", Role.ADMIN, "hq"),
        ("sam.supervisor", Role.SUPERVISOR, "unit-a"),
        ("ivy.investigator", Role.INVESTIGATOR, "unit-a"),
        ("olly.other", Role.INVESTIGATOR, "unit-b"),
    ):
        made[name], _ = accounts.create_user(name, role, unit=unit, password=PASSWORD)
    tokens = {
        name: accounts.issue(user, TokenKind.API, 3600, name="test").secret
        for name, user in made.items()
    }
    return People(
        admin=made["admin"],
        supervisor=made["sam.supervisor"],
        investigator=made["ivy.investigator"],
        other_unit=made["olly.other"],
        tokens={
            "admin": tokens["admin"],
            "supervisor": tokens["sam.supervisor"],
            "investigator": tokens["ivy.investigator"],
            "other_unit": tokens["olly.other"],
        },
    )


def log_in(client: TestClient, username: str) -> httpx.Response:
    """Post the sign-in form as ``username``, with the form's own CSRF token; not followed."""
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )


def signed_in(client: TestClient, username: str) -> tuple[TestClient, str]:
    """A fresh client on ``client``'s app with a cookie session for ``username``, and the
    session's CSRF token."""
    web = TestClient(client.app)
    r = log_in(web, username)
    assert r.status_code == 303
    csrf = web.get("/search").text.split('name="csrf-token" content="')[1].split('"')[0]
    return web, csrf


def served(client: TestClient) -> Service:
    """The service behind a test client of an app made by ``faceatlas.server.create_app``."""
    service: Service = client.app.state.service  # type: ignore[attr-defined]
    return service
