"""Near-duplicate folding on LFW: do distinct photos fold (false folds), do copies fold (recall)?

LFW's deep-funneled photos are all 250x250 with one centred face: the hardest case for a
perceptual hash, since distinct photos share their composition. For every photo we compute
the pHash; a false fold is any pair of *distinct* photos within the folding distance (the
aspect-ratio check passes for all of them, being square). Recall is measured on copies made
the way sites republish photos: resized to 60% and re-encoded at JPEG quality 70, and
re-encoded as PNG at full size.

    nice .venv/bin/python benchmarks/phash_lfw.py [--limit N] [--bits 4]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from faceatlas.ingest.phash import perceptual_hash

ROOT = Path(__file__).resolve().parent.parent


def copies(data: bytes) -> list[bytes]:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    small = io.BytesIO()
    img.resize((int(img.width * 0.6), int(img.height * 0.6)), Image.Resampling.LANCZOS).save(
        small, "JPEG", quality=70
    )
    png = io.BytesIO()
    img.save(png, "PNG")
    return [small.getvalue(), png.getvalue()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="first N photos only (0: all)")
    parser.add_argument("--bits", type=int, default=4)
    parser.add_argument(
        "--faces",
        type=Path,
        default=Path(os.environ.get("FACEATLAS_TEST_FACES", ROOT.parent / "shared" / "faces")),
    )
    args = parser.parse_args()
    photos = sorted((args.faces / "lfw" / "images").glob("*/*.jpg"))
    if args.limit:
        photos = photos[: args.limit]
    started = time.perf_counter()
    hashes = np.zeros(len(photos), dtype=np.uint64)
    copy_dist: list[int] = []
    for i, photo in enumerate(photos):
        if i % 2000 == 0:
            print(f"hashing: {i}/{len(photos)} photos", file=sys.stderr, flush=True)
        data = photo.read_bytes()
        h = perceptual_hash(data, max_pixels=10**8)
        assert h is not None
        hashes[i] = np.uint64(h.bits & (2**64 - 1))
        if i % 10 == 0:  # copies of every tenth photo
            for copy in copies(data):
                c = perceptual_hash(copy, max_pixels=10**8)
                assert c is not None
                copy_dist.append(((h.bits ^ c.bits) & (2**64 - 1)).bit_count())
    hash_s = time.perf_counter() - started
    # all pairs: distances by popcount of XOR, one row at a time
    within = 0
    pairs = 0
    min_distance = 64
    close: list[tuple[str, str, int]] = []
    for i in range(len(hashes) - 1):
        d = np.bitwise_count(np.bitwise_xor(hashes[i + 1 :], hashes[i]))
        pairs += len(d)
        within += int((d <= args.bits).sum())
        for j in np.flatnonzero(d <= args.bits):
            close.append((photos[i].name, photos[i + 1 + j].name, int(d[j])))
        if len(d):
            min_distance = min(min_distance, int(d.min()))
    identical_files = len(hashes) - len(np.unique(hashes))
    cd = np.asarray(copy_dist)
    print(
        f"{len(photos)} LFW photos hashed in {hash_s:.1f} s "
        f"({1000 * hash_s / len(photos):.2f} ms each, copies included)"
    )
    print(
        f"distinct-photo pairs: {pairs}; within {args.bits} bits: {within} "
        f"(rate {within / pairs:.2e}); smallest distance {min_distance}; equal hashes {identical_files}"
    )
    same = [c for c in close if c[0].rsplit("_", 1)[0] == c[1].rsplit("_", 1)[0]]
    print(
        f"of the {len(close)} close pairs, same person: {len(same)}, different people: "
        f"{len(close) - len(same)} (inspect them: LFW holds a few duplicate photos)"
    )
    for a, b, bits in close:
        print(f"  {a} {b} {bits} bits")
    print(
        f"copies: {len(cd)}; folded within {args.bits} bits: {(cd <= args.bits).mean():.4f}; "
        f"median distance {np.median(cd):.0f}, max {cd.max()}"
    )


if __name__ == "__main__":
    main()
