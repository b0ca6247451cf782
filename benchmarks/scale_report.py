"""Markdown tables from ``benchmarks/scale.py`` results (the tables in docs/scaling.md).

.venv/bin/python benchmarks/scale_report.py results-1000000.json [results-10000000.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def report(path: Path) -> str:
    r = json.loads(path.read_text())
    e = r["exact"]
    exact_recall = e["recall_at_1"]
    lines = [
        f"**{r['faces']:,} faces**, {r['queries']:,} mated queries "
        f"({r['real_photos']:,} LFW photos of {r['real_people']:,} people), "
        f"load average {r['loadavg_start'][0]:.1f} on {r['cpu_count']} cores at the start.",
        "",
        "| backend | nprobe | build s (wall) | index B/face | p50 ms | p99 ms | batch QPS/core "
        "| recall@1 of mate | vs exact |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {e['backend']} | - | {e['build_s']:.1f} | {e['bytes_per_face']:.0f} "
        f"| {e['p50_ms']:.2f} | {e['p99_ms']:.2f} | {e['batch_qps_per_core']:.0f} "
        f"| {exact_recall:.4f} | 1 |",
    ]
    for ivf in r["ivf"]:
        for p in ivf["curve"]:
            lines.append(
                f"| {ivf['backend']} | {p['nprobe']} | {ivf['build_s']:.1f} "
                f"| {ivf['bytes_per_face']:.1f} | {p['p50_ms']:.2f} | {p['p99_ms']:.2f} "
                f"| {p['batch_qps_per_core']:.0f} | {p['recall_at_1']:.4f} "
                f"| {p['recall_at_1'] / exact_recall:.4f} |"
            )
    m = r.get("milvus_lite")
    if m:
        lines.append(
            f"| {m['backend']} | {m['backend'].split('nprobe=')[1].split()[0]} "
            f"| {m['build_s']:.1f} | - | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} "
            f"| {m['batch_qps_per_core']:.0f} | {m['recall_at_1']:.4f} "
            f"| {m['recall_at_1'] / m['exact_recall_at_1_same_gallery']:.4f} (exact on the same "
            f"{m['faces']:,}: {m['exact_recall_at_1_same_gallery']:.4f}) |"
        )
    lines += [
        "",
        f"Exact scan: {e['scan_gb_s_per_core']:.1f} GB/s of vectors per core-second at p50; "
        f"sequential read on one core (numpy sum): {r['read_bandwidth_gb_s_one_core']:.1f} GB/s. "
        f"Wall-clock p50 of exact single queries on the shared machine: {e['wall_p50_ms']:.1f} ms.",
        "",
        "Model check (cosine similarity, real LFW vs synthetic): "
        + ", ".join(
            f"{k} {r['model_check']['real'][k]:.4f} vs {r['model_check']['synthetic'][k]:.4f}"
            for k in ("mated_mean", "mated_std", "mated_p01", "non_mean", "non_std", "non_p999")
        )
        + ".",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, nargs="+", help="JSON files scale.py wrote (--out)")
    args = parser.parse_args()
    print("\n\n".join(report(p) for p in args.results))


if __name__ == "__main__":
    main()
