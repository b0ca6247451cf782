"""Batch, group-photo and watchlist searches through the front ends, with real photos: the REST
batch job (status, JSON and CSV reports, the case's HTML report, nobody else's batch), the
group search over REST and the web page's numbered boxes, watchlist entries over REST and
the web page (a supervisor approves), and the command line (a zip batch with progress and a
CSV, a group photo, watchlist add / approve / list)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from faceatlas import Atlas, Settings
from faceatlas.cli import app as cli_app
from faceatlas.server import create_app
from faceatlas.services import Service
from tests.webfixtures import no_face_png
from tests.webkit import PASSWORD, People, make_people, served, signed_in

PURPOSE = "missing person"


@dataclass
class Env:
    root: Path
    atlas: Atlas
    client: TestClient
    people: People
    examples: Path

    @property
    def service(self) -> Service:
        return served(self.client)

    def post(self, who: str, path: str, **kwargs: Any) -> Any:
        return self.client.post(f"/api/v1{path}", headers=self.people.auth(who), **kwargs)

    def get(self, who: str, path: str, **kwargs: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.people.auth(who), **kwargs)

    def photo(self, name: str) -> bytes:
        return (self.examples / "knn_examples" / "test" / name).read_bytes()


@pytest.fixture(scope="module")
def env(
    pages_atlas_dir: Path, tmp_path_factory: pytest.TempPathFactory, faces_dir: Path
) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("modes") / "atlas"
    shutil.copytree(pages_atlas_dir, root)
    with Atlas.open(settings=Settings(atlas_dir=root)) as atlas:
        people = make_people(atlas)
        with TestClient(create_app(atlas=atlas)) as client:
            yield Env(root, atlas, client, people, faces_dir / "face_recognition" / "examples")


def test_rest_batch_job_reports_and_keeps_it_to_its_submitter(env: Env) -> None:
    files = [
        ("images", ("obama1.jpg", env.photo("obama1.jpg"), "image/jpeg")),
        ("images", ("=cut.jpg", env.photo("obama1.jpg")[:2500], "image/jpeg")),
        ("images", ("landscape.png", no_face_png(), "image/png")),
    ]
    form = {"case_number": "2026/REST-B1", "purpose": PURPOSE}
    answer = env.post("investigator", "/search/batch", files=files, data=form)
    assert answer.status_code == 202, answer.text
    batch = answer.json()
    assert batch["status"] in ("queued", "running", "finished") and batch["total"] == 3
    env.service.batches.wait(batch["id"], 60)
    status = env.get("investigator", f"/search/batches/{batch['id']}").json()
    assert (status["status"], status["done"], status["failed"]) == ("finished", 3, 2)
    assert env.get("other_unit", f"/search/batches/{batch['id']}").status_code == 404

    report = env.get("investigator", f"/search/batches/{batch['id']}/report").json()
    items = {i["name"]: i for i in report["items"]}
    assert items["obama1.jpg"]["status"] == "searched"
    assert items["obama1.jpg"]["hits"][0]["found_at"][0].endswith("/people/obama")
    assert items["=cut.jpg"]["error_code"] == "image_decode_error"
    assert items["landscape.png"]["error_code"] == "no_face"
    searches = env.atlas.audit.entries(action="search", case_number="2026/REST-B1")
    assert [e.seq for e in searches] == [items["obama1.jpg"]["search_id"]]

    text = env.get("investigator", f"/search/batches/{batch['id']}/report.csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["name"] for r in rows} == {"obama1.jpg", "'=cut.jpg", "landscape.png"}
    html = env.get("investigator", f"/search/batches/{batch['id']}/case-report.html").text
    assert items["obama1.jpg"]["sha256"] in html

    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("a.jpg", env.photo("obama1.jpg"))
    both = [*files[:1], ("archive", ("p.zip", zipped.getvalue(), "application/zip"))]
    refused = env.post("investigator", "/search/batch", files=both, data=form)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_request"
    nothing = env.post("investigator", "/search/batch", files=files, data={"purpose": PURPOSE})
    assert nothing.json()["error"]["code"] == "case_required"


def test_web_batch_form_then_its_report_page(env: Env) -> None:
    web, token = signed_in(env.client, "ivy.investigator")
    assert 'id="batch-form"' in web.get("/search/batch").text
    form = {"case_number": "2026/WEB-B1", "purpose": PURPOSE, "csrf_token": token}
    files = [
        ("images", ("obama1.jpg", env.photo("obama1.jpg"), "image/jpeg")),
        ("images", ("alex.jpg", env.photo("alex_lacamoire1.jpg"), "image/jpeg")),
    ]
    sent = web.post("/search/batch", data=form, files=files, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    batch_id = int(sent.headers["location"].rsplit("/", 1)[1])
    env.service.batches.wait(batch_id, 60)
    page = web.get(sent.headers["location"]).text
    assert page.count('class="batch-item searched"') == 2 and 'id="csv-link"' in page
    assert 'id="case-report-link"' in page
    refused = web.post("/search/batch", data={**form, "case_number": ""}, files=files)
    assert refused.status_code == 400 and 'id="form-error"' in refused.text
    other, _ = signed_in(env.client, "olly.other")
    assert other.get(f"/search/batches/{batch_id}").status_code == 404


def test_group_photo_over_rest_and_on_the_web_page(env: Env) -> None:
    form = {"case_number": "2026/GROUP-1", "purpose": PURPOSE}
    photo = env.photo("kit_with_rose.jpg")
    answer = env.post("investigator", "/search/group", files={"image": ("g.jpg", photo)}, data=form)
    assert answer.status_code == 200, answer.text
    group = answer.json()
    assert (group["faces_found"], group["faces_searched"]) == (2, 2)
    people = [f["search"]["hits"][0]["sightings"][0]["location"] for f in group["faces"]]
    assert "kit_harington" in people[0] and "rose_leslie" in people[1]
    ids = [f["search"]["search_id"] for f in group["faces"]]
    logged = env.atlas.audit.entries(action="search", case_number="2026/GROUP-1")
    assert sorted(e.seq for e in logged) == sorted(ids)
    assert {e.details["parameters"]["face"] for e in logged} == {0, 1}

    web, token = signed_in(env.client, "ivy.investigator")
    page = web.post(
        "/search/group",
        data={**form, "csrf_token": token},
        files={"image": ("g.jpg", photo, "image/jpeg")},
    )
    assert page.status_code == 200, page.text
    html = page.text
    assert re.search(r'<svg viewBox="0 0 \d+ \d+"', html) and html.count("<rect ") == 2
    boxes = [f["box"] for f in group["faces"]]
    for face, box in enumerate(boxes):
        assert f'data-face="{face}"' in html and f'id="face-{face}"' in html
        assert f'x="{box["left"]}" y="{box["top"]}"' in html
    assert html.count('class="result"') >= 2


def test_watchlist_entries_over_rest_and_the_web_page(env: Env) -> None:
    number = "2026/WATCH-REST"
    opened = env.post(
        "investigator", "/cases", json={"number": number, "purpose": PURPOSE, "legal_basis": "x"}
    )
    assert opened.status_code == 201, opened.text
    photo = env.photo("obama1.jpg")
    created = env.post(
        "investigator",
        "/watchlist/entries",
        files={"image": ("p.jpg", photo)},
        data={"case_number": number, "days": "5", "label": "podium"},
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["status"] == "pending" and entry["has_template"] and "vector" not in entry
    own = env.post("investigator", f"/watchlist/entries/{entry['id']}/approve", json={})
    assert own.status_code == 403
    too_long = env.post(
        "supervisor", f"/watchlist/entries/{entry['id']}/approve", json={"days": 90}
    )
    assert too_long.json()["error"]["code"] == "invalid_request"

    web, token = signed_in(env.client, "sam.supervisor")
    page = web.get("/watchlist").text
    assert f'data-entry="{entry["id"]}"' in page and 'value="approve"' in page
    done = web.post(
        f"/watchlist/{entry['id']}",
        data={"action": "approve", "days": "5", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    listed = env.get("investigator", "/watchlist/entries", params={"case_number": number}).json()
    assert [(e["id"], e["status"]) for e in listed["entries"]] == [(entry["id"], "active")]
    assert listed["max_days"] == 30
    alerts = env.get("supervisor", "/watchlist/alerts").json()
    assert alerts["alerts"] == [] and "not an identification" in alerts["notice"]
    assert env.get("other_unit", f"/watchlist/entries/{entry['id']}").status_code == 404
    gone = env.client.delete(
        f"/api/v1/watchlist/entries/{entry['id']}", headers=env.people.auth("investigator")
    ).json()
    assert gone["status"] == "ended" and gone["ended_reason"] == "deleted"
    assert not gone["has_template"]
    assert "No alerts" in web.get("/watchlist/alerts").text


def run(*args: str, by: str | None = None) -> Any:
    extra = ["--by", by] if by else []
    return CliRunner().invoke(cli_app, [*args, *extra], env={"FACEATLAS_PASSWORD": PASSWORD})


def test_command_line_batch_group_and_watchlist(env: Env, tmp_path: Path) -> None:
    archive = tmp_path / "probes.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("one.jpg", env.photo("obama1.jpg"))
        zf.writestr("two.jpg", env.photo("alex_lacamoire1.jpg"))
        zf.writestr("bad.jpg", b"\xff\xd8 not really a jpeg")
    out_csv = tmp_path / "batch.csv"
    atlas = ["--atlas", str(env.root)]
    case = ["--case", "2026/CLI-B", "--purpose", PURPOSE]
    done = run("search-batch", str(archive), *case, "--csv", str(out_csv), *atlas)
    assert done.exit_code == 0, done.stderr
    assert "2 searched, 1 failed" in done.stdout and "batch" in done.stderr  # the progress bar
    rows = list(csv.DictReader(out_csv.open()))
    assert {r["name"] for r in rows} == {"one.jpg", "two.jpg", "bad.jpg"}

    group = run("search-group", str(env.examples / "knn_examples/test/kit_with_rose.jpg"),
                *case, "--json", *atlas)  # fmt: skip
    assert group.exit_code == 0, group.stderr
    assert json.loads(group.stdout)["faces_searched"] == 2

    number = "2026/CLI-W"
    env.service.casework.open(env.people.investigator, number, PURPOSE, "order 12")
    added = run("watchlist", "add", str(env.examples / "knn_examples/test/obama1.jpg"),
                "--case", number, "--days", "3", "--json", *atlas, by="ivy.investigator")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    entry = json.loads(added.stdout)["id"]
    approved = run("watchlist", "approve", str(entry), *atlas, by="sam.supervisor")
    assert approved.exit_code == 0 and "active" in approved.stdout
    listed = run("watchlist", "list", "--case", number, "--json", *atlas, by="sam.supervisor")
    assert [e["status"] for e in json.loads(listed.stdout)["entries"]] == ["active"]
