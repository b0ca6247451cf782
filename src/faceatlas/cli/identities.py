"""``faceatlas identities ...``: clustering, curation, name evidence and identity search,
through the same :class:`~faceatlas.services.IdentityDesk` as the web and the API (curation
is audited; identity search is accountable: case number, purpose, one audit entry)."""

from __future__ import annotations

from contextlib import AbstractContextManager
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
    console,
    operator_desk,
    print_json,
    print_listing,
    print_record,
    read_files,
)
from faceatlas.cli.options import threshold_option, top_k_option
from faceatlas.errors import InvalidRequestError

if TYPE_CHECKING:
    from faceatlas.accounts import User
    from faceatlas.identity import ClusterReport, IdentityDetail, IdentitySearchResult
    from faceatlas.services import IdentityDesk

__all__ = ["register"]

identities_app = CliApp(
    name="identities",
    help="People: faces clustered into identities, curated by hand. Names are leads, not facts.",
)

ByOption = Annotated[
    str | None,
    typer.Option(
        "--by", help="Who makes this decision (recorded as cli:NAME) [default: the login name]."
    ),
]
FacesArgument = Annotated[list[int], typer.Argument(help="Face ids.")]


def _desk(
    atlas: Path | None, by: str | None = None
) -> AbstractContextManager[tuple[IdentityDesk, User]]:
    """The identity desk over the atlas, and the local operator acting (``cli:BY``)."""
    from faceatlas.services import IdentityDesk

    return operator_desk(atlas, by, IdentityDesk)


def _print_report(report: ClusterReport, as_json: bool) -> None:
    if as_json:
        print_json(report.as_dict())
        return
    console.print(
        f"{report.mode}: {report.faces_considered} faces considered, {report.assigned} placed "
        f"({report.core_faces} core, {report.border_faces} border), {report.founded} identities "
        f"founded, {report.unassigned} waiting for more neighbours; {report.identities} "
        f"identities in all ({report.elapsed_s:.1f} s)"
    )


def recluster(atlas: AtlasOption = None, as_json: JsonOption = False) -> None:
    """Rebuild every identity from scratch. Manual decisions hold."""
    with _desk(atlas) as (desk, user):
        _print_report(desk.cluster(user, rebuild=True), as_json)


def cluster(atlas: AtlasOption = None, as_json: JsonOption = False) -> None:
    """Cluster faces that have no identity yet (ingest does this by default)."""
    with _desk(atlas) as (desk, user):
        _print_report(desk.cluster(user, rebuild=False), as_json)


def list_identities(
    atlas: AtlasOption = None,
    min_faces: Annotated[int, typer.Option("--min-faces", min=1, help="Smallest size.")] = 1,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    as_json: JsonOption = False,
) -> None:
    """Identities, largest first."""
    with _desk(atlas) as (desk, user):
        found = desk.summaries(user, min_faces=min_faces, limit=limit, offset=offset)
    print_listing(
        found,
        as_json,
        ("id", "label", "faces", "manual", "created by"),
        lambda s: (str(s.id), s.label or "-", str(s.faces), str(s.manual_faces), s.created_by),
        title="identities",
        key="identities",
        caption="Labels are set by people; verify before relying on one.",
    )


def _print_detail(d: IdentityDetail) -> None:
    s = d.summary
    console.print(
        f"identity {s.id}: {s.label or '(no label)'}"
        + (f" (labelled by {s.labelled_by})" if s.label and s.labelled_by else ""),
        markup=False,
    )
    console.print(
        f"{s.faces} faces ({s.manual_faces} placed by hand), {d.sightings} sightings, "
        f"domains: {', '.join(d.domains) or '-'}",
        markup=False,
    )
    names = Table(
        title="candidate names from provenance",
        caption="Unverified: text found near the photos, not an identification.",
    )
    for col in ("name", "support", "share", "sightings", "faces", "from"):
        names.add_column(col)
    for c in d.name_candidates:
        names.add_row(
            c.name,
            f"{c.support:.2f}",
            f"{c.share:.0%}",
            str(c.sightings),
            str(c.faces),
            ", ".join(c.fields),
        )
    console.print(names)
    photos = Table(title="photos")
    for col in ("face", "image", "manual", "found at"):
        photos.add_column(col)
    for p in d.photos:
        photos.add_row(
            str(p.face_id),
            str(p.image_id),
            "yes" if p.manual else "",
            "\n".join(p.pages or p.locators),
        )
    console.print(photos)
    for dec in d.decisions:
        console.print(
            f"{dec.at} {dec.actor}: {dec.kind.value} {dec.identity_id}"
            + (f" <- {dec.other_identity_id}" if dec.other_identity_id is not None else "")
            + (f" ({dec.detail})" if dec.detail else ""),
            markup=False,
        )


