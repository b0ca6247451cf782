"""Shared CLI plumbing: the atlas option, the services over it, error handling, consoles."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, Protocol, TypeVar

import typer
from rich.console import Console, RenderableType
from rich.table import Table as RichTable
from typer.models import CommandFunctionType

from faceatlas.choices import DetectorKind, DlibBackend, EngineName
from faceatlas.errors import FaceAtlasError, InvalidRequestError, NotFoundError

if TYPE_CHECKING:
    from rich.progress import Progress

    from faceatlas.accounts import User
    from faceatlas.config import Settings
    from faceatlas.services import SearchRequest, Service

__all__ = [
    "AtlasOption",
    "CaseOption",
    "CliApp",
    "DetectorOption",
    "DlibBackendOption",
    "EngineOption",
    "JsonOption",
    "PurposeOption",
    "Table",
    "UpsampleOption",
    "atlas_service",
    "cli_errors",
    "command_with",
    "console",
    "err_console",
    "fail",
    "open_service",
    "operator",
    "operator_desk",
    "print_json",
    "print_listing",
    "print_record",
    "progress_bar",
    "read_files",
    "search_request",
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
CaseOption = Annotated[
    str | None,
    typer.Option("--case", help="Case number the search is for (required; audited)."),
]
PurposeOption = Annotated[
    str | None,
    typer.Option(
        "--purpose", help="Why you search: one of the configured purposes (required; audited)."
    ),
]
UpsampleOption = Annotated[
    int | None, typer.Option("--upsample", min=0, max=3, help="Upsampling before detection.")
]

P = ParamSpec("P")
R = TypeVar("R")


class Record(Protocol):
    """A core record with its JSON view."""

    def as_dict(self) -> dict[str, Any]: ...


RecordT = TypeVar("RecordT", bound=Record)


class CliApp(typer.Typer):
    """A Typer app whose every command reports FaceAtlas errors as :func:`cli_errors` does:
    one line on stderr and the mapped exit code. Without arguments it shows its help."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{"no_args_is_help": True, **kwargs})

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        register = super().command(*args, **kwargs)

        def decorator(func: CommandFunctionType) -> CommandFunctionType:
            register(cli_errors(func))
            return func

        return decorator


class Table(RichTable):
    """A rich table that fits the terminal: long cells (paths, URLs) wrap, folding words
    longer than the column, and are never cut with an ellipsis."""

    def add_column(
        self, header: RenderableType = "", footer: RenderableType = "", **kwargs: Any
    ) -> None:
        kwargs.setdefault("overflow", "fold")
        super().add_column(header, footer, **kwargs)


def command_with(command: Callable[P, R], name: str, annotation: object) -> Callable[P, R]:
    """``command`` with its parameter ``name`` declared as ``annotation`` (type and Typer
    argument): one command body for commands that differ only in that parameter's meaning,
    help and shown name (``metavar``)."""
    command.__annotations__ = {**command.__annotations__, name: annotation}
    return command


def settings_for(atlas: Path | None, **overrides: Any) -> Settings:
    """Settings from the environment and config file, with command-line overrides."""
    from faceatlas.config import Settings

    try:
        return Settings().with_overrides(atlas_dir=atlas, **overrides)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@contextmanager
def open_service(settings: Settings) -> Iterator[Service]:
    """The services over the atlas ``settings`` name, closed on the way out."""
    from faceatlas.atlas import Atlas
    from faceatlas.services import Service

    with Atlas.open(settings=settings) as atlas:
        yield Service(atlas)


def atlas_service(atlas: Path | None) -> AbstractContextManager[Service]:
    """The services over the atlas folder ``--atlas`` names (or the configured one)."""
    return open_service(settings_for(atlas))


D = TypeVar("D")


@contextmanager
def operator_desk(
    atlas: Path | None, by: str | None, desk: Callable[[Service], D]
) -> Iterator[tuple[D, User]]:
    """``desk`` over the services of the atlas folder ``--atlas`` names, and the local
    operator acting (``cli:BY``, else ``cli:<os user>``)."""
    from faceatlas.services import local_operator

    with atlas_service(atlas) as service:
        yield desk(service), local_operator(by)


