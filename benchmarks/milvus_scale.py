"""FaceAtlas's Milvus backend at scale on a real Milvus server: IVF index, recall@10 against exact
search, latency, memory and build time.

Gallery (``scale.build_gallery``, model in ``lfw_model``): the default engine's (SFace) real
embeddings of the LFW photos in ``../shared/faces`` (the evaluation cache; built when missing)
plus synthetic faces of synthetic people drawn from a Gaussian model fitted to them, up to
``--faces``. Queries: one photo of every LFW person with two or more photos (its *mate*, another
photo, is in the gallery); none of them is in the gallery.

Server: a Milvus 2.3 standalone server started from the PyPI package ``milvus`` with the
package's default settings (``tests/milvus_server.py``; data under ``--workdir``), or the one at
``--uri``. Everything goes through ``faceatlas.index.MilvusIndex``, the product's code: inserts,
then a flush and the server's own IVF build per sealed segment, then load. Per ``nprobe``:

* recall@10 against exact search (FAISS flat inner product in this process, same gallery):
  the share of exact search's top 10 found in the top 10, for the index alone (Milvus's
  approximate scores) and for FaceAtlas's search (the shortlist re-ranked with exact vectors);
  and the share of exact search's top-10 hits at or above the engine's search threshold
  (the hits a search shows as leads) that FaceAtlas's search finds;
* recall@1 of the mate, as ``scale.py`` reports it;
* latency of one-query searches through ``MilvusIndex.search`` (``Session`` consistency after
  the first, exact re-ranking), wall clock at the client, p50 and p95; and, for the index
  alone, with ``Strong``, ``Session`` and ``Bounded`` consistency (what a guarantee costs);
* memory: the server's resident set (now and peak) and this client's peak.

    FACEATLAS_CACHE_DIR=/work/cache/faceatlas nice .venv/bin/python benchmarks/milvus_scale.py \\
        --faces 1000000 --workdir /tmp/fa-milvus --out /tmp/fa-milvus/results-1M.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.milvus_server import MilvusServerProcess

from faceatlas.choices import EngineName
from faceatlas.engine import EngineSpec, create_engine
from faceatlas.index import MilvusIndex, MilvusOptions
from scale import DIM, build_gallery

TOP_K = 10
INSERT_BATCH = 50_000


def server_memory(pid: int | None) -> dict[str, float]:
    """The server's resident set now and at its peak, GB (``/proc``; empty for a remote one)."""
    if pid is None:
        return {}
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024 / 1e9
    return {"server_rss_gb": fields["VmRSS"], "server_peak_rss_gb": fields["VmHWM"]}


def wait_for_index(index: MilvusIndex, total: int, timeout_s: float) -> None:
    """Until the server has built the index of every sealed row."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = index._client.describe_index(index.collection, "vector")
        if (
            int(info.get("indexed_rows", 0)) >= total
            and int(info.get("pending_index_rows", 0)) == 0
        ):
            return
        time.sleep(2)
    raise TimeoutError(f"index not built within {timeout_s:.0f} s: {info}")


def build(index: MilvusIndex, gallery: np.ndarray, args: argparse.Namespace) -> dict[str, float]:
    """Insert the gallery, flush, wait for the IVF build, reload: seconds of each step."""
    times: dict[str, float] = {}
    started = time.perf_counter()
    for s in range(0, len(gallery), INSERT_BATCH):
        chunk = np.ascontiguousarray(gallery[s : s + INSERT_BATCH])
        index.add(np.arange(s, s + len(chunk), dtype=np.int64), chunk)
    times["insert_s"] = time.perf_counter() - started
    step = time.perf_counter()
    index._client.flush(index.collection)
    times["flush_s"] = time.perf_counter() - step
    step = time.perf_counter()
    wait_for_index(index, len(gallery), args.index_timeout)
    times["index_build_s"] = time.perf_counter() - step
    step = time.perf_counter()
    index._client.release_collection(index.collection)
    index._client.load_collection(index.collection)
    times["load_s"] = time.perf_counter() - step
    times["build_total_s"] = time.perf_counter() - started
    return times


def recall_at_k(found: Sequence[Sequence[int]], exact: np.ndarray) -> float:
    """Mean share of each query's exact top 10 found in its top 10."""
    hits = [len(set(f[:TOP_K]) & set(e.tolist())) for f, e in zip(found, exact, strict=True)]
    return float(np.mean(hits)) / TOP_K


def recall_of_leads(found: Sequence[Sequence[int]], exact: np.ndarray, leads: np.ndarray) -> float:
    """Share of the exact top-10 hits at or above the engine's search threshold (the hits a
    search would show as leads) that are found."""
    wanted = [set(e[m].tolist()) for e, m in zip(exact, leads, strict=True)]
    found_sets = [set(f[:TOP_K]) for f in found]
    total = sum(len(w) for w in wanted)
    return sum(len(w & f) for w, f in zip(wanted, found_sets, strict=True)) / max(1, total)


def latency(search: Callable[[np.ndarray], object], queries: np.ndarray) -> dict[str, float]:
    wall = []
    for q in queries:
        t = time.perf_counter()
        search(q.reshape(1, -1))
        wall.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": float(np.percentile(wall, 50)), "p95_ms": float(np.percentile(wall, 95))}


def raw_search(index: MilvusIndex, nprobe: int, consistency: str) -> Callable[[np.ndarray], list]:
    """The index alone (no re-ranking), at a consistency level."""

    def search(q: np.ndarray) -> list:
        result = index._client.search(
            index.collection,
            data=q,
            limit=TOP_K,
            anns_field="vector",
            search_params={"metric_type": "IP", "params": {"nprobe": nprobe}},
            output_fields=["id"],
            consistency_level=consistency,
        )
        return [[int(h["id"]) for h in row] for row in result]

    return search


