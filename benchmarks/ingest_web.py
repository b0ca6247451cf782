"""End-to-end ingest throughput: a WARC.gz of N LFW photos against a folder of the same photos.

Each photo gets its own HTML page record (title, <img alt>) followed by its image record, as
in a crawl archive. Both runs are the real CLI (`faceatlas ingest ... --workers W`) in a fresh
atlas, one after the other in this process's session; the peak resident memory of the whole
process tree (the ingest process plus its workers, summed) is sampled every 0.1 s.

    nice .venv/bin/python benchmarks/ingest_web.py --images 2000 --workers 2

Prints both runs and the ratio WARC/folder of images per second.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ROOT = Path(__file__).resolve().parent.parent


def pick_photos(faces: Path, n: int) -> list[Path]:
    """Every k-th photo of LFW in sorted order: many people, a few photos each."""
    photos = sorted((faces / "lfw" / "images").glob("*/*.jpg"))
    step = max(1, len(photos) // n)
    return photos[::step][:n]


def write_warc(path: Path, photos: list[Path]) -> None:
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=True)
        for i, photo in enumerate(photos):
            person = photo.parent.name.replace("_", " ")
            img_url = f"http://photos.example.org/{photo.parent.name}/{photo.name}"
            page = (
                f"<html><head><title>{person}</title></head><body><figure>"
                f'<img src="{img_url}" alt="{person}"><figcaption>{person}, photo {i}</figcaption>'
                "</figure></body></html>"
            ).encode()
            for url, body, ctype in (
                (f"http://news.example.org/story/{i}.html", page, "text/html; charset=utf-8"),
                (img_url, photo.read_bytes(), "image/jpeg"),
            ):
                http = StatusAndHeaders(
                    "200 OK",
                    [("Content-Type", ctype), ("Content-Length", str(len(body)))],
                    protocol="HTTP/1.1",
                )
                writer.write_record(
                    writer.create_warc_record(
                        url, "response", payload=io.BytesIO(body), http_headers=http
                    )
                )


def run(path: Path, atlas: Path, workers: int, summary: Path) -> dict[str, float]:
    cmd = [
        sys.executable, "-m", "faceatlas", "ingest", str(path), "--atlas", str(atlas),
        "--workers", str(workers), "--quiet", "--summary", str(summary),
    ]  # fmt: skip
    started = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL)
    peak_total = 0
    peak_main = 0
    while proc.poll() is None:
        try:
            procs = [proc, *proc.children(recursive=True)]
            rss = []
            for p in procs:
                try:
                    rss.append(p.memory_info().rss)
                except psutil.NoSuchProcess:
                    rss.append(0)
            peak_total = max(peak_total, sum(rss))
            peak_main = max(peak_main, rss[0])
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"ingest failed with exit code {proc.returncode}")
    report = json.loads(summary.read_text())
    counts = report["counts"]
    return {
        "wall_s": round(wall, 2),
        "elapsed_s": report["elapsed_s"],
        "items": counts.get("items", 0),
        "new_images": counts.get("new_images", 0),
        "faces": counts.get("faces", 0),
        "failed": counts.get("failed", 0),
        "images_per_s": round(counts.get("items", 0) / wall, 3),
        "peak_rss_tree_mb": round(peak_total / 2**20, 1),
        "peak_rss_main_mb": round(peak_main / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--faces",
        type=Path,
        default=Path(os.environ.get("FACEATLAS_TEST_FACES", ROOT.parent / "shared" / "faces")),
    )
    args = parser.parse_args()
    photos = pick_photos(args.faces, args.images)
    with tempfile.TemporaryDirectory(prefix="faceatlas-bench-") as tmp:
        work = Path(tmp)
        folder = work / "photos"
        folder.mkdir()
        for photo in photos:
            shutil.copy(photo, folder / f"{photo.parent.name}__{photo.name}")
        warc = work / "photos.warc.gz"
        write_warc(warc, photos)
        print(
            f"{len(photos)} LFW photos; WARC {warc.stat().st_size / 2**20:.1f} MB; "
            f"workers {args.workers}; cpus {os.cpu_count()}"
        )
        folder_run = run(folder, work / "atlas-folder", args.workers, work / "folder.json")
        print("folder", json.dumps(folder_run))
        warc_run = run(warc, work / "atlas-warc", args.workers, work / "warc.json")
        print("warc  ", json.dumps(warc_run))
    ratio = warc_run["images_per_s"] / folder_run["images_per_s"]
    print(f"throughput ratio WARC/folder: {ratio:.3f} (within 20%: {abs(ratio - 1) <= 0.2})")
    peak = max(folder_run["peak_rss_tree_mb"], warc_run["peak_rss_tree_mb"])
    print(f"peak RSS of the process tree: {peak:.0f} MB (under 1.5 GB: {peak < 1536})")


if __name__ == "__main__":
    main()
