"""``ingest --ray``: the same per-item work on a local Ray instance writes the same atlas."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from faceatlas.cli import app

from .test_warc import snapshot


def test_ray_ingest_matches_local_ingest(tmp_path: Path, lfw_sample: list[Path]) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for photo in lfw_sample[:8]:
        shutil.copy(photo, photos / photo.name)
    shutil.copy(lfw_sample[0], photos / "copy-of-first.jpg")  # an exact copy: a sighting
    runner = CliRunner()
    on_ray = tmp_path / "ray"
    result = runner.invoke(
        app, ["ingest", str(photos), "--atlas", str(on_ray), "--ray", "local", "-w", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    local = tmp_path / "local"
    result = runner.invoke(app, ["ingest", str(photos), "--atlas", str(local), "--quiet"])
    assert result.exit_code == 0, result.output
    a, b = snapshot(on_ray), snapshot(local)
    assert len(a["images"]) == 8
    assert a["images"] == b["images"]
    assert a["sightings"] == b["sightings"]
    va = np.stack([np.frombuffer(f[4], dtype=np.float32) for f in a["faces"]])
    vb = np.stack([np.frombuffer(f[4], dtype=np.float32) for f in b["faces"]])
    assert np.allclose(va, vb, atol=1e-5)  # the same engine, run by a Ray actor