def show(
    identity_id: Annotated[int, typer.Argument(help="Identity id.")],
    atlas: AtlasOption = None,
    as_json: JsonOption = False,
) -> None:
    """An identity's photos, sightings, domains, candidate names and decisions."""
    with _desk(atlas) as (desk, user):
        detail = desk.show(user, identity_id).detail
    print_record(detail, as_json, _print_detail)


def merge(
    target: Annotated[int, typer.Argument(help="Identity that remains.")],
    others: Annotated[list[int], typer.Argument(help="Identities folded into TARGET.")],
    atlas: AtlasOption = None,
    by: ByOption = None,
) -> None:
    """Merge identities into TARGET (a manual decision that survives reclustering)."""
    with _desk(atlas, by) as (desk, user):
        kept = desk.merge(user, target, others)
    console.print(f"merged {', '.join(map(str, others))} into identity {kept}")


def split(
    identity_id: Annotated[int, typer.Argument(help="Identity to split.")],
    faces: FacesArgument,
    atlas: AtlasOption = None,
    by: ByOption = None,
) -> None:
    """Move FACES out of IDENTITY_ID into a new identity."""
    with _desk(atlas, by) as (desk, user):
        new_id = desk.split(user, identity_id, faces)
    console.print(f"faces {', '.join(map(str, faces))} now form identity {new_id}")


def move(
    faces: FacesArgument,
    to: Annotated[
        int | None, typer.Option("--to", help="Target identity; omit for a new identity.")
    ] = None,
    atlas: AtlasOption = None,
    by: ByOption = None,
) -> None:
    """Move FACES into another identity (or a new one)."""
    with _desk(atlas, by) as (desk, user):
        target = desk.move(user, faces, to)
    console.print(f"faces {', '.join(map(str, faces))} moved to identity {target}")


def reject(
    identity_id: Annotated[int, typer.Argument(help="Identity the faces do not belong to.")],
    faces: FacesArgument,
    atlas: AtlasOption = None,
    by: ByOption = None,
) -> None:
    """Not this person: FACES leave IDENTITY_ID and never rejoin it."""
    with _desk(atlas, by) as (desk, user):
        desk.reject(user, identity_id, faces)
    console.print(f"faces {', '.join(map(str, faces))} marked as not identity {identity_id}")


def label(
    identity_id: Annotated[int, typer.Argument(help="Identity to name.")],
    name: Annotated[str | None, typer.Argument(help="Label; omit with --clear.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the label.")] = False,
    atlas: AtlasOption = None,
    by: ByOption = None,
) -> None:
    """Label an identity. Its current faces become manual placements."""
    if (name is None) != clear:
        raise InvalidRequestError("give a NAME, or --clear to remove the label")
    with _desk(atlas, by) as (desk, user):
        desk.label(user, identity_id, name)
    console.print(f"identity {identity_id} " + (f"labelled {name!r}" if name else "unlabelled"))


def _print_search(result: IdentitySearchResult) -> None:
    table = Table(
        title=f"people like the probe ({result.probe_photos} photo(s), threshold "
        f"{result.threshold:.3f}, {result.threshold_source})",
        caption="Investigative leads, not identifications: verify every result independently.",
    )
    for col in ("rank", "score", "identity", "label", "faces", "sightings", "domains", "photos"):
        table.add_column(col)
    for h in result.hits:
        where = [loc for p in h.photos[:3] for loc in (p.pages or p.locators)[:1]]
        table.add_row(
            str(h.rank),
            f"{h.score:.3f}",
            "-" if h.identity_id is None else str(h.identity_id),
            h.label or "-",
            str(len(h.photos)),
            str(h.sightings),
            ", ".join(h.domains[:5]) or "-",
            "\n".join(where) + ("\n..." if len(h.photos) > 3 else ""),
        )
    console.print(table)


def search(
    photos: Annotated[list[Path], typer.Argument(help="One or more photos of the same person.")],
    atlas: AtlasOption = None,
    top_k: Annotated[int | None, top_k_option()] = None,
    threshold: Annotated[float | None, threshold_option()] = None,
    case: CaseOption = None,
    purpose: PurposeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search for people (grouped by identity) with 1-10 photos of one person: an accountable
    search like ``faceatlas search`` (needs --case and --purpose; audited)."""
    from faceatlas.services import Interface, SearchRequest

    with _desk(atlas) as (desk, user):
        desk.service.check_case(case, purpose)
        request = SearchRequest(
            case or "", purpose or "", top_k=top_k, threshold=threshold, interface=Interface.CLI
        )
        outcome = desk.search(user, read_files(photos), request)
    result = outcome.result
    if as_json:
        print_json(outcome.as_dict())
    elif result.hits:
        _print_search(result)
    else:
        console.print(f"no identity reaches score {result.threshold:.3f}")


identities_app.command("list")(list_identities)
for _command in (show, merge, split, move, reject, label, search, cluster, recluster):
    identities_app.command()(_command)


def register(app: CliApp) -> None:
    app.add_typer(identities_app, name="identities")
