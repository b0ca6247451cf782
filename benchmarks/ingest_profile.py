"""Where an image's ingest time goes, stage by stage, on one core; and what batching the
recognizer over faces of several images buys.

For LFW photos (the ones ``core_benchmark.py`` picks), one thread, CPU time per photo:
reading, SHA-256, perceptual hash, decoding, detection (the detector's model run and the code
around it), alignment, embedding, quality and thumbnails, as ``Atlas.ingest`` runs them; the
catalog and index writes are what ``core_benchmark.py``'s total adds. Then the aligned chips
of those photos are embedded in batches of 1, 2, 4, 8 and 16 faces, the sizes taking turns
``--repeats`` times (the machine is shared), best time kept. Last, the whole of ``Atlas.ingest``
(one worker) on the same photos: its CPU per photo (every thread), split into the analysis
(decode to thumbnails, what the stages above cover) and the rest (reading and hashing in the
fetch threads, duplicate checks, the catalog transactions, the index, the pipeline itself), and
the part of it spent outside the calling thread (the fetch threads, and any library's own).

    python benchmarks/ingest_profile.py --photos 200 --engine sface
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from core_benchmark import pick_photos
from faceatlas import Atlas, Settings
from faceatlas.choices import EngineName
from faceatlas.engine import EngineSpec, create_engine, decode_image
from faceatlas.engine.analyze import thumbnail_jpeg
from faceatlas.engine.quality import measure_quality
from faceatlas.ingest.phash import perceptual_hash
from faceatlas.ingest.worker import Analyzer
from lfw_model import FACES

MAX_PIXELS = 40_000_000
BATCHES = (1, 2, 4, 8, 16)


def timed(spent: Counter[str], stage: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    started = time.thread_time()
    try:
        return fn(*args, **kwargs)
    finally:
        spent[stage] += time.thread_time() - started


def align_all(engine: Any, image: Any, faces: list[Any]) -> list[Any]:
    return [engine.align(image, f) for f in faces]


def stages(engine: Any, photos: list[Path]) -> tuple[dict[str, float], list[Any], int]:
    """CPU ms per photo of each stage; the aligned chips; the faces found."""
    spent: Counter[str] = Counter()
    chips: list[Any] = []
    run = engine._detector.run if hasattr(engine, "_detector") else None
    if run is not None:  # the detector's model run, apart from the code around it

        def model_run(*args: Any, **kwargs: Any) -> Any:
            return timed(spent, "detect: model run", run, *args, **kwargs)

        engine._detector.run = model_run
    for path in photos:
        data = timed(spent, "read", path.read_bytes)
        timed(spent, "sha256", hashlib.sha256, data)
        timed(spent, "perceptual hash", perceptual_hash, data, max_pixels=MAX_PIXELS)
        image = timed(spent, "decode", decode_image, data, max_pixels=MAX_PIXELS).pixels
        faces = timed(spent, "detect", engine.detect, image)
        found = timed(spent, "align", align_all, engine, image, faces)
        timed(spent, "embed", engine.embed_chips, found)
        for face, chip in zip(faces, found, strict=True):
            timed(spent, "quality", measure_quality, face, chip, engine.eyes_and_nose(face))
            timed(spent, "thumbnail", thumbnail_jpeg, image, face.box, max_side_px=160)
        chips.extend(found)
    if run is not None:
        engine._detector.run = run
        spent["detect: around the model"] = spent["detect"] - spent["detect: model run"]
    per_photo = {k: round(1000 * v / len(photos), 3) for k, v in spent.items()}
    per_photo["total"] = round(
        sum(v for k, v in per_photo.items() if not k.startswith("detect:")), 3
    )
    return per_photo, chips, len(chips)


def batching(engine: Any, chips: list[Any], repeats: int) -> dict[int, float]:
    """Best CPU ms per face for each batch size, on the same faces, the sizes taking turns.

    On the sface engine the recognizer's session is called with the whole batch (ONNX Runtime
    runs it at that size, whatever the engine's own ``ORT_CHUNK``; OpenVINO in the chunks it
    is compiled for); other engines are timed through ``embed_chips``."""
    used = chips[: len(chips) - len(chips) % max(BATCHES)]
    if not used:
        return {}
    session = getattr(engine, "_embedder", None)

    def embed(part: list[Any]) -> Any:
        if session is None:
            return engine.embed_chips(part)
        batch = np.stack([np.asarray(c, dtype=np.float32) for c in part]).transpose(0, 3, 1, 2)
        return session.run(None, {"data": batch})

    best = {b: float("inf") for b in BATCHES}
    for _ in range(repeats):
        for b in BATCHES:
            started = time.thread_time()
            for s in range(0, len(used), b):
                embed(used[s : s + b])
            best[b] = min(best[b], 1000 * (time.thread_time() - started) / len(used))
    return {b: round(v, 3) for b, v in best.items()}


def process_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pipeline(engine: EngineName, photos: list[Path], warmup: Path) -> dict[str, float]:
    """CPU ms per photo of ``Atlas.ingest`` (every thread of the process), and of its analysis."""
    analysis = [0.0]
    analyze = Analyzer.many

    def timed_analysis(self: Analyzer, items: Any) -> Any:
        started = time.thread_time()
        try:
            return analyze(self, items)
        finally:
            analysis[0] += time.thread_time() - started

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, chosen in (("warm", [warmup]), ("photos", photos)):
            (root / name).mkdir()
            for p in chosen:
                (root / name / p.name).symlink_to(p)
        with Atlas.open(settings=Settings(atlas_dir=root / "atlas", engine=engine)) as atlas:
            atlas.ingest(root / "warm", workers=1)  # loads, and imports what ingest needs
            Analyzer.many = timed_analysis  # type: ignore[method-assign]
            try:
                started, started_main = process_cpu_s(), time.thread_time()
                atlas.ingest(root / "photos", workers=1)
                total = process_cpu_s() - started
                main_thread = time.thread_time() - started_main
            finally:
                Analyzer.many = analyze  # type: ignore[method-assign]
    per_photo = {
        "total": total,
        "analysis": analysis[0],
        "the rest": total - analysis[0],
        "outside the main thread": total - main_thread,
    }
    return {k: round(1000 * v / len(photos), 3) for k, v in per_photo.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces-dir", type=Path, default=FACES)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--engine", type=EngineName, default=EngineName.SFACE)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    photos, _ = pick_photos(args.faces_dir / "lfw/images", args.photos + 1, 0)
    photos, warmup = photos[:-1], photos[-1]  # the warm-up photo is not ingested twice
    engine = create_engine(EngineSpec.for_engine(args.engine))
    engine.load()
    engine.embed_chips([])  # nothing to embed: loads only
    stages(engine, photos[:5])  # first runs (memory planning) are not measured
    per_photo, chips, faces = stages(engine, photos)
    result = {
        "engine": args.engine.value,
        "photos": len(photos),
        "faces": faces,
        "load_average": os.getloadavg(),
        "cpu_ms_per_photo": per_photo,
        "embed_cpu_ms_per_face_by_batch": batching(engine, chips, args.repeats),
        "atlas_ingest_cpu_ms_per_photo": pipeline(args.engine, photos, warmup),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
