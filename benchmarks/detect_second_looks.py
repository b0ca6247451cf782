"""The SFace engine's second looks: what they find, what they cost.

Where YuNet's first look finds no face, the SFace engine looks again at the image on a padded
gray canvas, and then, if some place of the image scored near a face, at copies of it turned
by a few degrees each way (:mod:`faceatlas.engine.second_looks`). This script measures, in one
run and on one core, each stage against the first look alone:

* recall: photos with no face found, among UTKFace's 1,484 aligned 200x200 crops and LFW's
  13,233 photos (``--step N``: every Nth of each, and of the corner crops, for a quick run);
* false faces: face-free 60x60 corner crops of every 13th LFW photo (three corners each), and
  how many of them pass the near-face score that lets the tilted looks run;
* cost: detection time per face-free image (LFW corner crops enlarged to 600x600, and
  ``groups/dlib_voc/dogs.jpg``), first look alone (the baseline) against each stage.

    python benchmarks/detect_second_looks.py [--faces ../shared/faces] [--step 1]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

from faceatlas.engine import second_looks
from faceatlas.engine.sface_engine import SFaceEngine

ROOT = Path(__file__).resolve().parent.parent
STAGES = {
    "first look": (0.0, ()),
    "+ padded": (second_looks.PAD_FRACTION, ()),
    "+ tilted": (second_looks.PAD_FRACTION, second_looks.TILT_ANGLES_DEG),
}
"""Each stage's ``PAD_FRACTION`` and ``TILT_ANGLES_DEG``; the last is the engine as shipped."""


@contextmanager
def stage(name: str) -> Iterator[None]:
    shipped = second_looks.PAD_FRACTION, second_looks.TILT_ANGLES_DEG
    second_looks.PAD_FRACTION, second_looks.TILT_ANGLES_DEG = STAGES[name]
    try:
        yield
    finally:
        second_looks.PAD_FRACTION, second_looks.TILT_ANGLES_DEG = shipped


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def missed(
    engine: SFaceEngine, images: list[np.ndarray]
) -> tuple[dict[str, int], list[np.ndarray]]:
    """Images with no face found at each stage (a later stage only looks at those missed), and
    those the padded look leaves without one (where the tilted looks may run)."""
    left = images
    out = {}
    hard: list[np.ndarray] = []
    for name in STAGES:
        if name == "+ tilted":
            hard = left
        with stage(name):
            left = [img for img in left if not engine.detect(img)]
        out[name] = len(left)
    return out, hard


def ms_per_image(engine: SFaceEngine, images: list[np.ndarray], name: str, repeat: int) -> float:
    with stage(name):
        started = time.perf_counter()
        for _ in range(repeat):
            for img in images:
                engine.detect(img)
    return 1000 * (time.perf_counter() - started) / (repeat * len(images))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--step", type=int, default=1, help="every Nth photo and crop")
    args = parser.parse_args()
    engine = SFaceEngine()
    engine.load()

    crops = [rgb(p) for p in sorted((args.faces / "utkface").glob("*.jpg"))[:: args.step]]
    lfw_paths = sorted((args.faces / "lfw" / "images").glob("*/*.jpg"))
    photos = [rgb(p) for p in lfw_paths[:: args.step]]
    hard: list[np.ndarray] = []
    for label, images in (
        (f"UTKFace crops ({len(crops)})", crops),
        (f"LFW photos ({len(photos)})", photos),
    ):
        counts, left = missed(engine, images)
        hard += left
        print(f"{label} with no face: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if hard:
        padded, tilted = (
            ms_per_image(engine, hard, n, args.repeat) for n in ("+ padded", "+ tilted")
        )
        print(
            f"  the {len(hard)} photos the padded look leaves without a face: {padded:.1f} ms "
            f"with it, {tilted:.1f} ms with the tilted looks too ({tilted / padded:.2f})"
        )

    corners: list[np.ndarray] = []
    for path in lfw_paths[:: 13 * args.step]:
        img = rgb(path)
        corners += [img[:60, :60], img[:60, -60:], img[-70:, :80]]
    corners = [np.ascontiguousarray(c) for c in corners]
    false_faces = []
    for name in STAGES:
        with stage(name):
            false_faces.append(f"{name} {sum(1 for c in corners if engine.detect(c))}")
    with stage("first look"):
        near = sum(
            1 for c in corners if engine.first_look(c).best_score >= second_looks.TILT_MIN_SCORE
        )
    print(f"face-free corner crops ({len(corners)}) with a face: " + ", ".join(false_faces))
    print(f"  near a face (first look >= {second_looks.TILT_MIN_SCORE}, tilted looks run): {near}")

    faceless = [
        np.asarray(Image.fromarray(c).resize((600, 600))) for c in corners[: 10 * 3 : 3]
    ] + [rgb(args.faces / "groups" / "dlib_voc" / "dogs.jpg")]
    timings = {name: ms_per_image(engine, faceless, name, args.repeat) for name in STAGES}
    base = timings["first look"]
    print(
        f"face-free images ({len(faceless)}): "
        + ", ".join(f"{k} {v:.1f} ms ({v / base:.2f})" for k, v in timings.items())
    )
    # a large face-free photo: the second looks shrink it before building their canvases
    texture = np.random.default_rng(0).integers(0, 255, (60, 60, 3), dtype=np.uint8)
    large = np.asarray(Image.fromarray(texture).resize((6000, 6000), Image.Resampling.BICUBIC))
    cost = {name: ms_per_image(engine, [large], name, args.repeat) for name in STAGES}
    print(
        "a 6000x6000 face-free image: "
        + ", ".join(f"{k} {v:.0f} ms ({v / cost['first look']:.2f})" for k, v in cost.items())
    )


if __name__ == "__main__":
    main()
