"""Case commands: open, list, show, add-member, decide, verify, report, close.

They go through the same :class:`~faceatlas.services.CaseService` as the web and the API.
``--by NAME`` acts as the account NAME, signed in with its password (``FACEATLAS_PASSWORD``
or a prompt: case work is personal, and a decision and its verification need two people who
each prove who they are); without it the local operator (``cli:<os user>``) acts.
Verifying your own decision is refused like everywhere else (exit code 21).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from faceatlas.cli.common import (
    AtlasOption,
    CliApp,
    JsonOption,
    Table,
    atlas_service,
    command_with,
    console,
    print_json,
    print_listing,
)
from faceatlas.errors import InvalidRequestError
from faceatlas.services.cases import Feature  # listed in an option's help at import

if TYPE_CHECKING:
    from faceatlas.accounts import User
    from faceatlas.services import CaseService
    from faceatlas.services.cases import DecisionView, Submission

__all__ = ["ByOption", "acting", "register"]

Examine = Callable[["User", int, "Submission"], "DecisionView"]
"""A case service's ``decide`` or ``verify``."""

cases_app = CliApp(help="Cases: members, examiner decisions, verification, reports.")

PASSWORD_ENV = "FACEATLAS_PASSWORD"
"""Where ``--by`` reads the account's password from (else it is asked for, unechoed)."""
ByOption = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Act as this account, signed in with its password (from FACEATLAS_PASSWORD, "
        "else asked for); default: the local operator cli:USER.",
    ),
]
Number = Annotated[str, typer.Argument(help="The case number.")]
ConclusionOption = Annotated[
    str, typer.Option("--conclusion", help="excluded, inconclusive or possible_lead.")
]
FeatureOption = Annotated[
    list[str] | None,
    typer.Option(
        "--feature",
        help="FEATURE=FINDING, repeated (features: "
        + ", ".join(f.value for f in Feature)
        + "; findings: similar, dissimilar, not_visible).",
    ),
]
OthersOption = Annotated[
    str | None,
    typer.Option("--others", help="The finding for every feature not given with --feature."),
]
NotesOption = Annotated[str, typer.Option("--notes", help="Free-text comparison notes.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why you conclude so (required).")]


def acting(casework: CaseService, by: str | None) -> User:
    """Who ``--by`` names, signed in with the password from :data:`PASSWORD_ENV` or a
    prompt; without ``--by`` the local operator."""
    password = None
    if by is not None:
        password = os.environ.get(PASSWORD_ENV) or typer.prompt(
            f"password for {by}", hide_input=True
        )
    return casework.acting(by, password)


@contextmanager
def _cases(atlas: Path | None, by: str | None) -> Iterator[tuple[CaseService, User]]:
    with atlas_service(atlas) as service:
        yield service.casework, acting(service.casework, by)


def _submission(
    conclusion: str, given: list[str] | None, others: str | None, notes: str, reason: str
) -> Submission:
    from faceatlas.services.cases import Submission

    features: dict[str, object] = {}
    for item in given or []:
        name, sep, finding = item.partition("=")
        if not sep:
            raise InvalidRequestError(f"--feature takes FEATURE=FINDING, not {item!r}")
        features[name.strip()] = finding.strip()
    if others is not None:
        for f in Feature:
            features.setdefault(f.value, others)
    return Submission(conclusion, features, reason, notes)


def _show_decision(view: DecisionView, as_json: bool) -> None:
    if as_json:
        print_json(view.as_dict())
        return
    shown = "sealed" if view.sealed else (view.conclusion or "")
    console.print(
        f"decision {view.decision_id} on candidate {view.candidate_id} by {view.examiner}: "
        f"{shown} ({view.status.value})",
        markup=False,
        highlight=False,
    )
    for v in view.verifications:
        agrees = "agrees" if v.agrees else "disagrees"
        console.print(
            f"  verified by {v.verifier}: {v.conclusion.value} ({agrees})",
            markup=False,
            highlight=False,
        )


