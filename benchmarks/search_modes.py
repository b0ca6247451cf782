"""Batch, group-photo and watchlist searches against their baselines, measured in one run.

* **Batch**: an atlas of the first photo of the first ``--people`` LFW people (by name) with
  three photos or more; their second photos searched once as one batch
  (``BatchDesk.run``) and once as as many single searches (``Service.search``), in the same
  process. Ratio: batch time / single-search time (each probe is one accountable search in
  both; the batch adds its closing audit entry).
* **Group photo**: every face of ``groups/insightface/worlds-largest-selfie.jpg`` (at most
  ``group_max_faces``) searched by one group search, against one single search per face
  (``face=i``), which analyses the photo again each time.
* **Watchlist**: ingesting the third photos of the same people with no active watchlist
  entry, then (into a fresh copy) with ``--entries`` active entries (their second photos):
  the cost of matching new faces at ingest. Ratio: with entries / without.

    python benchmarks/search_modes.py [--faces ../shared/faces] [--people 100] [--entries 50]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from faceatlas import Atlas, Settings
from faceatlas.services import SearchRequest, Service, local_operator
from faceatlas.services.batch import BatchDesk
from faceatlas.services.batch_probes import BatchProbe
from faceatlas.services.group import GroupDesk
from faceatlas.services.watchlists import WatchlistDesk, WatchRequest

PURPOSE = "missing person"


def lfw_people(faces: Path, count: int) -> list[Path]:
    people = [
        p for p in sorted((faces / "lfw" / "images").iterdir()) if len(list(p.glob("*.jpg"))) >= 3
    ]
    return people[:count]


def photo(person: Path, n: int) -> Path:
    return person / f"{person.name}_{n:04d}.jpg"


def copy_photos(paths: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for p in paths:
        shutil.copy(p, folder / p.name)
    return folder


def timed(label: str, seconds: float, count: int) -> float:
    print(f"  {label:<38} {seconds:7.2f} s  ({1000 * seconds / max(count, 1):6.1f} ms each)")
    return seconds


def batch_vs_single(service: Service, people: list[Path]) -> None:
    user = local_operator("bench")
    probes = [BatchProbe(photo(p, 2).name, photo(p, 2).read_bytes()) for p in people]
    request = SearchRequest("BENCH-BATCH", PURPOSE)
    service.search(user, photo(people[0], 1).read_bytes(), request)  # warm-up, not timed
    print(f"batch of {len(probes)} probes")
    started = time.perf_counter()
    report = BatchDesk(service).run(user, probes, request)
    batch = timed("one batch", time.perf_counter() - started, len(probes))
    started = time.perf_counter()
    for probe in probes:
        service.search(user, probe.data, SearchRequest("BENCH-SINGLE", PURPOSE))
    single = timed("single searches", time.perf_counter() - started, len(probes))
    print(
        f"  searched {report.searched}, failed {report.failed}; ratio batch/single {batch / single:.2f}"
    )


def group_vs_single(service: Service, faces: Path) -> None:
    user = local_operator("bench")
    data = (faces / "groups" / "insightface" / "worlds-largest-selfie.jpg").read_bytes()
    request = SearchRequest("BENCH-GROUP", PURPOSE)
    started = time.perf_counter()
    outcome = GroupDesk(service).search(user, data, request)
    group = time.perf_counter() - started
    searched = [f.face.index for f in outcome.faces if f.outcome is not None]
    print(f"group photo: {outcome.faces_found} faces found, {len(searched)} searched")
    timed("one group search", group, len(searched))
    started = time.perf_counter()
    for i in searched:
        service.search(user, data, SearchRequest("BENCH-GROUP", PURPOSE, face=i))
    single = timed("single searches, one per face", time.perf_counter() - started, len(searched))
    print(f"  ratio group/single {group / single:.2f}")


def watchlist_ingest(
    root: Path, settings: Settings, people: list[Path], entries: int, work: Path
) -> None:
    *people, extra = people
    spare = photo(extra, 1)
    third = [photo(p, 3) for p in people]
    print(f"ingest of {len(third)} new photos")
    costs = {}
    for n in (0, entries):
        copy = work / f"atlas-{n}"
        shutil.copytree(root, copy)
        with Atlas.open(settings=settings.with_overrides(atlas_dir=copy)) as atlas:
            service = Service(atlas)
            desk = WatchlistDesk(service)
            user, approver = local_operator("bench"), local_operator("supervisor")
            service.casework.open(user, "BENCH-WATCH", PURPOSE, "benchmark")
            for person in people[:n]:
                entry = desk.add_photo(
                    user, photo(person, 2).read_bytes(), WatchRequest("BENCH-WATCH", 30)
                )
                desk.approve(approver, entry.id)
            folder = copy_photos(third, work / f"third-{n}")
            atlas.ingest(copy_photos([spare], work / f"spare-{n}"))  # warm-up, not timed
            started = time.perf_counter()
            atlas.ingest(folder)
            costs[n] = timed(f"with {n} active entries", time.perf_counter() - started, len(third))
            alerts = len(desk.alerts(user, limit=1000))
            print(f"  alerts raised: {alerts}")
    print(f"  ratio with/without entries {costs[entries] / costs[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = Path(__file__).resolve().parents[2] / "shared" / "faces"
    default_faces = Path(os.environ.get("FACEATLAS_TEST_FACES", shared))
    parser.add_argument("--faces", type=Path, default=default_faces)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--entries", type=int, default=50)
    args = parser.parse_args()
    people = lfw_people(args.faces, args.people + 1)  # one more: a warm-up photo
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        root = work / "atlas"
        settings = Settings(atlas_dir=root, search_rate_per_minute=100_000)
        with Atlas.open(settings=settings) as atlas:
            atlas.ingest(copy_photos([photo(p, 1) for p in people[:-1]], work / "first"))
        with Atlas.open(settings=settings) as atlas:
            service = Service(atlas)
            batch_vs_single(service, people[:-1])
            group_vs_single(service, args.faces)
        watchlist_ingest(root, settings, people, min(args.entries, len(people)), work)


if __name__ == "__main__":
    main()
