"""Structured logs of the app served over real HTTP on 127.0.0.1, configured as ``faceatlas
serve`` configures them: with ``FACEATLAS_LOG_FORMAT=json`` every line is a JSON object, the
lines of a request carry its id, and no line holds a password, a token, a session cookie or
image bytes. The same server shows that ``/metrics`` is open to this machine by default."""

from __future__ import annotations

import base64
import io
import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from faceatlas import Atlas, Settings
from faceatlas.server import create_app, server_config
from faceatlas.services.logs import configure_logging
from tests.test_web_e2e import _free_port
from tests.webkit import PASSWORD, make_people

CASE = {"case_number": "2026-0142", "purpose": "missing person"}
ACCESS_FIELDS = {
    *("ts", "level", "logger", "message", "request_id"),
    *("method", "route", "status", "duration_ms", "client"),
}


@contextmanager
def json_logs_to(stream: io.StringIO) -> Iterator[None]:
    """``configure_logging`` as ``faceatlas serve`` calls it, writing to ``stream``; the
    root logger's handlers are put back afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(Settings(log_format="json").log_format, "info")  # type: ignore[arg-type]
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


@contextmanager
def served(atlas: Atlas) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(server_config(create_app(atlas=atlas), "127.0.0.1", port, "info"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def test_json_lines_carry_request_ids_and_no_secrets(
    pages_atlas_dir: Path, tmp_path: Path, probe_photos: Path
) -> None:
    root = tmp_path / "atlas"
    shutil.copytree(pages_atlas_dir, root)
    out = io.StringIO()
    probe = (probe_photos / "obama1.jpg").read_bytes()
    with (
        Atlas.open(settings=Settings(atlas_dir=root)) as atlas,
        json_logs_to(out),
        served(atlas) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        admin_token = make_people(atlas).tokens["admin"]
        refused = {"username": "ivy.investigator", "password": "nope"}
        assert http.post("/api/v1/auth/tokens", json=refused).status_code == 401
        made = http.post(
            "/api/v1/auth/tokens", json={"username": "ivy.investigator", "password": PASSWORD}
        )
        assert made.status_code == 201, made.text
        token = made.json()["token"]
        csrf = http.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        form = {"username": "sam.supervisor", "password": PASSWORD, "csrf_token": csrf}
        assert http.post("/login", data=form).status_code in (200, 303)
        cookie = http.cookies.get("fa_session")
        assert cookie
        with Atlas.open(settings=Settings(atlas_dir=root)) as other:  # another writer
            ids, _, _ = next(other.catalog.iter_embeddings(other.model_id))
            other.privacy.erase_faces([int(ids[-1])], actor="test")
        found = http.post(
            "/api/v1/search",
            files={"image": ("p.jpg", probe)},
            data=CASE,
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "case-search-1"},
        )
        assert found.status_code == 200, found.text
        assert found.headers["x-request-id"] == "case-search-1"
        minted = http.get("/api/v1/health", headers={"X-Request-ID": "bad id, spaces"})
        assert minted.headers["x-request-id"] not in ("", "bad id, spaces")
        metrics = http.get("/metrics")  # FACEATLAS_METRICS defaults to localhost
        assert metrics.status_code == 200
        assert 'route="/api/v1/search",status="200"' in metrics.text

    text = out.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines and all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "faceatlas.access"]
    (search,) = [line for line in access if line["route"] == "/api/v1/search"]
    assert search["request_id"] == "case-search-1"
    assert (search["method"], search["status"], search["client"]) == ("POST", 200, "127.0.0.1")
    assert search["duration_ms"] > 0
    synced = [line for line in lines if line["message"].startswith("index synced")]
    assert [line["request_id"] for line in synced] == ["case-search-1"]
    assert {line["route"] for line in access} >= {"/api/v1/auth/tokens", "/login", "/metrics"}
    assert all(line["request_id"] for line in access)
    assert _fields(access) == ACCESS_FIELDS
    assert any(line["logger"].startswith("uvicorn") for line in lines)

    leaks = [s for s in (PASSWORD, token, admin_token, cookie, csrf, "nope") if s in text]
    assert not leaks
    assert "authorization" not in text.lower() and "bearer" not in text.lower()
    assert base64.b64encode(probe[200:260]).decode() not in text
    assert max(len(line) for line in text.splitlines()) < 2000  # no embedding or image dump


def _fields(lines: list[dict[str, Any]]) -> set[str]:
    return {key for line in lines for key in line}


@pytest.mark.parametrize("given", ["abc", "a" * 65, "x\ny"])
def test_request_ids_from_clients_are_plain_short_tokens(given: str) -> None:
    from faceatlas.services.logs import request_id_for

    assert (request_id_for(given) == given) == (given == "abc")
