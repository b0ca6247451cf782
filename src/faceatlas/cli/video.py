"""``faceatlas search-video``: search with a face track of a video clip, through
:mod:`faceatlas.services`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from faceatlas.cli.common import (
    AtlasOption,
    CaseOption,
    CliApp,
    JsonOption,
    PurposeOption,
    Table,
    atlas_service,
    console,
    operator,
    print_json,
    read_files,
    search_request,
)
from faceatlas.cli.core import ThresholdOption, TopKOption, print_leads
from faceatlas.errors import NoFaceError

if TYPE_CHECKING:
    from faceatlas.search.results import ProbeTrack

__all__ = ["register"]


def _tracks_table(tracks: list[ProbeTrack]) -> Table:
    table = Table(title="face tracks in the clip")
    for col in ("track", "from s", "to s", "best frame s", "frames", "size px", "frontal"):
        table.add_column(col, justify="right")
    for t in tracks:
        table.add_row(
            str(t.index),
            f"{t.span.start_s:.1f}",
            f"{t.span.end_s:.1f}",
            f"{t.span.best_s:.1f}",
            str(t.span.frames),
            str(t.quality.box_px),
            f"{t.quality.frontal:.2f}",
        )
    return table


def search_video(
    clip: Annotated[Path, typer.Argument(help="Probe clip (MP4, MOV, MKV or WebM).")],
    atlas: AtlasOption = None,
    track: Annotated[
        int | None,
        typer.Option(
            "--track",
            "-t",
            min=0,
            help="Which face track (see --list-tracks); default the one seen longest.",
        ),
    ] = None,
    list_tracks: Annotated[
        bool, typer.Option("--list-tracks", help="Only list the face tracks of the clip.")
    ] = False,
    case: CaseOption = None,
    purpose: PurposeOption = None,
    top_k: TopKOption = None,
    threshold: ThresholdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find stored faces similar to a face track of a video CLIP: an accountable search, like
    the web's and the API's, scored by the mean over the track's best frames. It needs --case
    and --purpose and is audited (interface "cli")."""
    from faceatlas.services.video import VideoDesk

    data = read_files([clip])[0]
    with atlas_service(atlas) as service:
        desk = VideoDesk(service)
        if list_tracks:
            tracks = desk.tracks(data)
            if not tracks:
                raise NoFaceError("no face found in the clip")
            if as_json:
                print_json({"tracks": [t.as_dict() for t in tracks]})
            else:
                console.print(_tracks_table(tracks))
            return
        request = search_request(service, case, purpose, None, top_k, threshold)
        outcome = desk.search(operator(), data, request, track=track)
    result = outcome.result
    if as_json:
        print_json(outcome.as_dict())
        return
    console.print(_tracks_table(list(result.probe_tracks)))
    console.print(
        f"searching with track {result.selected}: mean score over its "
        f"{result.frames_searched} best frame(s)"
    )
    print_leads(result, "track")


def register(app: CliApp) -> None:
    app.command("search-video")(search_video)
