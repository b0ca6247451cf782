"""``faceatlas shell``: search photo after photo with the model loaded once.

Probe paths come one a line on standard input (a prompt shows when it is a terminal),
optionally followed by the face to search (``group.jpg 1``). Every search is as accountable
as ``faceatlas search``: the case number and purpose given once, each search audited. A probe
that cannot be searched reports its error and the next line is read; the exit status is
that of the first failure (0 when none failed). With ``FACEATLAS_SERVER_URL`` set the
searches go to the running server instead, as ``faceatlas search``'s do.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from faceatlas.cli.common import (
    AtlasOption,
    CaseOption,
    CliApp,
    PurposeOption,
    atlas_service,
    console,
    err_console,
    operator,
    read_files,
)
from faceatlas.cli.core import ThresholdOption, TopKOption, show_outcome
from faceatlas.cli.remote import configured_server, show_remote_result
from faceatlas.errors import FaceAtlasError, InvalidRequestError, RateLimitedError

__all__ = ["register"]

PROMPT = "probe> "

Search = Callable[[bytes, int | None], Any]
"""Searches one probe (its bytes, the face asked for) and shows the result."""


def _lines(prompt: bool) -> Iterator[str]:
    while True:
        if prompt:
            err_console.print(PROMPT, end="")
        line = sys.stdin.readline()
        if not line:
            return
        if line.strip() and not line.lstrip().startswith("#"):
            yield line.strip()


def _probe(line: str) -> tuple[Path, int | None]:
    """``PHOTO [FACE]`` from one input line (quotes allowed around a path with spaces)."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise InvalidRequestError(f"cannot read the line: {exc}") from None
    if len(words) > 2 or (len(words) == 2 and not words[1].isdigit()):
        raise InvalidRequestError("each line is a photo path, optionally followed by a face number")
    return Path(words[0]), int(words[1]) if len(words) == 2 else None


def _emit(line: dict[str, Any]) -> None:
    """One JSON document on one line (JSON Lines), flushed for whoever reads the pipe."""
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def _run(search: Search, as_json: bool) -> int:
    """Search each input line's probe; the exit status of the first failure, else 0."""
    searched = failed = 0
    first_failure = 0
    for line in _lines(prompt=sys.stdin.isatty() and not as_json):
        try:
            photo, face = _probe(line)
            data = read_files([photo])[0]
            if not as_json:
                console.rule(str(photo))
            while True:
                try:
                    shown = search(data, face)
                    break
                except RateLimitedError as exc:  # the rule holds; the batch waits for it
                    err_console.print(f"{exc.message}; waiting {exc.retry_after_s} s")
                    time.sleep(exc.retry_after_s)
            searched += 1
            if as_json:
                _emit({"probe": str(photo), **shown})
        except FaceAtlasError as exc:
            failed += 1
            first_failure = first_failure or exc.exit_code
            error = {"code": exc.code, "message": exc.message, "exit_code": exc.exit_code}
            if as_json:
                _emit({"probe": line, "error": error})
            else:
                err_console.print(f"{line}: error [{exc.code}]: {exc.message}", markup=False)
    err_console.print(f"{searched} search(es), {failed} failed", highlight=False)
    return first_failure


def shell(
    atlas: AtlasOption = None,
    case: CaseOption = None,
    purpose: PurposeOption = None,
    top_k: TopKOption = None,
    threshold: ThresholdOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON document per probe, one per line.")
    ] = False,
) -> None:
    """Search many probes with the model loaded once: photo paths (optionally followed by a
    face number) one a line on standard input, each search audited like `faceatlas search`."""
    server = configured_server(atlas)
    if server is not None:
        fields = {"case_number": case or "", "purpose": purpose or ""}
        fields |= {
            k: str(v) for k, v in (("top_k", top_k), ("threshold", threshold)) if v is not None
        }

        def remote(data: bytes, face: int | None) -> Any:
            asked = fields if face is None else {**fields, "face": str(face)}
            answer = server.post_photo("/search", data, asked)
            if not as_json:
                show_remote_result(answer, False)
            return answer

        code = _run(remote, as_json)
    else:
        from faceatlas.services import Interface, SearchRequest

        with atlas_service(atlas) as service:
            service.check_case(case, purpose)

            def local(data: bytes, face: int | None) -> Any:
                request = SearchRequest(
                    case or "", purpose or "", face, top_k, threshold, interface=Interface.CLI
                )
                outcome = service.search(operator(), data, request)
                if not as_json:
                    show_outcome(outcome, False)
                return outcome.as_dict()

            code = _run(local, as_json)
    if code:
        raise typer.Exit(code)


def register(app: CliApp) -> None:
    app.command()(shell)
