"""Front ends never import each other, and the services below them know nothing of HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "faceatlas"

FORBIDDEN = {
    "web": ("faceatlas.api", "faceatlas.cli", "faceatlas.server"),
    "api": ("faceatlas.web", "faceatlas.cli", "faceatlas.server"),
    "cli": ("faceatlas.api", "faceatlas.web", "faceatlas.http"),
    "http": ("faceatlas.api", "faceatlas.web", "faceatlas.cli", "faceatlas.server"),
    "services": (
        "faceatlas.api",
        "faceatlas.web",
        "faceatlas.cli",
        "faceatlas.http",
        "faceatlas.server",
        "fastapi",
        "starlette",
        "pydantic",
    ),
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package: str) -> None:
    bad = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in sorted((SRC / package).rglob("*.py"))
        for name in imported(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package])
    ]
    assert bad == []


def test_only_the_cli_serve_command_reaches_the_server() -> None:
    users = [
        str(p.relative_to(SRC))
        for p in sorted(SRC.rglob("*.py"))
        if "faceatlas.server" in imported(p)
    ]
    assert users == ["cli/service.py"]
