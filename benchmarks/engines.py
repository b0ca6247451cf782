"""Every engine measured the same way, in one run: the evidence for the default engine.

1. Ingest throughput on the same LFW photos with 2 worker processes each:
   the ``face_recognition`` package (``face_locations`` + ``face_encodings``
   in a 2-process pool, no storage) as the baseline, then ``Atlas.ingest`` with
   dlib run by dlib-bin, dlib run by ONNX Runtime, and YuNet + SFace (storage,
   thumbnails and index included).
2. The dlib fast path: ms per face of dlib-bin's ResNet and of the ONNX
   rebuild on the same aligned chips, one process, and their largest
   difference.
3. Accuracy: ``faceatlas eval lfw`` (LFW View 2, 10 folds) for every engine
   through the real CLI, and ``benchmarks/lfw_baseline.py`` for the
   ``face_recognition`` baseline. Further ``faceatlas eval`` suites run when
   they exist (``--suite``).

    python benchmarks/engines.py --photos 600 --json engines.json

Ratios compare numbers measured in this same run on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from faceatlas import Atlas, Settings
from faceatlas.choices import DlibBackend, EngineName
from faceatlas.engine import decode_image
from faceatlas.engine.dlib_engine import DlibEngine, DlibOptions
from faceatlas.eval.embed import default_cache_dir

ENGINES: dict[str, dict[str, Any]] = {
    "dlib-bin": {"engine": EngineName.DLIB, "dlib_backend": DlibBackend.DLIB},
    "dlib-onnx": {"engine": EngineName.DLIB, "dlib_backend": DlibBackend.ONNX},
    "sface": {"engine": EngineName.SFACE},
}
"""dlib run by dlib-bin, dlib run by ONNX Runtime (same model), YuNet + SFace."""
ROOT = Path(__file__).resolve().parent.parent


def pick_photos(lfw: Path, n: int) -> list[Path]:
    """The first photo of every ``step``-th person, spread over the whole alphabet."""
    people = sorted(d for d in lfw.iterdir() if d.is_dir())
    step = max(1, len(people) // n)
    return [sorted(p.glob("*.jpg"))[0] for p in people[::step]][:n]


def _baseline_one(path: str) -> int:
    import face_recognition

    image = face_recognition.load_image_file(path)
    return len(face_recognition.face_encodings(image, face_recognition.face_locations(image)))


def baseline_ingest(photos: list[Path], workers: int) -> tuple[float, int]:
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_baseline_one, [str(photos[0])] * workers))  # load models first
        started = time.perf_counter()
        faces = sum(pool.map(_baseline_one, [str(p) for p in photos], chunksize=4))
    return time.perf_counter() - started, faces


def atlas_ingest(photos: list[Path], workers: int, root: Path, **engine: Any) -> tuple[float, int]:
    folder = root / "photos"
    if not folder.exists():
        folder.mkdir(parents=True)
        for p in photos:
            (folder / p.name).symlink_to(p)
    name = "-".join(str(v) for v in engine.values())
    settings = Settings(atlas_dir=root / f"atlas-{name}", **engine)
    with Atlas.open(settings=settings) as atlas:
        report = atlas.ingest(folder, workers=workers)
    assert report.counts["failed"] == 0, report.failures[:3]
    return report.elapsed_s, report.counts["faces"]


def dlib_fast_path(photos: list[Path], n_chips: int) -> dict[str, float]:
    reference = DlibEngine(DlibOptions(backend=DlibBackend.DLIB))
    fast = DlibEngine(DlibOptions(backend=DlibBackend.ONNX))
    chips = []
    for p in photos:
        image = decode_image(p.read_bytes(), max_pixels=40_000_000).pixels
        chips.extend(reference.align(image, f) for f in reference.detect(image))
        if len(chips) >= n_chips:
            break
    reference.embed_chips(chips[:2])
    fast.embed_chips(chips[:2])
    started = time.perf_counter()
    ref = reference.embed_chips(chips)
    ref_s = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(0, len(chips), 16):
        fast.embed_chips(chips[i : i + 16])
    fast_s = time.perf_counter() - started
    started = time.perf_counter()
    for chip in chips:
        fast.embed_chips([chip])
    single_s = time.perf_counter() - started
    out = fast.embed_chips(chips)
    return {
        "chips": len(chips),
        "dlib_bin_ms_per_face": round(1000 * ref_s / len(chips), 2),
        "onnx_batch16_ms_per_face": round(1000 * fast_s / len(chips), 2),
        "onnx_batch1_ms_per_face": round(1000 * single_s / len(chips), 2),
        "ratio_batch16": round(ref_s / fast_s, 2),
        "ratio_batch1": round(ref_s / single_s, 2),
        "max_abs_diff": float(np.abs(out - ref).max()),
    }


def cli_json(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "faceatlas", *args, "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def lfw_for_engines(
    faces: Path,
    workers: int,
    cache_root: Path,
    caches: dict[str, Path],
    names: list[str],
    limit: int | None = None,
) -> dict[str, dict[str, Any]]:
    lfw = faces / "lfw"
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        engine = ENGINES[name]
        flags = ["--engine", str(engine["engine"])]
        if "dlib_backend" in engine:
            flags += ["--dlib-backend", str(engine["dlib_backend"])]
        cache = caches.get(name) or cache_root / name
        started = time.perf_counter()
        print(f"  {name}: faceatlas eval lfw (embeddings cached in {cache}) ...", flush=True)
        if limit:
            flags += ["--limit", str(limit)]
        report = cli_json(
            [
                "eval",
                "lfw",
                str(lfw / "pairs.txt"),
                str(lfw / "images"),
                *flags,
                "--workers",
                str(workers),
                "--cache-dir",
                str(cache),
            ]
        )
        report["seconds"] = round(time.perf_counter() - started, 1)
        out[name] = report
        print(f"  {name}: {report['mean_accuracy']:.4f} ({report['seconds']} s)", flush=True)
    return out


def lfw_baseline(
    faces: Path, workers: int, cache: Path, limit: int | None = None
) -> dict[str, Any]:
    """face_recognition on LFW; ``cache`` also serves the script's own dlib run (same keys as
    the dlib-onnx run above, so nothing is embedded twice)."""
    env = {**os.environ, "FACEATLAS_CACHE_DIR": str(cache)}
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "baseline.json"
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks/lfw_baseline.py"),
                "--faces-dir",
                str(faces),
                "--workers",
                str(workers),
                "--json",
                str(target),
                *(["--limit", str(limit)] if limit else []),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        data: dict[str, Any] = json.loads(target.read_text())["baseline"]
    return data


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_faces = Path(os.environ.get("FACEATLAS_TEST_FACES", ROOT.parent / "shared/faces"))
    parser.add_argument("--faces-dir", type=Path, default=default_faces)
    parser.add_argument("--photos", type=int, default=600, help="LFW photos for the ingest run.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chips", type=int, default=64, help="Chips for the dlib fast path.")
    parser.add_argument(
        "--cache-root",
        type=Path,
        default=None,
        help="Embedding caches for the LFW runs, one folder per engine (default: "
        "$FACEATLAS_CACHE_DIR/engines; sface's: $FACEATLAS_CACHE_DIR, shared with other scripts).",
    )
    parser.add_argument(
        "--dlib-bin-cache",
        type=Path,
        default=None,
        help="An existing embedding cache made by dlib-bin (e.g. $FACEATLAS_CACHE_DIR) to reuse.",
    )
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help=f"Comma-separated subset of {', '.join(ENGINES)} (default: all).",
    )
    parser.add_argument(
        "--skip-baseline-lfw", action="store_true", help="No face_recognition LFW run."
    )
    parser.add_argument("--skip-lfw", action="store_true")
    parser.add_argument(
        "--lfw-pairs", type=int, help="about this many View 2 pairs, over all folds (default: all)"
    )
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    names = [n for n in args.engines.split(",") if n]
    unknown = [n for n in names if n not in ENGINES]
    if unknown:
        parser.error(f"unknown engines {unknown}; choose from {list(ENGINES)}")
    photos = pick_photos(args.faces_dir / "lfw/images", args.photos)
    results: dict[str, Any] = {
        "photos": len(photos),
        "workers": args.workers,
        "cores": os.cpu_count(),
    }
    print(f"{len(photos)} LFW photos, {args.workers} workers, {os.cpu_count()} cores", flush=True)

    if not args.skip_ingest:
        rows: list[dict[str, Any]] = []
        print("ingest: face_recognition (baseline) ...", flush=True)
        base_s, base_faces = baseline_ingest(photos, args.workers)
        rows.append({"pipeline": "face_recognition (baseline)", "s": base_s, "faces": base_faces})
        with tempfile.TemporaryDirectory() as tmp:
            for name in names:
                print(f"ingest: faceatlas {name} ...", flush=True)
                seconds, faces = atlas_ingest(photos, args.workers, Path(tmp), **ENGINES[name])
                rows.append({"pipeline": f"faceatlas {name}", "s": seconds, "faces": faces})
        print(f"\n{'ingest pipeline':34} {'s':>7} {'img/s':>7} {'faces':>6} {'x baseline':>10}")
        for row in rows:
            row["images_per_s"] = round(len(photos) / row["s"], 2)
            row["ratio_to_baseline"] = round(base_s / row["s"], 2)
            row["s"] = round(row["s"], 1)
            print(
                f"{row['pipeline']:34} {row['s']:7.1f} {row['images_per_s']:7.2f} "
                f"{row['faces']:6d} {row['ratio_to_baseline']:10.2f}"
            )
        results["ingest"] = rows
        fast = dlib_fast_path(photos, args.chips)
        results["dlib_fast_path"] = fast
        print(f"\ndlib fast path: {json.dumps(fast)}", flush=True)

    if not args.skip_lfw:
        print("\nLFW View 2 (10 folds):", flush=True)
        cache_root = args.cache_root or default_cache_dir() / "engines"
        caches = {"dlib-bin": args.dlib_bin_cache} if args.dlib_bin_cache else {}
        if args.cache_root is None:  # SFace's vectors are the ones every other script caches
            caches["sface"] = default_cache_dir()
        lfw = lfw_for_engines(
            args.faces_dir, args.workers, cache_root, caches, names, args.lfw_pairs
        )
        if not args.skip_baseline_lfw:
            lfw["face_recognition (baseline)"] = lfw_baseline(
                args.faces_dir, args.workers, cache_root / "dlib-onnx", args.lfw_pairs
            )
        results["lfw"] = lfw
        print(f"\n{'engine':30} {'accuracy':>9} {'± std':>7} {'AUC':>8} {'TAR@1e-3':>9}")
        for name, r in lfw.items():
            print(
                f"{name:30} {r['mean_accuracy']:9.4f} {r['std_accuracy']:7.4f} "
                f"{r['roc_auc']:8.5f} {r['tar_at_far_1e-3']:9.4f}"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
