"""Large-scale index benchmark on realistic synthetic embeddings (see ``lfw_model``).

Gallery of N faces: for every LFW person with two or more photos, one photo is a
query and another (its *mate*) is in the gallery; every single-photo LFW person is a
real distractor; the rest are synthetic faces of synthetic people. Recall@1 of the
mated face = share of queries whose rank-1 hit is their mate. Each approximate
backend is reported as a ratio to exact search measured in the same run.

    FACEATLAS_CACHE_DIR=/work/cache/faceatlas nice .venv/bin/python benchmarks/scale.py \\
        --faces 1000000 --workdir /tmp/faceatlas-bench
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before FAISS starts its OpenMP threads

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faceatlas.choices import EngineName
from faceatlas.eval.embed import default_cache_dir
from faceatlas.index import IvfIndex, IvfOptions, MilvusIndex, MilvusOptions
from lfw_model import (
    calibrate,
    cosine_stats,
    fit,
    load_lfw_embeddings,
    synth_labelled,
)

DIM = 128
CHUNK = 1_000_000
TOP_K = 10


def read_bandwidth() -> float:
    """Single-core sequential read bandwidth, bytes per CPU-second (numpy sum over 512 MiB,
    best of 3)."""
    a = np.ones(512 * 1024 * 1024 // 4, dtype=np.float32)
    best = 0.0
    for _ in range(3):
        t = time.thread_time()
        a.sum()
        best = max(best, a.nbytes / max(1e-9, time.thread_time() - t))
    return best


def build_gallery(
    n_faces: int, workdir: Path, seed: int, reuse: bool, engine: EngineName = EngineName.DLIB
) -> dict:
    """Write the gallery (float32 memmap, row = id) and return queries, mates and the model check.

    With ``reuse``, a gallery written before with the same size, seed and engine is read back.
    """
    tag = "" if engine is EngineName.DLIB else f"-{engine.value}"
    path = workdir / f"gallery-{n_faces}-{seed}{tag}.f32"
    meta = path.with_suffix(".json")
    if reuse and path.is_file() and meta.is_file():
        saved = json.loads(meta.read_text())
        saved["path"] = path
        saved["queries"] = np.asarray(saved["queries"], dtype=np.float32)
        saved["mate_ids"] = np.asarray(saved["mate_ids"], dtype=np.int64)
        return saved
    rng = np.random.default_rng(seed)
    real = load_lfw_embeddings(default_cache_dir(), engine=engine)
    counts = np.bincount(real.person)
    model = fit(real)
    real_stats = cosine_stats((real.vectors, real.person), rng)
    model = calibrate(model, real_stats, rng)
    synth_stats = cosine_stats(synth_labelled(model, rng, 20_000), rng)

    queries, mates, distractors = [], [], []
    for p in range(len(counts)):
        rows = np.flatnonzero(real.person == p)
        if len(rows) >= 2:
            queries.append(rows[0])
            mates.append(rows[1])
        else:
            distractors.append(rows[0])
    real_rows = np.asarray(mates + distractors)
    n_synth = n_faces - len(real_rows)
    gallery = np.memmap(path, dtype=np.float32, mode="w+", shape=(n_faces, DIM))
    written = 0
    while written < n_synth:
        people = max(1, int((n_synth - written) / max(1.0, model.faces_per_person.mean())))
        x, _ = synth_labelled(model, rng, min(people, CHUNK // 2))
        take = min(len(x), n_synth - written)
        gallery[written : written + take] = x[:take]
        written += take
    gallery[n_synth:] = real.vectors[real_rows]
    gallery.flush()
    mate_ids = np.arange(n_synth, n_synth + len(mates), dtype=np.int64)
    out = {
        "queries": real.vectors[np.asarray(queries)].tolist(),
        "mate_ids": mate_ids.tolist(),
        "real_photos": len(real.person),
        "real_people": len(counts),
        "real_stats": real_stats,
        "synth_stats": synth_stats,
        "scales": (model.scale_within, model.scale_between),
    }
    meta.write_text(json.dumps(out))
    out["path"] = path
    out["queries"] = np.asarray(out["queries"], dtype=np.float32)
    out["mate_ids"] = mate_ids
    return out


def timed_single(search, queries: np.ndarray, n: int) -> dict:
    """Latency of one-query searches on one core, ms: wall clock and CPU time of the process.

    The machine is shared, so wall time includes waiting for a core; CPU time (every
    thread of this process, e.g. Milvus Lite's server threads) is what one query costs.
    """
    faiss.omp_set_num_threads(1)
    wall, cpu = [], []
    for q in queries[:n]:
        c = time.process_time()
        t = time.perf_counter()
        search(q.reshape(1, -1))
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return {
        "p50_ms": float(np.percentile(cpu, 50)),
        "p99_ms": float(np.percentile(cpu, 99)),
        "wall_p50_ms": float(np.percentile(wall, 50)),
        "wall_p99_ms": float(np.percentile(wall, 99)),
        "timed_queries": len(cpu),
    }


def timed_batch(search, queries: np.ndarray, threads: int) -> tuple[dict, list]:
    """One batch search of every query on ``threads`` threads: QPS by wall clock and per core."""
    faiss.omp_set_num_threads(threads)
    c = time.process_time()
    t = time.perf_counter()
    out = search(queries)
    wall = time.perf_counter() - t
    cpu = time.process_time() - c
    return {"batch_qps": len(queries) / wall, "batch_qps_per_core": len(queries) / cpu}, out


def recall_at_1(top1: Sequence[int], mate_ids: np.ndarray) -> float:
    return float(np.mean(np.asarray(top1) == mate_ids))


def bench_exact(gallery: np.ndarray, g: dict, args: argparse.Namespace) -> dict:
    t = time.perf_counter()
    flat = faiss.IndexFlatIP(DIM)
    for s in range(0, len(gallery), CHUNK):
        flat.add(np.ascontiguousarray(gallery[s : s + CHUNK]))
    build_s = time.perf_counter() - t
    single = timed_single(lambda q: flat.search(q, TOP_K), g["queries"], args.single_exact)
    batch, (_, ids) = timed_batch(lambda q: flat.search(q, TOP_K), g["queries"], args.threads)
    return {
        "backend": "exact (FAISS Flat IP)",
        "build_s": build_s,
        "bytes_per_face": DIM * 4,
        **single,
        **batch,
        "top1": ids[:, 0].tolist(),
        "scan_gb_s_per_core": len(gallery) * DIM * 4 / (single["p50_ms"] / 1000) / 1e9,
    }


def bench_ivf(
    gallery: np.ndarray, g: dict, codes: str, args: argparse.Namespace, exact_top1: list
) -> dict:
    def lookup(ids: Sequence[int]) -> dict[int, np.ndarray]:
        wanted = np.asarray(ids, dtype=np.int64)
        rows = gallery[wanted]
        return dict(zip(wanted.tolist(), rows, strict=True))

    workdir = Path(tempfile.mkdtemp(dir=args.workdir))
    options = IvfOptions(codes=codes, nprobe=args.nprobe[0], rerank_shortlist=args.shortlist)
    faiss.omp_set_num_threads(args.threads)
    t = time.perf_counter()
    index = IvfIndex(workdir, "bench", DIM, options, lookup)
    index.plan_for(len(gallery))
    for s in range(0, len(gallery), CHUNK):
        ids = np.arange(s, min(s + CHUNK, len(gallery)), dtype=np.int64)
        index.add(ids, np.ascontiguousarray(gallery[s : s + CHUNK]))
    build_s = time.perf_counter() - t
    stats = index.stats()
    serialized = len(faiss.serialize_index(index._index))
    curve = []
    for nprobe in args.nprobe:
        index.set_nprobe(nprobe)
        single = timed_single(lambda q: index.search(q, TOP_K), g["queries"], args.single)
        batch, hits = timed_batch(lambda q: index.search(q, TOP_K), g["queries"], args.threads)
        top1 = [row[0].id if row else -1 for row in hits]
        curve.append(
            {
                "nprobe": nprobe,
                **single,
                **batch,
                "recall_at_1": recall_at_1(top1, g["mate_ids"]),
                "agree_with_exact": float(np.mean(np.asarray(top1) == np.asarray(exact_top1))),
            }
        )
        print(f"  {codes} nprobe={nprobe}: {curve[-1]}", flush=True)
    index.close()
    return {
        "backend": f"FAISS {stats['spec']} + exact re-rank of {args.shortlist}",
        "build_s": build_s,
        "bytes_per_face": stats["memory_bytes"] / len(gallery),
        "serialized_bytes_per_face": serialized / len(gallery),
        "curve": curve,
    }


def bench_milvus(gallery: np.ndarray, g: dict, n: int, args: argparse.Namespace) -> dict:
    """Milvus Lite on the first ``n`` synthetic faces plus every real gallery face."""
    n_real = len(gallery) - int(g["mate_ids"][0])
    rows = np.r_[np.arange(n - n_real), np.arange(len(gallery) - n_real, len(gallery))]
    sub = np.ascontiguousarray(gallery[rows])
    mate_pos = np.searchsorted(rows, g["mate_ids"])
    flat = faiss.IndexFlatIP(DIM)
    flat.add(sub)
    faiss.omp_set_num_threads(args.threads)
    exact_top1 = flat.search(g["queries"], 1)[1][:, 0]
    workdir = Path(tempfile.mkdtemp(dir=args.workdir))
    options = MilvusOptions(
        uri=str(workdir / "milvus.db"), index_type="IVF_SQ8", nlist=1024, nprobe=32
    )
    t = time.perf_counter()
    index = MilvusIndex(workdir, "bench", DIM, options)
    index.add(np.arange(len(sub), dtype=np.int64), sub)
    index.save(0)
    build_s = time.perf_counter() - t
    single = timed_single(lambda q: index.search(q, TOP_K), g["queries"], args.single)
    batch, hits = timed_batch(lambda q: index.search(q, TOP_K), g["queries"], args.threads)
    top1 = [row[0].id if row else -1 for row in hits]
    index.close()
    return {
        "backend": f"Milvus Lite IVF_SQ8 nlist=1024 nprobe=32 at {len(sub)} faces",
        "faces": len(sub),
        "build_s": build_s,
        **single,
        **batch,
        "recall_at_1": recall_at_1(top1, mate_pos),
        "exact_recall_at_1_same_gallery": recall_at_1(exact_top1, mate_pos),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--codes", default="SQ8,PQ32")
    parser.add_argument("--nprobe", default="16,32,64,128,256")
    parser.add_argument("--shortlist", type=int, default=64)
    parser.add_argument("--single", type=int, default=500, help="one-query searches timed")
    parser.add_argument("--single-exact", type=int, default=100)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--milvus", type=int, default=200_000, help="Milvus Lite size; 0 skips")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the gallery file")
    parser.add_argument(
        "--engine",
        type=EngineName,
        default=EngineName.DLIB,
        help="whose LFW embeddings the synthetic faces are fitted to (default: dlib)",
    )
    args = parser.parse_args()
    args.nprobe = [int(x) for x in args.nprobe.split(",")]
    args.workdir.mkdir(parents=True, exist_ok=True)

    started = time.time()
    g = build_gallery(args.faces, args.workdir, args.seed, reuse=args.keep, engine=args.engine)
    print(f"gallery of {args.faces} built in {time.time() - started:.0f}s", flush=True)
    print("real LFW   :", g["real_stats"], flush=True)
    print("synthetic  :", g["synth_stats"], flush=True)
    gallery = np.memmap(g["path"], dtype=np.float32, mode="r", shape=(args.faces, DIM))
    results: dict = {
        "faces": args.faces,
        "queries": len(g["queries"]),
        "real_photos": g["real_photos"],
        "real_people": g["real_people"],
        "model_check": {"real": g["real_stats"], "synthetic": g["synth_stats"]},
        "noise_scales": g["scales"],
        "threads_batch": args.threads,
        "cpu_count": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "read_bandwidth_gb_s_one_core": read_bandwidth() / 1e9,
    }
    exact = bench_exact(gallery, g, args)
    exact["recall_at_1"] = recall_at_1(exact["top1"], g["mate_ids"])
    print("exact      :", {k: v for k, v in exact.items() if k != "top1"}, flush=True)
    results["exact"] = {k: v for k, v in exact.items() if k != "top1"}
    results["ivf"] = []
    for codes in args.codes.split(","):
        r = bench_ivf(gallery, g, codes, args, exact["top1"])
        for point in r["curve"]:
            point["recall_ratio_vs_exact"] = point["recall_at_1"] / exact["recall_at_1"]
        print(codes, {k: v for k, v in r.items() if k != "curve"}, flush=True)
        results["ivf"].append(r)
    if args.milvus:
        results["milvus_lite"] = bench_milvus(gallery, g, min(args.milvus, args.faces), args)
        print("milvus lite:", results["milvus_lite"], flush=True)
    results["loadavg_end"] = os.getloadavg()
    results["max_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    results["wall_s"] = time.time() - started
    out = args.out or args.workdir / f"results-{args.faces}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"results in {out}")
    del gallery
    if not args.keep:
        g["path"].unlink()
        g["path"].with_suffix(".json").unlink()


if __name__ == "__main__":
    main()
