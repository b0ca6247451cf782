"""What fair scoring costs per search: latency with the fair score against raw cosine.

One atlas of ``--photos`` LFW photos is built once (SFace). The same probes (other photos of
people in the atlas) are then searched on it twice in this run, with
``FACEATLAS_FAIR_SCORING`` on and off, alternating probe by probe so that both see the same
machine state:

* whole search: decode, detect, embed, the quality gate, index search, re-ranking, records;
* search from the embedding (``Atlas.searcher.search_vector``): what fair scoring changes (fetching
  ``4 x top_k`` neighbours, at least 50, their stored vectors, and the region offsets).

Prints p50 and p95 in milliseconds and the ratio fair / raw.

    python benchmarks/fair_search.py [--photos 2000] [--probes 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from faceatlas import Atlas, Settings
from faceatlas.choices import EngineName
from faceatlas.errors import FaceAtlasError
from lfw_model import ingest_progress

ROOT = Path(__file__).resolve().parent.parent


def pick(lfw: Path, n: int, n_probes: int) -> tuple[list[Path], list[Path]]:
    """``n`` gallery photos spread over LFW, and probes of the same people not in it."""
    gallery: list[Path] = []
    probes: list[Path] = []
    for person in sorted(d for d in lfw.iterdir() if d.is_dir()):
        photos = sorted(person.glob("*.jpg"))
        if len(gallery) < n:
            gallery.append(photos[0])
            if len(photos) > 1 and len(probes) < n_probes:
                probes.append(photos[1])
    return gallery, probes


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    gallery, probes = pick(args.faces / "lfw" / "images", args.photos, args.probes)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "atlas"
        incoming = Path(tmp) / "incoming"
        incoming.mkdir()
        for p in gallery:
            (incoming / p.name).symlink_to(p.resolve())
        base = Settings(atlas_dir=root, engine=EngineName.SFACE)
        with Atlas.open(settings=base) as atlas:
            atlas.ingest(incoming, workers=args.workers, progress=ingest_progress)
            faces = len(atlas.index)
        atlases = {
            "raw": Atlas.open(settings=base.with_overrides(fair_scoring=False)),
            "fair": Atlas.open(settings=base.with_overrides(fair_scoring=True)),
        }
        try:
            whole: dict[str, list[float]] = {k: [] for k in atlases}
            vector: dict[str, list[float]] = {k: [] for k in atlases}
            found = {k: 0 for k in atlases}
            for a in atlases.values():
                a.search(probes[0].read_bytes())  # models loaded, caches warm
            for p in probes:
                data = p.read_bytes()
                for name, a in atlases.items():
                    start = time.perf_counter()
                    try:
                        result = a.search(data, top_k=10)
                    except FaceAtlasError:
                        continue
                    whole[name].append((time.perf_counter() - start) * 1000)
                    found[name] += bool(result.hits)
                    embedding = a.gallery.analyze_probe(data)[0].embedding
                    start = time.perf_counter()
                    a.searcher.search_vector(embedding, top_k=10)
                    vector[name].append((time.perf_counter() - start) * 1000)
        finally:
            for a in atlases.values():
                a.close()
    print(f"{faces:,} faces in the atlas, {len(probes)} probes, top 10")
    for label, series in (("whole search", whole), ("from the embedding", vector)):
        (r50, r95), (f50, f95) = percentiles(series["raw"]), percentiles(series["fair"])
        print(
            f"{label:>20}: raw p50 {r50:.1f} ms, p95 {r95:.1f} ms; fair p50 {f50:.1f} ms, "
            f"p95 {f95:.1f} ms; ratio fair/raw p50 {f50 / r50:.2f}, p95 {f95 / r95:.2f}"
        )
    print(f"probes with a lead above the threshold: raw {found['raw']}, fair {found['fair']}")


if __name__ == "__main__":
    main()