@cases_app.command("open")
def open_case(
    number: Number,
    purpose: Annotated[str, typer.Option("--purpose", help="One of the configured purposes.")],
    legal_basis: Annotated[str, typer.Option("--legal-basis", help="The legal basis (required).")],
    retention_until: Annotated[
        str | None,
        typer.Option("--retention-until", help="YYYY-MM-DD (default: retention_probe_days)."),
    ] = None,
    by: ByOption = None,
    atlas: AtlasOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a case owned by the acting user."""
    with _cases(atlas, by) as (cases, user):
        case = cases.open(user, number, purpose, legal_basis, retention_until)
    if as_json:
        print_json(case.as_dict())
        return
    console.print(f"case {case.number} opened (id {case.id})", markup=False, highlight=False)


@cases_app.command("list")
def list_cases(by: ByOption = None, atlas: AtlasOption = None, as_json: JsonOption = False) -> None:
    """Cases the acting user is a member of or reviews, newest first."""
    with _cases(atlas, by) as (cases, user):
        found = cases.cases(user)
    print_listing(
        found,
        as_json,
        ("number", "status", "owner", "purpose", "retention until"),
        lambda c: (c.number, c.status.value, c.owner, c.purpose, c.retention_until),
        title="cases",
        key="cases",
    )


@cases_app.command("show")
def show(
    number: Number, by: ByOption = None, atlas: AtlasOption = None, as_json: JsonOption = False
) -> None:
    """A case with its members, searches, candidates and decisions (sealed ones stay sealed)."""
    with _cases(atlas, by) as (cases, user):
        view = cases.show(user, number)
    if as_json:
        print_json(view.as_dict())
        return
    case = view.case
    console.print(
        f"case {case.number}: {case.status.value}, owner {case.owner}, purpose {case.purpose}, "
        f"legal basis {case.legal_basis}, retention until {case.retention_until}",
        markup=False,
        highlight=False,
    )
    console.print(
        "members: " + ", ".join(f"{m.username} ({m.role.value})" for m in view.members),
        markup=False,
        highlight=False,
    )
    table = Table(title="candidates")
    for column in ("candidate", "search", "rank", "face", "similarity", "est. FMR", "decision"):
        table.add_column(column)
    for c in view.candidates:
        d = view.decision_for(c.id)
        decided = "" if d is None else ("sealed" if d.sealed else f"{d.conclusion} {d.status}")
        fmr = "n/a" if c.estimated_fmr is None else f"{c.estimated_fmr:.3g}"
        table.add_row(
            str(c.id),
            str(c.search_id),
            str(c.rank),
            str(c.face_id),
            f"{c.similarity:.4f}",
            fmr,
            decided,
        )
    console.print(table)


@cases_app.command("add-member")
def add_member(
    number: Number,
    username: Annotated[str, typer.Argument(help="The account to add.")],
    role: Annotated[str, typer.Option("--role", help="examiner, verifier or observer.")],
    by: ByOption = None,
    atlas: AtlasOption = None,
) -> None:
    """Add an account to a case (or change its role)."""
    with _cases(atlas, by) as (cases, user):
        member = cases.add_member(user, number, username, role)
    console.print(
        f"{member.username} is {member.role.value} in case {number}", markup=False, highlight=False
    )


def _examination(act: Callable[[CaseService], Examine], target: object) -> Callable[..., None]:
    """A command recording a conclusion with the FISWG form on ``target_id`` (a candidate to
    decide, a decision to verify), declared as ``target``."""

    def command(
        target_id: int,
        conclusion: ConclusionOption,
        reason: ReasonOption,
        feature: FeatureOption = None,
        others: OthersOption = None,
        notes: NotesOption = "",
        by: ByOption = None,
        atlas: AtlasOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with _cases(atlas, by) as (cases, user):
            submission = _submission(conclusion, feature, others, notes, reason)
            view = act(cases)(user, target_id, submission)
        _show_decision(view, as_json)

    return command_with(command, "target_id", target)


cases_app.command(
    "decide", help="Record an examiner's decision on a candidate, with the FISWG comparison form."
)(
    _examination(
        lambda cases: cases.decide,
        Annotated[
            int,
            typer.Argument(help="The candidate (see cases show).", min=1, metavar="candidate_id"),
        ],
    )
)
cases_app.command(
    "verify", help="Verify another examiner's decision with your own conclusion (never your own)."
)(
    _examination(
        lambda cases: cases.verify,
        Annotated[
            int, typer.Argument(help="The decision to verify.", min=1, metavar="decision_id")
        ],
    )
)


@cases_app.command("report")
def report(
    number: Number,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the PDF report here.")] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the self-contained HTML report here.")
    ] = None,
    by: ByOption = None,
    atlas: AtlasOption = None,
) -> None:
    """Export the case report (audited) as PDF and/or self-contained HTML."""
    if pdf is None and html is None:
        raise InvalidRequestError("name an output: --pdf FILE and/or --html FILE")
    with _cases(atlas, by) as (cases, user):
        for out, render in ((pdf, cases.report_pdf), (html, cases.report_html)):
            if out is not None:
                out.write_bytes(render(user, number))
                console.print(f"report written to {out}", markup=False, highlight=False)


@cases_app.command("close")
def close(
    number: Number,
    erase_probes: Annotated[
        bool, typer.Option("--erase-probes", help="Erase the probe photos now.")
    ] = False,
    by: ByOption = None,
    atlas: AtlasOption = None,
) -> None:
    """Close a case: no more searches or decisions; its probes go now or on its retention date."""
    with _cases(atlas, by) as (cases, user):
        case = cases.close(user, number, erase_probes=erase_probes)
    console.print(f"case {case.number} closed", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(cases_app, name="cases")
