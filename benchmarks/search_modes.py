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

Each is run ``--repeat`` times (3), alternating with its baseline, and the medians printed.

    python benchmarks/search_modes.py [--faces ../shared/faces] [--people 100] [--entries 50]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def median_of(runs: list[float]) -> float:
    return statistics.median(runs)


def show(label: str, runs: list[float], count: int) -> float:
    mid = median_of(runs)
    print(
        f"  {label:<34} {mid:7.2f} s median of {len(runs)}  ({1000 * mid / max(count, 1):6.1f} ms each)"
    )
    return mid


def clock(work: Callable[..., object], *args: Any) -> float:
    started = time.perf_counter()
    work(*args)
    return time.perf_counter() - started


def one_by_one(service: Service, probes: list[bytes], requests: list[SearchRequest]) -> None:
    user = local_operator("bench")
    for data, request in zip(probes, requests, strict=True):
        service.search(user, data, request)


def batch_vs_single(service: Service, people: list[Path], repeat: int) -> None:
    user = local_operator("bench")
    probes = [BatchProbe(photo(p, 2).name, photo(p, 2).read_bytes()) for p in people]
    service.search(user, photo(people[0], 1).read_bytes(), SearchRequest("BENCH-W", PURPOSE))
    desk = BatchDesk(service)
    batch_runs: list[float] = []
    single_runs: list[float] = []
    for r in range(repeat):  # alternated, so that both see the same machine
        batch_runs.append(clock(desk.run, user, probes, SearchRequest(f"BENCH-B{r}", PURPOSE)))
        single = [SearchRequest(f"BENCH-S{r}", PURPOSE)] * len(probes)
        single_runs.append(clock(one_by_one, service, [p.data for p in probes], single))
    print(f"batch of {len(probes)} probes")
    batch = show("one batch", batch_runs, len(probes))
    singles = show("single searches", single_runs, len(probes))
    print(f"  ratio batch/single {batch / singles:.2f}")


def group_vs_single(service: Service, faces: Path, repeat: int) -> None:
    user = local_operator("bench")
    data = (faces / "groups" / "insightface" / "worlds-largest-selfie.jpg").read_bytes()
    request = SearchRequest("BENCH-GROUP", PURPOSE)
    outcome = GroupDesk(service).search(user, data, request)
    searched = [f.face.index for f in outcome.faces if f.outcome is not None]
    group_runs: list[float] = []
    single_runs: list[float] = []
    for _ in range(repeat):
        group_runs.append(clock(GroupDesk(service).search, user, data, request))
        per_face = [SearchRequest("BENCH-GROUP", PURPOSE, face=i) for i in searched]
        single_runs.append(clock(one_by_one, service, [data] * len(searched), per_face))
    print(f"group photo: {outcome.faces_found} faces found, {len(searched)} searched")
    group = show("one group search", group_runs, len(searched))
    singles = show("single searches, one per face", single_runs, len(searched))
    print(f"  ratio group/single {group / singles:.2f}")


def watchlist_ingest(
    root: Path, settings: Settings, people: list[Path], entries: int, work: Path, repeat: int
) -> None:
    *people, extra = people
    third = [photo(p, 3) for p in people]
    runs: dict[int, list[float]] = {0: [], entries: []}
    alerts: dict[int, tuple[int, int]] = {}
    for r in range(repeat):
        for n in (0, entries):
            copy = work / f"atlas-{r}-{n}"
            shutil.copytree(root, copy)
            with Atlas.open(settings=settings.with_overrides(atlas_dir=copy)) as atlas:
                service = Service(atlas)
                desk = WatchlistDesk(service)
                user, approver = local_operator("bench"), local_operator("supervisor")
                service.casework.open(user, "BENCH-WATCH", PURPOSE, "benchmark")
                for person in people[:n]:
                    probe = photo(person, 2).read_bytes()
                    watch = WatchRequest("BENCH-WATCH", 30, label=person.name)
                    entry = desk.add_photo(user, probe, watch)
                    desk.approve(approver, entry.id)
                atlas.ingest(copy_photos([photo(extra, 1)], work / f"spare-{r}-{n}"))  # warm-up
                folder = copy_photos(third, work / f"third-{r}-{n}")
                runs[n].append(clock(atlas.ingest, folder))
                raised = desk.alerts(user, limit=1000)
                found = atlas.gallery.faces([a.face_id for a in raised])
                right = sum(
                    Path(found[a.face_id].sightings[0].locator).name.startswith(a.entry_label + "_")
                    for a in raised
                )
                alerts[n] = (len(raised), right)
    raised, right = alerts[entries]
    print(
        f"ingest of {len(third)} new photos: {alerts[0][0]} alerts without entries; with "
        f"{entries} entries {raised} alerts, {right} of them the entry's own person"
    )
    without = show("with no active entry", runs[0], len(third))
    with_entries = show(f"with {entries} active entries", runs[entries], len(third))
    print(f"  ratio with/without entries {with_entries / without:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = Path(__file__).resolve().parents[2] / "shared" / "faces"
    default_faces = Path(os.environ.get("FACEATLAS_TEST_FACES", shared))
    parser.add_argument("--faces", type=Path, default=default_faces)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="Alternated runs; medians shown.")
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
            batch_vs_single(service, people[:-1], args.repeat)
            group_vs_single(service, args.faces, args.repeat)
        entries = min(args.entries, len(people) - 1)
        watchlist_ingest(root, settings, people, entries, work, args.repeat)


if __name__ == "__main__":
    main()
