"""Probe quality against search errors: the table the probe quality gate's floors come from.

For one half of LFW's people (the documented split), every person with two or more photos is
enrolled with their first photo; their second photo is a mated probe, and one photo of each
single-photo person is a non-mated probe. Each probe is searched as taken and degraded the way
real probes are: shrunk (face sizes down to about 14 px), blurred, darkened and over-exposed.
Each degraded probe goes through the product's own path (detection, alignment, quality,
embedding, fair score at the shipped threshold), and its measured quality is recorded beside
the outcome:

* FNIR: the mated probe's own person is not the top candidate above the threshold (a probe
  with no face found counts as a miss);
* FPIR: a non-mated probe returns any candidate above the threshold.

Rates are reported per bin of each quality signal (over the probes as taken and the
degradations that change that signal), with 95% intervals. The floors follow one rule:
refuse where FNIR is 0.5 or more (the person more likely missed than found), warn where
FNIR is at least twice that of the probes as taken. ``--half calibration``
is the part the floors in ``faceatlas.engine.sface_card`` were chosen on;
``--half held-out`` is the published table (people the choice never saw).

    python benchmarks/probe_quality.py --half calibration [--probes 400] [--workers 2]
"""

from __future__ import annotations

import argparse
import itertools
import json
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from faceatlas.config import Settings
from faceatlas.engine import EngineSpec, FaceEngine, create_engine
from faceatlas.engine.analyze import analyze_faces
from faceatlas.eval.corpus import Half, lfw_corpus
from faceatlas.eval.embedded import embed_corpus
from faceatlas.eval.rates import rate
from faceatlas.search.fairness import FairScorer
from lfw_model import embedding_progress

ROOT = Path(__file__).resolve().parent.parent
DEGRADATIONS: dict[str, tuple[float, float, float]] = {
    # name: (scale, blur radius px, brightness factor)
    "as taken": (1.0, 0.0, 1.0),
    "scale 0.5": (0.5, 0.0, 1.0),
    "scale 0.35": (0.35, 0.0, 1.0),
    "scale 0.25": (0.25, 0.0, 1.0),
    "scale 0.18": (0.18, 0.0, 1.0),
    "scale 0.13": (0.13, 0.0, 1.0),
    "blur 2": (1.0, 2.0, 1.0),
    "blur 4": (1.0, 4.0, 1.0),
    "dark 0.3": (1.0, 0.0, 0.3),
    "dark 0.15": (1.0, 0.0, 0.15),
    "bright 2.5": (1.0, 0.0, 2.5),
}
BINS: dict[str, list[float]] = {
    "box_px": [20, 22, 24, 28, 32, 40, 64, 1e9],
    "sharpness": [0, 2, 4, 6, 10, 20, 40, 80, 160, 1e9],
    "exposure": [0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.7, 0.8, 0.9, 1.01],
}
FAMILIES: dict[str, tuple[str, ...]] = {
    "box_px": ("as taken", "scale"),
    "sharpness": ("as taken", "blur"),
    "exposure": ("as taken", "dark", "bright"),
}
"""Each signal is binned over the probes as taken and the degradations that change it, so a
bin of one signal is not filled with probes that fail for another reason."""


class _Worker:
    engine: FaceEngine | None = None


def _init() -> None:
    _Worker.engine = create_engine(EngineSpec.from_settings(Settings()))
    _Worker.engine.load()


def degrade(path: str, scale: float, blur: float, bright: float) -> np.ndarray:
    with Image.open(path) as img:
        pil = img.convert("RGB")
    if scale != 1.0:
        w, h = pil.size
        pil = pil.resize((max(8, round(w * scale)), max(8, round(h * scale))), Image.BILINEAR)
    if blur:
        pil = pil.filter(ImageFilter.GaussianBlur(blur))
    pixels = np.asarray(pil, dtype=np.float32)
    if bright != 1.0:
        pixels = np.clip(pixels * bright, 0, 255)
    return pixels.astype(np.uint8)


