"""Ingest throughput and search latency of FaceAtlas against the plain face_recognition pipeline.

Both run in this process on the same LFW photos:

* baseline: ``face_recognition.face_locations`` + ``face_encodings`` per photo
  (HOG, upsample 1, one process), and for search a linear ``face_distance``
  scan over every known encoding;
* FaceAtlas: ``Atlas.ingest`` of the same photos with 1 and 2 worker
  processes (hashing, decoding, detection, alignment, embedding, quality,
  thumbnails, catalog and index writes included), and ``Atlas.search`` of
  probe photos of the same people that are not in the atlas.

Also checks that the embeddings are equal: FaceAtlas's vector and the
baseline's normalised encoding of the same face differ by at most 1e-4.

    python benchmarks/core_benchmark.py --photos 2000 --probes 200
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from faceatlas import Atlas, Settings
from faceatlas.choices import EngineName


def pick_photos(lfw: Path, n: int, n_probes: int) -> tuple[list[Path], list[Path]]:
    """``n`` photos spread over LFW, and probes: other photos of people in that set."""
    people = sorted(d for d in lfw.iterdir() if d.is_dir())
    gallery: list[Path] = []
    probes: list[Path] = []
    for person in people:
        photos = sorted(person.glob("*.jpg"))
        if len(photos) >= 2 and len(probes) < n_probes:
            probes.append(photos[-1])
            gallery.extend(photos[:-1][:3])
        else:
            gallery.extend(photos[:1])
        if len(gallery) >= n:
            break
    return gallery[:n], probes


def baseline_ingest(photos: list[Path]) -> tuple[float, int, dict[str, list[np.ndarray]]]:
    import face_recognition

    encodings: dict[str, list[np.ndarray]] = {}
    faces = 0
    started = time.perf_counter()
    for p in photos:
        image = face_recognition.load_image_file(str(p))
        locations = face_recognition.face_locations(image)
        found = face_recognition.face_encodings(image, locations)
        encodings[str(p)] = found
        faces += len(found)
    return time.perf_counter() - started, faces, encodings


def atlas_ingest(photos: list[Path], workers: int, root: Path) -> tuple[float, int, Path]:
    folder = root / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    for p in photos:
        link = folder / p.name
        if not link.exists():
            link.symlink_to(p)
    atlas_dir = root / f"atlas-{workers}w"
    with Atlas.open(settings=Settings(atlas_dir=atlas_dir, engine=EngineName.DLIB)) as atlas:
        report = atlas.ingest(folder, workers=workers)
    assert report.counts["failed"] == 0, report.failures[:3]
    return report.elapsed_s, report.counts["faces"], atlas_dir


def embedding_agreement(
    atlas_dir: Path, baseline: dict[str, list[np.ndarray]], sample: int
) -> float:
    """Largest |difference| between FaceAtlas and baseline vectors of the same faces."""
    worst = 0.0
    with Atlas.open(settings=Settings(atlas_dir=atlas_dir, engine=EngineName.DLIB)) as atlas:
        for encs in list(baseline.values())[:sample]:
            for enc in encs:
                unit = (enc / np.linalg.norm(enc)).astype(np.float32)
                hit = atlas.searcher.search_vector(unit, top_k=1, min_similarity=-1.0).hits[0]
                stored = atlas.catalog.vectors_for_faces(atlas.model_id, [hit.face_id])[hit.face_id]
                worst = max(worst, float(np.abs(stored - unit).max()))
    return worst


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def search_latency(
    atlas_dir: Path, probes: list[Path], baseline: dict[str, list[np.ndarray]]
) -> dict[str, object]:
    import face_recognition

    known = np.asarray([e for encs in baseline.values() for e in encs])
    base_ms: list[float] = []
    ours_ms: list[float] = []
    agree = 0
    with Atlas.open(settings=Settings(atlas_dir=atlas_dir, engine=EngineName.DLIB)) as atlas:
        atlas.search(probes[0].read_bytes(), min_similarity=-1.0)  # load the models once
        for p in probes:
            started = time.perf_counter()
            image = face_recognition.load_image_file(str(p))
            encs = face_recognition.face_encodings(image, face_recognition.face_locations(image))
            if encs:
                np.argsort(face_recognition.face_distance(known, encs[0]))[:10]
            base_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            try:
                result = atlas.search(p.read_bytes(), top_k=10, min_similarity=-1.0)
            except Exception:
                result = None
            ours_ms.append((time.perf_counter() - started) * 1000)
            if encs and result is not None and result.hits:
                agree += 1
    return {
        "probes": len(probes),
        "gallery_faces": len(known),
        "baseline_p50_ms": round(statistics.median(base_ms), 1),
        "baseline_p95_ms": round(percentile(base_ms, 95), 1),
        "faceatlas_p50_ms": round(statistics.median(ours_ms), 1),
        "faceatlas_p95_ms": round(percentile(ours_ms, 95), 1),
        "p50_ratio_baseline_over_faceatlas": round(
            statistics.median(base_ms) / statistics.median(ours_ms), 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_faces = Path(
        os.environ.get("FACEATLAS_TEST_FACES", Path(__file__).resolve().parents[2] / "shared/faces")
    )
    parser.add_argument("--faces-dir", type=Path, default=default_faces)
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()

    photos, probes = pick_photos(args.faces_dir / "lfw/images", args.photos, args.probes)
    print(f"{len(photos)} LFW photos, {len(probes)} probes; cores: {os.cpu_count()}")
    base_s, base_faces, baseline = baseline_ingest(photos)
    rows = [("face_recognition (1 process)", base_s, base_faces)]
    with tempfile.TemporaryDirectory() as tmp:
        atlas_dirs = {}
        for workers in (1, 2):
            elapsed, faces, atlas_dirs[workers] = atlas_ingest(photos, workers, Path(tmp))
            rows.append((f"faceatlas ingest --workers {workers}", elapsed, faces))
        worst = embedding_agreement(atlas_dirs[2], baseline, sample=100)
        latency = search_latency(atlas_dirs[2], probes, baseline)

    results: dict[str, object] = {
        "photos": len(photos),
        "ingest": [],
        "max_abs_embedding_diff": worst,
        "search": latency,
    }
    print(f"\n{'pipeline':34} {'s':>8} {'img/s':>8} {'faces/s':>8} {'x baseline':>10}")
    for name, seconds, faces in rows:
        ratio = base_s / seconds
        print(
            f"{name:34} {seconds:8.1f} {len(photos) / seconds:8.2f} {faces / seconds:8.2f} {ratio:10.2f}"
        )
        results["ingest"].append(  # type: ignore[attr-defined]
            {
                "pipeline": name,
                "seconds": round(seconds, 2),
                "images_per_s": round(len(photos) / seconds, 3),
                "faces": faces,
                "faces_per_s": round(faces / seconds, 3),
                "ratio_to_baseline": round(ratio, 3),
            }
        )
    print(f"\nmax |embedding difference| vs baseline on the same faces: {worst:.2e}")
    print("\nsearch latency (decode + detect + embed + top-10), ms:")
    print(json.dumps(latency, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
