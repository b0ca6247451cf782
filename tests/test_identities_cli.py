"""``faceatlas identities ...`` through Typer's runner on a real folder of LFW photos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from faceatlas.cli import app
from faceatlas.eval.clustering import score_clusters

from .conftest import LEAD_SIMILARITY

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cluster_scores_by_hand() -> None:
    scores = score_clusters(list("aaabbc"), [1, 1, 2, 2, 2, None])
    assert scores.pairwise_precision == pytest.approx(0.5)
    assert scores.pairwise_recall == pytest.approx(0.5)
    assert scores.bcubed_precision == pytest.approx(14 / 18)
    assert scores.bcubed_recall == pytest.approx(14 / 18)
    assert scores.predicted_clusters == 3 and scores.true_clusters == 3
    perfect = score_clusters(list("aab"), ["x", "x", None])
    assert perfect.bcubed_f1 == 1.0 and perfect.pairwise_f1 == 1.0


def test_identities_commands(tmp_path: Path, faces_dir: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for person in ("Colin_Powell", "Serena_Williams", "Hugo_Chavez"):
        for n in range(1, 6):
            name = f"{person}_{n:04d}.jpg"
            shutil.copy(faces_dir / "lfw" / "images" / person / name, photos / name)
    atlas = str(tmp_path / "atlas")
    assert run("ingest", str(photos), "--atlas", atlas, "--quiet")[0] == 0

    code, out, _ = run("identities", "list", "--atlas", atlas, "--json")
    assert code == 0
    listed = json.loads(out)["identities"]
    assert len(listed) >= 3
    code, out, _ = run("identities", "show", str(listed[0]["id"]), "--atlas", atlas, "--json")
    detail = json.loads(out)
    top_name = detail["name_candidates"][0]
    assert code == 0 and top_name["fields"] == ["file_name"]
    assert top_name["status"].startswith("unverified")
    assert "vector" not in out and "embedding" not in out

    a, b = listed[0]["id"], listed[1]["id"]
    assert run("identities", "merge", str(a), str(b), "--atlas", atlas, "--by", "alice")[0] == 0
    code, out, _ = run("identities", "label", str(a), "Subject A", "--atlas", atlas, "--by", "bob")
    assert code == 0 and "Subject A" in out
    faces = [
        p["face_id"]
        for p in json.loads(run("identities", "show", str(a), "--atlas", atlas, "--json")[1])[
            "photos"
        ]
    ]
    code, out, _ = run(
        "identities", "split", str(a), str(faces[0]), "--atlas", atlas, "--by", "carol"
    )
    assert code == 0
    assert run("identities", "recluster", "--atlas", atlas, "--json")[0] == 0
    code, out, _ = run("identities", "show", str(a), "--atlas", atlas)
    assert code == 0 and "Subject A" in out and "bob" in out and "alice" in out
    after = json.loads(run("identities", "show", str(a), "--atlas", atlas, "--json")[1])
    assert sorted(p["face_id"] for p in after["photos"]) == sorted(faces[1:])

    serena = faces_dir / "lfw" / "images" / "Serena_Williams"
    probes = [str(serena / f"Serena_Williams_{n:04d}.jpg") for n in (10, 11)]
    case = ("--case", "CASE-2024-001", "--purpose", "missing person")
    code, _, err = run("identities", "search", *probes, "--atlas", atlas)
    assert code == 2 and "error [case_required]" in err
    code, out, _ = run(
        "identities",
        "search",
        *probes,
        "--atlas",
        atlas,
        "--threshold",
        str(LEAD_SIMILARITY),
        *case,
    )
    assert code == 0 and "not identifications" in out
    code, out, _ = run(
        "identities",
        "search",
        *probes,
        "--atlas",
        atlas,
        "--threshold",
        str(LEAD_SIMILARITY),
        "--json",
        *case,
    )
    top = json.loads(out)["hits"][0]
    assert code == 0 and top["identity_id"] is not None and top["faces"] >= 3
    assert all("Serena_Williams" in p["locators"][0] for p in top["photos"])

    code, _, err = run("identities", "show", "99999", "--atlas", atlas)
    assert code == 4 and "error [not_found]" in err
    code, _, err = run("identities", "label", str(a), "--atlas", atlas)
    assert code == 2 and "error [invalid_request]" in err
