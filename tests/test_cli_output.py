"""The command line's output contract: ``--json`` errors are JSON, an ingest run in which
every item failed exits non-zero, and tables wrap long cells instead of cutting them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from faceatlas.cli import app
from faceatlas.errors import CaseRequiredError, ImageDecodeError, NoFaceError, NotFoundError

runner = CliRunner()
CASE = ("--case", "CASE-2024-001", "--purpose", "criminal investigation")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_json_errors_are_one_json_document_on_stdout(tmp_path: Path, faces_dir: Path) -> None:
    atlas = ("--atlas", str(tmp_path / "atlas"))
    dogs = str(faces_dir / "groups/dlib_voc/dogs.jpg")
    cases = [
        (("search", str(tmp_path / "missing.jpg"), *CASE), NotFoundError),
        (("search", dogs), CaseRequiredError),
        (("search", dogs, *CASE), NoFaceError),
        (("search", dogs, "--list-faces"), NoFaceError),
        (("identities", "show", "99999"), NotFoundError),
    ]
    for args, error in cases:
        code, out, err = run(*args, *atlas, "--json")
        assert code == error.exit_code, (args, out, err)
        shown = json.loads(out)
        assert shown["error"]["code"] == error.code and shown["error"]["message"]
        assert shown["error"]["exit_code"] == error.exit_code
        assert err == ""
        # Without --json: the one line on stderr, as before.
        code, out, err = run(*args, *atlas)
        assert code == error.exit_code and err.startswith(f"error [{error.code}]: ")
        assert out == ""


def test_ingest_exits_non_zero_when_every_item_failed(
    tmp_path: Path, lfw_sample: list[Path]
) -> None:
    atlas = ("--atlas", str(tmp_path / "atlas"))
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    code, out, err = run("ingest", str(bad), *atlas, "--json")
    assert code == ImageDecodeError.exit_code == 3, (out, err)
    report = json.loads(out)
    assert report["counts"]["failed"] == report["counts"]["items"] == 1
    code, _, err = run("ingest", str(bad), *atlas, "--quiet")
    assert code == 3 and "nothing ingested" in err and "failed [image_decode_error]" in err

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(lfw_sample[0], folder / "good.jpg")
    shutil.copy(bad, folder / "bad.jpg")
    code, out, _ = run("ingest", str(folder), *atlas, "--json")
    assert code == 0 and json.loads(out)["counts"]["new_images"] == 1
    (folder / "bad.jpg").unlink()
    # Nothing new because everything is already there: success.
    code, out, _ = run("ingest", str(folder), *atlas, "--json")
    assert code == 0 and json.loads(out)["counts"].get("new_images", 0) == 0


def _last_cells(table: str) -> str:
    """The text of the last column of a drawn table, its wrapped lines joined."""
    cells = [line.split("│")[-2].strip() for line in table.splitlines() if line.count("│") > 2]
    return "".join(cells)


def test_the_found_at_column_wraps_and_is_never_cut(
    tmp_path: Path, known_people: Path, probe_photos: Path
) -> None:
    folder = tmp_path / ("a_folder_with_a_long_name_" * 3) / "obama"
    folder.mkdir(parents=True)
    photo = folder / "obama_photo_with_a_file_name_longer_than_any_terminal_column.jpg"
    shutil.copy(next(iter(sorted((known_people / "obama").iterdir()))), photo)
    atlas = ("--atlas", str(tmp_path / "atlas"))
    assert run("ingest", str(folder), *atlas, "--quiet")[0] == 0
    code, out, err = run(
        "search", str(probe_photos / "obama1.jpg"), *atlas, "--threshold", "-1", *CASE
    )
    assert code == 0, err
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert str(photo) in _last_cells(out)
