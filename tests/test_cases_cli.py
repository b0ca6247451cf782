"""Case commands through Typer's runner: open, members, decisions, verification (never your
own: the self_verification error line and exit code), the report as PDF and HTML, close."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from pypdf import PdfReader
from typer.testing import CliRunner

from faceatlas import Atlas
from faceatlas.accounts import Role
from faceatlas.cli import app
from faceatlas.errors import AuthenticationError, NotFoundError, SelfVerificationError
from faceatlas.services import SearchRequest, Service
from tests.conftest import LEAD_SIMILARITY, atlas_settings

runner = CliRunner()
NUMBER = "2026/CLI-4"
NAMES = ("alice", "bob", "olly")
PURPOSE = "criminal investigation"


PASSWORDS = {name: f"{name} crosses the harbour bridge at dawn 2026" for name in NAMES}


def run(*args: str, password: str | None = None) -> tuple[int, str, str]:
    """Run a command; ``--by NAME`` signs in with NAME's password (or ``password``)."""
    by = args[args.index("--by") + 1] if "--by" in args else None
    env = {"FACEATLAS_PASSWORD": password or PASSWORDS.get(by or "", "")}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_case_commands(people_atlas_dir: Path, tmp_path: Path, probe_photos: Path) -> None:
    root = tmp_path / "atlas"
    shutil.copytree(people_atlas_dir, root)
    atlas = ("--atlas", str(root))
    with Atlas.open(settings=atlas_settings(root)) as at:
        alice = at.accounts.create_user(
            "alice", Role.INVESTIGATOR, unit="A", password=PASSWORDS["alice"]
        )[0]
        at.accounts.create_user("bob", Role.INVESTIGATOR, unit="A", password=PASSWORDS["bob"])
        at.accounts.create_user("olly", Role.INVESTIGATOR, unit="B", password=PASSWORDS["olly"])

    code, out, err = run(
        "cases", "open", NUMBER, "--purpose", PURPOSE, "--legal-basis", "order 4", "--by", "alice",
        *atlas,
    )  # fmt: skip
    assert code == 0, err
    assert (
        run("cases", "add-member", NUMBER, "bob", "--role", "examiner", "--by", "alice", *atlas)[0]
        == 0
    )
    with Atlas.open(settings=atlas_settings(root)) as at:
        request = SearchRequest(NUMBER, PURPOSE, threshold=LEAD_SIMILARITY)
        Service(at).search(alice, (probe_photos / "obama1.jpg").read_bytes(), request)

    code, out, err = run("cases", "show", NUMBER, "--by", "bob", "--json", *atlas)
    assert code == 0, err
    shown = json.loads(out)
    assert shown["owner"] == "alice" and len(shown["searches"]) == 1
    candidate = shown["candidates"][0]["id"]
    form = ("--others", "similar", "--feature", "ears=not_visible")
    code, out, err = run(
        "cases", "decide", str(candidate), "--conclusion", "possible_lead", *form,
        "--reason", "alike", "--by", "alice", "--json", *atlas,
    )  # fmt: skip
    assert code == 0, err
    decision = json.loads(out)["decision_id"]
    verify = ("cases", "verify", str(decision), "--conclusion", "possible_lead", *form)

    # Verifying your own decision: one error line and the exit code of self_verification.
    code, out, err = run(*verify, "--reason", "mine", "--by", "alice", *atlas)
    assert code == SelfVerificationError.exit_code == 21
    assert err.startswith("error [self_verification]:") and "Traceback" not in out + err
    code, out, err = run(*verify, "--reason", "agree", "--by", "bob", *atlas)
    assert code == 0, err
    assert "verified by bob: possible_lead (agrees)" in out

    # Acting as an account needs its password: bob cannot verify as someone else.
    code, out, err = run(*verify, "--reason", "x", "--by", "alice", *atlas, password="guess")
    assert code == AuthenticationError.exit_code and "error [unauthenticated]" in err

    # An outsider finds nothing.
    code, _, err = run("cases", "show", NUMBER, "--by", "olly", *atlas)
    assert code == NotFoundError.exit_code and "error [not_found]" in err
    code, out, _ = run("cases", "list", "--by", "olly", "--json", *atlas)
    assert code == 0 and json.loads(out) == {"cases": []}

    # The report as PDF and HTML.
    pdf, html = tmp_path / "case.pdf", tmp_path / "case.html"
    code, _, err = run(
        "cases", "report", NUMBER, "--pdf", str(pdf), "--html", str(html), "--by", "bob", *atlas
    )
    assert code == 0, err
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert NUMBER in text
    assert NUMBER in html.read_text()

    # Closing; the local operator opens its own case when no --by is given.
    assert run("cases", "close", NUMBER, "--by", "alice", *atlas)[0] == 0
    code, out, _ = run("cases", "list", "--by", "alice", "--json", *atlas)
    assert json.loads(out)["cases"][0]["status"] == "closed"
    code, out, err = run(
        "cases", "open", "2026/CLI-5", "--purpose", PURPOSE, "--legal-basis", "x", "--json", *atlas
    )
    assert code == 0, err
    assert json.loads(out)["owner"].startswith("cli:")
    with Atlas.open(settings=atlas_settings(root)) as at:
        assert at.audit.verify().ok
