"""``ingest --ray``: the same per-item work on a local Ray instance writes the same atlas."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import ray.cloudpickle
from typer.testing import CliRunner

from faceatlas.cli import app
from faceatlas.engine import EngineSpec, create_engine
from faceatlas.ingest.ray_executor import make_ray_executor
from faceatlas.ingest.worker import AnalysisLimits, Analyzer, outcome

from . import crashkit
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


def test_an_image_that_kills_its_ray_actor_every_time_fails_alone(lfw_sample: list[Path]) -> None:
    """An actor process killed under a group is restarted by Ray; the group's images are
    analysed again alone, one at a time, and only the image that kills its actor again is
    ``worker_crashed``."""
    ray.cloudpickle.register_pickle_by_value(crashkit)  # the actors do not import tests/
    limits = AnalysisLimits(max_pixels=40_000_000, max_file_bytes=50 << 20, thumbnail_px=96)
    items = [p.read_bytes() for p in lfw_sample[:7]]
    items.insert(5, crashkit.POISON)
    executor = make_ray_executor(
        "local", EngineSpec(), limits, 2, group=4, analyze=crashkit.crash_on_poison
    )
    try:
        futures = [executor.submit(data) for data in items]  # two full groups go out
        analyses = [outcome(f) for f in futures]
    finally:
        executor.close()
    assert [a.error_code for a in analyses] == [None] * 5 + ["worker_crashed", None, None]
    plain = Analyzer(create_engine(EngineSpec()), limits)
    for i, (a, data) in enumerate(zip(analyses, items, strict=True)):
        if i != 5:
            assert len(a.faces) == 1
            assert np.allclose(a.faces[0].embedding, plain(data).faces[0].embedding, atol=1e-5)
