"""The same-face threshold of an engine's model card, measured: how similar a republished copy
of a photo (smaller, re-encoded) scores to the original, and how similar two different photos
of one person score.

Ingestion folds a near-duplicate image into a sighting of the stored one only when each of its
faces matches a stored face at the card's ``same_face_min_similarity``. That threshold must
sit above what two different photos of one person score (else a new photo of a person would
be folded away as a "copy") and below what copies score (else copies would pile up as new
images).

    python benchmarks/same_face.py --engine sface --people 150
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from faceatlas.choices import EngineName
from faceatlas.engine import EngineSpec, analyze_faces, create_engine, decode_image
from faceatlas.eval.corpus import Half, lfw_corpus

COPIES = ((250, 90), (180, 70), (120, 50))
"""Republished copies: (side in pixels, JPEG quality)."""


def copy_of(data: bytes, side: int, quality: int) -> bytes:
    img = Image.open(io.BytesIO(data)).convert("RGB").resize((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces-dir", type=Path, default=Path("../shared/faces"))
    parser.add_argument("--engine", type=EngineName, default=EngineName.SFACE)
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--half", type=Half, default=Half.CALIBRATION)
    parser.add_argument("--threshold", type=float, help="default: the model card's")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    engine = create_engine(EngineSpec.for_engine(args.engine))
    card = engine.card
    corpus = lfw_corpus(args.faces_dir / "lfw").half(args.half)
    groups = [idx for idx in corpus.by_identity().values() if len(idx) >= 2][: args.people]

    def largest(data: bytes) -> np.ndarray | None:
        faces = analyze_faces(
            engine, decode_image(data, max_pixels=40_000_000).pixels, thumbnail_px=32
        )
        if not faces:
            return None
        return max(faces, key=lambda f: f.box.area).embedding

    copy_sims: dict[tuple[int, int], list[float]] = {size: [] for size in COPIES}
    person_sims: list[float] = []
    firsts: list[np.ndarray] = []
    for idx in groups:
        first, second = (corpus.paths[i].read_bytes() for i in idx[:2])
        a, b = largest(first), largest(second)
        if a is None or b is None:
            continue
        person_sims.append(float(a @ b))
        firsts.append(a)
        for side, quality in COPIES:
            c = largest(copy_of(first, side, quality))
            if c is not None:
                copy_sims[side, quality].append(float(a @ c))
    copies = np.concatenate([np.array(v) for v in copy_sims.values()])
    people = np.array(person_sims)
    others = np.stack(firsts) @ np.stack(firsts).T
    strangers = others[np.triu_indices(len(firsts), k=1)]
    threshold = args.threshold or card.required("same_face_min_similarity")
    report = {
        "engine": args.engine.value,
        "model_id": card.model_id,
        "same_face_min_similarity": threshold,
        "people": len(people),
        "half": args.half.value,
        "copies": len(copies),
        "copies_below_threshold_by_size": {
            f"{side}px q{quality}": int((np.array(v) < threshold).sum())
            for (side, quality), v in copy_sims.items()
        },
        "copy_similarity": {
            "min": round(float(copies.min()), 4),
            "p1": round(float(np.percentile(copies, 1)), 4),
            "median": round(float(np.median(copies)), 4),
        },
        "two_photos_of_one_person": {
            "median": round(float(np.median(people)), 4),
            "p99": round(float(np.percentile(people, 99)), 4),
            "max": round(float(people.max()), 4),
        },
        "different_people": {
            "pairs": len(strangers),
            "max": round(float(strangers.max()), 4),
            "above_threshold": int((strangers >= threshold).sum()),
        },
        "copies_below_threshold": int((copies < threshold).sum()),
        "photo_pairs_above_threshold": int((people >= threshold).sum()),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
