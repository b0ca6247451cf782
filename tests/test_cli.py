"""The command line through Typer's runner: JSON and table output, and clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from faceatlas import Atlas
from faceatlas.cli import app
from faceatlas.cli.common import settings_for
from faceatlas.errors import CaseRequiredError

from .test_decode import png_header

runner = CliRunner()
CASE = ("--case", "CASE-2024-001", "--purpose", "criminal investigation")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_ingest_then_search_json(tmp_path: Path, known_people: Path, probe_photos: Path) -> None:
    atlas = str(tmp_path / "atlas")
    code, out, _ = run("ingest", str(known_people / "obama"), "--atlas", atlas, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["counts"]["new_images"] == 2 and report["counts"]["faces"] >= 2
    code, out, _ = run(
        "search",
        str(probe_photos / "obama1.jpg"),
        "--atlas",
        atlas,
        "--json",
        "--threshold",
        "-1",
        *CASE,
    )
    assert code == 0
    result = json.loads(out)
    assert result["hits"][0]["sightings"][0]["locator"].startswith(str(known_people / "obama"))
    assert "embedding" not in out and "vector" not in out


def test_search_table_and_list_faces(
    tmp_path: Path, known_people: Path, probe_photos: Path
) -> None:
    atlas = str(tmp_path / "atlas")
    assert run("ingest", str(known_people / "obama"), "--atlas", atlas, "--quiet")[0] == 0
    code, out, _ = run("search", str(probe_photos / "obama1.jpg"), "--atlas", atlas, *CASE)
    assert code == 0 and "leads" in out and "not identifications" in out
    code, out, _ = run(
        "search",
        str(probe_photos / "obama_and_biden.jpg"),
        "--atlas",
        atlas,
        "--list-faces",
        "--json",
    )
    assert code == 0 and len(json.loads(out)["faces"]) >= 2
    code, out, _ = run("stats", "--atlas", atlas, "--json")
    assert code == 0 and json.loads(out)["catalog"]["images"] == 2


def test_bad_probes_give_one_line_and_an_exit_code(tmp_path: Path, faces_dir: Path) -> None:
    atlas = str(tmp_path / "atlas")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes((faces_dir / "face_recognition/examples/obama.jpg").read_bytes()[:5000])
    text = tmp_path / "text.jpg"
    text.write_text("hello, I am not a photo")
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(20000, 20000))
    cases = [
        (truncated, 3, "image_decode_error"),
        (text, 3, "image_decode_error"),
        (bomb, 3, "image_too_large"),
        (faces_dir / "groups/dlib_voc/dogs.jpg", 5, "no_face"),
        (tmp_path / "missing.jpg", 4, "not_found"),
    ]
    for path, exit_code, error_code in cases:
        code, out, err = run("search", str(path), "--atlas", atlas, *CASE)
        assert code == exit_code, (path, out, err)
        assert f"error [{error_code}]" in err
        assert "Traceback" not in out + err
        assert len(err.strip().splitlines()) == 1


def test_ingest_reports_bad_files_without_traceback(tmp_path: Path, lfw_sample: list[Path]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(lfw_sample[0], folder / "good.jpg")
    (folder / "bad.jpg").write_text("nope")
    (folder / "bomb.png").write_bytes(png_header(20000, 20000))
    code, out, err = run("ingest", str(folder), "--atlas", str(tmp_path / "atlas"), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["counts"]["new_images"] == 1
    assert report["counts"]["failed:image_too_large"] == 1
    assert report["counts"]["failed:image_decode_error"] == 1
    assert "Traceback" not in out + err


def test_missing_ingest_path(tmp_path: Path) -> None:
    code, _, err = run("ingest", str(tmp_path / "nowhere"), "--atlas", str(tmp_path / "a"))
    assert code == 4 and "error [not_found]" in err


def test_search_is_accountable(tmp_path: Path, known_people: Path, probe_photos: Path) -> None:
    """Like the web's and the API's, a CLI search needs a case number and an allowed purpose,
    and writes one ``search`` audit entry naming them, the interface and the results."""
    atlas = str(tmp_path / "atlas")
    assert run("ingest", str(known_people / "obama"), "--atlas", atlas, "--quiet")[0] == 0
    probe = str(probe_photos / "obama1.jpg")
    refusals = [
        (),
        ("--purpose", "criminal investigation"),
        ("--case", "CASE-2024-001"),
        ("--case", "x", "--purpose", "criminal investigation"),
        ("--case", "CASE-2024-001", "--purpose", "curiosity"),
    ]
    for extra in refusals:
        code, out, err = run("search", probe, "--atlas", atlas, *extra)
        assert code == CaseRequiredError.exit_code, (extra, out, err)
        assert "error [case_required]" in err and "Traceback" not in out + err
    with Atlas.open(settings=settings_for(Path(atlas))) as at:
        assert at.audit.entries(action="search", limit=10) == []

    code, out, _ = run("search", probe, "--atlas", atlas, "--json", "--threshold", "-1", *CASE)
    assert code == 0
    shown = json.loads(out)
    assert shown["case_number"] == "CASE-2024-001" and shown["hits"]
    with Atlas.open(settings=settings_for(Path(atlas))) as at:
        entries = at.audit.entries(action="search", limit=10)
    assert len(entries) == 1
    entry = entries[0]
    assert entry.case_number == "CASE-2024-001"
    assert entry.purpose == "criminal investigation"
    assert entry.actor.startswith("cli:") and entry.actor_role == "operator"
    assert entry.details["interface"] == "cli"
    assert entry.details["result_face_ids"] == [h["face_id"] for h in shown["hits"]]
    assert entry.seq == shown["search_id"]
