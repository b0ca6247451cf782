"""The container files, checked without Docker (none here): the image installs its Python layer
with the script CI installs with, what it installs is installed in this (CI's) environment at
versions it allows, it runs as a non-root user, its healthcheck asks a route the app serves on
the port it serves, and the compose file's settings are valid FaceAtlas settings."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from fastapi.testclient import TestClient
from packaging.requirements import Requirement

from faceatlas import Atlas, Settings
from faceatlas.server import create_app
from tests.conftest import REPO_ROOT

INSTALL_SCRIPT = ".ci/install-python"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions of the final stage and the build stage, in order, with
    line continuations joined."""
    text = (REPO_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def exec_form(argument: str) -> list[str]:
    words = json.loads(argument) if argument.startswith("[") else shlex.split(argument)
    assert isinstance(words, list)
    return [str(w) for w in words]


def test_the_image_installs_what_ci_installs_and_tests() -> None:
    steps = instructions()
    runs = [arg for op, arg in steps if op == "RUN" and INSTALL_SCRIPT in arg]
    assert len(runs) == 1
    words = shlex.split(runs[0])
    image_extras = words[words.index(INSTALL_SCRIPT) + 2].split(",")
    assert len(words) == words.index(INSTALL_SCRIPT) + 3  # not editable
    make = (REPO_ROOT / "Makefile").read_text()
    assert re.search(rf"^\t.*{re.escape(INSTALL_SCRIPT)} \$\(VENV\) dev --editable$", make, re.M)
    assert (REPO_ROOT / INSTALL_SCRIPT).stat().st_mode & 0o111
    copied = " ".join(arg for op, arg in steps if op == "COPY")
    assert INSTALL_SCRIPT in copied and "pyproject.toml" in copied and "src" in copied

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(image_extras) <= set(extras)
    image = [Requirement(r) for r in project["dependencies"]]
    image += [Requirement(r) for name in image_extras for r in extras[name]]
    tested = {Requirement(r).name.lower() for r in project["dependencies"] + extras["dev"]}
    assert {r.name.lower() for r in image} <= tested
    for requirement in image:  # this environment is the one CI installed
        try:
            found = version(requirement.name)
        except PackageNotFoundError:  # pragma: no cover - the assertion explains it
            raise AssertionError(f"{requirement.name} is not installed") from None
        assert requirement.specifier.contains(found, prereleases=True), (requirement, found)
    python = project["requires-python"].removeprefix(">=")
    assert all(arg.startswith(f"python:{python}") for op, arg in steps if op == "FROM")


def test_the_image_runs_as_a_user_and_checks_a_route_the_app_serves(tmp_path: Path) -> None:
    steps = instructions()
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(op == "RUN" and users[-1] in arg and "useradd" in arg for op, arg in steps)
    (cmd,) = [exec_form(arg) for op, arg in steps if op == "CMD"]
    assert cmd[:2] == ["faceatlas", "serve"]
    port = cmd[cmd.index("--port") + 1]
    assert ("EXPOSE", port) in steps
    (check,) = [arg for op, arg in steps if op == "HEALTHCHECK"]
    probe = exec_form(check.split("CMD", 1)[1].strip())
    code = probe[probe.index("-c") + 1]
    compile(code, "healthcheck", "exec")
    url = urlsplit(re.findall(r"https?://[^'\"]+", code)[0])
    assert url.hostname == "127.0.0.1" and str(url.port) == port
    with Atlas.open(settings=Settings(atlas_dir=tmp_path / "atlas")) as atlas:
        answer = TestClient(create_app(atlas=atlas)).get(url.path)
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_the_compose_settings_are_valid_settings(tmp_path: Path) -> None:
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"faceatlas", "postgres", "milvus", "etcd", "minio"} <= set(services)
    app = services["faceatlas"]
    assert set(app["depends_on"]) == {"postgres", "milvus"}
    assert set(services["milvus"]["depends_on"]) == {"etcd", "minio"}
    given = {
        key.removeprefix("FACEATLAS_").lower(): re.sub(r"\$\{[^}]+\}", "x" * 32, value)
        for key, value in app["environment"].items()
    }
    assert set(given) <= set(Settings.model_fields)
    settings = Settings(atlas_dir=tmp_path, **given)
    assert settings.index_backend.value == "milvus" and settings.metrics.value == "token"
    assert urlsplit(settings.database_url or "").hostname == "postgres"
    assert urlsplit(settings.milvus_uri or "").hostname == "milvus"
