"""The accuracy page of the web app: calibration in force and the lab report, signed in only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from faceatlas import Atlas, Settings
from faceatlas.accounts import Role, TokenKind
from faceatlas.http.session import SESSION_COOKIE
from faceatlas.search import FmrMapping
from faceatlas.server import create_app
from faceatlas.store.calibrations import CalibrationRecord

from .test_eval_lab import full_report, lab_cache  # noqa: F401  (session fixtures)


def test_accuracy_page_shows_calibration_report_and_plots(
    people_atlas_dir: Path,
    full_report: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    root = tmp_path / "atlas"
    shutil.copytree(people_atlas_dir, root)
    data = json.loads((full_report / "report.json").read_text())
    settings = Settings(atlas_dir=root, eval_report_dir=full_report)
    with Atlas.open(settings=settings) as atlas:
        user, _ = atlas.accounts.create_user(
            "ivy.investigator", Role.INVESTIGATOR, unit="a", password="correct horse battery"
        )
        cookie = atlas.accounts.issue(user, TokenKind.SESSION, 3600).secret
        with TestClient(create_app(atlas=atlas)) as client:
            anonymous = client.get("/evaluation", follow_redirects=False)
            assert anonymous.status_code in (303, 401)
            hidden = client.get("/evaluation/plots/verify.png", follow_redirects=False)
            assert hidden.status_code in (303, 401)

            client.cookies.set(SESSION_COOKIE, cookie)
            page = client.get("/evaluation")
            assert page.status_code == 200, page.text
            assert 'id="no-calibration"' in page.text  # not calibrated yet: said plainly
            assert "searches returning a stranger" in page.text
            for d in data["demographics"]:
                for g in d["groups"]:
                    assert g["group"] in page.text
            plot = client.get("/evaluation/plots/verify.png")
            assert plot.status_code == 200 and plot.content.startswith(b"\x89PNG")
            assert client.get("/evaluation/plots/report.json").status_code == 404
            assert client.get("/evaluation/plots/..%2Freport.json").status_code == 404

            atlas.searcher.save_calibration(_record(data, atlas.model_id))
            page = client.get("/evaluation")
            assert 'id="calibration"' in page.text
            assert f"{data['calibration']['threshold']:.4f}" in page.text
            assert "(calibration)" in page.text


def _record(data: dict[str, Any], model_id: str) -> CalibrationRecord:
    """The report's calibration as stored by ``faceatlas calibrate`` (mapping from two scores)."""
    cal = data["calibration"]
    fmr = cal["fmr_at_threshold"]
    mapping = FmrMapping.from_scores(np.array([0.5, 0.99]))
    return CalibrationRecord(
        model_id=model_id,
        target_fmr=cal["target_fmr"],
        threshold=cal["threshold"],
        comparisons=fmr["comparisons"],
        false_matches=fmr["errors"],
        mapping=mapping.as_dict(),
        provenance=cal["provenance"],
    )
