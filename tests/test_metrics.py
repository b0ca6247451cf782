"""``GET /metrics`` through the real app: every listed metric moves when its event happens, and
only those ``FACEATLAS_METRICS`` allows may read it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from faceatlas import Atlas, Settings
from faceatlas.server import create_app
from tests.webkit import People, make_people, served

TOKEN = "scrape-token-" + "x" * 20
CASE = {"case_number": "2026-0142", "purpose": "missing person"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Env:
    client: TestClient
    atlas: Atlas
    people: People

    def scrape(self) -> Samples:
        r = self.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/plain")
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text)
            for s in family.samples
        }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def env(
    pages_atlas_dir: Path, tmp_path_factory: pytest.TempPathFactory, lfw_sample: list[Path]
) -> Iterator[Env]:
    base = tmp_path_factory.mktemp("metrics")
    root, incoming = base / "atlas", base / "incoming"
    shutil.copytree(pages_atlas_dir, root)
    incoming.mkdir()
    for photo in lfw_sample[:2]:  # two new faces, and one photo cut short
        shutil.copy(photo, incoming)
    (incoming / "truncated.jpg").write_bytes(lfw_sample[2].read_bytes()[:4000])
    settings = Settings(
        atlas_dir=root,
        metrics="token",  # type: ignore[arg-type]
        metrics_token=TOKEN,  # type: ignore[arg-type]
        ingest_folders={"incoming": incoming},
    )
    with Atlas.open(settings=settings) as atlas:
        people = make_people(atlas)
        with TestClient(create_app(atlas=atlas)) as client:
            yield Env(client, atlas, people)


def test_every_listed_metric_moves_when_its_event_happens(env: Env, probe_photos: Path) -> None:
    before = env.scrape()
    assert value(before, "faceatlas_index_vectors") == len(env.atlas.index) > 0

    r = env.client.post(
        "/api/v1/search",
        files={"image": ("p.jpg", (probe_photos / "obama1.jpg").read_bytes())},
        data=CASE,
        headers=env.people.auth("investigator"),
    )
    assert r.status_code == 200, r.text
    for _ in range(7):  # five free wrong passwords, a sixth that makes the pair wait, then a wait
        env.client.post("/api/v1/auth/tokens", json={"username": "mallory", "password": "guess"})
    job = env.client.post(
        "/api/v1/jobs",
        json={"kind": "folder", "target": "incoming"},
        headers=env.people.auth("admin"),
    )
    assert job.status_code == 202, job.text
    during = env.scrape()  # the job is queued or running: it opens its own atlas first
    service = served(env.client)
    assert service.jobs.wait(job.json()["id"], timeout_s=120).status == "finished"
    after = env.scrape()

    for stage in ("decode", "detect", "embed", "index", "catalog"):
        name = "faceatlas_search_stage_seconds_count"
        assert value(after, name, stage=stage) == value(before, name, stage=stage) + 1, stage
        assert value(after, "faceatlas_search_stage_seconds_sum", stage=stage) > value(
            before, "faceatlas_search_stage_seconds_sum", stage=stage
        )
    assert value(after, "faceatlas_search_seconds_count") == 1 + value(
        before, "faceatlas_search_seconds_count"
    )
    login = "faceatlas_login_failures_total"
    assert (
        value(after, login, reason="wrong_password") - value(before, login, reason="wrong_password")
        == 6
    )
    assert value(after, login, reason="throttled") - value(before, login, reason="throttled") == 1
    jobs_then = value(during, "faceatlas_jobs", status="queued") + value(
        during, "faceatlas_jobs", status="running"
    )
    assert jobs_then == 1
    assert value(after, "faceatlas_jobs", status="queued") == 0
    assert value(after, "faceatlas_jobs", status="running") == 0
    moved = {
        name: value(after, name) - value(before, name)
        for name in (
            "faceatlas_ingest_items_total",
            "faceatlas_ingest_images_total",
            "faceatlas_ingest_faces_total",
            "faceatlas_index_vectors",
        )
    }
    assert moved == {
        "faceatlas_ingest_items_total": 3,
        "faceatlas_ingest_images_total": 2,
        "faceatlas_ingest_faces_total": 2,
        "faceatlas_index_vectors": 2,
    }
    failures = "faceatlas_ingest_failures_total"
    assert value(after, failures, code="image_decode_error") == 1 + value(
        before, failures, code="image_decode_error"
    )
    # the search, the token attempts are not audited; the job start and the search are
    assert value(after, "faceatlas_audit_entries") >= value(before, "faceatlas_audit_entries") + 2
    assert value(after, "faceatlas_audit_entries") == env.atlas.audit.last_entry()[0]  # type: ignore[index]
    requests = "faceatlas_http_requests_total"
    labels = {"method": "POST", "route": "/api/v1/search", "status": "200"}
    assert value(after, requests, **labels) == value(before, requests, **labels) + 1
    labels = {"method": "POST", "route": "/api/v1/auth/tokens", "status": "429"}
    assert value(after, requests, **labels) == value(before, requests, **labels) + 1


def test_only_those_the_setting_allows_may_scrape(env: Env) -> None:
    r = env.client.get("/metrics")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert r.headers["www-authenticate"] == "Bearer"
    r = env.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert r.status_code == 401
    # without the lifespan (no `with`): the engine never loads, /metrics does not need it
    for mode, status in (("off", 404), ("localhost", 403)):
        settings = env.atlas.settings.with_overrides(metrics=mode)
        with Atlas.open(settings=settings) as atlas:
            r = TestClient(create_app(atlas=atlas)).get(
                "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
            )
        assert r.status_code == status, (mode, r.text)  # the test client is not on loopback
    with pytest.raises(ValueError, match="METRICS_TOKEN"):
        Settings(metrics="token")  # type: ignore[arg-type]
