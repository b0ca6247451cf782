"""The evaluation lab end to end on a small real subset: real photos, real models, real atlas.

One session-scoped run of ``faceatlas eval run`` embeds about 200 real photos
(first 40 LFW people, 40 UTKFace crops, 40 View 2 pairs); the other tests reuse
its embedding cache.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from faceatlas import Atlas
from faceatlas.cli import app
from faceatlas.store.calibrations import threshold_meta_key

from .conftest import LAX_SIMILARITY, atlas_settings

SUBSET = ["--max-people", "40", "--target-fmr", "0.01"]


def lab_args(faces_dir: Path, cache: Path, out: Path) -> list[str]:
    return [
        "--lfw",
        str(faces_dir / "lfw"),
        "--utkface",
        str(faces_dir / "utkface"),
        *SUBSET,
        "--lax-similarity",
        str(LAX_SIMILARITY),
        "--cache-dir",
        str(cache),
        "--out",
        str(out),
    ]


@pytest.fixture(scope="session")
def lab_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lab-cache")


@pytest.fixture(scope="session")
def full_report(faces_dir: Path, lab_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lab-report")
    result = CliRunner().invoke(app, ["eval", "run", *lab_args(faces_dir, lab_cache, out)])
    assert result.exit_code == 0, result.output
    assert "report:" in result.stdout
    return out


def test_report_has_every_suite_with_evidence(full_report: Path) -> None:
    data = json.loads((full_report / "report.json").read_text())
    cal = data["calibration"]
    assert cal["target_fmr"] == 0.01
    assert cal["fmr_at_threshold"]["rate"] <= 0.01
    assert cal["fmr_at_threshold"]["comparisons"] > 1000
    verify = data["verify"]
    assert verify["accuracy"]["pairs"] == 40 and verify["accuracy"]["mean_accuracy"] >= 0.9
    assert [r["target_fmr"] for r in verify["extended"]["fnmr_at_fmr"]] == [1e-2, 1e-3, 1e-4]
    assert verify["view2"]["fnmr_at_fmr"][0]["resolvable"] is False  # 20 impostor pairs
    ident = data["identify"]
    assert ident["gallery_people"] > 5 and ident["nonmated_searches"] > 10
    assert ident["cmc"]["rank_1"] <= ident["cmc"]["rank_5"] <= ident["cmc"]["rank_20"] <= 1
    assert ident["cmc"]["rank_1"] >= 0.8
    sizes = [s["gallery_size"] for s in ident["distractors"]]
    assert sizes == sorted(sizes) and sizes[0] == ident["gallery_people"]
    assert sizes[-1] == ident["gallery_people"] + 40  # every UTKFace crop as a distractor
    attributes = {(d["corpus"], d["attribute"]) for d in data["demographics"]}
    assert {("lfw", "gender"), ("utkface", "gender"), ("utkface", "race")} <= attributes
    for d in data["demographics"]:
        for g in d["groups"]:
            r = g["fmr"]["calibrated"]
            assert r["comparisons"] > 0 and r["ci95"][0] <= r["rate"] <= r["ci95"][1]
    searched = {(g["corpus"], g["attribute"]): g for g in data["group_search"]}
    assert set(searched) == attributes
    for g in searched.values():
        assert g["gallery_size"] > 40 and g["groups"]
        for row in g["groups"]:
            lead, wrong = row["stranger_lead"]["calibrated"], row["wrong_on_top"]["calibrated"]
            assert lead["comparisons"] == wrong["comparisons"] == row["searches"] >= 2
            assert wrong["errors"] <= lead["errors"]  # a wrong first candidate is a stranger lead
            by_threshold = sorted(g["thresholds"], key=lambda n: g["thresholds"][n])
            errors = [row["stranger_lead"][n]["errors"] for n in by_threshold]
            assert errors == sorted(errors, reverse=True)  # fewer leads at a stricter threshold
    held_out, everyone = data["audit"]
    assert "held-out" in held_out["description"]
    rows = {r["setting"]: r for r in everyone["rows"]}
    lax, calibrated = rows["lax"], rows["calibrated"]
    # the lax setting returns strangers for (nearly) every search; the calibrated one rarely
    assert lax["probes_with_false_match"]["rate"] > calibrated["probes_with_false_match"]["rate"]
    assert lax["false_candidates"] > calibrated["false_candidates"]
    assert all("predicted_fpir" in r for r in everyone["rows"])


def test_report_html_and_plots(full_report: Path) -> None:
    html = (full_report / "report.html").read_text()
    data = json.loads((full_report / "report.json").read_text())
    for section in ("Calibration", "Verification", "Identification", "Demographic", "audit"):
        assert section in html
    pngs = [p for names in data["plots"].values() for p in names]
    assert {"calibration.png", "verify.png", "identify.png", "audit-growth.png"} <= set(pngs)
    for name in pngs:
        assert f'src="{name}"' in html
        with Image.open(full_report / name) as img:
            assert img.format == "PNG" and img.width > 300


def test_show_prints_the_report(full_report: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "show", str(full_report)])
    assert result.exit_code == 0, result.output
    assert "CMC rank 1" in result.stdout and "false-match audit" in result.stdout
    missing = CliRunner().invoke(app, ["eval", "show", str(full_report / "nope")])
    assert missing.exit_code == 4 and "not_found" in missing.stderr


@pytest.mark.parametrize("suite", ["verify", "identify", "demographics", "audit"])
def test_each_suite_runs_alone(
    suite: str, faces_dir: Path, lab_cache: Path, full_report: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["eval", suite, *lab_args(faces_dir, lab_cache, tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    ran = {k for k in ("verify", "identify", "demographics", "audit") if data[k]}
    assert ran == {suite}


def test_calibrate_sets_threshold_and_hits_carry_fmr(
    people_atlas_dir: Path,
    faces_dir: Path,
    lab_cache: Path,
    full_report: Path,
    probe_photos: Path,
    tmp_path: Path,
) -> None:
    root = tmp_path / "atlas"
    shutil.copytree(people_atlas_dir, root)
    args = ["--lfw", str(faces_dir / "lfw"), "--utkface", str(faces_dir / "utkface")]
    result = CliRunner().invoke(
        app,
        [
            "calibrate",
            *args,
            *SUBSET,
            "--atlas",
            str(root),
            "--cache-dir",
            str(lab_cache),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    stored = json.loads(result.stdout)
    assert stored["threshold_source"] == "calibration"
    assert stored["provenance"]["impostor_comparisons"] > 1000
    report = json.loads((full_report / "report.json").read_text())
    assert stored["threshold"] == pytest.approx(report["calibration"]["threshold"])

    with Atlas.open(settings=atlas_settings(root)) as atlas:
        threshold, source = atlas.threshold()
        assert source == "calibration" and threshold == pytest.approx(stored["threshold"])
        assert atlas.catalog.get_meta(threshold_meta_key(atlas.model_id)) is not None
        record = atlas.searcher.calibration()
        assert record is not None and record.provenance["split"]
        probe = (probe_photos / "obama1.jpg").read_bytes()
        default = atlas.search(probe, top_k=50)
        assert default.threshold_source == "calibration"
        assert all(h.similarity >= threshold for h in default.hits)
        for h in default.hits:
            assert h.estimated_fmr is not None and h.estimated_fmr_upper is not None
            assert h.estimated_fmr <= h.estimated_fmr_upper
            assert h.estimated_fmr <= 0.011  # at or above the threshold: at most ~ the target
        weaker = atlas.search(probe, top_k=50, min_similarity=-1.0)  # explicitly asked for
        assert len(weaker.hits) > len(default.hits)
        weakest = weaker.hits[-1]
        assert weakest.similarity < threshold and weakest.estimated_fmr is not None
        assert weakest.estimated_fmr > 0.011
        assert weaker.as_dict()["hits"][-1]["estimated_fmr"] == pytest.approx(
            weakest.estimated_fmr, rel=1e-2
        )


def test_calibrate_refuses_an_unresolvable_target(
    faces_dir: Path, lab_cache: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "calibrate",
            "--lfw",
            str(faces_dir / "lfw"),
            "--max-people",
            "40",
            "--atlas",
            str(tmp_path / "atlas"),
            "--cache-dir",
            str(lab_cache),
        ],
        env={"FACEATLAS_CALIBRATION_TARGET_FMR": "1e-6"},  # the setting, not the option
    )
    assert result.exit_code == 2 and "cannot resolve" in result.stderr