def _probe(job: tuple[str, str]) -> dict[str, float] | None:
    """The centre-most face of a degraded probe: quality and embedding (None: no face)."""
    assert _Worker.engine is not None
    path, name = job
    image = degrade(path, *DEGRADATIONS[name])
    faces = analyze_faces(_Worker.engine, image, thumbnail_px=64)
    if not faces:
        return None
    cy, cx = image.shape[0] / 2, image.shape[1] / 2
    face = min(faces, key=lambda f: (f.box.center[0] - cx) ** 2 + (f.box.center[1] - cy) ** 2)
    q = face.quality
    return {
        "box_px": q.box_px,
        "sharpness": q.sharpness,
        "exposure": q.exposure if q.exposure is not None else -1.0,
        "embedding": face.embedding.tolist(),  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--half", choices=[h.value for h in Half], default="calibration")
    parser.add_argument("--probes", type=int, default=400, help="mated and non-mated probes each")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the table here")
    parser.add_argument("--records", type=Path, default=None, help="write every probe's record")
    parser.add_argument(
        "--summarise", type=Path, default=None, help="print the table of a --records file only"
    )
    args = parser.parse_args()
    if args.summarise:
        print_table(summarise(json.loads(args.summarise.read_text())))
        return

    settings = Settings()
    spec = EngineSpec.from_settings(settings)
    model_id = create_engine(spec).model_id
    scorer = FairScorer.shipped(model_id)
    if scorer is None:
        raise SystemExit(f"no fair scorer ships for {model_id}")
    half = lfw_corpus(args.faces / "lfw").half(Half(args.half))
    people = half.by_identity()
    gallery_idx = [idx[0] for idx in people.values() if len(idx) > 1]
    mated_idx = [idx[1] for idx in people.values() if len(idx) > 1][: args.probes]
    mate_row = list(range(len(mated_idx)))
    nonmated_idx = [idx[0] for idx in people.values() if len(idx) == 1][: args.probes]
    enrolled = embed_corpus(
        half.subset(gallery_idx), spec, cache_dir=args.cache_dir, progress=embedding_progress
    )
    gallery = enrolled.vectors
    g_off = scorer.face_offsets(gallery)
    jobs = [
        (str(half.paths[i]), name) for name in DEGRADATIONS for i in (*mated_idx, *nonmated_idx)
    ]
    with ProcessPoolExecutor(
        args.workers, mp_context=get_context("spawn"), initializer=_init
    ) as pool:
        results = list(pool.map(_probe, jobs, chunksize=16))
    records: list[dict[str, float | str | bool]] = []
    n_mated = len(mated_idx)
    for k, ((_, name), res) in enumerate(zip(jobs, results, strict=True)):
        j = k % (n_mated + len(nonmated_idx))
        mated = j < n_mated
        if res is None:
            records.append({"degradation": name, "mated": mated, "found": False, "error": True})
            continue
        v = np.asarray(res.pop("embedding"), np.float32)
        scores = scorer.combine((gallery @ v)[None, :], scorer.face_offsets(v), g_off)[0]
        top = int(np.argmax(scores))
        above = bool(scores[top] >= scorer.threshold)
        error = (not above or top != mate_row[j]) if mated else above
        records.append({"degradation": name, "mated": mated, "found": True, "error": error, **res})
    if args.records:
        args.records.write_text(json.dumps(records))
    table = summarise(records)
    print(
        f"half {args.half}: {len(gallery)} enrolled, {n_mated} mated and "
        f"{len(nonmated_idx)} non-mated probes, threshold {scorer.threshold:.4f}"
    )
    print_table(table)
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))


def print_table(table: list[dict[str, str]]) -> None:
    for row in table:
        extra = f"  no face {row['no_face']}" if "no_face" in row else ""
        print(
            f"{row['signal']:>15} {row['bin']:>14}  FNIR {row['fnir']}  FPIR {row['fpir']}{extra}"
        )


def _fmt(errors: int, trials: int) -> str:
    if trials == 0:
        return "n/a"
    r = rate(errors, trials)
    return f"{r.value:.3f} [{r.low:.3f}, {r.high:.3f}] ({errors}/{trials})"


def summarise(records: list[dict[str, float | str | bool]]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name in DEGRADATIONS:
        mine = [r for r in records if r["degradation"] == name]
        m = [r for r in mine if r["mated"]]
        n = [r for r in mine if not r["mated"]]
        rows.append({
            "signal": "degradation",
            "bin": name,
            "fnir": _fmt(sum(bool(r["error"]) for r in m), len(m)),
            "fpir": _fmt(sum(bool(r["error"]) for r in n if r["found"]), len(n)),
            "no_face": f"{sum(not r['found'] for r in mine)}",
        })  # fmt: skip
    for signal, edges in BINS.items():
        found = [
            r for r in records if r["found"] and str(r["degradation"]).startswith(FAMILIES[signal])
        ]
        for lo, hi in itertools.pairwise(edges):
            inside = [r for r in found if lo <= float(r[signal]) < hi]
            m = [r for r in inside if r["mated"]]
            n = [r for r in inside if not r["mated"]]
            rows.append({
                "signal": signal,
                "bin": f"[{lo:g}, {hi:g})",
                "fnir": _fmt(sum(bool(r["error"]) for r in m), len(m)),
                "fpir": _fmt(sum(bool(r["error"]) for r in n), len(n)),
            })  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
