"""SFace's second look at a padded canvas: what it finds, what it costs.

When YuNet finds no face in an image, the SFace engine looks again at the image centred on a
gray canvas (``PAD_FRACTION`` in ``faceatlas.engine.sface_engine``). This script measures, in one
run and on one core:

* recall on tight crops: UTKFace's 1,484 aligned 200x200 crops with no face found, first look
  alone against both looks;
* false faces: face-free 60x60 corner crops of every 13th LFW photo (three corners each), faces
  reported by the first look alone and by both;
* cost: detection time per face-free image (LFW corner crops enlarged to 600x600, and
  ``groups/dlib_voc/dogs.jpg``), first look alone (the baseline) against both looks.

    python benchmarks/detect_padding.py [--faces ../shared/faces]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from faceatlas.engine import sface_engine
from faceatlas.engine.sface_engine import SFaceEngine

ROOT = Path(__file__).resolve().parent.parent


PADDING = sface_engine.PAD_FRACTION


def first_look_only(on: bool) -> None:
    """Switch the second look off (``PAD_FRACTION`` 0) or back on."""
    sface_engine.PAD_FRACTION = 0.0 if on else PADDING


def count(engine: SFaceEngine, images: list[np.ndarray], *, padded: bool, found: bool) -> int:
    """Images in which a face is (``found``) or is not found."""
    first_look_only(not padded)
    return sum(1 for img in images if bool(engine.detect(img)) == found)


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = SFaceEngine()
    engine.load()

    crops = [rgb(p) for p in sorted((args.faces / "utkface").glob("*.jpg"))]
    first = count(engine, crops, padded=False, found=False)
    both = count(engine, crops, padded=True, found=False)
    print(f"UTKFace crops with no face: first look {first} of {len(crops)}, both looks {both}")

    lfw = sorted((args.faces / "lfw" / "images").glob("*/*.jpg"))[::13]
    corners: list[np.ndarray] = []
    for path in lfw:
        img = rgb(path)
        corners += [img[:60, :60], img[:60, -60:], img[-70:, :80]]
    corners = [np.ascontiguousarray(c) for c in corners]
    fp_first = count(engine, corners, padded=False, found=True)
    fp_both = count(engine, corners, padded=True, found=True)
    print(
        f"face-free corner crops with a face: first look {fp_first} of {len(corners)}, both {fp_both}"
    )

    faceless = [
        np.asarray(Image.fromarray(c).resize((600, 600))) for c in corners[: 10 * 3 : 3]
    ] + [rgb(args.faces / "groups" / "dlib_voc" / "dogs.jpg")]
    timings = {}
    for name, padded in (("first look", False), ("both looks", True)):
        first_look_only(not padded)
        started = time.perf_counter()
        for _ in range(args.repeat):
            for img in faceless:
                engine.detect(img)
        timings[name] = (time.perf_counter() - started) / (args.repeat * len(faceless))
    first_look_only(False)
    base, padded = timings["first look"], timings["both looks"]
    print(
        f"face-free images ({len(faceless)}): {1000 * base:.1f} ms first look (baseline), "
        f"{1000 * padded:.1f} ms both looks, ratio {padded / base:.2f}"
    )


if __name__ == "__main__":
    main()
