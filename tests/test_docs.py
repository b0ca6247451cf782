"""Documentation stays true: every command and every setting is documented."""

from __future__ import annotations

from pathlib import Path

import typer

from faceatlas.cli import full_app
from faceatlas.config import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def command_paths(typer_app: typer.Typer, prefix: str = "faceatlas") -> list[str]:
    paths = []
    for command in typer_app.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        paths.append(f"{prefix} {name.replace('_', '-')}")
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None and group.name is not None
        paths.extend(command_paths(group.typer_instance, f"{prefix} {group.name}"))
    return paths


def test_every_command_is_in_the_cli_reference() -> None:
    text = (DOCS / "cli.md").read_text()
    paths = command_paths(full_app())
    assert "faceatlas search" in paths and "faceatlas eval lfw" in paths
    missing = [p for p in paths if f"`{p}" not in text]
    assert not missing, f"undocumented commands: {missing}"


def test_every_setting_is_in_the_configuration_reference() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [n for n in Settings.model_fields if f"FACEATLAS_{n.upper()}" not in text]
    assert not missing, f"undocumented settings: {missing}"
