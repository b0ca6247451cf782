"""What a job may ingest, resolved without ever joining a client's string onto a path.

* ``folder``: the *name* of a folder listed in ``Settings.ingest_folders``.
* ``warc``: ``NAME/FILE`` where NAME is a configured folder and FILE one of the
  ``.warc``/``.warc.gz`` files found by listing that folder (exact match on the
  listing; the path used is the listing's own).
* ``urls``: ``NAME/FILE`` for a ``.txt``/``.csv`` URL list found the same way, or
  a list of URLs posted with the job, which the server writes to a file it names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from faceatlas.config import Settings
from faceatlas.errors import InvalidRequestError
from faceatlas.ingest import SourceKind
from faceatlas.types import record

__all__ = [
    "LIST_SUFFIXES",
    "WARC_SUFFIXES",
    "JobInput",
    "TargetFactory",
    "folder_target",
    "listed_files",
    "listed_target",
]

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
LIST_SUFFIXES = (".txt", ".csv")


@record
class JobInput:
    """A resolved job input: a path the server chose, and how to read it."""

    path: Path
    kind: SourceKind


TargetFactory = Callable[[str, Settings], JobInput]
"""``(target, settings) -> JobInput``; raises :class:`InvalidRequestError` for a bad target."""


def _folder(name: str, settings: Settings) -> Path:
    folder = settings.ingest_folders.get(name)
    if folder is None:
        known = ", ".join(sorted(settings.ingest_folders)) or "none configured"
        raise InvalidRequestError(f"unknown ingest folder {name!r} (known: {known})")
    return folder


def folder_target(target: str, settings: Settings) -> JobInput:
    """A configured folder, by name. Unknown names are refused; paths are never accepted."""
    return JobInput(_folder(target, settings), SourceKind.FOLDER)


def listed_files(folder: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    """Regular files directly in ``folder`` with one of the suffixes, by file name."""
    if not folder.is_dir():
        return {}
    return {
        p.name: p
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name.lower().endswith(suffixes) and not p.name.startswith(".")
    }


def listed_target(kind: SourceKind, suffixes: tuple[str, ...]) -> TargetFactory:
    """A factory for ``NAME/FILE`` targets matched against the folder's listing."""

    def factory(target: str, settings: Settings) -> JobInput:
        name, sep, file_name = target.partition("/")
        if not sep or not file_name:
            raise InvalidRequestError(
                f"a {kind.value} job names a configured folder and a file in it: NAME/FILE"
            )
        files = listed_files(_folder(name, settings), suffixes)
        path = files.get(file_name)
        if path is None:
            raise InvalidRequestError(
                f"no {kind.value} file {file_name!r} in ingest folder {name!r}"
            )
        return JobInput(path, kind)

    return factory