def operator() -> User:
    """Who the command line acts as (see :func:`faceatlas.services.local_operator`)."""
    from faceatlas.services import local_operator

    return local_operator()


def search_request(
    service: Service,
    case: str | None,
    purpose: str | None,
    face: int | None = None,
    top_k: int | None = None,
    threshold: float | None = None,
) -> SearchRequest:
    """The request of an accountable command-line search (interface ``cli``), once ``--case``
    and ``--purpose`` pass the service's check (``case_required`` otherwise)."""
    from faceatlas.services import Interface, SearchRequest

    service.check_case(case, purpose)
    return SearchRequest(case or "", purpose or "", face, top_k, threshold, interface=Interface.CLI)


def cli_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn FaceAtlas errors into one line on stderr and the mapped exit code.

    With ``--json`` (a command's ``as_json`` argument) the error is one JSON document on
    stdout instead, ``{"error": {"code", "message", "exit_code"}}``, with the same exit code:
    the output of a ``--json`` command always parses, and the exit code tells failure."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = bool(kwargs.get("as_json"))
        try:
            return func(*args, **kwargs)
        except FaceAtlasError as exc:
            fail(exc.code, exc.message, exc.exit_code, as_json=as_json)
        except typer.BadParameter as exc:
            if not as_json:
                raise
            fail(InvalidRequestError.code, exc.format_message(), exc.exit_code, as_json=True)
        except KeyboardInterrupt:
            message = "interrupted; rerun the same command to resume"
            if as_json:
                fail("interrupted", message, 130, as_json=True)
            typer.echo(message, err=True)
            raise typer.Exit(130) from None

    return wrapper


def fail(code: str, message: str, exit_code: int, *, as_json: bool = False) -> NoReturn:
    """End the command with an error: ``error [code]: message`` on stderr, or with ``as_json``
    the JSON error document on stdout; either way the process exits with ``exit_code``."""
    if as_json:
        print_json({"error": {"code": code, "message": message, "exit_code": exit_code}})
    else:
        typer.echo(f"error [{code}]: {message}", err=True)
    raise typer.Exit(exit_code)


def read_files(paths: Sequence[Path]) -> list[bytes]:
    """The bytes of each photo named on the command line (``not_found`` when missing)."""
    out = []
    for path in paths:
        try:
            out.append(path.read_bytes())
        except FileNotFoundError:
            raise NotFoundError(f"no such file: {path}") from None
        except OSError as exc:
            raise InvalidRequestError(f"cannot read {path}: {exc.strerror or exc}") from None
    return out


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def print_listing(
    records: Sequence[RecordT],
    as_json: bool,
    columns: Sequence[str],
    row: Callable[[RecordT], Sequence[str]],
    *,
    title: str,
    key: str | None = None,
    caption: str | None = None,
) -> None:
    """``records`` as a table (``columns``, and ``row`` of each record), or with ``--json`` as
    the list of their ``as_dict``, under ``key`` when one is given."""
    if as_json:
        listed = [r.as_dict() for r in records]
        print_json(listed if key is None else {key: listed})
        return
    table = Table(title=title, caption=caption)
    for column in columns:
        table.add_column(column)
    for r in records:
        table.add_row(*row(r))
    console.print(table)


def print_record(record: RecordT, as_json: bool, render: Callable[[RecordT], None]) -> None:
    """``record`` as JSON (its ``as_dict``) with ``--json``, else drawn by ``render``."""
    if as_json:
        print_json(record.as_dict())
    else:
        render(record)


def progress_bar(label: str, *, quiet: bool) -> Progress:
    """A progress bar on stderr: ``label`` (rich markup; ``{task.description}`` and the like
    are filled in), the bar, done of total and the time left; hidden when ``quiet``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet,
    )