def measure(
    index: MilvusIndex, g: dict, exact: np.ndarray, leads: np.ndarray, args: argparse.Namespace
) -> list[dict]:
    queries = g["queries"][: args.recall_queries]
    timed = g["queries"][: args.single]
    curve = []
    for nprobe in args.nprobe:
        index.options = replace(index.options, nprobe=nprobe)
        reranked = index.search(queries, TOP_K)
        ours = [[h.id for h in r] for r in reranked]
        alone = raw_search(index, nprobe, "Strong")(queries)
        point = {
            "nprobe": nprobe,
            "recall_at_10_index": recall_at_k(alone, exact),
            "recall_at_10_faceatlas": recall_at_k(ours, exact),
            "recall_of_leads_faceatlas": recall_of_leads(ours, exact, leads),
            "mate_recall_at_1": float(
                np.mean([r[0].id == m for r, m in zip(reranked, g["mate_ids"], strict=False)])
            ),
            "faceatlas_search": latency(lambda q: index.search(q, TOP_K), timed),
            "index_strong": latency(raw_search(index, nprobe, "Strong"), timed),
            "index_session": latency(raw_search(index, nprobe, "Session"), timed),
            "index_bounded": latency(raw_search(index, nprobe, "Bounded"), timed),
        }
        curve.append(point)
        print(json.dumps(point), flush=True)
    return curve


def run(args: argparse.Namespace, uri: str, server_pid: int | None) -> dict:
    started = time.time()
    g = build_gallery(args.faces, args.workdir, args.seed, reuse=args.keep, engine=args.engine)
    gallery = np.memmap(g["path"], dtype=np.float32, mode="r", shape=(args.faces, DIM))
    print(f"gallery of {args.faces} ready in {time.time() - started:.0f} s", flush=True)

    t = time.perf_counter()
    flat = faiss.IndexFlatIP(DIM)
    for s in range(0, len(gallery), 1_000_000):
        flat.add(np.ascontiguousarray(gallery[s : s + 1_000_000]))
    exact_sims, exact = flat.search(g["queries"][: args.recall_queries], TOP_K)
    exact_s = time.perf_counter() - t
    threshold = create_engine(EngineSpec.for_engine(args.engine)).card.search_min_similarity
    leads = exact_sims >= threshold
    exact_mate = float(np.mean(exact[:, 0] == g["mate_ids"][: len(exact)]))
    del flat

    def lookup(ids: Sequence[int]) -> dict[int, np.ndarray]:
        wanted = np.asarray(ids, dtype=np.int64)
        return dict(zip(wanted.tolist(), gallery[wanted], strict=True))

    options = MilvusOptions(
        uri=uri,
        collection_prefix=args.prefix,
        index_type=args.index_type,
        nlist=args.nlist,
        nprobe=args.nprobe[0],
    )
    state = Path(tempfile.mkdtemp(dir=args.workdir))
    index = MilvusIndex(state, "bench", DIM, options, lookup)
    index.reset()
    times = build(index, gallery, args)
    print("build:", json.dumps(times), flush=True)
    memory_loaded = server_memory(server_pid)
    curve = measure(index, g, exact, leads, args)
    results = {
        "faces": args.faces,
        "engine": args.engine.value,
        "index": f"{args.index_type} nlist={args.nlist} per sealed segment",
        "recall_queries": len(exact),
        "timed_queries": min(args.single, len(g["queries"])),
        "real_photos": g["real_photos"],
        "model_check": {"real": g["real_stats"], "synthetic": g["synth_stats"]},
        "count_in_milvus": len(index),
        "exact_top10_s_in_process": exact_s,
        "exact_mate_recall_at_1": exact_mate,
        "lead_threshold": threshold,
        "exact_leads_per_query": float(leads.sum(axis=1).mean()),
        **times,
        **memory_loaded,
        **{f"after_queries_{k}": v for k, v in server_memory(server_pid).items()},
        "client_peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        "curve": curve,
        "cpu_count": os.cpu_count(),
        "loadavg_start": args.loadavg_start,
        "loadavg_end": os.getloadavg(),
        "wall_s": time.time() - started,
    }
    index._client.drop_collection(index.collection)
    index.close()
    if not args.keep:
        del gallery
        g["path"].unlink()
        g["path"].with_suffix(".json").unlink()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "fa-milvus")
    parser.add_argument("--uri", help="a running Milvus server; default: start one here")
    parser.add_argument("--engine", type=EngineName, default=EngineName.SFACE)
    parser.add_argument("--index-type", default="IVF_SQ8")
    parser.add_argument("--nlist", type=int, default=1024)
    parser.add_argument("--nprobe", default="16,32,64,128,256")
    parser.add_argument("--recall-queries", type=int, default=1000)
    parser.add_argument("--single", type=int, default=200, help="one-query searches timed")
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--index-timeout", type=float, default=3600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the gallery file")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    args.nprobe = [int(x) for x in args.nprobe.split(",")]
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.loadavg_start = os.getloadavg()
    if args.uri:
        results = run(args, args.uri, None)
    else:
        server_dir = args.workdir / "milvus-server"
        shutil.rmtree(server_dir, ignore_errors=True)  # a fresh server, not one left by a kill
        server = MilvusServerProcess(server_dir, settings={})
        try:
            results = run(args, server.wait_ready(), server.proc.pid)
        finally:
            server.stop()
    out = args.out or args.workdir / f"milvus-results-{args.faces}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"results in {out}")


if __name__ == "__main__":
    main()
