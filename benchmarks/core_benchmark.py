"""Ingest throughput and search latency of FaceAtlas against the plain face_recognition pipeline.

Both run in this process on the same LFW photos:

* baseline: ``face_recognition.face_locations`` + ``face_encodings`` per photo
  (HOG, upsample 1, one process), and for search a linear ``face_distance``
  scan over every known encoding;
* FaceAtlas: ``Atlas.ingest`` of the same photos (hashing, decoding, detection,
  alignment, embedding, quality, thumbnails, catalog and index writes included)
  on each engine asked for, and ``Atlas.search`` of probe photos of the same
  people that are not in the atlas.

Ingest per core: the photos are cut into ``--rounds`` slices; each round runs the
baseline on its slice, then FaceAtlas (one worker) on the same slice for every
engine, so the machine's load (shared with other jobs) falls on both alike. The
cost of each side is its CPU time (this process and any worker processes), and the
per-core ratio is (FaceAtlas images per CPU-second) / (baseline images per
CPU-second); wall-clock ratios are printed beside it. A last run ingests all the
photos with 2 workers (wall clock, as before).

Before the rounds both sides run once on a photo that is not measured (the baseline loads its
dlib models; FaceAtlas ingests it into a throwaway atlas, which loads what an ingest imports on
first use, such as identity clustering's SciPy), so neither side pays a one-off start-up inside
the rounds.

Checks that the faster ingest stores the same faces: for the first engine, the faces stored by
the 1-worker ingest against the same photos analysed one by one on the plain single-photo path
(face count per photo, largest vector difference); ``--vectors-out`` saves the stored vectors
and ``--vectors-ref`` compares with a file saved by another checkout (run this script with
``PYTHONPATH`` on main's ``src`` to make one).

Also checks that the embeddings are equal on dlib: FaceAtlas's vector and the
baseline's normalised encoding of the same face differ by at most 1e-4.

An engine may name its runtime: ``sface-openvino-bf16`` (or ``sface-openvino-fp32``) is the
sface engine with ``inference_runtime=openvino`` and that precision. Such a variant's stored
faces are compared with those of the plain engine in the same run when it is measured too:
the same faces on every photo, and the lowest cosine between the two vectors of a face
(bfloat16 is accepted at 0.9995 or more).

    python benchmarks/core_benchmark.py --photos 400 --engines sface,dlib,sface-openvino-bf16
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faceatlas import Atlas, Settings
from faceatlas.choices import EngineName, InferencePrecision, InferenceRuntime
from faceatlas.engine import analyze_faces, decode_image
from ingest_agreement import (
    Agreement,
    compare,
    load_vectors,
    save_vectors,
    single_photo_faces,
    stored_faces,
)

MIN_COSINE = 0.9995
"""The lowest cosine to the fp32 vector of the same face a lower-precision variant may show."""


@dataclass(frozen=True)
class Variant:
    """An engine as the benchmark names it: ``sface``, ``dlib`` or ``sface-openvino-bf16``."""

    value: str
    engine: EngineName
    runtime: InferenceRuntime = InferenceRuntime.ONNXRUNTIME
    precision: InferencePrecision = InferencePrecision.FP32

    @classmethod
    def parse(cls, name: str) -> Variant:
        engine, _, rest = name.partition("-")
        runtime, _, precision = rest.partition("-")
        return cls(
            name,
            EngineName(engine),
            InferenceRuntime(runtime or InferenceRuntime.ONNXRUNTIME),
            InferencePrecision(precision or InferencePrecision.FP32),
        )

    @property
    def plain(self) -> bool:
        return self.runtime is InferenceRuntime.ONNXRUNTIME

    def settings(self, atlas_dir: Path) -> Settings:
        return Settings(
            atlas_dir=atlas_dir,
            engine=self.engine,
            inference_runtime=self.runtime,
            inference_precision=self.precision,
        )


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


@dataclass(slots=True)
class Cost:
    """What one side spent, round by round: ``(images, faces, wall s, CPU s)``."""

    rounds: list[tuple[int, int, float, float]] = field(default_factory=list)

    def add(self, images: int, faces: int, wall_s: float, cpu_s: float) -> None:
        self.rounds.append((images, faces, wall_s, cpu_s))

    def total(self, column: int) -> float:
        return sum(r[column] for r in self.rounds)

    @property
    def images(self) -> int:
        return int(self.total(0))

    @property
    def faces(self) -> int:
        return int(self.total(1))

    @property
    def wall_s(self) -> float:
        return self.total(2)

    @property
    def cpu_s(self) -> float:
        return self.total(3)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def baseline_ingest(photos: list[Path], encodings: dict[str, list[np.ndarray]], cost: Cost) -> None:
    import face_recognition

    faces = 0
    cpu, started = cpu_seconds(), time.perf_counter()
    for p in photos:
        image = face_recognition.load_image_file(str(p))
        locations = face_recognition.face_locations(image)
        found = face_recognition.face_encodings(image, locations)
        encodings[str(p)] = found
        faces += len(found)
    cost.add(len(photos), faces, time.perf_counter() - started, cpu_seconds() - cpu)


def atlas_ingest(
    photos: list[Path],
    workers: int,
    folder: Path,
    atlas_dir: Path,
    engine: Variant,
    cost: Cost,
    warmup: Path,
) -> None:
    """Ingest ``photos`` (links in ``folder``) into the atlas at ``atlas_dir``; ``warmup`` is a
    photo (not ingested) analysed first."""
    folder.mkdir(parents=True, exist_ok=True)
    for p in photos:
        link = folder / p.name
        if not link.exists():
            link.symlink_to(p)
    with Atlas.open(settings=engine.settings(atlas_dir)) as atlas:
        # Loading the models and their first runs (memory planning) are not ingest.
        warm = decode_image(warmup.read_bytes(), max_pixels=atlas.settings.max_pixels).pixels
        analyze_faces(atlas.engine, warm, thumbnail_px=atlas.settings.thumbnail_px)
        cpu = cpu_seconds()
        report = atlas.ingest(folder, workers=workers)
        spent = cpu_seconds() - cpu
    assert report.counts["failed"] == 0, report.failures[:3]
    cost.add(report.counts["new_images"], report.counts["faces"], report.elapsed_s, spent)


def warm_up(photo: Path, root: Path, engines: list[Variant]) -> None:
    """One unmeasured run of each side (see the module's docstring)."""
    import face_recognition

    image = face_recognition.load_image_file(str(photo))
    face_recognition.face_encodings(image, face_recognition.face_locations(image))
    for engine in engines:
        folder = root / f"warm-{engine.value}"
        folder.mkdir(parents=True)
        (folder / photo.name).symlink_to(photo)
        with Atlas.open(settings=engine.settings(root / f"warm-atlas-{engine.value}")) as atlas:
            atlas.ingest(folder, workers=1)


def same_faces(
    atlas_dir: Path, engine: Variant, photos: list[Path], out: Path | None, ref: Path | None
) -> list[str]:
    """The stored faces against the single-photo path (and against ``ref``), as lines."""
    with Atlas.open(settings=engine.settings(atlas_dir)) as atlas:
        stored = stored_faces(atlas, photos)
        lines = [
            compare(stored, single_photo_faces(atlas, photos)).line(
                f"{engine.value} ingest vs single-photo path"
            )
        ]
    if out is not None:
        save_vectors(stored, out)
    if ref is not None:
        lines.append(compare(stored, load_vectors(ref)).line(f"{engine.value} ingest vs {ref}"))
    return lines


def runtime_agreement(root: Path, variant: Variant, photos: list[Path]) -> Agreement:
    """The faces ``variant`` stored (1 worker) against those of its engine on ONNX Runtime in
    fp32, stored in the same run."""
    plain = Variant(variant.engine.value, variant.engine)
    found = {}
    for v in (variant, plain):
        with Atlas.open(settings=v.settings(root / f"atlas-{v.value}-1w")) as atlas:
            found[v.value] = stored_faces(atlas, photos)
    return compare(found[variant.value], found[plain.value])


def embedding_agreement(
    atlas_dir: Path, baseline: dict[str, list[np.ndarray]], sample: int
) -> float:
    """Largest |difference| between FaceAtlas (dlib) and baseline vectors of the same faces."""
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
    atlas_dir: Path, probes: list[Path], baseline: dict[str, list[np.ndarray]], engine: Variant
) -> dict[str, object]:
    import face_recognition

    known = np.asarray([e for encs in baseline.values() for e in encs])
    base_ms: list[float] = []
    ours_ms: list[float] = []
    agree = 0
    with Atlas.open(settings=engine.settings(atlas_dir)) as atlas:
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
    parser.add_argument("--engines", default="sface,dlib", help="FaceAtlas engines to measure")
    parser.add_argument("--rounds", type=int, default=4, help="alternating baseline/FaceAtlas")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("--vectors-out", type=Path, help="Save the stored vectors (.npz).")
    parser.add_argument("--vectors-ref", type=Path, help="Compare with vectors saved before.")
    args = parser.parse_args()
    engines = [Variant.parse(e) for e in args.engines.split(",")]

    photos, probes = pick_photos(args.faces_dir / "lfw/images", args.photos, args.probes)
    print(f"{len(photos)} LFW photos, {len(probes)} probes; cores: {os.cpu_count()}")
    print(f"load average at the start: {os.getloadavg()}")
    baseline: dict[str, list[np.ndarray]] = {}
    base = Cost()
    ours = {engine: Cost() for engine in engines}
    two_workers = {engine: Cost() for engine in engines}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warm_up(probes[1], root, engines)
        for r in range(args.rounds):
            part = photos[r :: args.rounds]
            baseline_ingest(part, baseline, base)
            for engine in engines:
                folder = root / f"round-{r}"
                atlas_ingest(
                    part,
                    1,
                    folder,
                    root / f"atlas-{engine.value}-1w",
                    engine,
                    ours[engine],
                    probes[0],
                )
            print(f"round {r + 1}/{args.rounds} done", flush=True)
        for engine in engines:
            atlas_ingest(
                photos,
                2,
                root / "all",
                root / f"atlas-{engine.value}-2w",
                engine,
                two_workers[engine],
                probes[0],
            )
        agreement = same_faces(
            root / f"atlas-{engines[0].value}-1w",
            engines[0],
            photos,
            args.vectors_out,
            args.vectors_ref,
        )
        names = {e.value for e in engines}
        runtimes = {
            e: runtime_agreement(root, e, photos)
            for e in engines
            if not e.plain and e.engine.value in names
        }
        worst = None
        if any(e.engine is EngineName.DLIB and e.plain for e in engines):
            worst = embedding_agreement(root / "atlas-dlib-2w", baseline, sample=100)
        latency = search_latency(
            root / f"atlas-{engines[0].value}-2w", probes, baseline, engines[0]
        )

    rows = [("face_recognition (1 process)", base)]
    rows += [(f"faceatlas {e.value}, 1 worker", ours[e]) for e in engines]
    rows += [(f"faceatlas {e.value}, 2 workers", two_workers[e]) for e in engines]
    results: dict[str, object] = {
        "photos": len(photos),
        "rounds": args.rounds,
        "loadavg_end": os.getloadavg(),
        "ingest": [],
        "max_abs_embedding_diff_dlib": worst,
        "same_faces": agreement,
        "runtime_agreement": {v.value: a.line(v.value) for v, a in runtimes.items()},
        "search": latency,
    }
    base_per_cpu = base.images / base.cpu_s
    base_per_s = base.images / base.wall_s
    header = f"{'pipeline':34} {'img':>5} {'faces':>5} {'wall s':>7} {'CPU s':>7}"
    print(f"\n{header} {'img/CPU-s':>9} {'per core':>8} {'x wall':>7}")
    for name, cost in rows:
        per_core = cost.images / cost.cpu_s / base_per_cpu
        wall_ratio = cost.images / cost.wall_s / base_per_s
        spread = [images / cpu_s / base_per_cpu for images, _, _, cpu_s in cost.rounds]
        print(
            f"{name:34} {cost.images:5d} {cost.faces:5d} {cost.wall_s:7.1f} {cost.cpu_s:7.1f} "
            f"{cost.images / cost.cpu_s:9.2f} {per_core:8.2f} {wall_ratio:7.2f}"
        )
        results["ingest"].append(  # type: ignore[attr-defined]
            {
                "pipeline": name,
                "images": cost.images,
                "faces": cost.faces,
                "wall_s": round(cost.wall_s, 2),
                "cpu_s": round(cost.cpu_s, 2),
                "images_per_cpu_s": round(cost.images / cost.cpu_s, 3),
                "per_core_ratio_to_baseline": round(per_core, 3),
                "wall_ratio_to_baseline": round(wall_ratio, 3),
                "per_core_ratio_by_round": [round(x, 3) for x in spread],
            }
        )
    print("\nper core = (images per CPU-second) / (the baseline's), CPU of every process counted")
    for line in agreement:
        print(line)
    for v, a in runtimes.items():
        same = a.photos_with_other_face_count == 0 and a.min_cosine >= MIN_COSINE
        under = f"{a.under(MIN_COSINE)} faces under cosine {MIN_COSINE}"
        verdict = f"agrees (cosine >= {MIN_COSINE})" if same else f"DOES NOT AGREE: {under}"
        print(f"{a.line(f'{v.value} vs {v.engine.value} (fp32)')}: {verdict}")
    if worst is not None:
        print(f"max |embedding difference| vs baseline on the same faces (dlib): {worst:.2e}")
    print("\nsearch latency (decode + detect + embed + top-10), ms:")
    print(json.dumps(latency, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
