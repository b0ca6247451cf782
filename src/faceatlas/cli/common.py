"""Shared CLI plumbing: the atlas option, error handling, consoles."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from faceatlas.config import DetectorKind, DlibBackend, EngineName, Settings
from faceatlas.errors import FaceAtlasError

__all__ = [
    "AtlasOption",
    "DetectorOption",
    "DlibBackendOption",
    "EngineOption",
    "JsonOption",
    "UpsampleOption",
    "cli_errors",
    "console",
    "err_console",
    "print_json",
    "settings_for",
]

console = Console()
err_console = Console(stderr=True)

AtlasOption = Annotated[
    Path | None,
    typer.Option("--atlas", "-a", help="Atlas folder [env FACEATLAS_ATLAS_DIR, default ./atlas]."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
DetectorOption = Annotated[
    DetectorKind | None,
    typer.Option("--detector", help="Face detector: hog or cnn (dlib), yunet (sface)."),
]
EngineOption = Annotated[
    EngineName | None, typer.Option("--engine", help="Face engine [env FACEATLAS_ENGINE].")
]
DlibBackendOption = Annotated[
    DlibBackend | None,
    typer.Option("--dlib-backend", help="What runs the dlib ResNet: onnx or dlib."),
]
UpsampleOption = Annotated[
    int | None, typer.Option("--upsample", min=0, max=3, help="Upsampling before detection.")
]

P = ParamSpec("P")
R = TypeVar("R")


def settings_for(atlas: Path | None, **overrides: Any) -> Settings:
    """Settings from the environment and config file, with command-line overrides."""
    try:
        return Settings().with_overrides(atlas_dir=atlas, **overrides)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def cli_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn FaceAtlas errors into one line on stderr and the mapped exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except FaceAtlasError as exc:
            typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted; rerun the same command to resume", err=True)
            raise typer.Exit(130) from None

    return wrapper


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
