"""Load test of the running server over loopback: N concurrent clients searching for T seconds.

Two steps, run from the repository root:

    # 1. An atlas of LFW faces built from the engine's cached embeddings (no re-embedding):
    FACEATLAS_CACHE_DIR=/work/cache/faceatlas .venv/bin/python benchmarks/load_api.py build \
        --atlas /tmp/bench-atlas --faces 6000 [--engine sface|dlib]
    # 2. Start `faceatlas serve` on it (first process) and drive it from this one:
    FACEATLAS_CACHE_DIR=/work/cache/faceatlas .venv/bin/python benchmarks/load_api.py run \
        --atlas /tmp/bench-atlas --clients 8 --seconds 60 [--engine sface|dlib]

How the atlas is built, honestly: each LFW photo's embedding is the one the
evaluation cache computed with the same engine (`faceatlas.eval.embed`); it is
written through the catalog API (`CatalogWriter.add_image`) with the photo's
real SHA-256, size, a real thumbnail cropped from the photo, and the face box
the dataset documents (LFW photos are centred on the face: the centred
110-of-250 px box). Detector score and landmarks are not in the cache and are
stored as 0 / empty. Search requests then run the full live path: upload,
decode, detection, alignment, embedding, index search, catalog reads, audit.

Baseline, measured in the same run: one client alone for a short warm-up
period. The report gives p50/p95 latency and throughput for N clients and
their ratios to that baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from faceatlas import Atlas, Settings
from faceatlas.accounts import Role, TokenKind
from faceatlas.choices import EngineName
from faceatlas.engine import EngineSpec
from faceatlas.errors import ConflictError
from faceatlas.eval.embed import (
    CENTRE_FRACTION,
    STATUS_FAILED,
    default_cache_dir,
    embed_photos,
)
from faceatlas.store import NewSighting
from faceatlas.types import AnalyzedFace, Box, DetectedFace, FaceQuality
from lfw_model import embedding_progress
from load_optout_form import attack, selfie

REPO = Path(__file__).resolve().parent.parent
FACES = Path(os.environ.get("FACEATLAS_TEST_FACES", REPO.parent / "shared" / "faces"))
LFW = FACES / "lfw" / "images"
PASSWORD = "benchmark password 2026"
CASE = {"case_number": "BENCH-0001", "purpose": "criminal investigation"}


def lfw_photos() -> list[Path]:
    return sorted(LFW.glob("*/*.jpg"))


def build(atlas_dir: Path, n_faces: int, clients: int, engine: EngineName) -> None:
    t0 = time.perf_counter()
    spec = EngineSpec.from_settings(Settings(atlas_dir=atlas_dir, engine=engine))
    photos = lfw_photos()[:n_faces]  # embedded now where the evaluation cache lacks them
    emb = embed_photos(
        photos, spec, workers=2, cache_dir=default_cache_dir(), progress=embedding_progress
    )
    print(f"embeddings for {len(photos)} photos from the cache in {time.perf_counter() - t0:.1f} s")
    settings = Settings(atlas_dir=atlas_dir, engine=engine)
    with Atlas.open(settings=settings) as atlas:
        px = settings.thumbnail_px
        written = 0
        with atlas.catalog.writer() as w:
            source_id = w.ensure_source("benchmark_lfw", str(LFW))
            for path, vector, status in zip(photos, emb.vectors, emb.status, strict=True):
                if int(status) == STATUS_FAILED:
                    continue
                data = path.read_bytes()
                sha = hashlib.sha256(data).hexdigest()
                if w.image_id_for_sha(sha) is not None:
                    continue
                img = Image.open(io.BytesIO(data)).convert("RGB")
                side = CENTRE_FRACTION * min(img.size)
                cx, cy = img.size[0] / 2, img.size[1] / 2
                box = Box(
                    int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2)
                )
                thumb = img.crop((box.left, box.top, box.right, box.bottom))
                thumb.thumbnail((px, px))
                buf = io.BytesIO()
                thumb.save(buf, "JPEG", quality=85)
                face = AnalyzedFace(
                    detection=DetectedFace(box=box, landmarks=(), score=0.0),
                    quality=FaceQuality(
                        box_px=box.width, detector_score=0.0, sharpness=0.0, frontal=1.0
                    ),
                    embedding=np.asarray(vector, dtype=np.float32),
                    thumbnail_jpeg=buf.getvalue(),
                )
                image_id, _ = w.add_image(
                    sha256=sha,
                    byte_size=len(data),
                    width=img.size[0],
                    height=img.size[1],
                    format="JPEG",
                    faces=[face],
                    model_id=atlas.model_id,
                )
                w.add_sighting(
                    image_id,
                    NewSighting(
                        source_id=source_id,
                        locator=str(path),
                        page_url=f"https://lfw.example/{path.parent.name}",
                        page_title=f"LFW: {path.parent.name.replace('_', ' ')}",
                    ),
                )
                written += 1
        atlas.gallery.rebuild_index()
        for i in range(1, clients + 1):
            name = f"bench{i}"
            with contextlib.suppress(ConflictError):  # exists from an earlier build
                atlas.accounts.create_user(name, Role.INVESTIGATOR, unit="bench", password=PASSWORD)
        print(
            f"wrote {written} faces; index holds {len(atlas.index)} vectors ({time.perf_counter() - t0:.1f} s)"
        )


def _probe_photos(engine: EngineName, n: int) -> list[Path]:
    """``n`` LFW photos drawn at random (people in the atlas and people not in it) in which the
    server's engine (the atlas's) finds a face. Only the drawn photos are embedded where the
    evaluation cache lacks them."""
    spec = EngineSpec.from_settings(Settings(engine=engine))
    photos = lfw_photos()
    rng = np.random.default_rng(7)
    drawn = [photos[int(i)] for i in rng.choice(len(photos), size=2 * n, replace=False)]
    emb = embed_photos(
        drawn, spec, workers=2, cache_dir=default_cache_dir(), progress=embedding_progress
    )
    found = [p for p, st in zip(drawn, emb.status, strict=True) if st == 0]
    if len(found) < n:
        raise SystemExit(f"only {len(found)} of {2 * n} drawn photos have a detected face")
    return found[:n]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tokens(atlas_dir: Path, clients: int, engine: EngineName) -> list[str]:
    with Atlas.open(settings=Settings(atlas_dir=atlas_dir, engine=engine)) as atlas:
        return [
            atlas.accounts.issue(
                atlas.accounts.by_name(f"bench{i}"), TokenKind.API, 3600, name="bench"
            ).secret
            for i in range(1, clients + 1)
        ]


def _drive(
    url: str, tokens: list[str], probes: list[bytes], seconds: float
) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = time.perf_counter()
    stop_at = start + seconds

    def client(idx: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[idx]}"}
        n = idx
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.perf_counter() < stop_at:
                data = probes[n % len(probes)]
                n += len(tokens)
                t = time.perf_counter()
                try:
                    r = http.post(
                        "/api/v1/search",
                        files={"image": ("p.jpg", data)},
                        data=CASE,
                        headers=headers,
                    )
                    ok = r.status_code == 200
                    err = "" if ok else f"{r.status_code} {r.text[:120]}"
                except httpx.HTTPError as exc:
                    ok, err = False, repr(exc)
                dt = time.perf_counter() - t
                with lock:
                    if ok:
                        latencies.append(dt)
                    else:
                        errors.append(err)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(tokens))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return latencies, errors, time.perf_counter() - start


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def run(
    atlas_dir: Path,
    clients: int,
    seconds: float,
    baseline_s: float,
    engine: EngineName,
    attacker: bool = False,
    n_probes: int = 200,
) -> None:
    # Probes: LFW photos in which the detector finds a face, read once. (The one run recorded in
    # docs/api.md drew from every photo; 2 of its probes had no detectable face.)
    photos = _probe_photos(engine, n_probes)
    probes = [p.read_bytes() for p in photos]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # The atlas holds one engine's cached embeddings, so the server runs that engine.
    env = {
        **os.environ,
        "FACEATLAS_SEARCH_RATE_PER_MINUTE": "1000000",
        "FACEATLAS_ENGINE": engine.value,
    }
    faceatlas = Path(sys.executable).with_name("faceatlas")
    log = open(atlas_dir / "bench-server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [
            str(faceatlas),
            "serve",
            "--atlas",
            str(atlas_dir),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"{url}/api/v1/health", timeout=1).json()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("server did not start") from None
                time.sleep(0.3)
        tokens = _tokens(atlas_dir, clients, engine)
        print(
            f"server pid {server.pid} on {url}: {health['indexed_faces']} indexed faces, model {health['model_id']}"
        )
        # Warm-up (not measured): the first search loads the face models.
        warm = httpx.post(
            f"{url}/api/v1/search",
            files={"image": ("p.jpg", probes[0])},
            data=CASE,
            headers={"Authorization": f"Bearer {tokens[0]}"},
            timeout=120,
        )
        warm.raise_for_status()
        base_lat, base_err, base_wall = _drive(url, tokens[:1], probes, baseline_s)
        lat, err, wall = _drive(url, tokens, probes, seconds)
        base_tp = len(base_lat) / base_wall
        tp = len(lat) / wall
        print(
            f"baseline  1 client  {base_wall:5.1f} s: {len(base_lat)} ok, {len(base_err)} errors, "
            f"p50 {1000 * _pct(base_lat, 50):.0f} ms, p95 {1000 * _pct(base_lat, 95):.0f} ms, {base_tp:.2f} req/s"
        )
        print(
            f"load    {clients:2d} clients {wall:5.1f} s: {len(lat)} ok, {len(err)} errors, "
            f"p50 {1000 * _pct(lat, 50):.0f} ms, p95 {1000 * _pct(lat, 95):.0f} ms, {tp:.2f} req/s"
        )
        print(
            f"ratios vs baseline: p50 x{_pct(lat, 50) / _pct(base_lat, 50):.2f}, "
            f"p95 x{_pct(lat, 95) / _pct(base_lat, 95):.2f}, throughput x{tp / base_tp:.2f}"
        )
        if err:
            print("first errors:", *err[:5], sep="\n  ")
        if attacker:
            big = photos[0]
            # the largest selfies the form analyses (3900 x 3900 = 15.2 MP; 40 MP ones are
            # refused from their header, which costs nothing)
            selfies = [selfie(big, 3900)] * 10
            stop, counts = threading.Event(), {}
            flood = threading.Thread(target=attack, args=(url, selfies, stop, counts))
            flood.start()
            try:
                a_lat, a_err, a_wall = _drive(url, tokens, probes, seconds)
            finally:
                stop.set()
                flood.join()
            print(
                f"with an attacker on /optout {a_wall:5.1f} s: {len(a_lat)} ok, {len(a_err)} errors, "
                f"p50 {1000 * _pct(a_lat, 50):.0f} ms, p95 {1000 * _pct(a_lat, 95):.0f} ms; "
                f"p95 x{_pct(a_lat, 95) / _pct(lat, 95):.2f} of the same load without; "
                f"opt-out answers {dict(sorted(counts.items()))}"
            )
            if a_err:
                print("first errors:", *a_err[:5], sep="\n  ")
        with Atlas.open(settings=Settings(atlas_dir=atlas_dir, engine=engine)) as atlas:
            report = atlas.audit.verify()
        print(f"audit log after the run: {report.entries} entries, chain ok={report.ok}")
        print(f"cpu cores: {os.cpu_count()}; mean latency {statistics.fmean(lat) * 1000:.0f} ms")
    finally:
        server.terminate()
        server.wait(15)
        log.close()
    server_log = (atlas_dir / "bench-server.log").read_text()
    if re.search(r"Traceback|ERROR", server_log):
        print("server log has errors:\n" + server_log[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--atlas", type=Path, required=True)
    b.add_argument("--faces", type=int, default=6000)
    b.add_argument("--clients", type=int, default=8)
    r = sub.add_parser("run")
    r.add_argument("--atlas", type=Path, required=True)
    r.add_argument("--clients", type=int, default=8)
    r.add_argument("--seconds", type=float, default=60.0)
    r.add_argument("--baseline-seconds", type=float, default=15.0)
    r.add_argument(
        "--attacker",
        action="store_true",
        help="then run the same load while four addresses flood the public opt-out form",
    )
    r.add_argument("--probes", type=int, default=200, help="probe photos the clients cycle through")
    for p in (b, r):
        p.add_argument("--engine", choices=[e.value for e in EngineName], default="sface")
    args = parser.parse_args()
    engine = EngineName(args.engine)
    if args.cmd == "build":
        build(args.atlas, args.faces, args.clients, engine)
    else:
        run(
            args.atlas,
            args.clients,
            args.seconds,
            args.baseline_seconds,
            engine,
            args.attacker,
            args.probes,
        )


if __name__ == "__main__":
    main()
