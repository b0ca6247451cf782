"""Searches that do not pay the model load each time: ``faceatlas search`` through a running
server (a real HTTP server on 127.0.0.1, the REST API's token) and ``faceatlas shell``, which
keeps one engine for every probe read from standard input. Both stay accountable: case and
purpose required, each search audited."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from faceatlas import Atlas, Settings
from faceatlas.accounts import Role
from faceatlas.cli import app
from tests.test_logs import served
from tests.webkit import make_user

CASE = ["--case", "2026-0142", "--purpose", "missing person"]


@dataclass
class Running:
    url: str
    atlas: Atlas
    token: str
    """An investigator's API token."""

    def env(self) -> dict[str, str]:
        return {"FACEATLAS_SERVER_URL": self.url, "FACEATLAS_API_TOKEN": self.token}

    def searches(self) -> list[dict[str, object]]:
        entries = self.atlas.audit.entries(action="search", limit=100)
        return [{"actor": e.actor, **e.details} for e in entries]


@pytest.fixture(scope="module")
def running(pages_atlas_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("remote") / "atlas"
    shutil.copytree(pages_atlas_dir, root)
    with Atlas.open(settings=Settings(atlas_dir=root)) as atlas:
        token = make_user(atlas, "ivy.investigator", Role.INVESTIGATOR)
        with served(atlas) as url:
            yield Running(url, atlas, token)


def invoke(args: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> object:
    return CliRunner().invoke(app, args, env=env, input=stdin)


def test_search_goes_to_the_running_server(running: Running, probe_photos: Path) -> None:
    probe = str(probe_photos / "obama1.jpg")
    done = invoke(["search", probe, *CASE, "--json"], running.env())
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    answer = json.loads(done.stdout)  # type: ignore[attr-defined]
    assert answer["hits"] and answer["notice"].startswith("Results are investigative leads")
    assert answer["hits"][0]["sightings"][0]["page_url"].startswith("https://example.org/")
    audited = running.searches()[0]
    assert (audited["actor"], audited["interface"]) == ("ivy.investigator", "api")

    table = invoke(["search", probe, *CASE], {**running.env(), "COLUMNS": "200"})
    assert table.exit_code == 0 and "example.org/people/obama" in table.stdout  # type: ignore[attr-defined]
    faces = invoke(
        ["search", str(probe_photos / "obama_and_biden.jpg"), "--list-faces"], running.env()
    )
    assert faces.exit_code == 0 and "faces in the photo" in faces.stdout  # type: ignore[attr-defined]

    # The server's rules hold, and its errors come back as the command line's own.
    no_case = invoke(["search", probe, "--json"], running.env())
    assert no_case.exit_code == 2  # type: ignore[attr-defined]
    assert json.loads(no_case.stdout)["error"]["code"] == "case_required"  # type: ignore[attr-defined]
    bad_token = invoke(["search", probe, *CASE], {**running.env(), "FACEATLAS_API_TOKEN": "nope"})
    assert bad_token.exit_code == 20 and "unauthenticated" in bad_token.stderr  # type: ignore[attr-defined]
    down = invoke(
        ["search", probe, *CASE], {**running.env(), "FACEATLAS_SERVER_URL": "http://127.0.0.1:9"}
    )
    assert down.exit_code == 10 and "cannot reach the server" in down.stderr  # type: ignore[attr-defined]
    no_token = invoke(["search", probe, *CASE], {"FACEATLAS_SERVER_URL": running.url})
    assert no_token.exit_code == 2 and "FACEATLAS_API_TOKEN" in no_token.stderr  # type: ignore[attr-defined]


def test_shell_searches_every_probe_on_standard_input(
    running: Running, probe_photos: Path, pages_atlas_dir: Path, tmp_path: Path
) -> None:
    lines = "\n".join(
        [
            str(probe_photos / "obama1.jpg"),
            "# a comment",
            f"{probe_photos / 'obama_and_biden.jpg'} 1",
            str(tmp_path / "missing.jpg"),
            f"{probe_photos / 'obama1.jpg'} one",
        ]
    )
    before = len(running.searches())
    via_server = invoke(["shell", *CASE, "--json"], running.env(), stdin=lines)
    answers = [json.loads(x) for x in via_server.stdout.splitlines()]  # type: ignore[attr-defined]
    assert [a.get("error", {}).get("code") for a in answers] == [
        None,
        None,
        "not_found",
        "invalid_request",
    ]
    assert answers[1]["selected_face"] == 1
    assert via_server.exit_code == 4  # type: ignore[attr-defined]
    assert len(running.searches()) == before + 2

    # In this process, with the atlas's own engine loaded once for every probe.
    local_atlas = tmp_path / "atlas"
    shutil.copytree(pages_atlas_dir, local_atlas)
    here = invoke(["shell", "--atlas", str(local_atlas), *CASE, "--json"], stdin=lines)
    answers = [json.loads(x) for x in here.stdout.splitlines()]  # type: ignore[attr-defined]
    assert [a["probe"] for a in answers[:2]] == [
        str(probe_photos / "obama1.jpg"),
        str(probe_photos / "obama_and_biden.jpg"),
    ]
    assert answers[0]["hits"] and here.exit_code == 4  # type: ignore[attr-defined]
    with Atlas.open(settings=Settings(atlas_dir=local_atlas)) as copy:
        shell_searches = [
            e
            for e in copy.audit.entries(action="search", limit=100)
            if e.details["interface"] == "cli"
        ]
    assert len(shell_searches) == 2
